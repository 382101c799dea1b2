"""Generation's inner loop: TinyGPT's forward pass for the new positions only, made cheap.

Generation (Eq. 14.9-14.16) reads one new token per step, so a step is TinyGPT's forward
pass (:mod:`fmcore.lm.model`) for a single row of width C. For the classroom model (4
layers, width 128) that row meets 17 small matrix products and about 80 other tensor
operations: the arithmetic is tiny, and the time goes into *calling* those operations, a
few microseconds each, and into reading the 3 MB of weights once per token (more than a
core's 1 MB L2 cache). :meth:`TinyGPT.step` is written module by module to be read beside
the notes, and costs about 0.6-0.9 ms a token here. A :class:`Decoder` computes the same
numbers (tests check it against ``TinyGPT.forward``) with fewer and cheaper calls, at
about 0.35-0.4 ms a token:

- the weights are packed once per generation: W_q, W_k and W_v of every head stacked in one
  matrix, so a single product gives a position's query, key and value; every matrix stored
  transposed, (in, out), the layout ``torch.addmm`` reads fastest;
- each LayerNorm's scale and shift are folded into the product that follows it
  (:func:`_fold`), and GELU is written x Phi(x): both compute the same function with
  cheaper calls;
- keys and values are written in place into one buffer allocated for the whole generation
  (the KV cache), instead of copying the past into a longer tensor at every step;
- no ``nn.Module`` calls, no argument checks (:mod:`fmcore.lm.generate` checks the prompt
  once, and every later token comes from the sampler), and no autograd bookkeeping
  (``torch.inference_mode``) on the many small views a step makes.

``bench/lm.py`` separates the two gains: with the same Decoder, keeping the cache instead
of re-reading the window at every step is about 4.5x faster; the packing adds about 1.2x.

A decoder is a snapshot: it copies the weights when it is made, so it never sees later
training, and it is used by one generation (one thread) only. It computes in float32
whatever the caller's autocast settings; dropout is off, as in eval mode.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from fmcore.errors import SettingError
from fmcore.lm.model import TinyGPT

__all__ = ["Decoder"]


@dataclass(frozen=True)
class _Layer:
    """One block's weights, packed: matrices transposed to (in, out), and each LayerNorm's
    scale and shift folded into the product after it (see :func:`_fold`)."""

    qkv_weight: torch.Tensor  # (C, 3C): diag(gamma) [W_q | W_k | W_v]^T
    qkv_bias: torch.Tensor  # (3C,)
    out_weight: torch.Tensor  # (C, C): W_o^T
    out_bias: torch.Tensor  # (C,)
    up_weight: torch.Tensor  # (C, 4C)
    up_bias: torch.Tensor  # (4C,)
    down_weight: torch.Tensor  # (4C, C)
    down_bias: torch.Tensor  # (C,)


def _t(linear: torch.nn.Linear) -> torch.Tensor:
    """A linear layer's weight (out, in) as a new contiguous (in, out) matrix."""
    return linear.weight.detach().t().contiguous()


def _bias(linear: torch.nn.Linear) -> torch.Tensor:
    return linear.bias.detach().clone()


def _fold(
    norm: torch.nn.LayerNorm, weight: torch.Tensor, bias: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """A LayerNorm followed by a product, LN(x) = gamma * x_hat + beta then x W + b (W as
    (in, out)), is x_hat (diag(gamma) W) + (beta W + b): the normalised x_hat times a
    matrix with its rows scaled, plus a new bias. So the decoder calls LayerNorm without
    scale and shift (about half the cost on one row) and gets the same numbers up to
    rounding. Returns the new (in, out) matrix and bias."""
    gamma, beta = norm.weight.detach(), norm.bias.detach()
    folded_bias = beta @ weight  # (out,)
    return gamma[:, None] * weight, folded_bias if bias is None else folded_bias + bias


def _float32() -> contextlib.AbstractContextManager:
    """Autocast off, so that every product is float32 even inside the caller's autocast
    region; nothing to enter when autocast is off already (entering costs a few µs)."""
    if torch.is_autocast_enabled("cpu"):
        return torch.autocast("cpu", enabled=False)
    return contextlib.nullcontext()


class Decoder:
    """Reads tokens into ``model`` one call at a time, keeping the keys and values of every
    position read so far (the KV cache) for up to ``capacity`` positions (the begin token
    included; at most the model's context length).

    ``read(ids)`` returns the logits u (V,) of the token after the last one read: the same
    numbers as ``model(all ids so far)[0, -1]``, up to float rounding. ``reset()`` forgets
    everything, to read a new window from position 0 (learned positions cannot slide).
    """

    def __init__(self, model: TinyGPT, capacity: int) -> None:
        cfg = model.config
        if not 1 <= capacity <= cfg.context_length:
            raise SettingError(
                f"A decoder holds 1..{cfg.context_length} positions (the model's context "
                f"length), got {capacity}."
            )
        self.capacity = capacity
        self.width, self.heads, self.head_dim = cfg.width, cfg.heads, cfg.head_dim
        with torch.inference_mode(), _float32():  # what it holds is read in inference mode
            self.token_embedding = model.token_embedding.weight.detach().clone()  # (V, C)
            self.position_embedding = (  # (context, C), or None with ALiBi
                None
                if model.position_embedding is None
                else model.position_embedding.weight.detach().clone()
            )
            self.layers = []
            for block in model.blocks:
                attention, mlp = block.attention, block.mlp
                qkv = (attention.query, attention.key, attention.value)  # stacked side by side
                qkv_weight, qkv_bias = _fold(
                    block.ln_attention,
                    torch.cat([_t(linear) for linear in qkv], dim=1),  # (C, 3C)
                    torch.cat([_bias(linear) for linear in qkv]),  # (3C,)
                )
                up_weight, up_bias = _fold(block.ln_mlp, _t(mlp.up), _bias(mlp.up))
                self.layers.append(
                    _Layer(
                        qkv_weight, qkv_bias, _t(attention.out), _bias(attention.out),
                        up_weight, up_bias, _t(mlp.down), _bias(mlp.down),
                    )
                )
            self.unembed_weight, self.unembed_bias = _fold(model.ln_final, _t(model.unembed), None)
            self.eps = model.ln_final.eps  # every LayerNorm's (PyTorch's default, 1e-5)
            # What attention adds to the scores, for every (new, earlier) pair of positions:
            # -inf above the diagonal (the causal mask), minus ALiBi's m_h * distance.
            # (capacity, capacity), (H, capacity, capacity) with ALiBi, or None when there
            # is nothing to add.
            self.alibi = cfg.alibi
            self.bias = model.blocks[0].attention._bias(capacity, capacity, torch.device("cpu"))
            # keys and values of every layer: (layers, 2, 1, H, capacity, d_head); [l, 0]
            # keys, [l, 1] values, of a batch of one; positions 0..length-1 filled
            self.kv = torch.zeros(cfg.layers, 2, 1, cfg.heads, capacity, cfg.head_dim)
        self.length = 0  # positions read so far, the begin token included

    def reset(self) -> None:
        """Forget every position read (the buffer is reused)."""
        self.length = 0

    def read(self, ids: list[int]) -> torch.Tensor:
        """Read the token ids ``ids`` (at least one, valid for the model) after the positions
        read so far; return the logits u (V,) of the token that follows the last of them
        (Figure 14.1: row s of the output is u_{s+1} = f_theta(x_0..x_s))."""
        s, T = self.length, len(ids)
        if T < 1 or s + T > self.capacity:
            raise SettingError(
                f"This decoder holds {self.capacity} positions; {s} are read, so 1.."
                f"{self.capacity - s} more fit, got {T}."
            )
        # inference_mode: no autograd bookkeeping at all, which matters for the many small
        # views a step makes; float32 even inside the caller's autocast region
        with torch.inference_mode(), _float32():
            logits = self._forward(ids, s, T)  # (V,)
        self.length = s + T
        return logits.clone()  # a normal tensor, usable outside inference mode

    def _forward(self, ids: list[int], s: int, T: int) -> torch.Tensor:
        """TinyGPT's forward pass (see fmcore.lm.model) for positions s..s+T-1."""
        C, H, d = self.width, self.heads, self.head_dim
        # (T, C); a single id by a plain index, which costs far less than indexing by a list
        h = self.token_embedding[ids] if T > 1 else self.token_embedding[ids[0]].view(1, C)
        if self.position_embedding is not None:
            h = h + self.position_embedding[s : s + T]  # (T, C)
        # One new position with learned positions sees every earlier one: nothing to add.
        mask = None if T == 1 and not self.alibi else self.bias[..., s : s + T, : s + T]
        for cache, w in zip(self.kv, self.layers, strict=True):  # cache: (2, 1, H, capacity, d)
            a = F.layer_norm(h, (C,), eps=self.eps)  # (T, C); its scale and shift are in w
            qkv = torch.addmm(w.qkv_bias, a, w.qkv_weight)  # (T, 3C)
            # (3, 1, H, T, d): q, k, v per head, batch of one (the fused kernel wants 4-d)
            qkv = qkv.view(1, T, 3, H, d).permute(2, 0, 3, 1, 4)
            cache.narrow(3, s, T).copy_(qkv[1:])  # the new keys and values, in place
            y = F.scaled_dot_product_attention(  # (1, H, T, d), over positions 0..s+T-1
                qkv[0], cache[0].narrow(2, 0, s + T), cache[1].narrow(2, 0, s + T), attn_mask=mask
            )
            h = h + torch.addmm(w.out_bias, y.transpose(1, 2).reshape(T, C), w.out_weight)
            a = F.layer_norm(h, (C,), eps=self.eps)  # (T, C)
            up = torch.addmm(w.up_bias, a, w.up_weight)  # (T, 4C)
            # GELU(x) = x Phi(x), Phi the standard normal CDF: F.gelu's numbers, but F.gelu
            # goes through oneDNN, which costs ~15 µs on one row against ~5 µs for this
            up = up * torch.special.ndtr(up)
            h = h + torch.addmm(w.down_bias, up, w.down_weight)  # (T, C)
        c = F.layer_norm(h[-1:], (C,), eps=self.eps)  # (1, C): c_{s+T}, the last position
        return torch.addmm(self.unembed_bias, c, self.unembed_weight)[0]  # (V,)

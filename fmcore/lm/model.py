"""A tiny decoder-only Transformer f_theta, written out to be read beside Section 14.3.

The notes treat the Transformer as a black box (Figure 14.1): it reads the embeddings
e_{x_0}, e_{x_1}, ..., e_{x_T} of the begin token x_0 = ⊥ and of the document, and outputs
vectors u_1, ..., u_{T+1} in R^V, the *logits* of the next token, with

    u_t = f_theta(x_0, ..., x_{t-1})   and   p(x_t | x_1..x_{t-1}) = softmax(u_t)   (Eq. 14.6-7)

so u_t may depend only on the tokens *before* x_t. This module opens the box, GPT-style
(Radford et al. 2018/2019; Vaswani et al. 2017):

    h = e_{x_s} + pos_s                      token + learned position embedding   (B, T, C)
    repeat ``layers`` times (pre-LayerNorm blocks):
        h = h + Attention(LayerNorm(h))      causal multi-head self-attention     (B, T, C)
        h = h + MLP(LayerNorm(h))            C -> 4C -> C with a GELU             (B, T, C)
    logits = Unembed(LayerNorm(h))           one score per vocabulary entry       (B, T, V)

Indexing: the model is fed ``ids = [x_0, x_1, ..., x_{T-1}]`` (row s holds x_s) and its
output row s is u_{s+1}: the scores of the token that comes *after* x_s, computed from
x_0..x_s only. The causal mask inside the attention is what guarantees it.

Generation (Eq. 14.9-14.16) feeds one new token at a time. Recomputing the whole prefix at
every step repeats work: the keys and values of the earlier positions do not change (they
never look ahead). :class:`KVCache` keeps them, per layer, with shape (B, heads, T_so_far,
d_head), and :meth:`TinyGPT.step` only computes the new positions. Scoring a text token by
token with the cache gives the same logits as one full forward pass (a test checks it).
Generation itself (:mod:`fmcore.lm.generate`) reads through :class:`fmcore.lm.decoder.Decoder`:
the same computation on packed weights, about twice as fast per token.

Parameters are created on the ``meta`` device (no random numbers drawn) and filled from a
``torch.Generator`` by :func:`init_gpt_parameters` (rule 4 of DESIGN.md); dropout, when
used, also draws from a generator passed to :meth:`TinyGPT.forward`, never from the global
random state.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from fmcore.errors import SettingError
from fmcore.validate import bounded_int, check_generator, finite_float

__all__ = [
    "GPTConfig",
    "KVCache",
    "TinyGPT",
    "init_gpt_parameters",
    "make_gpt",
]

# ------------------------------------------------------------------------------ limits
MAX_VOCAB = 4096  # V; a character tokenizer has 3 + alphabet size
MAX_CONTEXT = 1024  # tokens the model reads at once, the begin token included
MAX_WIDTH = 512  # C, the width of the residual stream
MAX_LAYERS = 12
MAX_HEADS = 16
MAX_DROPOUT = 0.5
MAX_BATCH = 1024  # rows in one forward call

INIT_STD = 0.02  # GPT-2's standard deviation for every weight matrix and embedding

_META: dict[str, Any] = {"device": "meta"}  # factory kwargs: layers draw no random numbers


# ============================================================================ config
@dataclass(frozen=True)
class GPTConfig:
    """Sizes of the Transformer, checked on creation (SettingError if not).

    ``width`` must be a multiple of ``heads``: each head works in d_head = width / heads
    dimensions. Presets: :meth:`tiny` (tests, a forward pass in milliseconds).
    """

    vocab_size: int = 64  # V: number of token ids, specials included (2..4096)
    context_length: int = 128  # most tokens read at once, x_0 = ⊥ included (1..1024)
    width: int = 128  # C: size of the embeddings and of the residual stream (4..512)
    layers: int = 4  # Transformer blocks (1..12)
    heads: int = 4  # attention heads per block; width / heads each (1..16)
    dropout: float = 0.0  # drop probability in training mode (0..0.5); 0 = off
    # Positions: False adds a learned embedding pos_s (GPT-2); True leaves it out and
    # biases each head's attention scores by -m_head * (s - r), ALiBi (Press et al. 2022):
    # nearer tokens count more, so "the most recent Q" is easy to find at any distance.
    alibi: bool = False

    def __post_init__(self) -> None:
        for name, low, high in (
            ("vocab_size", 2, MAX_VOCAB),
            ("context_length", 1, MAX_CONTEXT),
            ("width", 4, MAX_WIDTH),
            ("layers", 1, MAX_LAYERS),
            ("heads", 1, MAX_HEADS),
        ):
            object.__setattr__(self, name, bounded_int(name, getattr(self, name), low, high))
        if self.width % self.heads:
            raise SettingError(
                f"width ({self.width}) must be a multiple of heads ({self.heads}): each head "
                "gets width / heads dimensions. Change one of them."
            )
        object.__setattr__(self, "dropout", finite_float("dropout", self.dropout, 0.0, MAX_DROPOUT))
        if not isinstance(self.alibi, bool):
            raise SettingError(f"alibi must be True or False, got {self.alibi!r}.")

    @property
    def head_dim(self) -> int:
        """d_head = width / heads: the size of one head's queries, keys and values."""
        return self.width // self.heads

    @classmethod
    def tiny(cls, vocab_size: int = 16, context_length: int = 16) -> GPTConfig:
        """Two layers of width 16 with two heads: for tests."""
        return cls(vocab_size, context_length, width=16, layers=2, heads=2)

    def to_dict(self) -> dict[str, int | float]:
        """The fields as a plain dict (for a JSON manifest); ``alibi`` only when True, so
        the manifests of learned-position models read as before."""
        values = dataclasses.asdict(self)
        if not self.alibi:
            del values["alibi"]
        return values

    @classmethod
    def from_dict(cls, values: object) -> GPTConfig:
        """Inverse of :meth:`to_dict`; unknown or missing keys raise SettingError."""
        if not isinstance(values, dict):
            raise SettingError(f"A model config must be a dict, got {type(values).__name__}.")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        missing = sorted(names - set(values) - {"alibi"})  # absent: learned positions
        if unknown or missing:
            raise SettingError(
                f"Model config keys do not match: unknown {unknown}, missing {missing}."
            )
        return cls(**values)


# ============================================================================ cache
@dataclass(frozen=True, eq=False)  # tensors: compare them explicitly, not with ==
class KVCache:
    """The keys and values of every position read so far, one pair of tensors per layer,
    each of shape (B, heads, T_so_far, d_head). Returned by :meth:`TinyGPT.step`; pass it
    back with the next tokens. A new cache is returned each time (this one is not changed),
    so a caller may keep an old one to branch from."""

    keys: tuple[torch.Tensor, ...]  # per layer: (B, H, T_so_far, d_head)
    values: tuple[torch.Tensor, ...]  # per layer: (B, H, T_so_far, d_head)

    @property
    def length(self) -> int:
        """T_so_far: how many positions (the begin token included) the cache holds."""
        return int(self.keys[0].shape[2])

    @property
    def batch_size(self) -> int:
        return int(self.keys[0].shape[0])


# ============================================================================ init
def init_gpt_parameters(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """(Re)initialise every parameter of ``module`` in place from ``generator``, as GPT-2:
    embeddings and weight matrices normal(0, 0.02), biases 0, LayerNorm scale 1 and shift 0;
    the projections that write into the residual stream (attention output, second MLP
    layer) get 0.02 / sqrt(2 * layers), so the stream's variance does not grow with depth.
    Modules are visited in the order of ``module.modules()``: the same generator state gives
    the same weights. Works on modules built on the ``meta`` device and given storage with
    ``to_empty``. Returns ``module``."""
    g = check_generator(generator)
    n_layers = getattr(getattr(module, "config", None), "layers", 1)
    residual_std = INIT_STD / math.sqrt(2 * n_layers)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.Linear):
                std = residual_std if getattr(m, "writes_residual", False) else INIT_STD
                m.weight.normal_(0.0, std, generator=g)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.Embedding):
                m.weight.normal_(0.0, INIT_STD, generator=g)
            elif isinstance(m, nn.LayerNorm):
                m.weight.fill_(1.0)
                m.bias.zero_()
    return module


def _residual_linear(c_in: int, c_out: int) -> nn.Linear:
    """A linear layer that adds into the residual stream (smaller initial weights)."""
    layer = nn.Linear(c_in, c_out, **_META)
    layer.writes_residual = True
    return layer


def _dropout(x: torch.Tensor, p: float, generator: torch.Generator | None) -> torch.Tensor:
    """Inverted dropout drawn from ``generator``: zero each entry with probability p and
    scale the rest by 1 / (1 - p), so the expected value is unchanged. Identity if p = 0
    or ``generator`` is None (the model passes None in eval mode)."""
    if p == 0.0 or generator is None:
        return x
    keep = torch.rand(x.shape, generator=generator, device=x.device) >= p
    return x * keep / (1.0 - p)


# ============================================================================ modules
class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention (Vaswani et al. 2017, Sections 3.2.1-3.2.2).

    For each head, with d = d_head: queries q_s = W_q h_s, keys k_s = W_k h_s and values
    v_s = W_v h_s; position s attends to the positions r <= s only (the causal mask):

        a_{s,r} = softmax_r( q_s . k_r / sqrt(d) )  over r = 0..s
        y_s     = sum_{r <= s} a_{s,r} v_r

    The heads' outputs are concatenated and mixed by the output projection W_o. Dividing by
    sqrt(d) keeps the scores near unit variance, so the softmax does not saturate at
    initialisation. Written out with matrix products, so the steps can be read one by one;
    only :meth:`TinyGPT.step` (``fused=True``), which reads a text position by position,
    hands the same computation to PyTorch's fused kernel.
    """

    def __init__(self, width: int, heads: int, alibi: bool = False) -> None:
        super().__init__()
        self.heads = heads
        self.head_dim = width // heads
        self.alibi = alibi
        self._slopes: torch.Tensor | None = None

        self.query = nn.Linear(width, width, **_META)  # W_q of all heads side by side
        self.key = nn.Linear(width, width, **_META)  # W_k
        self.value = nn.Linear(width, width, **_META)  # W_v
        self.out = _residual_linear(width, width)  # W_o

    @property
    def slopes(self) -> torch.Tensor | None:
        """ALiBi's slopes m_h = 2^(-8h/H), h = 1..H (H,): a geometric range from heads that
        look near to heads that see far back. Fixed numbers, not parameters (None: off)."""
        if not self.alibi:
            return None
        if self._slopes is None:  # made once: a plain attribute, not a buffer (not saved)
            self._slopes = torch.tensor([2.0 ** (-8.0 * (i + 1) / self.heads)
                                         for i in range(self.heads)])
        return self._slopes

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, C) -> (B, H, T, d_head): each head gets its own slice of the channels."""
        B, T, _ = x.shape
        return x.view(B, T, self.heads, self.head_dim).transpose(1, 2)

    def forward(
        self,
        h: torch.Tensor,
        past: tuple[torch.Tensor, torch.Tensor] | None = None,
        fused: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Attention of the T_new positions in ``h`` (B, T_new, C) over themselves and the
        ``past`` keys and values (each (B, H, T_past, d_head), or None).

        Returns the output (B, T_new, C), all keys and values so far (B, H, T_past + T_new,
        d_head) for the cache, and the attention weights (B, H, T_new, T_past + T_new).
        ``fused``: compute the same thing with PyTorch's fused kernel and return no weights
        (None): for generation, where nobody looks at them and each step counts.
        """
        B, T_new, C = h.shape
        q = self._split_heads(self.query(h))  # (B, H, T_new, d)
        k = self._split_heads(self.key(h))  # (B, H, T_new, d)
        v = self._split_heads(self.value(h))  # (B, H, T_new, d)
        if past is not None:  # the earlier positions' keys and values, computed before
            k = torch.cat([past[0], k], dim=2)  # (B, H, T_all, d)
            v = torch.cat([past[1], v], dim=2)  # (B, H, T_all, d)
        T_all = k.shape[2]
        T_past = T_all - T_new
        if fused:
            bias = self._bias(T_new, T_all, h.device)  # the mask and ALiBi as one added term
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)  # (B, H, T_new, d)
            return self.out(y.transpose(1, 2).reshape(B, T_new, C)), k, v, None

        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)  # (B, H, T_new, T_all)
        if self.slopes is not None:  # ALiBi: - m_h * (distance from s back to r)
            s_pos = torch.arange(T_past, T_all, device=h.device)[:, None]  # (T_new, 1)
            distance = (s_pos - torch.arange(T_all, device=h.device)).clamp(min=0)  # (T_new, T_all)
            scores = scores - self.slopes[:, None, None] * distance  # (B, H, T_new, T_all)
        # New position i sits at absolute position T_past + i and may see r <= T_past + i:
        # the lower triangle shifted right by T_past. Masked scores become -inf, so their
        # softmax weight is exactly 0 (every row keeps at least its own position).
        allowed = torch.ones(T_new, T_all, dtype=torch.bool, device=h.device).tril(T_past)
        scores = scores.masked_fill(~allowed, float("-inf"))  # (B, H, T_new, T_all)
        weights = torch.softmax(scores, dim=-1)  # (B, H, T_new, T_all), rows sum to 1
        y = weights @ v  # (B, H, T_new, d): weighted sum of the values
        y = y.transpose(1, 2).reshape(B, T_new, C)  # (B, T_new, C): heads side by side
        return self.out(y), k, v, weights

    def _bias(self, T_new: int, T_all: int, device: torch.device) -> torch.Tensor | None:
        """What the written-out path does to the scores, as one additive term for the fused
        kernel: -inf where the causal mask forbids, minus ALiBi's m_h * distance: (H, T_new,
        T_all), or None when there is nothing to add (one new position sees every earlier
        one, and no ALiBi)."""
        T_past = T_all - T_new
        if T_new == 1 and not self.alibi:
            return None
        allowed = torch.ones(T_new, T_all, dtype=torch.bool, device=device).tril(T_past)
        bias = torch.zeros(T_new, T_all, device=device).masked_fill(~allowed, float("-inf"))
        if self.alibi:
            s_pos = torch.arange(T_past, T_all, device=device)[:, None]  # (T_new, 1)
            distance = (s_pos - torch.arange(T_all, device=device)).clamp(min=0)  # (T_new, T_all)
            bias = bias - self.slopes.to(device)[:, None, None] * distance  # (H, T_new, T_all)
        return bias


class MLP(nn.Module):
    """The position-wise feed-forward network: C -> 4C -> GELU -> C."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.up = nn.Linear(width, 4 * width, **_META)
        self.down = _residual_linear(4 * width, width)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.down(F.gelu(self.up(h)))  # (B, T, C)


class Block(nn.Module):
    """One pre-LayerNorm Transformer block: h + Attention(LN(h)), then h + MLP(LN(h))."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_attention = nn.LayerNorm(config.width, **_META)
        self.attention = CausalSelfAttention(config.width, config.heads, config.alibi)
        self.ln_mlp = nn.LayerNorm(config.width, **_META)
        self.mlp = MLP(config.width)
        self.dropout = config.dropout

    def forward(
        self,
        h: torch.Tensor,
        past: tuple[torch.Tensor, torch.Tensor] | None,
        generator: torch.Generator | None,
        fused: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """(B, T_new, C) -> (B, T_new, C), plus the keys, values and attention weights
        (None if ``fused``, see CausalSelfAttention)."""
        a, k, v, weights = self.attention(self.ln_attention(h), past, fused)
        h = h + _dropout(a, self.dropout, generator)  # (B, T_new, C)
        h = h + _dropout(self.mlp(self.ln_mlp(h)), self.dropout, generator)  # (B, T_new, C)
        return h, k, v, weights


class TinyGPT(nn.Module):
    """f_theta of Section 14.3: token ids (B, T) -> next-token logits (B, T, V).

    Row s of the output is the notes' u_{s+1} = f_theta(x_0, ..., x_s) (Figure 14.1,
    Eq. 14.7): the scores of the token after x_s. See the module docstring for the layers.
    """

    def __init__(self, config: GPTConfig, generator: torch.Generator) -> None:
        super().__init__()
        if not isinstance(config, GPTConfig):
            raise SettingError(f"config must be a GPTConfig, got {type(config).__name__}.")
        g = check_generator(generator)
        self.config = config
        C = config.width
        self.token_embedding = nn.Embedding(config.vocab_size, C, **_META)  # e_1..e_V (rows)
        self.position_embedding = (  # ALiBi models have none: positions act in attention
            None if config.alibi else nn.Embedding(config.context_length, C, **_META)
        )
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.layers))
        self.ln_final = nn.LayerNorm(C, **_META)
        self.unembed = nn.Linear(C, config.vocab_size, bias=False, **_META)  # C -> V logits
        self.to_empty(device="cpu")
        init_gpt_parameters(self, g)

    def num_parameters(self) -> int:
        """Number of trainable numbers in theta."""
        return sum(p.numel() for p in self.parameters())

    # ------------------------------------------------------------------ checks
    def _check_ids(self, ids: object, past_length: int) -> torch.Tensor:
        """``ids`` as a long tensor (B, T) of valid ids that fits in the context, else
        SettingError with what to change."""
        V, context = self.config.vocab_size, self.config.context_length
        if not isinstance(ids, torch.Tensor):
            raise SettingError(f"The model takes a tensor of token ids, got {type(ids).__name__}.")
        if ids.ndim != 2 or ids.shape[0] < 1 or ids.shape[1] < 1:
            raise SettingError(
                "The model takes token ids of shape (batch, length) with at least one token, "
                f"got shape {tuple(ids.shape)} (use ids[None] for a single sequence)."
            )
        if ids.dtype.is_floating_point or ids.dtype.is_complex or ids.dtype == torch.bool:
            raise SettingError(f"Token ids must be integers, got {ids.dtype}.")
        if ids.shape[0] > MAX_BATCH:
            raise SettingError(f"At most {MAX_BATCH} sequences per call, got {ids.shape[0]}.")
        low, high = int(ids.min()), int(ids.max())
        if low < 0 or high >= V:
            raise SettingError(
                f"Token ids must lie in 0..{V - 1} (the model's vocabulary), found {low}..{high}."
                " Was the text encoded with the tokenizer the model was trained with?"
            )
        total = past_length + ids.shape[1]
        if total > context:
            already = f"{past_length} already read + {ids.shape[1]} new" if past_length else ""
            raise SettingError(
                f"This model reads at most {context} tokens at once (its context length, the "
                f"begin token included); got {total}{f' ({already})' if already else ''}. "
                "Use a shorter text."
            )
        return ids.long()

    def _check_cache(self, cache: KVCache, batch: int) -> KVCache:
        """``cache`` if it holds this model's layers for this batch, else SettingError."""
        cfg = self.config
        expected = (batch, cfg.heads, cache.length, cfg.head_dim)
        if (
            len(cache.keys) != cfg.layers
            or len(cache.values) != cfg.layers
            or any(tuple(t.shape) != expected for t in (*cache.keys, *cache.values))
        ):
            raise SettingError(
                "This cache does not belong to this model and batch: expected "
                f"{cfg.layers} layers of keys and values of shape {expected}."
            )
        return cache

    # ------------------------------------------------------------------ forward
    def _run(
        self,
        ids: torch.Tensor,
        cache: KVCache | None,
        generator: torch.Generator | None,
        fused: bool = False,
    ) -> tuple[torch.Tensor, KVCache, list[torch.Tensor | None], torch.Tensor]:
        """Logits of the new positions, the extended cache, each layer's attention (None
        with ``fused`` attention) and the representations c (B, T_new, C) the logits are
        read from."""
        if cache is not None and not isinstance(cache, KVCache):
            raise SettingError(f"cache must be a KVCache or None, got {type(cache).__name__}.")
        past_length = 0 if cache is None else cache.length
        ids = self._check_ids(ids, past_length)
        if cache is not None:
            cache = self._check_cache(cache, ids.shape[0])
        if generator is not None:
            check_generator(generator)
        if not self.training or self.config.dropout == 0.0:
            generator = None  # dropout is off: nothing is drawn
        elif generator is None:
            raise SettingError(
                "With dropout in training mode the model needs a torch.Generator: pass "
                "generator=... (the global random generator is shared by every user)."
            )

        T_new = ids.shape[1]
        positions = torch.arange(past_length, past_length + T_new, device=ids.device)  # (T,)
        h = self.token_embedding(ids)  # (B, T, C)
        if self.position_embedding is not None:
            h = h + self.position_embedding(positions)
        h = _dropout(h, self.config.dropout, generator)
        keys, values, attention = [], [], []
        for i, block in enumerate(self.blocks):
            past = None if cache is None else (cache.keys[i], cache.values[i])
            h, k, v, weights = block(h, past, generator, fused)  # (B, T, C)
            keys.append(k)
            values.append(v)
            attention.append(weights)
        c = self.ln_final(h)  # (B, T, C): row s is c_{s+1} = phi_theta(x_0..x_s)
        logits = self.unembed(c)  # (B, T, V): row s is u_{s+1}
        return logits, KVCache(tuple(keys), tuple(values)), attention, c

    def forward(
        self, ids: torch.Tensor, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Logits u_1, ..., u_T of the next token at every position (Figure 14.1).

        ``ids`` (B, T) holds x_0 = ⊥, x_1, ..., x_{T-1}; the result (B, T, V) has in row s
        the scores u_{s+1} = f_theta(x_0..x_s) of the token after x_s (Eq. 14.7). At most
        ``context_length`` tokens. ``generator`` feeds dropout in training mode (needed
        only when ``config.dropout > 0``).
        """
        return self._run(ids, None, generator)[0]

    def step(
        self,
        ids: torch.Tensor,
        cache: KVCache | None = None,
        *,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, KVCache]:
        """Read ``ids`` (B, T_new) after the positions held in ``cache`` (None: start of the
        sequence) and return their logits (B, T_new, V) and the extended cache.

        ``step(ids[:, :n])`` then ``step(ids[:, n:], cache)`` gives the same logits as
        ``forward(ids)``, computing each position once: how generation (Eq. 14.9-14.16)
        reads one new token per step without recomputing the prefix. Attention runs in
        PyTorch's fused kernel here (the same numbers up to rounding; no weights to return).
        Generation uses :class:`fmcore.lm.decoder.Decoder`, faster per token.
        """
        logits, new_cache, _, _ = self._run(ids, cache, generator, fused=True)
        return logits, new_cache

    @torch.no_grad()
    def representations(self, ids: torch.Tensor) -> torch.Tensor:
        """The representations c_1, ..., c_T (B, T, C) the logits are read from: row s is
        c_{s+1} = phi_theta(x_0..x_s), after the final LayerNorm, so u_{s+1} = W c_{s+1}.
        Section 14.3.1 adapts a model with a linear head w on c_{T+1} (the last row)."""
        if self.training and self.config.dropout > 0:
            raise SettingError("Put the model in eval mode (model.eval()) to read representations.")
        return self._run(ids, None, None)[3]

    @torch.no_grad()
    def attention_weights(self, ids: torch.Tensor) -> torch.Tensor:
        """Attention of every layer and head, (layers, B, heads, T, T): entry [l, b, h, s, r]
        is how much position s reads position r in layer l (0 where r > s). For plots."""
        if self.training and self.config.dropout > 0:
            raise SettingError("Put the model in eval mode (model.eval()) to look at attention.")
        return torch.stack(self._run(ids, None, None)[2])


def make_gpt(config: GPTConfig, generator: torch.Generator) -> TinyGPT:
    """A freshly initialised model; the same generator state gives the same weights."""
    return TinyGPT(config, check_generator(generator))

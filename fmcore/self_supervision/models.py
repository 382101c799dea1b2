"""The models of the pretext tasks: feature extractors h_theta for text and time series
(images use :class:`fmcore.vision.encoders.ConvEncoder`), the pretext head k_gamma, the
pretext model k_gamma(h_theta(x')) and the downstream model g_phi(h_theta*(x))."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fmcore.errors import SettingError
from fmcore.self_supervision import sentences as text_data
from fmcore.self_supervision.pseudolabels import _check_ids, _check_images, _check_series
from fmcore.validate import bounded_int, check_generator
from fmcore.vision.encoders import ConvEncoder, init_parameters

__all__ = [
    "CharEncoder",
    "DownstreamModel",
    "PretextHead",
    "PretextModel",
    "SignalEncoder",
    "pooled_features",
]

MAX_WIDTH = 256


_META = {"device": "meta"}  # layers are created without drawing random numbers


def _init(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """Give a module built on the meta device storage, then initial values from ``generator``.

    Conv1d layers get He (Kaiming) normal weights (fan-out, ReLU) and zero biases, as the
    Conv2d layers of :func:`fmcore.vision.encoders.init_parameters`; embeddings N(0, 1), PyTorch's
    default; linear layers and batch norms are left to ``init_parameters``. Modules are
    visited in the order of ``module.modules()``: the same generator state, the same weights.
    """
    g = check_generator(generator)
    module.to_empty(device="cpu")
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.Conv1d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu", generator=g)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.Embedding):
                m.weight.normal_(0.0, 1.0, generator=g)
            elif isinstance(m, nn.Linear | nn.modules.batchnorm._BatchNorm):
                init_parameters(m, g)
    return module


class CharEncoder(nn.Module):
    """h_theta for text: character ids (B, T) -> per-character features (B, T, d).

    Layers (d = ``width``, kernel 5)::

        embedding of each id                          (B, T, d)
        conv1d, ReLU                                  (B, T, d)   sees 5 characters
        + conv1d with dilation 2, ReLU (residual)     (B, T, d)   sees 13 characters

    ``causal=True`` pads only on the left, so the feature of position t depends on
    characters 0..t alone: what next-character prediction needs (a centred kernel would
    see the very character it must predict). ``causal=False`` centres the kernels, for
    masked characters, which are predicted from both sides.
    """

    def __init__(self, width: int, causal: bool, generator: torch.Generator) -> None:
        super().__init__()
        self.width = bounded_int("width", width, 4, MAX_WIDTH)
        self.causal = bool(causal)
        d = self.width
        self.embed = nn.Embedding(text_data.VOCAB_SIZE, d, **_META)
        self.conv1 = nn.Conv1d(d, d, 5, **_META)
        self.conv2 = nn.Conv1d(d, d, 5, dilation=2, **_META)
        _init(self, generator)

    @property
    def representation_dim(self) -> int:
        return self.width

    def _pad(self, h: torch.Tensor, reach: int) -> torch.Tensor:
        """Zero padding that keeps the length: all on the left if causal, else split."""
        return F.pad(h, (reach, 0) if self.causal else (reach // 2, reach - reach // 2))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """Features of every position: (B, T) int64 -> (B, T, d)."""
        ids = _check_ids(ids)
        e = self.embed(ids).transpose(1, 2)  # (B, d, T)
        h = F.relu(self.conv1(self._pad(e, 4)))  # (B, d, T)
        h = h + F.relu(self.conv2(self._pad(h, 8)))  # (B, d, T)
        return h.transpose(1, 2)  # (B, T, d)

    def pooled(self, ids: torch.Tensor) -> torch.Tensor:
        """One vector per sentence: the mean feature over its non-PAD positions, (B, d)."""
        h = self(ids)  # (B, T, d)
        real = (ids != text_data.PAD).unsqueeze(-1).float()  # (B, T, 1)
        return (h * real).sum(1) / real.sum(1).clamp_min(1.0)  # (B, d)


class SignalEncoder(nn.Module):
    """h_theta for time series: (B, 2, L) values and mask indicator -> (B, L, d).

    Three 1-D convolutions with kernel 5, dilations 1, 2 and 4 (padding 2, 4 and 8 keeps
    the length), each followed by ReLU. The dilations widen the view to 29 steps: to fill
    the middle of a hidden span of 16 steps, a position must see past both ends of it.
    A (B, L) input is read as values with an indicator of 0 (nothing hidden).
    """

    def __init__(self, width: int, generator: torch.Generator) -> None:
        super().__init__()
        self.width = bounded_int("width", width, 4, MAX_WIDTH)
        d = self.width
        self.convs = nn.ModuleList(
            [
                nn.Conv1d(2, d, 5, padding=2, **_META),
                nn.Conv1d(d, d, 5, padding=4, dilation=2, **_META),
                nn.Conv1d(d, d, 5, padding=8, dilation=4, **_META),
            ]
        )
        _init(self, generator)

    @property
    def representation_dim(self) -> int:
        return self.width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Features of every step: (B, 2, L) or (B, L) float -> (B, L, d)."""
        if isinstance(x, torch.Tensor) and x.ndim == 2:
            x = torch.stack([_check_series(x), torch.zeros_like(x, dtype=torch.float32)], 1)
        if not isinstance(x, torch.Tensor) or x.ndim != 3 or x.shape[1] != 2:
            raise SettingError("The signal encoder takes (B, L) series or (B, 2, L) inputs.")
        h = x.float()  # (B, 2, L)
        for conv in self.convs:
            h = F.relu(conv(h))  # (B, d, L)
        return h.transpose(1, 2)  # (B, L, d)

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        """One vector per series: the mean feature over time, (B, d)."""
        return self(x).mean(1)


class PretextHead(nn.Module):
    """k_gamma: a linear map from features to the pretext outputs, per position for sequences.

    (B, d) -> (B, K) for the image tasks, (B, T, d) -> (B, T, K) for the sequence tasks.
    With a single output (a regression) the last dimension is dropped: (B, T).
    """

    def __init__(self, input_dim: int, num_outputs: int, generator: torch.Generator) -> None:
        super().__init__()
        d = bounded_int("feature dimension", input_dim, 1, 4096)
        self.num_outputs = bounded_int("number of outputs", num_outputs, 1, 1000)
        self.linear = nn.Linear(d, self.num_outputs, **_META)
        _init(self, generator)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        out = self.linear(features)  # (..., K)
        return out.squeeze(-1) if self.num_outputs == 1 else out


class PretextModel(nn.Module):
    """k_gamma(h_theta(x')): the network trained on the pretext task."""

    def __init__(self, h: nn.Module, k: PretextHead) -> None:
        super().__init__()
        self.h = h  # feature extractor h_theta: kept after pretraining
        self.k = k  # pretext output module k_gamma: discarded after pretraining

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pretext predictions for x' (logits, or values for a regression)."""
        return self.k(self.h(x))


def pooled_features(h: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """One feature vector per example, (B, d): h(x) for images, h.pooled(x) for sequences.

    Images may be uint8 (converted to [0, 1]).
    """
    if isinstance(h, ConvEncoder):
        return h(_check_images(x))  # (B, m)
    if not callable(getattr(h, "pooled", None)):
        raise SettingError(f"{type(h).__name__} is not a feature extractor of this lesson.")
    return h.pooled(x)  # (B, d)


class DownstreamModel(nn.Module):
    """g_phi(h_theta*(x)): the transferred feature extractor and a new output module."""

    def __init__(self, h: nn.Module, g: nn.Linear) -> None:
        super().__init__()
        self.h = h  # h_theta*, the very module trained on the pretext task
        self.g = g  # g_phi, a new linear head for the downstream classes

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """h_theta*(x) pooled to one vector per example: (B, d)."""
        return pooled_features(self.h, x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Downstream logits (B, classes)."""
        return self.g(self.features(x))

"""Pretext tasks in three domains: pseudolabels, models h/k/g, a pretraining loop, transfer.

The recipe of the course slides, the same in every domain (that is what "domain-agnostic"
means here):

1. **Pseudolabels.** From an unlabelled x, a program makes an input x' and a target z, e.g.
   x' = x rotated by k * 90 degrees and z = k. No person labels anything.
2. **Pretraining.** The model ``k_gamma(h_theta(x'))`` (a feature extractor h_theta and a
   small output module k_gamma) is trained to predict z from x'.
3. **Transfer.** k_gamma is thrown away; the learned h_theta* is kept and a *new* output
   module g_phi is put on top of it for the downstream task, which has real labels
   (:func:`transfer`). Here g_phi is fitted on a few labelled examples per class with
   h_theta* frozen, and compared with the same g_phi on a *random* h_theta.

Domains, their data, pretext tasks and downstream tasks:

=============  ================================  ========================  ================
domain         x                                 pretext tasks             downstream task
=============  ================================  ========================  ================
images         Shapes (N, 3, S, S), [0, 1]       rotation, jigsaw          shape class (10)
text           sentences, char ids (N, T)        masked_char, next_char    topic (4)
timeseries     signals (N, L) float              masked_feature            waveform (4)
=============  ================================  ========================  ================

Each pseudolabel generator is a pure function ``(x, generator) -> PretextBatch``; the loop
:func:`pretrain_pretext` draws fresh pseudolabels for every batch (like fresh
augmentations in SimCLR) and yields typed events (rule 3 of DESIGN.md), as
:func:`fmcore.vision.pretrain.pretrain_simclr` does. All randomness comes from a
``torch.Generator`` (rule 4).
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from fmcore.data import shapes as shapes_data
from fmcore.errors import SettingError
from fmcore.optim import decay_groups, take_step, warmup_cosine
from fmcore.self_supervision import sentences as text_data
from fmcore.self_supervision import signals as signal_data
from fmcore.validate import bounded_int, check_generator, finite_float
from fmcore.vision.encoders import ConvEncoder, EncoderConfig, init_parameters
from fmcore.vision.pretrain import linear_probe_accuracy

__all__ = [
    "CLASS_NAMES",
    "DOMAINS",
    "JIGSAW_PERMUTATIONS",
    "PRETEXT_TASKS",
    "PSEUDOLABELS",
    "CharEncoder",
    "DoneEvent",
    "DownstreamModel",
    "EvalEvent",
    "Event",
    "PretextBatch",
    "PretextConfig",
    "PretextExamples",
    "PretextHead",
    "PretextModel",
    "SignalEncoder",
    "StartEvent",
    "StepEvent",
    "TRANSFER_WHY",
    "describe",
    "downstream_data",
    "example_pictures",
    "examples",
    "jigsaw_pseudolabels",
    "make_feature_extractor",
    "make_pretext_batch",
    "make_pretext_model",
    "masked_char_pseudolabels",
    "masked_feature_pseudolabels",
    "next_char_pseudolabels",
    "pooled_features",
    "pretext_accuracy",
    "pretext_data",
    "pretext_loss",
    "pretrain_pretext",
    "rotation_pseudolabels",
    "transfer",
    "transfer_accuracy",
]

# ------------------------------------------------------------------------------ tasks
PRETEXT_TASKS: dict[str, tuple[str, ...]] = {
    "images": ("rotation", "jigsaw"),  # Shapes images (N, 3, S, S) uint8 or float in [0, 1]
    "text": ("masked_char", "next_char"),  # encoded sentences (N, T) int64
    "timeseries": ("masked_feature",),  # signals (N, L) float32
}
DOMAINS: tuple[str, ...] = tuple(PRETEXT_TASKS)

# Downstream classes of each domain (the labels the pretext task never sees).
CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "images": shapes_data.CLASS_NAMES,
    "text": text_data.TOPICS,
    "timeseries": signal_data.CLASS_NAMES,
}

# Why each pretext task's h_theta* transfers to its downstream task, or does not:
# {task: (verdict, reason in Markdown)}, shown beside the transfer numbers of the lesson (what the
# classroom runs reach is under _CLASSROOM below). The point: a pseudolabel helps only as
# far as predicting it needs what the downstream task needs.
TRANSFER_WHY: dict[str, tuple[str, str]] = {
    "rotation": (
        "transfers",
        r"To say how far an upright shape was turned, $h_\theta$ must find the shape's outline "
        r"and which way its corners and arms point: the same features that tell a triangle "
        r"from a star. After a full-length training (1500 steps) a new head on "
        r"$h_{\theta^*}$ names the shapes far better than one on a random $h_\theta$. This "
        r"pseudolabel needs the meaning of the image; not every one does (try jigsaw).",
    ),
    "jigsaw": (
        "transfers little",
        r"The order of the tiles can be read off the seams, where the background's shading "
        r"and the cut outlines run on from one tile into the next. That needs no idea of "
        r"which shape it is, so a high pretext accuracy comes with features that beat a "
        r"random $h_\theta$ on the shapes by only a few points. Not every pseudolabel needs "
        r"the meaning of the data.",
    ),
    "masked_char": (
        "does not transfer",
        r"A hidden character is spelled out from its neighbours (`umbre_la` can only be "
        r"`umbrella`): that needs spelling, not what the sentence is about. $h_{\theta^*}$ learns "
        r"spelling, and a head on it tells the topics apart no better than one on a random "
        r"$h_\theta$. Not every pseudolabel needs the meaning of the data.",
    ),
    "next_char": (
        "does not transfer",
        r"The next character follows from the last few (after `th` comes `e` more often than "
        r"not) whatever the topic, so $h_{\theta^*}$ learns spelling, and a head on it tells "
        r"the topics apart no better than one on a random $h_\theta$. Not every pseudolabel "
        r"needs the meaning of the data.",
    ),
    "masked_feature": (
        "transfers little, if at all",
        r"A hidden stretch of a waveform is filled in by carrying the curve on from both "
        r"sides (its level, slope and rhythm), which works the same for a sine as for a "
        r"square wave: telling them apart is not needed. And a random $h_\theta$ already "
        r"separates the four waveforms fairly well, so there is little left to gain. Not "
        r"every pseudolabel needs the meaning of the data.",
    ),
}

# The 24 orders of the 2x2 tiles, in itertools order: JIGSAW_PERMUTATIONS[0] = (0, 1, 2, 3)
# leaves the image as it is. Tiles are numbered row by row: 0 1 / 2 3.
JIGSAW_PERMUTATIONS: tuple[tuple[int, ...], ...] = tuple(itertools.permutations(range(4)))

MASK_FRACTION = 0.15  # of the characters of a sentence hidden by masked_char (as in BERT)
SPAN_FRACTION = 0.25  # of the time steps of a series hidden by masked_feature

# How the pretext images are drawn when the config does not say: rotation needs upright
# shapes (see fmcore.data.shapes.PRESETS["upright"]); jigsaw works on any.
DEFAULT_SHAPES_PRESET = {"rotation": "upright", "jigsaw": "standard"}
DOWNSTREAM_SHAPES_PRESET = "standard"  # the downstream images are always drawn this way

# ------------------------------------------------------------------------------ limits
MAX_POOL = 20_000  # unlabelled examples
MAX_STEPS = 20_000
MAX_BATCH = 1024
MAX_EVAL = 5_000
MAX_PROBE_STEPS = 5_000
MAX_WIDTH = 256
MAX_EXAMPLES = 64  # in the gallery
MAX_SEED = 2**31 - 1
_EMBED_BATCH = 256


# ============================================================================ pseudolabels
@dataclass(frozen=True, eq=False)
class PretextBatch:
    """Inputs x' and pseudolabels z of one batch of a pretext task.

    Shapes per task (B examples): rotation and jigsaw: inputs (B, 3, S, S) float in [0, 1],
    targets (B,) int64, mask None. masked_char: inputs and targets (B, T) int64, mask
    (B, T). next_char: inputs and targets (B, T - 1) int64, mask (B, T - 1).
    masked_feature: inputs (B, 2, L) float (values, mask indicator), targets (B, L) float,
    mask (B, L).
    """

    task: str
    inputs: torch.Tensor  # x', what the model sees
    targets: torch.Tensor  # z, what it must predict
    mask: torch.Tensor | None  # bool: which target positions are scored; None: all
    kind: str  # "classification" (cross-entropy) or "regression" (squared error)
    num_outputs: int  # classes of z (or 1 for a regression value)

    def __len__(self) -> int:
        return int(self.inputs.shape[0])


def _check_images(x: object) -> torch.Tensor:
    """A (B, 3, S, S) uint8 or float batch as float32 in [0, 1], else SettingError."""
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[1] != 3 or x.shape[0] < 1:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise SettingError(f"Image tasks take a batch of shape (B, 3, S, S), got {shape}.")
    if x.shape[2] != x.shape[3]:
        raise SettingError(f"Image tasks take square images, got {x.shape[2]}x{x.shape[3]}.")
    if x.dtype == torch.uint8:
        return shapes_data.to_float(x)
    if not x.is_floating_point():
        raise SettingError(f"Images must be uint8 or float in [0, 1], got {x.dtype}.")
    return x.float()


def _check_ids(x: object) -> torch.Tensor:
    """A (B, T) int64 batch of character ids, else SettingError."""
    if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.dtype != torch.int64:
        raise SettingError(
            "Text tasks take character ids of shape (B, T) and dtype int64 "
            "(use fmcore.self_supervision.sentences.encode)."
        )
    if x.shape[0] < 1 or x.shape[1] < 2:
        raise SettingError(f"Text tasks need B >= 1 sentences of T >= 2 ids, got {tuple(x.shape)}.")
    if bool(((x < 0) | (x >= text_data.VOCAB_SIZE)).any()):
        raise SettingError(f"Character ids must lie in 0..{text_data.VOCAB_SIZE - 1}.")
    return x


def _check_series(x: object) -> torch.Tensor:
    """A (B, L) float batch of series, else SettingError."""
    if not isinstance(x, torch.Tensor) or x.ndim != 2 or not x.is_floating_point():
        raise SettingError("Time-series tasks take float series of shape (B, L).")
    if x.shape[0] < 1 or x.shape[1] < 4:
        raise SettingError(f"Time-series tasks need L >= 4 steps, got {tuple(x.shape)}.")
    if not bool(torch.isfinite(x).all()):
        raise SettingError("The series contain NaN or infinite values.")
    return x.float()


def rotation_pseudolabels(x: torch.Tensor, generator: torch.Generator) -> PretextBatch:
    """Rotation prediction (Gidaris et al. 2018): x' = x rotated by k * 90 degrees, z = k.

    k is drawn uniformly from {0, 1, 2, 3} per image; the rotation is
    ``torch.rot90(x, k, dims=(2, 3))``, counter-clockwise as the image is displayed, exact
    (pixels are moved, not resampled). x: (B, 3, S, S) uint8 or float in [0, 1].
    """
    x = _check_images(x)  # (B, 3, S, S)
    k = torch.randint(0, 4, (x.shape[0],), generator=check_generator(generator))  # (B,)
    inputs = x.clone()
    for j in range(1, 4):
        rows = k == j
        inputs[rows] = torch.rot90(x[rows], j, dims=(2, 3))
    return PretextBatch("rotation", inputs, k, None, "classification", 4)


def _tiles(x: torch.Tensor) -> torch.Tensor:
    """(B, C, S, S) -> (B, 4, C, S/2, S/2): the 2x2 tiles, numbered row by row."""
    B, C, S, _ = x.shape
    h = S // 2
    return x.reshape(B, C, 2, h, 2, h).permute(0, 2, 4, 1, 3, 5).reshape(B, 4, C, h, h)


def _untiles(t: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`_tiles`: (B, 4, C, h, h) -> (B, C, 2h, 2h)."""
    B, _, C, h, _ = t.shape
    return t.reshape(B, 2, 2, C, h, h).permute(0, 3, 1, 4, 2, 5).reshape(B, C, 2 * h, 2 * h)


def jigsaw_pseudolabels(x: torch.Tensor, generator: torch.Generator) -> PretextBatch:
    """Jigsaw puzzle (after Noroozi & Favaro 2016): shuffle the 2x2 tiles, z = which order.

    Each image is cut into four tiles (numbered 0 1 / 2 3); a permutation p is drawn
    uniformly from :data:`JIGSAW_PERMUTATIONS` and position i of x' shows tile p[i] of x;
    z is the index of p in the table. x: (B, 3, S, S) uint8 or float, S even.
    """
    x = _check_images(x)  # (B, 3, S, S)
    if x.shape[-1] % 2:
        raise SettingError(
            f"Jigsaw cuts images in halves: the side must be even, not {x.shape[-1]}."
        )
    B = x.shape[0]
    z = torch.randint(0, len(JIGSAW_PERMUTATIONS), (B,), generator=check_generator(generator))
    order = torch.tensor(JIGSAW_PERMUTATIONS)[z]  # (B, 4): tile shown at each position
    tiles = _tiles(x)  # (B, 4, 3, S/2, S/2)
    shuffled = tiles[torch.arange(B)[:, None], order]  # (B, 4, 3, S/2, S/2)
    inputs = _untiles(shuffled)  # (B, 3, S, S)
    return PretextBatch("jigsaw", inputs, z, None, "classification", len(JIGSAW_PERMUTATIONS))


def masked_char_pseudolabels(ids: torch.Tensor, generator: torch.Generator) -> PretextBatch:
    """Masked characters (BERT's masked language model, on characters).

    In each sentence, round(15%) of its non-PAD characters (at least one) are chosen
    uniformly without replacement and replaced by MASK. z = the original ids; only the
    replaced positions are scored (``mask``), the model must fill them in from both sides.
    BERT also leaves 10% of the chosen tokens unchanged and swaps 10% for random ones, so
    that the model cannot rely on seeing MASK at test time; here every chosen character
    becomes MASK, which keeps the picture simple. ids: (B, T) int64.
    """
    ids = _check_ids(ids)  # (B, T)
    real = ids != text_data.PAD  # (B, T)
    length = real.sum(1)  # (B,)
    if bool((length == 0).any()):
        raise SettingError("Every sentence needs at least one character to mask.")
    count = (MASK_FRACTION * length.double()).round().long().clamp_min(1)  # (B,)
    # The `count` real positions with the smallest random keys are masked (PAD keys are 2).
    keys = torch.rand(ids.shape, generator=check_generator(generator)).masked_fill(~real, 2.0)
    rank = keys.argsort(1).argsort(1)  # (B, T) 0 for the smallest key of each row
    mask = rank < count[:, None]  # (B, T)
    inputs = ids.masked_fill(mask, text_data.MASK)
    return PretextBatch(
        "masked_char", inputs, ids.clone(), mask, "classification", text_data.VOCAB_SIZE
    )


def next_char_pseudolabels(ids: torch.Tensor, generator: torch.Generator) -> PretextBatch:
    """Next character prediction (a character language model, as in the language-model lesson).

    x' = ids[:, :-1] and z = ids[:, 1:]: position t, having read characters 0..t, must
    predict character t + 1. Positions whose target is PAD are not scored. The encoder must
    be causal (see :class:`CharEncoder`), or it would read the answer. Draws no random
    numbers (``generator`` is checked and kept for a uniform signature). ids: (B, T) int64.
    """
    ids = _check_ids(ids)  # (B, T)
    check_generator(generator)
    inputs, targets = ids[:, :-1].clone(), ids[:, 1:].clone()  # (B, T - 1) each
    mask = targets != text_data.PAD
    return PretextBatch("next_char", inputs, targets, mask, "classification", text_data.VOCAB_SIZE)


def masked_feature_pseudolabels(series: torch.Tensor, generator: torch.Generator) -> PretextBatch:
    """Masked time steps: hide a contiguous span and ask for its values (a regression).

    In each series a span of round(25%) of the L steps, at a uniformly random start, is set
    to 0. Since 0 is also a possible value, the model gets a second input channel, the mask
    indicator (1 on hidden steps), to tell "hidden" from "zero". x' = (values, indicator)
    (B, 2, L); z = the original values (B, L); only the hidden steps are scored, with the
    squared error. series: (B, L) float.
    """
    x = _check_series(series)  # (B, L)
    B, L = x.shape
    span = max(1, round(SPAN_FRACTION * L))
    start = torch.randint(0, L - span + 1, (B, 1), generator=check_generator(generator))
    t = torch.arange(L)[None, :]  # (1, L)
    mask = (t >= start) & (t < start + span)  # (B, L)
    inputs = torch.stack([x.masked_fill(mask, 0.0), mask.float()], dim=1)  # (B, 2, L)
    return PretextBatch("masked_feature", inputs, x.clone(), mask, "regression", 1)


PSEUDOLABELS: dict[str, Callable[[torch.Tensor, torch.Generator], PretextBatch]] = {
    "rotation": rotation_pseudolabels,
    "jigsaw": jigsaw_pseudolabels,
    "masked_char": masked_char_pseudolabels,
    "next_char": next_char_pseudolabels,
    "masked_feature": masked_feature_pseudolabels,
}


def _check_task(domain: object, task: object) -> tuple[str, str]:
    if not isinstance(domain, str) or domain not in PRETEXT_TASKS:
        raise SettingError(f"Unknown domain {domain!r}; choose one of {', '.join(DOMAINS)}.")
    tasks = PRETEXT_TASKS[domain]
    if not isinstance(task, str) or task not in tasks:
        raise SettingError(
            f"Unknown pretext task {task!r} for {domain}; choose one of {', '.join(tasks)}."
        )
    return domain, task


def _first_task(domain: object) -> str:
    """The first task of a domain ("" for an unknown one: the config then says what is known)."""
    if isinstance(domain, str) and domain in PRETEXT_TASKS:
        return PRETEXT_TASKS[domain][0]
    return ""


def _domain_of(task: object) -> str:
    for domain, tasks in PRETEXT_TASKS.items():
        if isinstance(task, str) and task in tasks:
            return domain
    known = ", ".join(PSEUDOLABELS)
    raise SettingError(f"Unknown pretext task {task!r}; choose one of {known}.")


def make_pretext_batch(task: str, x: torch.Tensor, generator: torch.Generator) -> PretextBatch:
    """Pseudolabels of ``task`` for the unlabelled batch ``x`` (see PSEUDOLABELS)."""
    _domain_of(task)
    return PSEUDOLABELS[task](x, generator)


# ============================================================================ models
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


def transfer(
    h: nn.Module | PretextModel, num_outputs: int, generator: torch.Generator
) -> DownstreamModel:
    """Keep h_theta*, discard k_gamma, and put a new linear g_phi on the pooled features.

    ``h`` is the feature extractor (or a PretextModel, whose k_gamma is dropped); it is
    shared, not copied: training the DownstreamModel end to end would finetune h itself.
    g_phi is a fresh ``nn.Linear(d, num_outputs)`` initialised from ``generator``.
    """
    if isinstance(h, PretextModel):
        h = h.h
    d = getattr(h, "representation_dim", None)
    if not isinstance(h, nn.Module) or not isinstance(d, int):
        raise SettingError("transfer needs a feature extractor with a representation_dim.")
    classes = bounded_int("number of downstream outputs", num_outputs, 1, 1000)
    g_phi = _init(nn.Linear(d, classes, **_META), generator)
    return DownstreamModel(h, g_phi)


# ============================================================================ losses
def _scored(predictions: torch.Tensor, batch: PretextBatch) -> tuple[torch.Tensor, torch.Tensor]:
    """The predictions and targets of the scored positions: (M, K) and (M,), or (M,), (M,)."""
    if batch.mask is None:
        return predictions, batch.targets
    return predictions[batch.mask], batch.targets[batch.mask]


def pretext_loss(predictions: torch.Tensor, batch: PretextBatch) -> torch.Tensor:
    """The pretext loss, a mean over the scored positions.

    Classification: cross-entropy -log softmax(k(h(x')))_z. Regression: squared error
    (k(h(x')) - z)^2. Only positions in ``batch.mask`` count (all when mask is None).
    """
    p, z = _scored(predictions, batch)
    if batch.kind == "classification":
        return F.cross_entropy(p, z)
    return F.mse_loss(p, z)


def pretext_accuracy(predictions: torch.Tensor, batch: PretextBatch) -> float | None:
    """Fraction of scored positions whose argmax is z; None for a regression."""
    if batch.kind != "classification":
        return None
    p, z = _scored(predictions.detach(), batch)
    return float((p.argmax(-1) == z).double().mean())


def _guess_baseline(batch: PretextBatch) -> float:
    """What an input-blind guess scores: accuracy of the most frequent z (classification),
    or the squared error of predicting each series' visible mean at the hidden steps."""
    if batch.kind == "classification":
        _, z = _scored(batch.targets, batch)
        return float(torch.bincount(z).max()) / z.numel()
    visible = ~batch.mask  # (B, L)
    mean = (batch.targets * visible).sum(1, keepdim=True) / visible.sum(1, keepdim=True)
    return float(((mean.expand_as(batch.targets) - batch.targets)[batch.mask] ** 2).mean())


# ============================================================================ config
_DEFAULT_WIDTH = {"images": 16, "text": 64, "timeseries": 32}


@dataclass(frozen=True)
class PretextConfig:
    """Settings of one pretext pretraining run, checked on creation (SettingError if not).

    Presets: :meth:`tiny` (tests: a few steps, well under a second each) and
    :meth:`classroom` (the lesson page: 10-25 s on two cores).
    """

    # --- what
    domain: str = "images"  # "images", "text" or "timeseries"
    task: str = "rotation"  # one of PRETEXT_TASKS[domain]
    # --- data
    n_unlabelled: int = 2000  # pretext pool (16..20 000); its labels are never read
    shapes_preset: str | None = None  # images: None -> "upright" for rotation, else "standard"
    image_size: int = 32  # images: side in pixels (16..128, even)
    series_length: int = 64  # time series: steps per series (16..1024)
    data_seed: int = 0  # seed of the unlabelled pool
    eval_seed: int = 1000  # downstream labelled set, test set (+1), held-out pretext set (+2)
    # --- model h_theta
    width: int | None = None  # channels; None: the domain's (images 16, text 64, series 32)
    representation_dim: int = 64  # images: m, the size of h_theta(x)
    # --- optimisation (AdamW, linear warm-up then cosine decay)
    steps: int = 300  # optimisation steps (1..20 000)
    batch_size: int = 64  # examples per step (2..1024, at most n_unlabelled)
    learning_rate: float = 3e-3  # peak learning rate
    weight_decay: float = 1e-4  # decoupled, not on biases and norms
    warmup_steps: int = 10
    # --- monitoring (labels used here only, on held-out data)
    eval_every: int = 50  # evaluate at step 0, every this many steps and at the end; 0: never
    n_labelled_per_class: int = 10  # labelled examples per class that g_phi is fitted on
    eval_examples: int = 500  # downstream test examples, and held-out pretext examples
    probe_steps: int = 200  # full-batch Adam steps fitting g_phi
    # --- randomness
    seed: int = 0  # seeds the run's generator when pretrain_pretext gets none

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        _check_task(self.domain, self.task)
        set_(
            self,
            "n_unlabelled",
            bounded_int("unlabelled examples", self.n_unlabelled, 16, MAX_POOL),
        )
        preset = self.shapes_preset
        if preset is None:
            preset = DEFAULT_SHAPES_PRESET.get(self.task, DOWNSTREAM_SHAPES_PRESET)
        if preset not in shapes_data.PRESETS:
            raise SettingError(
                f"shapes_preset must be one of {', '.join(shapes_data.PRESETS)}; got {preset!r}."
            )
        set_(self, "shapes_preset", preset)
        size = bounded_int("image size", self.image_size, 16, 128)
        if size % 2:
            raise SettingError(f"The image size must be even (jigsaw halves it), got {size}.")
        set_(self, "image_size", size)
        set_(
            self,
            "series_length",
            bounded_int(
                "series length", self.series_length, signal_data.MIN_LENGTH, signal_data.MAX_LENGTH
            ),
        )
        for name in ("data_seed", "eval_seed", "seed"):
            set_(self, name, bounded_int(name, getattr(self, name), 0, MAX_SEED - 3))
        if self.eval_seed <= self.data_seed <= self.eval_seed + 2:
            raise SettingError(
                "data_seed must differ from eval_seed, eval_seed + 1 and eval_seed + 2, so "
                "that the evaluation data is held out from the unlabelled pool."
            )
        width = _DEFAULT_WIDTH[self.domain] if self.width is None else self.width
        set_(self, "width", bounded_int("width", width, 4, MAX_WIDTH))
        set_(
            self,
            "representation_dim",
            bounded_int("representation_dim", self.representation_dim, 2, 1024),
        )
        set_(self, "steps", bounded_int("number of steps", self.steps, 1, MAX_STEPS))
        set_(self, "batch_size", bounded_int("batch size", self.batch_size, 2, MAX_BATCH))
        if self.batch_size > self.n_unlabelled:
            raise SettingError(
                f"The batch size ({self.batch_size}) cannot exceed the number of unlabelled "
                f"examples ({self.n_unlabelled})."
            )
        set_(self, "learning_rate", finite_float("learning rate", self.learning_rate, 1e-6, 1.0))
        set_(self, "weight_decay", finite_float("weight decay", self.weight_decay, 0.0, 1.0))
        set_(self, "warmup_steps", bounded_int("warm-up steps", self.warmup_steps, 0, MAX_STEPS))
        set_(self, "eval_every", bounded_int("eval_every", self.eval_every, 0, MAX_STEPS))
        set_(
            self,
            "n_labelled_per_class",
            bounded_int("labelled examples per class", self.n_labelled_per_class, 1, 500),
        )
        set_(
            self,
            "eval_examples",
            bounded_int("evaluation examples", self.eval_examples, 8, MAX_EVAL),
        )
        set_(self, "probe_steps", bounded_int("probe_steps", self.probe_steps, 1, MAX_PROBE_STEPS))

    # ----------------------------------------------------------------- presets
    @classmethod
    def tiny(
        cls, domain: str = "images", task: str | None = None, **changes: object
    ) -> PretextConfig:
        """For tests: 64 examples (16x16 images, 32-step series), width 4 or 8, batch 16,
        6 steps, evaluations at steps 0, 3 and 6."""
        task = _first_task(domain) if task is None else task
        base = cls(
            domain=domain,
            task=task,
            n_unlabelled=64,
            image_size=16,
            series_length=32,
            width=4 if domain == "images" else 8,
            representation_dim=8,
            steps=6,
            batch_size=16,
            warmup_steps=2,
            eval_every=3,
            n_labelled_per_class=2,
            eval_examples=40,
            probe_steps=20,
        )
        return dataclasses.replace(base, **changes)  # type: ignore[arg-type]

    @classmethod
    def classroom(
        cls, domain: str = "images", task: str | None = None, **changes: object
    ) -> PretextConfig:
        """For the lesson page: 10-25 s on two CPU cores, depending on the domain (see
        _CLASSROOM for what each reaches)."""
        task = _first_task(domain) if task is None else task
        base = cls(domain=domain, task=task, **_CLASSROOM.get(domain, {}))  # type: ignore[arg-type]
        return dataclasses.replace(base, **changes)  # type: ignore[arg-type]

    @property
    def num_classes(self) -> int:
        """Classes of the downstream task."""
        return len(CLASS_NAMES[self.domain])

    def to_dict(self) -> dict[str, object]:
        """The settings as plain JSON-able values."""
        return dataclasses.asdict(self)


# Classroom settings per domain. What they reached here (two CPU cores, two torch threads):
# held-out pretext accuracy (an input-blind guess), downstream transfer accuracy with 10
# labels per class (the same for the random h_theta), and the time of a run:
# - images, rotation: 0.69 (0.27); transfer 0.42 (random 0.13); 22 s. Upright circles,
#   squares and plus signs look the same after any quarter turn, and bars after a half
#   turn, so about 0.72 is the most any model can reach on the Shapes.
# - images, jigsaw: 0.87 (0.07); transfer 0.20 (0.13); 22 s. The puzzle is largely solved
#   from low-level cues at the seams (background gradients, cut outlines), which say little
#   about the shape: a good pretext score does not promise good features.
# - text, masked_char: 0.94 (0.19, how often the most frequent character, the space, is
#   hidden); next_char: 0.90 (0.19); transfer to the topic 0.45-0.48 (random 0.45-0.47);
#   10 s. Most characters can be spelled out from their neighbours, so the features learn
#   spelling rather than topic: the two pretext tasks plateau within a few hundred steps.
# - timeseries, masked_feature: squared error 0.34 on hidden steps (0.73 for each series'
#   visible mean; the noise alone gives 0.04); transfer 0.68 (random 0.62); 10 s.
_CLASSROOM: dict[str, dict[str, object]] = {
    "images": {"n_unlabelled": 6000, "steps": 1500, "eval_every": 150},
    "text": {"n_unlabelled": 4000, "steps": 600, "eval_every": 60},
    "timeseries": {"n_unlabelled": 4000, "steps": 1500, "eval_every": 150},
}


# ============================================================================ data
def _domain_data(
    domain: str, n: int, seed: int | torch.Generator, config: PretextConfig, preset: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, labels) of ``n`` fresh examples of a domain: images uint8, ids int64, series."""
    if domain == "images":
        shapes = shapes_data.PRESETS[preset]
        if isinstance(seed, int):
            data = shapes_data.cached_shapes(n, seed, config.image_size, shapes)
        else:
            data = shapes_data.make_shapes(n, seed, image_size=config.image_size, config=shapes)
        return data.images, data.labels
    if domain == "text":
        sentences = text_data.make_sentences(n, seed)
        return text_data.encode(sentences.texts, text_data.MAX_CHARS), sentences.labels
    signals = signal_data.make_signals(n, seed, config.series_length)
    return signals.series, signals.labels


def pretext_data(config: PretextConfig) -> torch.Tensor:
    """The unlabelled pool x: ``n_unlabelled`` examples drawn with ``data_seed``.

    Images (N, 3, S, S) uint8 (drawn with ``config.shapes_preset``), text (N, 48) int64
    character ids, time series (N, L) float32. Labels exist but are dropped here.
    """
    x, _ = _domain_data(
        config.domain, config.n_unlabelled, config.data_seed, config, config.shapes_preset
    )
    return x


def downstream_data(config: PretextConfig) -> tuple[torch.Tensor, ...]:
    """The labelled downstream sets: (train_x, train_y, test_x, test_y).

    ``n_labelled_per_class`` examples per class (seed ``eval_seed``; the datasets balance
    classes exactly) and ``eval_examples`` test examples (seed ``eval_seed + 1``). Images
    are drawn with the "standard" Shapes whatever the pretext data was.
    """
    n_train = config.n_labelled_per_class * config.num_classes
    preset = DOWNSTREAM_SHAPES_PRESET
    train_x, train_y = _domain_data(config.domain, n_train, config.eval_seed, config, preset)
    test_x, test_y = _domain_data(
        config.domain, config.eval_examples, config.eval_seed + 1, config, preset
    )
    return train_x, train_y, test_x, test_y


def _embed(h: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Pooled features of every example in eval mode, without gradients: (N, d) float32."""
    was_training = h.training
    h.eval()
    try:
        with torch.no_grad():
            parts = [
                pooled_features(h, x[i : i + _EMBED_BATCH]).float()
                for i in range(0, x.shape[0], _EMBED_BATCH)
            ]
    finally:
        h.train(was_training)
    return torch.cat(parts)  # (N, d)


def transfer_accuracy(h: nn.Module, config: PretextConfig, generator: torch.Generator) -> float:
    """Downstream test accuracy of h_theta frozen + a new linear g_phi (a linear probe).

    g_phi is fitted on the pooled features of the ``n_labelled_per_class`` labelled examples
    per class with :func:`fmcore.vision.pretrain.linear_probe_accuracy` (standardised features,
    cross-entropy, ``probe_steps`` Adam steps, initial weights from ``generator``) and
    scored on the ``eval_examples`` test examples of :func:`downstream_data`.
    """
    train_x, train_y, test_x, test_y = downstream_data(config)
    return linear_probe_accuracy(
        _embed(h, train_x),
        train_y,
        _embed(h, test_x),
        test_y,
        config.probe_steps,
        check_generator(generator),
    )


# ============================================================================ models, made
def make_feature_extractor(config: PretextConfig, generator: torch.Generator) -> nn.Module:
    """A fresh h_theta for ``config.domain`` (and task: next_char needs a causal one)."""
    g = check_generator(generator)
    if config.domain == "images":
        encoder = EncoderConfig(
            image_size=config.image_size,
            width=config.width,
            representation_dim=config.representation_dim,
        )
        return ConvEncoder(encoder, g)
    if config.domain == "text":
        return CharEncoder(config.width, causal=config.task == "next_char", generator=g)
    return SignalEncoder(config.width, g)


def _num_outputs(task: str) -> int:
    return {"rotation": 4, "jigsaw": len(JIGSAW_PERMUTATIONS), "masked_feature": 1}.get(
        task, text_data.VOCAB_SIZE
    )


def make_pretext_model(config: PretextConfig, generator: torch.Generator) -> PretextModel:
    """h_theta then k_gamma, both initialised from ``generator`` (in that order)."""
    g = check_generator(generator)
    h = make_feature_extractor(config, g)
    k = PretextHead(h.representation_dim, _num_outputs(config.task), g)  # type: ignore[arg-type]
    return PretextModel(h, k)


# ============================================================================ events
@dataclass(frozen=True, eq=False)
class StartEvent:
    """First event: the model being trained (updated in place from now on) and the plan."""

    model: PretextModel  # the very object trained; keep it to keep what is learned
    total_steps: int
    n_unlabelled: int


@dataclass(frozen=True)
class StepEvent:
    """After one optimisation step (step counts from 1)."""

    step: int  # 1..total_steps
    total_steps: int
    loss: float  # the batch's pretext loss
    accuracy: float | None  # pretext accuracy on the batch (None for a regression)
    learning_rate: float  # the rate used for this step
    examples_per_s: float  # unlabelled examples per second of training so far


@dataclass(frozen=True)
class EvalEvent:
    """The pretext task on held-out data, and the transfer to the downstream task."""

    step: int  # steps done when evaluated (0: before training)
    pretext_loss: float  # on a fixed held-out batch, pseudolabels drawn once
    pretext_accuracy: float | None  # on the same batch; None for a regression
    guess_baseline: float  # an input-blind guess on it: accuracy, or loss for a regression
    transfer_accuracy: float  # h_theta frozen + new linear g_phi, downstream test accuracy
    random_accuracy: float  # the same for h_theta at its random initial weights


@dataclass(frozen=True, eq=False)
class DoneEvent:
    """Last event, after the final step (not sent when the caller stops early)."""

    step: int
    model: PretextModel  # the trained model, in eval mode
    loss: float  # mean pretext loss of the last min(20, steps) steps
    pretext_accuracy: float | None  # of the last evaluation (None: regression or no eval)
    transfer_accuracy: float | None  # of the last evaluation (None without evaluation)
    random_accuracy: float | None
    seconds: float  # wall-clock time of the run, evaluations included


Event = StartEvent | StepEvent | EvalEvent | DoneEvent


# ============================================================================ the loop
def _learning_rate(config: PretextConfig, step: int) -> float:
    """Rate for step ``step`` (1-based): linear warm-up, then cosine decay towards 0."""
    return warmup_cosine(config.learning_rate, config.warmup_steps, config.steps, step)


def _optimizer(config: PretextConfig, model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.AdamW(decay_groups(model, config.weight_decay), lr=config.learning_rate)


def _diverged(step: int) -> SettingError:
    return SettingError(
        f"Training diverged at step {step}: the loss became NaN or infinite. Lower the "
        "learning rate and train again."
    )


def _predict(model: PretextModel, inputs: torch.Tensor) -> torch.Tensor:
    """Pretext predictions in eval mode, without gradients, a batch at a time."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            parts = [
                model(inputs[i : i + _EMBED_BATCH]) for i in range(0, len(inputs), _EMBED_BATCH)
            ]
    finally:
        model.train(was_training)
    return torch.cat(parts)


def pretrain_pretext(
    config: PretextConfig, generator: torch.Generator | None = None
) -> Iterator[Event]:
    """Pretrain k_gamma(h_theta(.)) on a pretext task, one event at a time.

    Each step takes the next B examples of a random permutation of the unlabelled pool (a
    new permutation every epoch), makes fresh pseudolabels (x', z) for them with the task's
    generator and takes one AdamW step on :func:`pretext_loss`. The pool's labels are never
    read.

    Args:
        config: the settings (:class:`PretextConfig`).
        generator: all randomness (initial weights, then the permutations and
            pseudolabels) comes from it, in that order; None uses
            ``torch.Generator().manual_seed(config.seed)``. The same generator state gives
            the same losses, step by step (same machine and number of torch threads).

    Yields:
        StartEvent; an EvalEvent at step 0 (h_theta random: its transfer accuracy is the
        baseline ``random_accuracy`` of every later evaluation); per step a StepEvent, with
        an EvalEvent every ``eval_every`` steps and after the last (none if ``eval_every``
        is 0); a DoneEvent at the end. The model is updated in place and is the object of
        the StartEvent: stopping the iteration at any point keeps the weights learned so
        far. When the loop ends or is closed, the model is left in eval mode.

    The evaluations draw from their own generator, seeded once from ``generator``, so how
    often one evaluates does not change the training trajectory.
    """
    if not isinstance(config, PretextConfig):
        raise SettingError(f"config must be a PretextConfig, got {type(config).__name__}.")
    g = torch.Generator().manual_seed(config.seed) if generator is None else generator
    g = check_generator(g)
    model = make_pretext_model(config, g)
    eval_seed = int(torch.randint(0, MAX_SEED, (1,), generator=g))

    pool = pretext_data(config)  # (N, ...): labels never read
    N, B = pool.shape[0], config.batch_size
    steps_per_epoch = N // B
    optimizer = _optimizer(config, model)
    start = time.perf_counter()
    train_seconds = 0.0
    recent: list[float] = []
    last_eval: EvalEvent | None = None
    random_accuracy = 0.0

    # A fixed held-out pretext batch (seed eval_seed + 2 of the data), pseudolabels drawn once.
    held_out, _ = _domain_data(
        config.domain, config.eval_examples, config.eval_seed + 2, config, config.shapes_preset
    )
    check = make_pretext_batch(config.task, held_out, torch.Generator().manual_seed(eval_seed))
    guess = _guess_baseline(check)

    def evaluate(step: int) -> EvalEvent:
        predictions = _predict(model, check.inputs)
        probe_g = torch.Generator().manual_seed(eval_seed)  # the same g_phi init every time
        accuracy = transfer_accuracy(model.h, config, probe_g)
        return EvalEvent(
            step=step,
            pretext_loss=float(pretext_loss(predictions, check)),
            pretext_accuracy=pretext_accuracy(predictions, check),
            guess_baseline=guess,
            transfer_accuracy=accuracy,
            random_accuracy=accuracy if step == 0 else random_accuracy,
        )

    try:
        yield StartEvent(model, config.steps, N)
        if config.eval_every:
            last_eval = evaluate(0)  # h_theta still random: the baseline of later evaluations
            random_accuracy = last_eval.transfer_accuracy
            yield last_eval
        order = torch.empty(0, dtype=torch.int64)
        for step in range(1, config.steps + 1):
            t0 = time.perf_counter()
            position = (step - 1) % steps_per_epoch
            if position == 0:
                order = torch.randperm(N, generator=g)  # (N,)
            x = pool[order[position * B : (position + 1) * B]]  # (B, ...)
            batch = make_pretext_batch(config.task, x, g)
            model.train()
            predictions = model(batch.inputs)
            loss = pretext_loss(predictions, batch)
            if not bool(torch.isfinite(loss)):
                raise _diverged(step)
            lr = _learning_rate(config, step)
            value = take_step(optimizer, loss, lr)
            train_seconds += time.perf_counter() - t0
            recent = (recent + [value])[-20:]
            yield StepEvent(
                step=step,
                total_steps=config.steps,
                loss=value,
                accuracy=pretext_accuracy(predictions, batch),
                learning_rate=lr,
                examples_per_s=step * B / max(train_seconds, 1e-9),
            )
            if config.eval_every and (step % config.eval_every == 0 or step == config.steps):
                last_eval = evaluate(step)
                yield last_eval
        model.eval()
        yield DoneEvent(
            step=config.steps,
            model=model,
            loss=sum(recent) / len(recent),
            pretext_accuracy=None if last_eval is None else last_eval.pretext_accuracy,
            transfer_accuracy=None if last_eval is None else last_eval.transfer_accuracy,
            random_accuracy=None if last_eval is None else last_eval.random_accuracy,
            seconds=time.perf_counter() - start,
        )
    finally:
        model.eval()


# ============================================================================ gallery
@dataclass(frozen=True, eq=False)
class PretextExamples:
    """A few raw examples x and their pseudolabelled versions (x', z), for a gallery."""

    domain: str
    task: str
    raw: torch.Tensor  # x: images (n, 3, S, S) uint8, ids (n, T) int64 or series (n, L)
    texts: tuple[str, ...] | None  # the sentences, for text; None otherwise
    batch: PretextBatch  # x' and z
    descriptions: tuple[str, ...]  # what z says about x', one line per example


def describe(batch: PretextBatch, i: int) -> str:
    """What the pseudolabel of example ``i`` means, in words.

    E.g. "z = 3: turned 270° ↺" (counter-clockwise), "z = 7: tiles 2-1-4-3",
    'th_ rain f_ll -> hidden "e", "e"', or "steps 12-27 hidden (16 of 64)".
    """
    i = bounded_int("example index", i, 0, len(batch) - 1)
    if batch.task == "rotation":
        k = int(batch.targets[i])
        return f"z = {k}: turned {90 * k}° ↺" if k else "z = 0: upright"  # ↺: anticlockwise
    if batch.task == "jigsaw":
        z = int(batch.targets[i])
        tiles = "-".join(str(t + 1) for t in JIGSAW_PERMUTATIONS[z])
        return f"z = {z}: tiles {tiles}"
    if batch.task == "masked_char":
        hidden = batch.targets[i][batch.mask[i]].tolist()  # type: ignore[index]
        shown = ", ".join(f'"{text_data.decode([c])}"' for c in hidden)
        return f"{text_data.decode(batch.inputs[i])} -> hidden {shown}"
    if batch.task == "next_char":
        return f'"{text_data.decode(batch.inputs[i])}" -> "{text_data.decode(batch.targets[i])}"'
    steps = torch.nonzero(batch.mask[i]).flatten()  # type: ignore[index]
    L = batch.targets.shape[1]
    return f"steps {int(steps[0])}-{int(steps[-1])} hidden ({steps.numel()} of {L})"


def examples(domain: str, task: str, n: int, generator: torch.Generator) -> PretextExamples:
    """``n`` fresh examples of a domain (1..64) and their pseudolabels, for a gallery.

    Images are 32x32 Shapes drawn as the task's default preset ("upright" for rotation),
    text the generated sentences (48 ids), series 64 steps; x, then (x', z), come from
    ``generator``.
    """
    domain, task = _check_task(domain, task)
    n = bounded_int("number of examples", n, 1, MAX_EXAMPLES)
    g = check_generator(generator)
    config = PretextConfig(domain=domain, task=task)
    texts = None
    if domain == "text":
        texts = text_data.make_sentences(n, g).texts
        raw = text_data.encode(texts, text_data.MAX_CHARS)
    else:
        raw, _ = _domain_data(domain, n, g, config, config.shapes_preset)  # type: ignore[arg-type]
    batch = make_pretext_batch(task, raw, g)
    descriptions = tuple(describe(batch, i) for i in range(n))
    return PretextExamples(domain, task, raw, texts, batch, descriptions)


def example_pictures(
    ex: PretextExamples, zoom: int = 3
) -> tuple[list[Image.Image], list[Image.Image]]:
    """The images of an image gallery as PIL pictures: (originals x, inputs x').

    Each is magnified ``zoom`` times (1..8) with nearest-pixel sampling, so that the tiles
    and pixels stay sharp. Raises SettingError for the examples of another domain.
    """
    if not isinstance(ex, PretextExamples) or ex.domain != "images":
        raise SettingError("example_pictures draws the examples of the images domain only.")
    zoom = bounded_int("zoom", zoom, 1, 8)

    def pictures(batch: torch.Tensor) -> list[Image.Image]:
        side = batch.shape[-1] * zoom
        return [
            shapes_data.to_pil(batch, i).resize((side, side), Image.Resampling.NEAREST)
            for i in range(batch.shape[0])
        ]

    return pictures(ex.raw), pictures(ex.batch.inputs)

"""Pretext tasks: from an unlabelled x, a program makes an input x' and a pseudolabel z.

One short pure function ``(x, generator) -> PretextBatch`` per task (rotation and jigsaw on
Shapes images, masked and next character on sentences, a masked span of a time series), the
tasks of each domain, and why each one transfers or does not. The package docstring
(:mod:`fmcore.self_supervision`) gives the recipe and the table of domains."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import torch

from fmcore.data import shapes as shapes_data
from fmcore.errors import SettingError
from fmcore.self_supervision import sentences as text_data
from fmcore.self_supervision import signals as signal_data
from fmcore.validate import check_generator

__all__ = [
    "CLASS_NAMES",
    "DOMAINS",
    "JIGSAW_PERMUTATIONS",
    "PRETEXT_TASKS",
    "PSEUDOLABELS",
    "PretextBatch",
    "TRANSFER_WHY",
    "jigsaw_pseudolabels",
    "make_pretext_batch",
    "masked_char_pseudolabels",
    "masked_feature_pseudolabels",
    "next_char_pseudolabels",
    "rotation_pseudolabels",
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

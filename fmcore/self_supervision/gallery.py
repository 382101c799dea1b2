"""The gallery of the pretext-task lesson: a few examples (x', z) of a task, described in
words and drawn as PIL pictures."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from PIL import Image

from fmcore.data import shapes as shapes_data
from fmcore.errors import SettingError
from fmcore.self_supervision import sentences as text_data
from fmcore.self_supervision.loop import PretextConfig, _domain_data
from fmcore.self_supervision.pseudolabels import (
    JIGSAW_PERMUTATIONS,
    PretextBatch,
    _check_task,
    make_pretext_batch,
)
from fmcore.validate import bounded_int, check_generator

__all__ = [
    "PretextExamples",
    "describe",
    "example_pictures",
    "examples",
]

MAX_EXAMPLES = 64  # in the gallery


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

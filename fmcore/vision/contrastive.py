"""What the "Augmentations and the SimCLR loss" lesson computes (notes, Section 14.2).

A batch of B images x(1..B) from the Shapes dataset, the sample photographs or the user's
uploads is augmented twice into the positive pairs x_hat(i), x_tilde(i). An encoder maps every
view to a vector, and the loss compares every x_hat(i) with every x_tilde(j): the diagonal
pairs are positives, all others negatives (footnote 2 of the notes: "random pairs", since
two different images may still show the same class; ``same_class_negatives`` finds them).
The untrained encoder it is compared with comes from :func:`random_model`.

Similarities follow ``fmcore.vision.pretrain.contrastive_loss`` (what the shipped encoder was
trained with): the network's output z is normalised to length 1/sqrt(tau), so that
phi(x_hat_i) . phi(x_tilde_j) = cos(z_hat_i, z_tilde_j) / tau, and the notes' formula is
applied to those raw dot products. NT-Xent uses the same cosines over tau with its 2B-1
candidates per anchor.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from PIL import Image

from fmcore.data import shapes
from fmcore.data.images import image_to_tensor
from fmcore.errors import SettingError
from fmcore.validate import bounded_int, finite_float
from fmcore.vision import augment, losses, scenes
from fmcore.vision.encoders import (
    EncoderConfig,
    SimCLRModel,
    calibrate_batchnorm,
    make_simclr_model,
)

MAX_BATCH = 16  # B: a B x B matrix a student can still read
SOURCES = ("shapes", "photos", "uploads")
METHODS = ("notes", "nt_xent")
DISPLAY_SIZE = 96  # views are made at this size for the eye, then shrunk for the encoder
SHAPES_POOL = 512  # the batch is drawn from this many Shapes images
CALIBRATION_SEED = 1  # Shapes images (not the batch's pool, seed 0) for a random BatchNorm


@dataclass(frozen=True)
class Batch:
    """The B original images of a lesson batch."""

    images: torch.Tensor  # (B, 3, S, S) float in [0, 1], S = DISPLAY_SIZE
    names: tuple[str, ...]  # what each image is ("star", "A house with a tree", a file name)
    labels: tuple[int, ...] | None  # the hidden class of each image, when known (Shapes)


@dataclass(frozen=True)
class Views:
    """The 2B augmented views and the parameters that made them."""

    x_hat: torch.Tensor  # (B, 3, S, S) float in [0, 1]
    x_tilde: torch.Tensor  # (B, 3, S, S)
    params_hat: augment.AugmentParams
    params_tilde: augment.AugmentParams


def make_batch(
    source: str,
    batch_size: int,
    generator: torch.Generator,
    uploads: Sequence[tuple[str, Image.Image]] = (),
) -> Batch:
    """B images from ``source``: random Shapes, the sample photographs, or the uploads.

    Raises SettingError when B is larger than the images the source has.
    """
    b = bounded_int("The batch size B", batch_size, 2, MAX_BATCH)
    if source == "shapes":
        pool = shapes.cached_shapes(SHAPES_POOL, 0)
        pick = torch.randperm(len(pool), generator=generator)[:b]
        small = shapes.to_float(pool.images[pick])  # (B, 3, 32, 32)
        big = F.interpolate(small, size=DISPLAY_SIZE, mode="nearest")  # crisp pixels
        labels = tuple(int(pool.labels[i]) for i in pick)
        return Batch(big, tuple(pool.class_names[k] for k in labels), labels)
    if source == "photos":
        photos = scenes.sample_scenes(DISPLAY_SIZE)
        if b > len(photos):
            raise SettingError(
                f"There are {len(photos)} sample photos, so B can be at most {len(photos)}. "
                "Lower B, or pick Shapes, which has as many images as you like."
            )
        pick = torch.randperm(len(photos), generator=generator)[:b].tolist()
        images = torch.stack([image_to_tensor(photos[i][1], DISPLAY_SIZE) for i in pick])
        return Batch(images, tuple(scenes.SCENE_TITLES[photos[i][0]] for i in pick), None)
    if source == "uploads":
        if len(uploads) < 2:
            raise SettingError("Upload at least two images to make a batch of your own.")
        if b > len(uploads):
            raise SettingError(
                f"You uploaded {len(uploads)} images, so B can be at most {len(uploads)}. "
                "Lower B or upload more images."
            )
        chosen = list(uploads)[:b]
        images = torch.stack([image_to_tensor(img, DISPLAY_SIZE) for _, img in chosen])
        return Batch(images, tuple(name for name, _ in chosen), None)
    raise SettingError(f"Unknown image source {source!r}; choose one of {', '.join(SOURCES)}.")


def make_views(batch: Batch, config: augment.AugmentConfig, generator: torch.Generator) -> Views:
    """Two independent augmentations of every image: the positive pairs of the notes."""
    x_hat, x_tilde, p_hat, p_tilde = augment.two_views(batch.images, config, generator)
    return Views(x_hat, x_tilde, p_hat, p_tilde)


def random_model(config: EncoderConfig, generator: torch.Generator) -> SimCLRModel:
    """A freshly initialised encoder and head (weights from ``generator``), in eval mode.

    Its BatchNorm layers get the statistics of SHAPES_POOL other Shapes images
    (:func:`fmcore.vision.encoders.calibrate_batchnorm`), the statistics training would normalise
    with at its first step. Left at their initial values (mean 0, variance 1) they centre
    nothing in eval mode, and the untrained network maps every view to almost the same
    point: cos/tau equal in every cell, which says nothing about a random network except
    that its BatchNorm was never fed. Calibrated, its similarities vary from pair to pair
    with no diagonal standing out, and the notes' loss sits near B log B.
    """
    model = make_simclr_model(config, generator)
    pool = shapes.cached_shapes(SHAPES_POOL, CALIBRATION_SEED)
    images = shapes.to_float(pool.images)  # (N, 3, 32, 32)
    if images.shape[-1] != config.image_size:
        images = F.interpolate(images, size=config.image_size, mode="bilinear",
                               antialias=True, align_corners=False).clamp(0.0, 1.0)
    return calibrate_batchnorm(model, images)


@torch.no_grad()
def embed_views(model: torch.nn.Module, views: Views, image_size: int) -> tuple[torch.Tensor, ...]:
    """The network's outputs z for both views: (B, d) each, computed in eval mode.

    Views are shrunk (with antialiasing) to the ``image_size`` the encoder was trained on.
    """
    def run(x: torch.Tensor) -> torch.Tensor:
        small = F.interpolate(x, size=image_size, mode="bilinear", antialias=True,
                              align_corners=False).clamp(0.0, 1.0)
        return model(small)

    was_training = model.training
    model.eval()
    try:
        return run(views.x_hat), run(views.x_tilde)
    finally:
        model.train(was_training)


def breakdown(z_hat: torch.Tensor, z_tilde: torch.Tensor, method: str,
              temperature: float) -> losses.LossBreakdown:
    """The loss of ``method`` on the two views, term by term, at ``temperature``.

    ``"notes"``: the notes' SIMCLR loss on u = z / (|z| sqrt(tau)), so S_ij = cos / tau
    (Section 14.2; the sum over the B anchors). ``"nt_xent"``: the paper's NT-Xent.
    """
    tau = finite_float("The temperature", temperature, losses.MIN_TEMPERATURE,
                       losses.MAX_TEMPERATURE)
    if method == "notes":
        scale = 1.0 / math.sqrt(tau)
        return losses.simclr_breakdown(F.normalize(z_hat, dim=1) * scale,
                                       F.normalize(z_tilde, dim=1) * scale)
    if method == "nt_xent":
        return losses.nt_xent_breakdown(z_hat, z_tilde, tau)
    raise SettingError(f"Unknown loss {method!r}; choose one of {', '.join(METHODS)}.")


def temperature_sweep(z_hat: torch.Tensor, z_tilde: torch.Tensor, method: str,
                      temperatures: Sequence[float]) -> list[losses.LossBreakdown]:
    """``breakdown`` at each temperature: what a client-side slider steps through."""
    return [breakdown(z_hat, z_tilde, method, t) for t in temperatures]


def chance_term(method: str, batch_size: int) -> float:
    """The row term -log p/(p+q) of an encoder that maps every view alike: log of the
    candidates per anchor, log B for the notes' loss (whose total is then B log B) and
    log(2B - 1) for NT-Xent (whose mean is then the same). Random similarities give at
    least this on average (Jensen's inequality: E log-sum-exp >= log-sum-exp of E)."""
    b = bounded_int("The batch size B", batch_size, 2, MAX_BATCH)
    if method == "notes":
        return math.log(b)
    if method == "nt_xent":
        return math.log(2 * b - 1)
    raise SettingError(f"Unknown loss {method!r}; choose one of {', '.join(METHODS)}.")


def same_class_negatives(labels: Sequence[int] | None) -> list[tuple[int, int]]:
    """The off-diagonal pairs (i, j) whose images share a class: "negatives" that are not
    really different (footnote 2 of the notes)."""
    if labels is None:
        return []
    return [(i, j) for i, a in enumerate(labels) for j, b in enumerate(labels)
            if i != j and a == b]


def to_pil(views: torch.Tensor) -> list[Image.Image]:
    """Each view of a (B, 3, S, S) batch as a PIL image, for display."""
    return [shapes.to_pil(views, i) for i in range(views.shape[0])]

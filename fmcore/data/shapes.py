"""Shapes: a procedural, labelled image dataset drawn with Pillow.

Each image shows one shape (a circle, a star, a heart...) in a random colour, size, position
and rotation, filled or drawn as an outline, on a plain or gradient background with a few
small distractor dots and strokes and a little pixel noise. The class is the shape; the
colours, the clutter and the exact pixels are nuisances. That is what makes the dataset a
good playground for self-supervised learning: two random crops, flips or colour jitters of
one image keep the shape (and so the class), while raw pixels say little about it.

Every image also comes with the factors it was drawn from (size, angle, x, y, filled), which
later lessons use as regression targets for linear probes.

All randomness comes from a ``torch.Generator`` (or an integer seed turned into one): the
same seed gives the same images, and no global random state is touched (rule 4 of
DESIGN.md).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from fmcore.validate import bounded_int, finite_float

# The classes, in label order: label k is CLASS_NAMES[k].
CLASS_NAMES: tuple[str, ...] = (
    "circle",
    "square",
    "triangle",
    "star",
    "plus",
    "heart",
    "crescent",
    "arrow",
    "bar",
    "hexagon",
)

# How many rotations map each shape onto itself (0: every rotation, as for the circle).
# The angle of a square is only defined modulo 90 degrees, so a probe that regresses the
# angle should compare angles modulo 360 / ROTATION_SYMMETRY[label].
ROTATION_SYMMETRY: tuple[int, ...] = (0, 4, 3, 5, 4, 1, 1, 1, 2, 6)

# Limits enforced on every call (rule 8 of DESIGN.md): widgets and query parameters both
# end up here.
MAX_IMAGES = 50_000
MIN_IMAGE_SIZE = 8
MAX_IMAGE_SIZE = 128
MAX_SEED = 2**31 - 1

# Images are composited in chunks so that 50 000 float images never sit in memory at once.
_CHUNK = 2048


@dataclass(frozen=True)
class ShapesConfig:
    """How the Shapes images are drawn. Checked on creation; SettingError if out of range."""

    image_size: int = 32  # side of the square RGB image in pixels (8..128)
    min_size: float = 0.2  # smallest shape radius, as a fraction of the image side
    max_size: float = 0.42  # largest shape radius (0.5 would touch the borders)
    fill_probability: float = 0.6  # chance a shape is filled; otherwise an outline
    clutter: float = 1.0  # 0: clean background; 1: a few distractors; 2: many, plus noise
    gradient_probability: float = 0.5  # chance the background is a gradient, not flat
    min_contrast: float = 0.3  # least luminance gap between shape and background (0..0.6)
    max_angle: float = 360.0  # rotations are uniform in [0, max_angle) degrees (0..360)
    balanced: bool = True  # True: class counts differ by at most one; False: i.i.d. labels
    supersample: int = 2  # draw at 2x (or 4x) and downscale, for smooth edges (1..4)

    def __post_init__(self) -> None:
        bounded_int("image size", self.image_size, MIN_IMAGE_SIZE, MAX_IMAGE_SIZE)
        finite_float("smallest shape size", self.min_size, 0.05, 0.5)
        finite_float("largest shape size", self.max_size, self.min_size, 0.5)
        finite_float("fill probability", self.fill_probability, 0.0, 1.0)
        finite_float("clutter", self.clutter, 0.0, 2.0)
        finite_float("gradient probability", self.gradient_probability, 0.0, 1.0)
        finite_float("minimum contrast", self.min_contrast, 0.0, 0.6)
        finite_float("largest rotation angle", self.max_angle, 0.0, 360.0)
        bounded_int("supersampling factor", self.supersample, 1, 4)


# Small presets for the pages (rule 5 of DESIGN.md).
PRESETS: dict[str, ShapesConfig] = {
    "clean": ShapesConfig(clutter=0.0, gradient_probability=0.0),
    "standard": ShapesConfig(),
    "cluttered": ShapesConfig(clutter=2.0, gradient_probability=1.0),
    # Every shape at its canonical orientation (angle 0), for the rotation pretext task
    # (fmcore.self_supervision). With uniformly random angles, an image turned by 90
    # degrees is just as likely as the original, so "which rotation was applied?" has no
    # answer and a rotation predictor stays at chance (25%); upright shapes make the question
    # answerable.
    "upright": ShapesConfig(max_angle=0.0),
}


@dataclass(frozen=True, eq=False)
class ShapesData:
    """A batch of Shapes images, their labels and the factors they were drawn from.

    The tensors may be shared through ``cached_shapes``: clone them before editing in place.
    """

    images: torch.Tensor  # (N, 3, H, W) uint8, RGB
    labels: torch.Tensor  # (N,) int64, index into class_names
    size: torch.Tensor  # (N,) float32, shape radius as a fraction of the image side
    angle: torch.Tensor  # (N,) float32, counter-clockwise rotation in degrees, [0, max_angle)
    x: torch.Tensor  # (N,) float32, shape centre, fraction of the width from the left
    y: torch.Tensor  # (N,) float32, shape centre, fraction of the height from the top
    filled: torch.Tensor  # (N,) bool, True if filled, False if drawn as an outline
    class_names: tuple[str, ...] = CLASS_NAMES

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def factors(self) -> dict[str, torch.Tensor]:
        """The regression targets by name: size, angle, x, y (each (N,) float32)."""
        return {"size": self.size, "angle": self.angle, "x": self.x, "y": self.y}

    def as_float(self) -> torch.Tensor:
        """The images as float32 in [0, 1], shape (N, 3, H, W), ready for a model."""
        return to_float(self.images)


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 images (..., 3, H, W) as float32 in [0, 1] (a new tensor)."""
    return images.to(torch.float32) / 255.0


def to_pil(images: torch.Tensor, index: int = 0) -> Image.Image:
    """Image ``index`` of a (N, 3, H, W) batch (uint8, or float in [0, 1]) as a PIL RGB image."""
    image = images[index]  # (3, H, W)
    if image.is_floating_point():
        image = (image.clamp(0.0, 1.0) * 255.0).round().to(torch.uint8)
    array = image.permute(1, 2, 0).contiguous().numpy()  # (H, W, 3)
    return Image.fromarray(array, mode="RGB")


# ---------------------------------------------------------------------------------------
# Shape outlines: each class is a polygon of unit circumradius around (0, 0), in maths
# coordinates (y points up). Circles and curves are polygons with many vertices, so every
# class is drawn the same way and all vertices are transformed in one batched tensor op.


def _regular(k: int, radius: float = 1.0, phase: float = 90.0) -> np.ndarray:
    """k points evenly spaced on a circle, the first at ``phase`` degrees."""
    t = np.deg2rad(phase) + 2 * np.pi * np.arange(k) / k
    return radius * np.stack([np.cos(t), np.sin(t)], axis=1)  # (k, 2)


def _star() -> np.ndarray:
    outer = _regular(5, 1.0, 90.0)
    inner = _regular(5, 0.42, 90.0 + 36.0)
    return np.stack([outer, inner], axis=1).reshape(10, 2)  # alternate tips and notches


def _plus(w: float = 0.3) -> np.ndarray:
    return np.array(
        [
            (w, 1), (w, w), (1, w), (1, -w), (w, -w), (w, -1),
            (-w, -1), (-w, -w), (-1, -w), (-1, w), (-w, w), (-w, 1),
        ]
    )  # fmt: skip


def _heart(k: int = 48) -> np.ndarray:
    # The classic parametric heart curve, tip pointing down.
    t = np.linspace(0, 2 * np.pi, k, endpoint=False)
    x = 16 * np.sin(t) ** 3
    y = 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
    return np.stack([x, y], axis=1)


def _crescent(k: int = 28, offset: float = 0.45, inner: float = 0.85) -> np.ndarray:
    # The unit disc minus a disc of radius `inner` shifted right by `offset`: horns point
    # right. a0 / b are where the two circles cross, seen from each centre.
    a0 = math.acos((1 + offset**2 - inner**2) / (2 * offset))
    b = math.acos((math.cos(a0) - offset) / inner)
    outer_t = np.linspace(a0, 2 * np.pi - a0, k)
    inner_t = np.linspace(2 * np.pi - b, b, k)[1:-1]
    outer_pts = np.stack([np.cos(outer_t), np.sin(outer_t)], axis=1)
    inner_pts = np.stack([offset + inner * np.cos(inner_t), inner * np.sin(inner_t)], axis=1)
    return np.concatenate([outer_pts, inner_pts])


def _arrow() -> np.ndarray:
    return np.array(
        [(-1, 0.17), (0.15, 0.17), (0.15, 0.55), (1, 0), (0.15, -0.55), (0.15, -0.17),
         (-1, -0.17)]
    )  # fmt: skip


def _bar() -> np.ndarray:
    return np.array([(-1, 0.2), (1, 0.2), (1, -0.2), (-1, -0.2)])


def _normalise(points: np.ndarray) -> torch.Tensor:
    """Centre a polygon on its bounding box and scale it to circumradius 1."""
    points = points - (points.max(axis=0) + points.min(axis=0)) / 2
    points = points / np.sqrt((points**2).sum(axis=1)).max()
    return torch.tensor(points, dtype=torch.float32)  # (K, 2)


_TEMPLATES: tuple[torch.Tensor, ...] = tuple(
    _normalise(p)
    for p in (
        _regular(48),  # circle
        _regular(4, phase=45.0),  # square
        _regular(3),  # triangle
        _star(),
        _plus(),
        _heart(),
        _crescent(),
        _arrow(),
        _bar(),
        _regular(6),  # hexagon
    )
)


# ---------------------------------------------------------------------------------------
# Sampling


def _generator(seed_or_generator: int | torch.Generator) -> torch.Generator:
    """The generator given, or a new one seeded with the integer given."""
    if isinstance(seed_or_generator, torch.Generator):
        return seed_or_generator
    seed = bounded_int("seed", seed_or_generator, 0, MAX_SEED)
    return torch.Generator().manual_seed(seed)


def _uniform(n: int, low: float, high: float, g: torch.Generator, *shape: int) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, *shape, generator=g)


_LUMA = torch.tensor([0.299, 0.587, 0.114])  # Rec. 601 luminance weights


def _contrasting(colour: torch.Tensor, background: torch.Tensor, gap: float) -> torch.Tensor:
    """Move each colour (N, 3) towards black or white until its luminance is at least ``gap``
    away from the background's (N, 3). Colours already far enough are left alone.

    Scaling towards black (c * s) or white (1 - (1 - c) * s) is linear, so it hits a target
    luminance exactly while keeping the hue.
    """
    y_col = colour @ _LUMA  # (N,)
    y_bg = background @ _LUMA  # (N,)
    # Dark backgrounds get light shapes and vice versa; the target sits halfway into the
    # allowed range so that shapes are clearly visible.
    darker = y_bg > 0.5
    target = torch.where(darker, (y_bg - gap) / 2, (y_bg + gap + 1) / 2)  # (N,)
    scale_dark = (target / y_col.clamp_min(1e-6)).clamp(0.0, 1.0)
    scale_light = ((1 - target) / (1 - y_col).clamp_min(1e-6)).clamp(0.0, 1.0)
    towards_black = colour * scale_dark[:, None]
    towards_white = 1 - (1 - colour) * scale_light[:, None]
    moved = torch.where(darker[:, None], towards_black, towards_white)
    too_close = (y_col - y_bg).abs() < gap
    return torch.where(too_close[:, None], moved, colour)


@dataclass(frozen=True)
class _Params:
    """Every random choice for N images, sampled up front in one fixed order."""

    labels: torch.Tensor  # (N,)
    size: torch.Tensor  # (N,)
    angle: torch.Tensor  # (N,) degrees
    x: torch.Tensor  # (N,)
    y: torch.Tensor  # (N,)
    filled: torch.Tensor  # (N,) bool
    line_width: torch.Tensor  # (N,) in output pixels
    bg_start: torch.Tensor  # (N, 3) gradient start colour
    bg_end: torch.Tensor  # (N, 3) gradient end colour
    bg_angle: torch.Tensor  # (N,) gradient direction, radians
    fg: torch.Tensor  # (N, 3) shape colour
    clutter_colour: torch.Tensor  # (N, 3) colour of the distractors
    n_distractors: torch.Tensor  # (N,) how many of the M slots are drawn
    dist_is_dot: torch.Tensor  # (N, M) bool: a dot, else a short stroke
    dist_xy: torch.Tensor  # (N, M, 2) position, fraction of the side
    dist_length: torch.Tensor  # (N, M) dot radius or stroke length, output pixels
    dist_angle: torch.Tensor  # (N, M) stroke direction, radians


def _sample(n: int, config: ShapesConfig, g: torch.Generator) -> _Params:
    k = len(CLASS_NAMES)
    if config.balanced:
        # n // k of each class, the remainder going to the first classes, then shuffled.
        labels = (torch.arange(n) % k)[torch.randperm(n, generator=g)]
    else:
        labels = torch.randint(0, k, (n,), generator=g)
    size = _uniform(n, config.min_size, config.max_size, g)
    angle = _uniform(n, 0.0, config.max_angle, g)  # always one draw, even for max_angle 0
    # Centres keep the whole circumscribed circle inside the image: x in [size, 1 - size].
    x = size + (1 - 2 * size) * torch.rand(n, generator=g)
    y = size + (1 - 2 * size) * torch.rand(n, generator=g)
    filled = torch.rand(n, generator=g) < config.fill_probability
    line_width = _uniform(n, 1.2, 2.4, g)

    bg_start = torch.rand(n, 3, generator=g)
    has_gradient = torch.rand(n, generator=g) < config.gradient_probability
    bg_end = (bg_start + _uniform(n, -0.35, 0.35, g, 3) * has_gradient[:, None]).clamp(0, 1)
    bg_angle = _uniform(n, 0.0, 2 * math.pi, g)
    bg_mean = (bg_start + bg_end) / 2
    fg = _contrasting(torch.rand(n, 3, generator=g), bg_mean, config.min_contrast)
    # Half the time the distractors wear the shape's colour, so that "pixels of the
    # foreground colour" is no shortcut to the shape.
    other = _contrasting(torch.rand(n, 3, generator=g), bg_mean, config.min_contrast)
    same = torch.rand(n, generator=g) < 0.5
    clutter_colour = torch.where(same[:, None], fg, other)

    m = max(1, math.ceil(5 * config.clutter))  # distractor slots per image
    n_distractors = (torch.rand(n, generator=g) * (5 * config.clutter + 1)).floor().long()
    dist_is_dot = torch.rand(n, m, generator=g) < 0.5
    dist_xy = torch.rand(n, m, 2, generator=g)
    dist_length = torch.where(dist_is_dot, _uniform(n, 0.6, 1.4, g, m), _uniform(n, 2, 5, g, m))
    dist_angle = _uniform(n, 0.0, math.pi, g, m)
    return _Params(
        labels, size, angle, x, y, filled, line_width, bg_start, bg_end, bg_angle, fg,
        clutter_colour, n_distractors, dist_is_dot, dist_xy, dist_length, dist_angle,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------
# Drawing


def _polygons(p: _Params, canvas: int) -> list[list[float]]:
    """Flat [x0, y0, x1, y1, ...] pixel coordinates of each image's shape on the canvas."""
    out: list[list[float]] = [[] for _ in range(p.labels.shape[0])]
    theta = torch.deg2rad(p.angle)
    cos, sin = torch.cos(theta), torch.sin(theta)
    for label, template in enumerate(_TEMPLATES):
        idx = torch.nonzero(p.labels == label).flatten()  # (Nc,)
        if idx.numel() == 0:
            continue
        tx, ty = template[:, 0], template[:, 1]  # (K,)
        c, s = cos[idx, None], sin[idx, None]  # (Nc, 1)
        # Rotate counter-clockwise in maths coordinates, then flip y for image rows.
        rx = tx * c - ty * s  # (Nc, K)
        ry = tx * s + ty * c  # (Nc, K)
        radius = (p.size[idx] * canvas)[:, None]  # (Nc, 1)
        px = p.x[idx, None] * canvas + radius * rx
        py = p.y[idx, None] * canvas - radius * ry
        flat = torch.stack([px, py], dim=2).flatten(1).tolist()  # (Nc, 2K)
        for i, coords in zip(idx.tolist(), flat, strict=True):
            out[i] = coords
    return out


def _draw_masks(p: _Params, image_size: int, ss: int) -> tuple[np.ndarray, np.ndarray]:
    """Coverage masks (N, H, W) uint8 of the shapes and of the distractors.

    Drawn at ``ss`` times the resolution and box-downscaled, which anti-aliases the edges.
    """
    canvas = image_size * ss
    unit = image_size / 32 * ss  # distractor sizes are in pixels of a 32x32 image
    polygons = _polygons(p, canvas)
    widths = (p.line_width * unit).round().clamp_min(1).long().tolist()
    filled = p.filled.tolist()
    counts = p.n_distractors.tolist()
    dots = p.dist_is_dot.tolist()
    xy = (p.dist_xy * canvas).tolist()
    length = (p.dist_length * unit).tolist()
    dx = torch.cos(p.dist_angle).tolist()
    dy = torch.sin(p.dist_angle).tolist()
    stroke = max(1, round(unit))

    n = len(polygons)
    shapes = np.empty((n, image_size, image_size), dtype=np.uint8)
    clutter = np.empty((n, image_size, image_size), dtype=np.uint8)
    for i in range(n):
        mask = Image.new("L", (canvas, canvas), 0)
        draw = ImageDraw.Draw(mask)
        if filled[i]:
            draw.polygon(polygons[i], fill=255)
        else:
            # A closed line with rounded joints: even corners get a solid outline.
            draw.line(polygons[i] + polygons[i][:2], fill=255, width=widths[i], joint="curve")
        shapes[i] = np.asarray(mask.reduce(ss) if ss > 1 else mask)

        mask = Image.new("L", (canvas, canvas), 0)
        draw = ImageDraw.Draw(mask)
        for j in range(counts[i]):
            cx, cy = xy[i][j]
            r = length[i][j]
            if dots[i][j]:
                draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
            else:
                hx, hy = dx[i][j] * r / 2, dy[i][j] * r / 2
                draw.line((cx - hx, cy - hy, cx + hx, cy + hy), fill=255, width=stroke)
        clutter[i] = np.asarray(mask.reduce(ss) if ss > 1 else mask)
    return shapes, clutter


def _compose(
    p: _Params, shapes: np.ndarray, clutter: np.ndarray, noise: float, g: torch.Generator
) -> torch.Tensor:
    """Background, then distractors, then the shape, then noise: (N, 3, H, W) uint8."""
    n, h, w = shapes.shape
    # Gradient position t in [0, 1] along each image's direction.
    coords = (torch.arange(h, dtype=torch.float32) + 0.5) / h - 0.5  # (H,)
    cos, sin = torch.cos(p.bg_angle), torch.sin(p.bg_angle)  # (N,)
    t = coords[None, None, :] * cos[:, None, None] + coords[None, :, None] * sin[:, None, None]
    t = (t / math.sqrt(0.5) + 1) / 2  # (N, H, W), the corners reach 0 and 1
    start, end = p.bg_start[:, :, None, None], p.bg_end[:, :, None, None]  # (N, 3, 1, 1)
    image = start + (end - start) * t[:, None]  # (N, 3, H, W)

    a_clutter = torch.from_numpy(clutter).to(torch.float32)[:, None] / 255  # (N, 1, H, W)
    a_shape = torch.from_numpy(shapes).to(torch.float32)[:, None] / 255  # (N, 1, H, W)
    image = image + (p.clutter_colour[:, :, None, None] - image) * a_clutter
    image = image + (p.fg[:, :, None, None] - image) * a_shape
    if noise > 0:
        image = image + noise * torch.randn(image.shape, generator=g)
    return (image.clamp(0, 1) * 255).round().to(torch.uint8)


def make_shapes(
    n: int,
    seed: int | torch.Generator = 0,
    *,
    image_size: int | None = None,
    config: ShapesConfig | None = None,
) -> ShapesData:
    """Draw ``n`` labelled Shapes images.

    Args:
        n: number of images, 1..50 000.
        seed: an integer seed (0..2**31-1) or a ``torch.Generator``, which is advanced.
        image_size: side in pixels; overrides ``config.image_size`` when given.
        config: how to draw; ``ShapesConfig()`` by default.

    Labels are balanced by default (``config.balanced``): every class appears n // 10 or
    n // 10 + 1 times, in random order. The same seed and settings give identical images.
    Raises SettingError for a number of images, size or seed out of range.
    """
    n = bounded_int("number of images", n, 1, MAX_IMAGES)
    config = config if config is not None else ShapesConfig()
    if image_size is not None:
        config = dataclasses.replace(config, image_size=image_size)  # validated again
    g = _generator(seed)
    p = _sample(n, config, g)
    noise = 0.02 * config.clutter

    chunks = []
    for start in range(0, n, _CHUNK):
        part = _Params(*(getattr(p, f.name)[start : start + _CHUNK] for f in dataclasses.fields(p)))
        shapes, clutter = _draw_masks(part, config.image_size, config.supersample)
        chunks.append(_compose(part, shapes, clutter, noise, g))
    return ShapesData(
        images=torch.cat(chunks),
        labels=p.labels.to(torch.int64),
        size=p.size,
        angle=p.angle,
        x=p.x,
        y=p.y,
        filled=p.filled,
    )


@functools.lru_cache(maxsize=4)
def _cached(n: int, seed: int, config: ShapesConfig) -> ShapesData:
    return make_shapes(n, seed, config=config)


def cached_shapes(
    n: int, seed: int = 0, image_size: int = 32, config: ShapesConfig | None = None
) -> ShapesData:
    """``make_shapes`` with a small per-process cache: the same arguments return the very
    same object. Do not edit its tensors in place (clone them first)."""
    n = bounded_int("number of images", n, 1, MAX_IMAGES)
    seed = bounded_int("seed", seed, 0, MAX_SEED)
    config = dataclasses.replace(config or ShapesConfig(), image_size=image_size)
    return _cached(n, seed, config)


def contact_sheet(data: ShapesData, per_class: int = 8, zoom: int = 3) -> Image.Image:
    """A grid of the first ``per_class`` images of each class, one row per class, each row
    labelled with its class name, every image magnified ``zoom`` times (nearest pixel)."""
    per_class = bounded_int("images per class", per_class, 1, 32)
    zoom = bounded_int("zoom", zoom, 1, 8)
    side = data.images.shape[-1] * zoom
    gap = 4
    font = ImageFont.load_default(size=14)
    label_width = 90
    rows = len(data.class_names)
    sheet = Image.new(
        "RGB", (label_width + per_class * (side + gap), rows * (side + gap) + gap), "white"
    )
    draw = ImageDraw.Draw(sheet)
    for label, name in enumerate(data.class_names):
        top = gap + label * (side + gap)
        draw.text((4, top + side // 2), name, fill="black", font=font, anchor="lm")
        indices = torch.nonzero(data.labels == label).flatten()[:per_class].tolist()
        for col, i in enumerate(indices):
            tile = to_pil(data.images, i).resize((side, side), Image.Resampling.NEAREST)
            sheet.paste(tile, (label_width + col * (side + gap), top))
    return sheet

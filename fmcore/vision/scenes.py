"""Sample "photographs" for the augmentation lesson, drawn by the project with Pillow.

Each scene (a sunset at sea, a house with a tree, a fruit bowl...) is a colourful picture
with recognisable objects, so that random crops, flips and colour jitter visibly change it
while it stays the same scene: the idea behind the positive pairs of SimCLR. The scenes are
procedural, so the lab ships no image files and needs no downloads (rule 12 of DESIGN.md).

Scenes are drawn at twice the requested size on a canvas measured in fractions of its side
(0 is the top or left edge, 1 the bottom or right), downscaled for smooth edges, and given a
little sensor-like noise. A seed moves things a little (positions, colours, which windows are
lit); the same name, size and seed always give the same picture.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from PIL import Image, ImageDraw

from fmcore.errors import SettingError
from fmcore.validate import bounded_int

SCENE_NAMES: tuple[str, ...] = (
    "sunset",
    "house",
    "fruit bowl",
    "mountains",
    "cat",
    "city",
    "garden",
)

SCENE_TITLES: dict[str, str] = {
    "sunset": "A sailing boat at sunset",
    "house": "A house with a tree",
    "fruit bowl": "A bowl of fruit",
    "mountains": "Mountains by a lake",
    "cat": "A ginger cat",
    "city": "A city skyline at dusk",
    "garden": "Flowers in a garden",
}

MIN_SIZE = 32
MAX_SIZE = 512
MAX_SEED = 2**31 - 1

RGB = tuple[int, int, int]


class _Canvas:
    """An RGB drawing surface addressed in fractions of its side, with seeded jitter."""

    def __init__(self, side: int, seed: int) -> None:
        self.side = side
        self.image = Image.new("RGB", (side, side), "black")
        self.draw = ImageDraw.Draw(self.image)
        self.generator = torch.Generator().manual_seed(seed)
        self.varied = seed != 0  # seed 0 is the reference picture, without jitter

    # Randomness: every call draws from the scene's own generator, in a fixed order.
    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * float(torch.rand((), generator=self.generator))

    def jitter(self, value: float, amount: float) -> float:
        """``value`` moved by up to ``amount`` either way (not moved for seed 0)."""
        shift = self.uniform(-amount, amount)
        return value + shift if self.varied else value

    def tint(self, colour: RGB, amount: int = 18) -> RGB:
        """``colour`` with each channel moved by up to ``amount`` (not for seed 0)."""
        r, g, b = (int(min(255, max(0, c + self.jitter(0, amount)))) for c in colour)
        return (r, g, b)

    # Drawing, in fractions of the side.
    def _xy(self, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(x * self.side, y * self.side) for x, y in points]

    def ellipse(self, cx: float, cy: float, rx: float, ry: float, fill: RGB) -> None:
        s = self.side
        self.draw.ellipse(((cx - rx) * s, (cy - ry) * s, (cx + rx) * s, (cy + ry) * s), fill)

    def circle(self, cx: float, cy: float, r: float, fill: RGB) -> None:
        self.ellipse(cx, cy, r, r, fill)

    def rect(self, x0: float, y0: float, x1: float, y1: float, fill: RGB) -> None:
        s = self.side
        self.draw.rectangle((x0 * s, y0 * s, x1 * s, y1 * s), fill)

    def polygon(self, points: list[tuple[float, float]], fill: RGB) -> None:
        self.draw.polygon(self._xy(points), fill)

    def line(self, points: list[tuple[float, float]], fill: RGB, width: float) -> None:
        self.draw.line(self._xy(points), fill, max(1, round(width * self.side)), joint="curve")

    def arc(
        self, cx: float, cy: float, r: float, start: float, end: float, fill: RGB, width: float
    ) -> None:
        """An arc of the circle (cx, cy, r) from ``start`` to ``end`` degrees, clockwise
        from three o'clock (Pillow's convention)."""
        s = self.side
        box = ((cx - r) * s, (cy - r) * s, (cx + r) * s, (cy + r) * s)
        self.draw.arc(box, start, end, fill, max(1, round(width * s)))

    def gradient(self, y0: float, y1: float, stops: list[tuple[float, RGB]]) -> None:
        """Fill the band y0..y1 with a vertical gradient through colour ``stops``
        [(t, colour)], t running from 0 (top of the band) to 1 (bottom)."""
        top, bottom = round(y0 * self.side), round(y1 * self.side)
        if bottom <= top:
            return
        t = (np.arange(bottom - top) + 0.5) / (bottom - top)  # (h,)
        where = [p for p, _ in stops]
        columns = [np.interp(t, where, [c[k] for _, c in stops]) for k in range(3)]
        band = np.stack(columns, axis=1).round().astype(np.uint8)  # (h, 3)
        band = np.repeat(band[:, None, :], self.side, axis=1)  # (h, W, 3)
        self.image.paste(Image.fromarray(band, mode="RGB"), (0, top))


# ---------------------------------------------------------------------------------------
# The scenes. Each draws back to front on a canvas; colours are plain RGB triples.


def _sunset(c: _Canvas) -> None:
    horizon = c.jitter(0.6, 0.03)
    c.gradient(0, horizon, [(0, c.tint((58, 28, 94))), (0.55, (222, 86, 72)), (1, (255, 190, 90))])
    sun_x = c.jitter(0.62, 0.06)
    c.circle(sun_x, horizon, 0.16, (255, 236, 140))
    c.circle(sun_x, horizon, 0.13, (255, 214, 92))
    c.gradient(horizon, 1, [(0, c.tint((30, 60, 120))), (1, (10, 22, 60))])
    # The sun's reflection: short bright strokes under it, wider further down.
    for k in range(7):
        y = horizon + 0.04 + 0.05 * k
        half = 0.03 + 0.012 * k
        c.line([(sun_x - half, y), (sun_x + half, y)], (250, 170, 80), 0.012)
    # A sailing boat: hull, mast, two sails.
    bx, by = c.jitter(0.3, 0.05), horizon + 0.1
    c.polygon(
        [(bx - 0.14, by), (bx + 0.14, by), (bx + 0.1, by + 0.05), (bx - 0.1, by + 0.05)],
        (70, 38, 24),
    )
    c.line([(bx, by), (bx, by - 0.34)], (60, 40, 30), 0.01)
    c.polygon(
        [(bx + 0.01, by - 0.33), (bx + 0.01, by - 0.02), (bx + 0.16, by - 0.02)], (250, 246, 236)
    )
    c.polygon(
        [(bx - 0.01, by - 0.26), (bx - 0.01, by - 0.02), (bx - 0.11, by - 0.02)], (236, 226, 210)
    )
    # Two far birds.
    for x, y in ((0.2, 0.16), (0.28, 0.2)):
        x, y = c.jitter(x, 0.03), c.jitter(y, 0.02)
        c.line([(x - 0.03, y - 0.015), (x, y), (x + 0.03, y - 0.015)], (40, 20, 50), 0.008)


def _house(c: _Canvas) -> None:
    c.gradient(0, 0.7, [(0, c.tint((80, 150, 230))), (1, (190, 225, 250))])
    c.circle(c.jitter(0.85, 0.04), 0.14, 0.08, (255, 225, 80))
    for cx, cy in ((0.22, 0.14), (0.5, 0.22)):
        cx = c.jitter(cx, 0.04)
        for dx, dy, r in ((-0.05, 0.01, 0.045), (0, -0.01, 0.06), (0.06, 0.01, 0.045)):
            c.circle(cx + dx, cy + dy, r, (250, 250, 252))
    c.gradient(0.66, 1, [(0, c.tint((96, 176, 72))), (1, (46, 110, 40))])
    c.ellipse(0.3, 0.7, 0.55, 0.08, (96, 176, 72))  # a gentle hill
    # The house: wall, roof, chimney, door, windows.
    hx = c.jitter(0.38, 0.03)
    c.rect(hx + 0.16, 0.3, hx + 0.22, 0.44, (140, 60, 50))  # chimney
    c.rect(hx - 0.2, 0.48, hx + 0.2, 0.82, c.tint((238, 216, 170)))
    c.polygon([(hx - 0.25, 0.49), (hx, 0.28), (hx + 0.25, 0.49)], c.tint((180, 50, 45)))
    c.rect(hx - 0.05, 0.64, hx + 0.05, 0.82, (110, 66, 36))
    c.circle(hx + 0.03, 0.74, 0.008, (240, 200, 60))
    for wx in (hx - 0.14, hx + 0.09):
        c.rect(wx, 0.56, wx + 0.06, 0.64, (150, 205, 245))
        c.line([(wx + 0.03, 0.56), (wx + 0.03, 0.64)], (255, 255, 255), 0.008)
        c.line([(wx, 0.6), (wx + 0.06, 0.6)], (255, 255, 255), 0.008)
    c.polygon(
        [(hx - 0.05, 0.82), (hx + 0.05, 0.82), (hx + 0.12, 1.0), (hx - 0.12, 1.0)], (200, 180, 140)
    )
    # A tree: trunk and a round crown.
    tx = c.jitter(0.8, 0.03)
    c.rect(tx - 0.03, 0.5, tx + 0.03, 0.86, (100, 64, 34))
    leaf = c.tint((40, 130, 50))
    for dx, dy, r in ((-0.07, 0.44, 0.1), (0.07, 0.44, 0.1), (0, 0.36, 0.12), (0, 0.48, 0.09)):
        c.circle(tx + dx, dy, r, leaf)
    for dx, dy in ((-0.04, 0.36), (0.05, 0.42), (-0.08, 0.47)):
        c.circle(tx + dx, dy, 0.018, (220, 40, 40))  # apples


def _fruit_bowl(c: _Canvas) -> None:
    c.gradient(0, 0.62, [(0, c.tint((246, 226, 190))), (1, (226, 196, 150))])
    c.gradient(0.62, 1, [(0, c.tint((150, 92, 52))), (1, (104, 60, 32))])
    for k in range(5):  # wood grain
        y = 0.68 + 0.065 * k
        c.line([(0, y), (0.4, y + 0.01), (1, y - 0.005)], (124, 74, 40), 0.006)
    c.ellipse(0.5, 0.9, 0.36, 0.04, (90, 50, 28))  # shadow under the bowl
    # Fruit behind the rim: banana, grapes, apples, an orange.
    c.arc(0.47, 0.2, 0.25, 25, 125, c.tint((250, 215, 50)), 0.055)  # a banana, tips up
    c.arc(0.47, 0.2, 0.25, 20, 28, (90, 70, 30), 0.05)  # its dark stalk end
    for gx, gy in (
        (0.66, 0.5),
        (0.7, 0.47),
        (0.73, 0.52),
        (0.68, 0.55),
        (0.75, 0.46),
        (0.64, 0.45),
        (0.71, 0.42),
    ):
        c.circle(c.jitter(gx, 0.005), gy, 0.035, (110, 40, 130))
        c.circle(gx - 0.01, gy - 0.01, 0.008, (190, 140, 210))
    for ax, ay, colour in (
        (0.35, 0.5, (210, 30, 40)),
        (0.5, 0.47, (245, 140, 20)),
        (0.42, 0.55, (120, 190, 50)),
    ):
        ax = c.jitter(ax, 0.015)
        c.circle(ax, ay, 0.085, c.tint(colour))
        c.circle(ax - 0.03, ay - 0.03, 0.018, (255, 245, 230))  # highlight
    c.line([(0.35, 0.42), (0.37, 0.38)], (90, 60, 30), 0.01)  # apple stalk
    # The bowl: a blue half-ellipse with a lighter rim.
    bowl = c.tint((40, 90, 170))
    c.draw.chord(tuple(v * c.side for v in (0.14, 0.35, 0.86, 0.9)), 0, 180, fill=bowl)
    c.ellipse(0.5, 0.625, 0.36, 0.025, (90, 140, 210))
    for k in range(3):  # a painted band
        c.arc(0.5, 0.5, 0.26 + 0.01 * k, 40, 140, (250, 250, 250), 0.006)


def _mountains(c: _Canvas) -> None:
    c.gradient(0, 0.62, [(0, c.tint((110, 170, 235))), (1, (225, 235, 245))])
    c.circle(c.jitter(0.2, 0.05), 0.15, 0.07, (255, 248, 210))
    # Two ranges: the far one paler (air between), the near one darker.
    far = [
        (0, 0.5),
        (0.12, 0.36),
        (0.25, 0.46),
        (0.4, 0.26),
        (0.55, 0.44),
        (0.7, 0.3),
        (0.85, 0.42),
        (1, 0.33),
        (1, 0.62),
        (0, 0.62),
    ]
    far = [(x, c.jitter(y, 0.02) if y < 0.6 else y) for x, y in far]
    c.polygon(far, c.tint((130, 140, 175)))
    for i in (3, 5):  # snow on the highest far peaks
        px, py = far[i]
        c.polygon(
            [
                (px - 0.06, py + 0.07),
                (px, py),
                (px + 0.06, py + 0.07),
                (px + 0.02, py + 0.06),
                (px, py + 0.08),
                (px - 0.03, py + 0.06),
            ],
            (250, 250, 255),
        )
    near = [
        (0, 0.52),
        (0.18, 0.42),
        (0.32, 0.54),
        (0.5, 0.4),
        (0.62, 0.5),
        (0.8, 0.44),
        (1, 0.55),
        (1, 0.64),
        (0, 0.64),
    ]
    c.polygon(near, c.tint((70, 100, 80)))
    c.gradient(0.62, 1, [(0, c.tint((70, 130, 180))), (1, (30, 70, 120))])
    # The lake reflects the far peaks, darker and upside down.
    c.polygon([(x, 1.24 - y) for x, y in far[:8]] + [(1, 0.64), (0, 0.64)], (80, 120, 160))
    c.rect(0, 0.62, 1, 0.66, (60, 90, 70))  # the far shore
    for k in range(9):  # pines on the near shore
        x = 0.04 + 0.11 * k + c.jitter(0, 0.02)
        h = 0.12 + 0.05 * ((k * 7) % 3)
        c.rect(x - 0.008, 0.96 - 0.03, x + 0.008, 0.96, (80, 50, 30))
        c.polygon([(x - 0.05, 0.94), (x, 0.94 - h), (x + 0.05, 0.94)], (24, 80, 40))
    c.rect(0, 0.96, 1, 1, (40, 70, 40))


def _cat(c: _Canvas) -> None:
    c.gradient(0, 1, [(0, c.tint((180, 220, 240))), (1, (140, 190, 220))])
    fur = c.tint((236, 140, 50))
    cx, cy = c.jitter(0.5, 0.03), c.jitter(0.55, 0.03)
    c.ellipse(cx, cy + 0.38, 0.34, 0.2, fur)  # shoulders
    for side in (-1, 1):  # ears, outer then inner
        c.polygon(
            [
                (cx + side * 0.32, cy - 0.1),
                (cx + side * 0.28, cy - 0.42),
                (cx + side * 0.06, cy - 0.26),
            ],
            fur,
        )
        c.polygon(
            [
                (cx + side * 0.27, cy - 0.14),
                (cx + side * 0.26, cy - 0.34),
                (cx + side * 0.12, cy - 0.24),
            ],
            (246, 170, 170),
        )
    c.ellipse(cx, cy, 0.32, 0.28, fur)
    for dx in (-0.08, 0, 0.08):  # forehead stripes
        c.line([(cx + dx, cy - 0.27), (cx + dx * 1.3, cy - 0.17)], (190, 90, 30), 0.02)
    c.ellipse(cx, cy + 0.13, 0.15, 0.1, (250, 235, 215))  # muzzle
    for side in (-1, 1):
        ex = cx + side * 0.13
        c.ellipse(ex, cy - 0.03, 0.065, 0.055, c.tint((120, 200, 70)))
        c.ellipse(ex, cy - 0.03, 0.016, 0.05, (20, 20, 20))  # slit pupil
        c.circle(ex + 0.02, cy - 0.05, 0.01, (255, 255, 255))
        for k in (-1, 0, 1):  # whiskers
            c.line(
                [(cx + side * 0.1, cy + 0.13 + 0.02 * k), (cx + side * 0.4, cy + 0.1 + 0.06 * k)],
                (60, 50, 50),
                0.006,
            )
    c.polygon([(cx - 0.035, cy + 0.06), (cx + 0.035, cy + 0.06), (cx, cy + 0.1)], (230, 110, 130))
    c.line([(cx, cy + 0.1), (cx, cy + 0.14)], (90, 50, 40), 0.008)
    for side in (-1, 1):  # the mouth: two small smiles under the nose
        c.arc(cx + side * 0.03, cy + 0.125, 0.03, 10, 170, (90, 50, 40), 0.008)


def _city(c: _Canvas) -> None:
    c.gradient(0, 0.8, [(0, c.tint((20, 24, 70))), (0.6, (120, 50, 120)), (1, (250, 130, 90))])
    for _ in range(30):  # stars, high in the sky
        c.circle(c.uniform(0, 1), c.uniform(0, 0.35), c.uniform(0.002, 0.005), (255, 255, 230))
    moon_x = c.jitter(0.78, 0.05)
    c.circle(moon_x, 0.16, 0.06, (250, 245, 215))  # a crescent moon: a disc...
    c.circle(moon_x + 0.03, 0.14, 0.055, (40, 30, 80))  # ...partly hidden by its dark side
    # Buildings of different heights, each with a grid of windows, some lit.
    x = 0.0
    palette = [(40, 40, 60), (60, 50, 80), (30, 45, 70), (70, 60, 90)]
    k = 0
    while x < 1.0:
        w = c.uniform(0.09, 0.16)
        top = c.uniform(0.3, 0.62)
        c.rect(x, top, x + w, 0.85, palette[k % 4])
        if k % 3 == 1:  # a spire on some towers
            c.polygon(
                [(x + w * 0.3, top), (x + w / 2, top - 0.08), (x + w * 0.7, top)], palette[k % 4]
            )
        wy = top + 0.03
        while wy < 0.8:
            wx = x + 0.02
            while wx < x + w - 0.03:
                lit = c.uniform(0, 1) < 0.45
                c.rect(wx, wy, wx + 0.016, wy + 0.025, (255, 215, 110) if lit else (25, 25, 40))
                wx += 0.032
            wy += 0.045
        x += w + 0.005
        k += 1
    c.gradient(0.85, 1, [(0, (40, 40, 80)), (1, (15, 15, 35))])  # the river
    for _ in range(12):  # reflections of lit windows
        y = c.uniform(0.87, 0.98)
        x0 = c.uniform(0, 0.95)
        c.line([(x0, y), (x0 + 0.04, y)], (200, 160, 90), 0.006)


def _garden(c: _Canvas) -> None:
    c.gradient(0, 0.45, [(0, c.tint((120, 190, 240))), (1, (210, 235, 250))])
    c.gradient(0.42, 1, [(0, c.tint((120, 190, 80))), (1, (50, 130, 50))])
    for k in range(6):  # a far hedge
        c.circle(k * 0.2 + 0.05, 0.43, 0.08, (60, 120, 60))
    flowers = [
        (0.18, 0.58, (230, 40, 60)),
        (0.42, 0.5, (250, 200, 30)),
        (0.7, 0.6, (150, 70, 200)),
        (0.86, 0.48, (255, 120, 180)),
        (0.3, 0.8, (255, 140, 30)),
        (0.6, 0.84, (60, 110, 230)),
    ]
    for fx, fy, colour in flowers:
        fx, fy = c.jitter(fx, 0.02), c.jitter(fy, 0.02)
        r = 0.028 + 0.04 * fy
        c.line([(fx, fy), (fx + 0.01, min(1.0, fy + 0.3))], (40, 110, 40), 0.012)  # stem
        c.ellipse(fx + 0.04, fy + 0.12, 0.04, 0.015, (60, 140, 50))  # leaf
        petal = c.tint(colour)
        for i in range(6):
            a = 2 * math.pi * i / 6
            c.circle(fx + r * math.cos(a), fy + r * math.sin(a), r * 0.65, petal)
        c.circle(fx, fy, r * 0.55, (255, 230, 80))
    # A butterfly.
    bx, by = c.jitter(0.55, 0.05), c.jitter(0.22, 0.03)
    wing = c.tint((250, 150, 30))
    for side in (-1, 1):
        c.ellipse(bx + side * 0.035, by - 0.015, 0.035, 0.03, wing)
        c.ellipse(bx + side * 0.028, by + 0.025, 0.024, 0.02, wing)
    c.line([(bx, by - 0.035), (bx, by + 0.04)], (30, 20, 20), 0.008)


_DRAW = {
    "sunset": _sunset,
    "house": _house,
    "fruit bowl": _fruit_bowl,
    "mountains": _mountains,
    "cat": _cat,
    "city": _city,
    "garden": _garden,
}


def make_scene(name: str, size: int = 128, seed: int = 0) -> Image.Image:
    """The scene ``name`` as a ``size`` x ``size`` RGB ``PIL.Image``.

    Seed 0 gives the reference picture; other seeds move objects and colours a little.
    Raises SettingError for an unknown name (the message lists the names) or a size
    outside 32..512.
    """
    if name not in _DRAW:
        raise SettingError(f"Unknown scene {name!r}; choose one of: {', '.join(SCENE_NAMES)}.")
    size = bounded_int("scene size", size, MIN_SIZE, MAX_SIZE)
    seed = bounded_int("seed", seed, 0, MAX_SEED)
    canvas = _Canvas(2 * size, seed)
    _DRAW[name](canvas)
    # Halving with a box filter smooths every edge (2x2 supersampling).
    image = canvas.image.reduce(2)  # (size, size) RGB
    # A little sensor-like noise, so flat areas are not perfectly flat.
    noise = 3.0 * torch.randn(size, size, 3, generator=canvas.generator)  # (H, W, 3)
    pixels = torch.from_numpy(np.array(image, dtype=np.float32)) + noise
    return Image.fromarray(pixels.round().clamp(0, 255).to(torch.uint8).numpy(), mode="RGB")


def sample_scenes(size: int = 128, seed: int = 0) -> list[tuple[str, Image.Image]]:
    """Every scene as (name, image), in the order of SCENE_NAMES."""
    return [(name, make_scene(name, size, seed)) for name in SCENE_NAMES]

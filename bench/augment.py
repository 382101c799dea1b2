"""Benchmark: batched torch augmentations (fmcore.vision.augment) against a per-image Pillow loop.

Both sides do the SimCLR recipe (Chen et al. 2020, Appendix A) with the *same* drawn
parameters: random resized crop + resize back, horizontal flip, colour jitter (brightness,
contrast, saturation, hue, in each image's random order, 80% of images), grayscale (20%),
Gaussian blur (50%). The Pillow loop is what a torchvision-style pipeline does per image:
``Image.resize(box=...)``, ``ImageOps.mirror``, ``ImageEnhance`` Brightness/Contrast/Color,
a hue shift through ``convert("HSV")``, ``convert("L")``, ``ImageFilter.GaussianBlur``.

Timing rules: the headline figure is torch on 1 thread (``torch.set_num_threads(1)``, set
explicitly at the top), the setting the app uses: every training runs with one torch
thread. A second row gives 2 threads for reference; on a shared 2-core machine the second
core is often busy elsewhere and a 2-thread parallel region then waits for it, so that row
is noisy. Pillow is single-threaded. Both methods are warmed up, then timed alternately (so
both see the same background load) and the median is reported. The torch figure includes
drawing the random parameters and checking the input (``augment()``); the Pillow figure
excludes drawing them and converting tensors to and from PIL images (it starts and ends
with PIL images), so the ratio is, if anything, in Pillow's favour. ``--tune-malloc``
shows what glibc's page faults cost (see tune_malloc).

Run:  python bench/augment.py [--quick]
Ends with one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

THREADS = 1  # the torch threads the app gives each training: the headline, see docstring
OTHER_THREADS = 2  # the reference row
torch.set_num_threads(THREADS)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image, ImageEnhance, ImageFilter, ImageOps  # noqa: E402

from fmcore.vision.augment import AugmentConfig, AugmentParams, augment  # noqa: E402

BATCH = 256


def procedural_images(n: int, size: int, generator: torch.Generator) -> torch.Tensor:
    """Colour images with a gradient background, a disc and a square: (n, 3, size, size)."""
    coords = (torch.arange(size, dtype=torch.float32) + 0.5) / size  # (S,)
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")  # (S, S) each

    def rand(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator)

    c0, c1 = rand(n, 3, 1, 1), rand(n, 3, 1, 1)  # gradient end colours
    angle = 2 * torch.pi * rand(n, 1, 1)
    along = (torch.cos(angle) * (xx - 0.5) + torch.sin(angle) * (yy - 0.5) + 0.5).clamp(0, 1)
    img = c0 + (c1 - c0) * along[:, None]  # (n, 3, S, S)
    centre, radius = 0.2 + 0.6 * rand(n, 2, 1, 1), 0.1 + 0.2 * rand(n, 1, 1)
    disc = (xx - centre[:, 0]) ** 2 + (yy - centre[:, 1]) ** 2 < radius**2  # (n, S, S)
    img = torch.where(disc[:, None], rand(n, 3, 1, 1), img)
    corner, side = 0.6 * rand(n, 2, 1, 1), 0.15 + 0.25 * rand(n, 1, 1)
    square = (
        (xx >= corner[:, 0])
        & (xx < corner[:, 0] + side)
        & (yy >= corner[:, 1])
        & (yy < corner[:, 1] + side)
    )
    img = torch.where(square[:, None], rand(n, 3, 1, 1), img)
    return img.clamp(0, 1)


def to_pil(images: torch.Tensor) -> list[Image.Image]:
    """(n, 3, H, W) floats in [0, 1] -> n RGB images (8 bits)."""
    data = (images * 255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous()
    H, W = images.shape[-2:]
    return [Image.frombytes("RGB", (W, H), bytes(d.flatten().tolist())) for d in data]


def from_pil(pictures: list[Image.Image]) -> torch.Tensor:
    """n RGB images -> (n, 3, H, W) floats in [0, 1]."""
    arrays = [
        torch.frombuffer(bytearray(p.tobytes()), dtype=torch.uint8).view(p.height, p.width, 3)
        for p in pictures
    ]
    return torch.stack(arrays).permute(0, 3, 1, 2).float() / 255


def pillow_params(params: AugmentParams, size: int) -> list[tuple]:
    """The same drawn parameters as plain Python numbers, one tuple per image."""
    out = []
    for i in range(params.batch_size):
        x0, y0, w, h = params.crop[i].tolist()
        box = (x0 * size, y0 * size, (x0 + w) * size, (y0 + h) * size)
        factors = [params.brightness[i], params.contrast[i], params.saturation[i], params.hue[i]]
        jitter = []
        if bool(params.jitter[i]):
            jitter = [(op, float(factors[op])) for op in params.jitter_order[i].tolist()]
        sigma = float(params.blur_sigma[i]) if bool(params.blur[i]) else 0.0
        out.append((box, bool(params.flip[i]), jitter, bool(params.grayscale[i]), sigma))
    return out


def _hue_lut(shift: float) -> list[int]:
    offset = round(shift * 256)
    return [(v + offset) % 256 for v in range(256)]


def pillow_loop(pictures: list[Image.Image], plan: list[tuple], size: int) -> list[Image.Image]:
    """The baseline: one image at a time with Pillow, the same operations and parameters."""
    out = []
    for picture, (box, flip, jitter, gray, sigma) in zip(pictures, plan, strict=True):
        im = picture.resize((size, size), Image.Resampling.BILINEAR, box=box)
        if flip:
            im = ImageOps.mirror(im)
        for op, value in jitter:
            if op == 0:
                im = ImageEnhance.Brightness(im).enhance(value)
            elif op == 1:
                im = ImageEnhance.Contrast(im).enhance(value)
            elif op == 2:
                im = ImageEnhance.Color(im).enhance(value)
            elif value != 0.0:
                h, s, v = im.convert("HSV").split()
                im = Image.merge("HSV", (h.point(_hue_lut(value)), s, v)).convert("RGB")
        if gray:
            im = im.convert("L").convert("RGB")
        if sigma > 0:
            im = im.filter(ImageFilter.GaussianBlur(sigma))
        out.append(im)
    return out


def _median_ms(fn, repeats: int, other, times_other: list[float]) -> list[float]:
    """Run ``fn`` and ``other`` alternately ``repeats`` times: fn's times in ms."""
    times = []
    for _ in range(repeats):
        for f, out in ((other, times_other), (fn, times)):
            start = time.perf_counter()
            f()
            out.append(1e3 * (time.perf_counter() - start))
    return times


def time_both(size: int, repeats: int, warmup: int) -> dict[str, float]:
    """Median ms per batch of 256 at ``size`` x ``size``: Pillow, torch on 1 and 2 threads."""
    images = procedural_images(BATCH, size, torch.Generator().manual_seed(0))
    config = AugmentConfig.simclr()
    _, params = augment(images, config, torch.Generator().manual_seed(1))
    plan = pillow_params(params, size)
    pictures = to_pil(images)

    def run_torch() -> None:
        augment(images, config, torch.Generator().manual_seed(1))

    def run_pillow() -> None:
        pillow_loop(pictures, plan, size)

    pillow: list[float] = []
    torch_ms: dict[int, list[float]] = {}
    for threads in (THREADS, OTHER_THREADS):
        torch.set_num_threads(threads)
        for _ in range(warmup):
            run_torch()
            run_pillow()
        torch_ms[threads] = _median_ms(run_torch, repeats, run_pillow, pillow)
    torch.set_num_threads(THREADS)

    views, _ = augment(images, config, torch.Generator().manual_seed(1))
    pil_views = from_pil(pillow_loop(pictures, plan, size))
    return {
        "pillow_ms": statistics.median(pillow),
        "torch_ms": statistics.median(torch_ms[THREADS]),
        "torch_ms_2threads": statistics.median(torch_ms[OTHER_THREADS]),
        "mean_abs_diff": float((views - pil_views).abs().mean()),
    }


def tune_malloc() -> None:
    """Raise glibc's dynamic malloc thresholds for this process (not done by default).

    glibc serves large blocks with mmap and returns freed memory to the OS; every fresh
    multi-megabyte tensor then costs a page fault per 4 kB page, which on this VM took as
    long as the arithmetic of the whole pipeline at 32x32 when it still made whole-batch
    temporaries. Freeing one mmapped block of up to 32 MB makes glibc raise its mmap
    threshold to that size and its trim threshold to twice that, so later buffers are
    reused from the heap. fmcore.vision.augment now works on chunks of about half a megabyte and
    makes almost no fresh memory per call, so this changes little (within the noise here).
    """
    block = torch.empty(4 * 1024 * 1024)  # 16 MB of float32
    block.fill_(0.0)
    del block


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, 32x32 only")
    parser.add_argument(
        "--tune-malloc",
        action="store_true",
        help="first allocate and free one 16 MB tensor (see tune_malloc) to show what the "
        "page faults of fresh buffers cost",
    )
    args = parser.parse_args()
    if args.tune_malloc:
        tune_malloc()
    repeats, warmup = (5, 2) if args.quick else (21, 3)
    sizes = (32,) if args.quick else (32, 96)

    if args.tune_malloc:
        print("glibc malloc thresholds raised first (--tune-malloc)")
    print(
        f"torch {torch.__version__}, torch.set_num_threads({THREADS}) as in the app's trainings "
        f"(headline; a {OTHER_THREADS}-thread row for reference); {BATCH} procedural images "
        f"per batch, SimCLR strengths; median of {repeats} runs, methods alternated"
    )
    results = {size: time_both(size, repeats, warmup) for size in sizes}

    header = f"{'method':<38} {'ms / batch':>10} {'images/s':>10} {'vs Pillow':>10}"
    print(header)
    print("-" * len(header))
    for size, r in results.items():
        rows = [
            (f"Pillow loop, 1 image at a time, {size}px", r["pillow_ms"]),
            (f"torch batched, {THREADS} thread, {size}px", r["torch_ms"]),
            (f"torch batched, {OTHER_THREADS} threads, {size}px", r["torch_ms_2threads"]),
        ]
        for name, ms in rows:
            ratio = r["pillow_ms"] / ms
            print(f"{name:<38} {ms:>10.2f} {BATCH / ms * 1e3:>10.0f} {ratio:>9.2f}x")
    print("-" * len(header))
    for size, r in results.items():
        print(
            f"{size}px: mean |torch - Pillow| = {r['mean_abs_diff']:.3f} on [0, 1] (8-bit "
            "rounding, Pillow's antialiased resize and box blurs, HSV vs YIQ hue)"
        )

    r32 = results[32]
    figures = {
        "bench": "augment",
        "images": BATCH,
        "size": 32,
        "threads": THREADS,
        "pillow_ms": round(r32["pillow_ms"], 3),
        "torch_ms": round(r32["torch_ms"], 3),
        "speedup": round(r32["pillow_ms"] / r32["torch_ms"], 2),
        "torch_ms_2threads": round(r32["torch_ms_2threads"], 3),
        "speedup_2threads": round(r32["pillow_ms"] / r32["torch_ms_2threads"], 2),
    }
    if 96 in results:
        r96 = results[96]
        figures |= {
            "pillow_ms_96": round(r96["pillow_ms"], 3),
            "torch_ms_96": round(r96["torch_ms"], 3),
            "speedup_96": round(r96["pillow_ms"] / r96["torch_ms"], 2),
        }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

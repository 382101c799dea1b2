"""Signals: a procedural, labelled time-series dataset (the pretext lesson's third domain).

Each series is one noisy period-ic waveform sampled at L time steps::

    x_t = offset + amplitude * wave(frequency * t / L + phase) + noise_t,   t = 0..L-1

where ``wave`` is one of four shapes with period 1 and values in [-1, 1] (the class) and
frequency (cycles per window), phase (fraction of a cycle), amplitude and offset are
nuisances drawn at random, as are the Gaussian noise values. Telling a square wave from a
sine means looking at the *shape* of the curve, not at its level, scale or timing: the same
situation as the Shapes images, in one dimension.

All randomness comes from a ``torch.Generator`` (or an integer seed turned into one): the
same seed gives the same series, and no global random state is touched (rule 4 of
DESIGN.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from fmcore.validate import bounded_int, finite_float

__all__ = ["CLASS_NAMES", "SignalsData", "make_signals", "waveform"]

# The classes, in label order: label k is CLASS_NAMES[k].
CLASS_NAMES: tuple[str, ...] = ("sine", "square", "triangle", "sawtooth")

# Limits enforced on every call (rule 8 of DESIGN.md).
MAX_SERIES = 50_000
MIN_LENGTH, MAX_LENGTH = 16, 1024
MAX_SEED = 2**31 - 1
MAX_NOISE = 2.0

# Ranges of the nuisance factors (uniform draws).
FREQUENCY_RANGE = (1.5, 4.0)  # cycles per window: at least one full period is always visible
AMPLITUDE_RANGE = (0.5, 1.5)
OFFSET_RANGE = (-0.5, 0.5)
DEFAULT_NOISE = 0.2  # standard deviation of the additive Gaussian noise


@dataclass(frozen=True, eq=False)
class SignalsData:
    """A batch of series, their classes and the factors they were drawn from."""

    series: torch.Tensor  # (N, L) float32
    labels: torch.Tensor  # (N,) int64, index into class_names
    frequency: torch.Tensor  # (N,) float32, cycles per window of L steps
    phase: torch.Tensor  # (N,) float32, fraction of a cycle in [0, 1)
    amplitude: torch.Tensor  # (N,) float32
    offset: torch.Tensor  # (N,) float32, the level the wave oscillates around
    class_names: tuple[str, ...] = CLASS_NAMES

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def factors(self) -> dict[str, torch.Tensor]:
        """The nuisance factors by name (each (N,) float32), e.g. as regression targets."""
        return {
            "frequency": self.frequency,
            "phase": self.phase,
            "amplitude": self.amplitude,
            "offset": self.offset,
        }


def waveform(labels: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """The noiseless unit wave of each class at positions ``u`` (in cycles).

    labels (N,) int64, u (N, L) float -> (N, L) float in [-1, 1]. All four waves have period
    1 and start their cycle at u = 0 going up (the square and triangle follow the sign and
    the peaks of the sine; the sawtooth rises from -1 to 1 and drops back).
    """
    f = torch.remainder(u, 1.0)  # (N, L) position inside the cycle, [0, 1)
    sine = torch.sin(2 * math.pi * u)
    square = torch.where(f < 0.5, 1.0, -1.0)
    # 1 - 4 * (distance on the cycle from the peak at f = 0.25): 0 at f = 0, -1 at f = 0.75
    triangle = 1.0 - 4.0 * ((f + 0.25).remainder(1.0) - 0.5).abs()
    sawtooth = 2.0 * f - 1.0
    waves = torch.stack([sine, square, triangle, sawtooth])  # (4, N, L)
    return waves.gather(0, labels[None, :, None].expand(1, *u.shape))[0]  # (N, L)


def _generator(seed_or_generator: int | torch.Generator) -> torch.Generator:
    if isinstance(seed_or_generator, torch.Generator):
        return seed_or_generator
    seed = bounded_int("seed", seed_or_generator, 0, MAX_SEED)
    return torch.Generator().manual_seed(seed)


def _uniform(n: int, bounds: tuple[float, float], g: torch.Generator) -> torch.Tensor:
    low, high = bounds
    return low + (high - low) * torch.rand(n, generator=g)


def make_signals(
    n: int,
    seed_or_generator: int | torch.Generator = 0,
    length: int = 64,
    *,
    noise: float = DEFAULT_NOISE,
) -> SignalsData:
    """Draw ``n`` labelled series of ``length`` steps.

    Args:
        n: number of series, 1..50 000.
        seed_or_generator: an integer seed (0..2**31-1) or a ``torch.Generator`` (advanced).
        length: time steps L per series, 16..1024.
        noise: standard deviation of the additive Gaussian noise (0..2); 0 gives the clean
            waves.

    Classes are balanced: each appears n // 4 or n // 4 + 1 times, in random order. The
    random draws come in a fixed order (labels, frequency, phase, amplitude, offset,
    noise), so the same seed and settings give identical series.
    Raises SettingError for a number, length, noise or seed out of range.
    """
    n = bounded_int("number of series", n, 1, MAX_SERIES)
    L = bounded_int("series length", length, MIN_LENGTH, MAX_LENGTH)
    noise = finite_float("noise", noise, 0.0, MAX_NOISE)
    g = _generator(seed_or_generator)
    k = len(CLASS_NAMES)
    labels = (torch.arange(n) % k)[torch.randperm(n, generator=g)]  # (N,)
    frequency = _uniform(n, FREQUENCY_RANGE, g)  # (N,)
    phase = torch.rand(n, generator=g)  # (N,)
    amplitude = _uniform(n, AMPLITUDE_RANGE, g)  # (N,)
    offset = _uniform(n, OFFSET_RANGE, g)  # (N,)
    t = torch.arange(L, dtype=torch.float32) / L  # (L,) time as a fraction of the window
    u = frequency[:, None] * t[None, :] + phase[:, None]  # (N, L) position in cycles
    clean = offset[:, None] + amplitude[:, None] * waveform(labels, u)  # (N, L)
    series = clean + noise * torch.randn(n, L, generator=g)  # (N, L)
    return SignalsData(
        series=series.float(),
        labels=labels.to(torch.int64),
        frequency=frequency,
        phase=phase,
        amplitude=amplitude,
        offset=offset,
    )

"""Tests for fmcore.self_supervision.signals: the procedural time-series dataset."""

from __future__ import annotations

import math

import pytest
import torch

from fmcore.errors import SettingError
from fmcore.self_supervision.signals import (
    AMPLITUDE_RANGE,
    CLASS_NAMES,
    FREQUENCY_RANGE,
    OFFSET_RANGE,
    make_signals,
    waveform,
)


def test_shapes_dtypes_and_factor_ranges():
    data = make_signals(100, 0, length=48)
    assert len(data) == 100
    assert data.series.shape == (100, 48) and data.series.dtype == torch.float32
    assert data.labels.shape == (100,) and data.labels.dtype == torch.int64
    assert data.class_names == CLASS_NAMES == ("sine", "square", "triangle", "sawtooth")
    for name, (low, high) in (
        ("frequency", FREQUENCY_RANGE),
        ("amplitude", AMPLITUDE_RANGE),
        ("offset", OFFSET_RANGE),
        ("phase", (0.0, 1.0)),
    ):
        factor = data.factors[name]
        assert factor.shape == (100,) and factor.dtype == torch.float32, name
        assert low <= factor.min() and factor.max() <= high, name
    assert torch.isfinite(data.series).all()


def test_classes_are_balanced_and_shuffled():
    data = make_signals(402, 3)
    counts = torch.bincount(data.labels, minlength=4)
    assert counts.max() - counts.min() <= 1
    assert not torch.equal(data.labels[:8], torch.arange(8) % 4)


def test_same_seed_same_series_and_generator_matches_seed():
    a = make_signals(32, 7)
    b = make_signals(32, torch.Generator().manual_seed(7))
    assert torch.equal(a.series, b.series) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.series, make_signals(32, 8).series)


def test_noise_free_series_follow_the_formula():
    data = make_signals(40, 1, length=64, noise=0.0)
    t = torch.arange(64) / 64
    u = data.frequency[:, None] * t + data.phase[:, None]
    expected = data.offset[:, None] + data.amplitude[:, None] * waveform(data.labels, u)
    assert torch.allclose(data.series, expected, atol=1e-6)
    # A square wave only takes the two values offset +- amplitude.
    square = data.labels == CLASS_NAMES.index("square")
    level = (data.series[square] - data.offset[square, None]).abs()
    assert torch.allclose(level, data.amplitude[square, None].expand_as(level), atol=1e-6)


def test_unit_waves_known_values():
    u = torch.tensor([0.0, 0.25, 0.5, 0.75, 0.125]).repeat(4, 1)
    waves = waveform(torch.arange(4), u)
    s = math.sqrt(0.5)
    expected = torch.tensor(
        [
            [0.0, 1.0, 0.0, -1.0, s],  # sine
            [1.0, 1.0, -1.0, -1.0, 1.0],  # square
            [0.0, 1.0, 0.0, -1.0, 0.5],  # triangle
            [-1.0, -0.5, 0.0, 0.5, -0.75],  # sawtooth
        ]
    )
    assert torch.allclose(waves, expected, atol=1e-6)


def test_classes_are_distinguishable_from_noisy_series():
    """Knowing the nuisance factors, the true class's template fits best, despite the noise."""
    data = make_signals(400, 5)
    L = data.series.shape[1]
    t = torch.arange(L) / L
    u = data.frequency[:, None] * t + data.phase[:, None]
    errors = []
    for k in range(len(CLASS_NAMES)):
        labels = torch.full_like(data.labels, k)
        fit = data.offset[:, None] + data.amplitude[:, None] * waveform(labels, u)
        errors.append(((data.series - fit) ** 2).mean(1))
    predicted = torch.stack(errors, 1).argmin(1)
    assert (predicted == data.labels).float().mean() > 0.97
    # And the noise has the advertised size.
    own = torch.stack(errors, 1).gather(1, data.labels[:, None]).mean().sqrt()
    assert own == pytest.approx(0.2, rel=0.1)


def test_square_waves_sit_near_plus_or_minus_amplitude():
    data = make_signals(400, 2)
    centred = (data.series - data.offset[:, None]) / data.amplitude[:, None]  # (N, L)
    near_peak = ((centred.abs() - 1).abs() < 0.3).float().mean(1)  # (N,)
    square = data.labels == CLASS_NAMES.index("square")
    assert near_peak[square].mean() > 0.7
    assert near_peak[~square].mean() < 0.5


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n": 0},
        {"n": 10**6},
        {"n": 4, "length": 8},
        {"n": 4, "length": 5000},
        {"n": 4, "noise": -1.0},
        {"n": 4, "noise": float("nan")},
        {"n": 4, "seed_or_generator": -1},
    ],
)
def test_bad_arguments_raise_setting_error(kwargs):
    with pytest.raises(SettingError):
        make_signals(**kwargs)

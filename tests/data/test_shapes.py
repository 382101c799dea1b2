"""Tests for fmcore.data.shapes: the procedural Shapes dataset."""

from __future__ import annotations

import math

import pytest
import torch

from fmcore.data.shapes import (
    CLASS_NAMES,
    PRESETS,
    ROTATION_SYMMETRY,
    ShapesConfig,
    ShapesData,
    cached_shapes,
    contact_sheet,
    make_shapes,
    to_float,
    to_pil,
)
from fmcore.errors import SettingError

# Clean, flat backgrounds and filled shapes: the drawn pixels are exactly the shape.
CLEAN_FILLED = ShapesConfig(clutter=0.0, gradient_probability=0.0, fill_probability=1.0)


@pytest.fixture(scope="module")
def data() -> ShapesData:
    return make_shapes(500, 11)


def test_class_names():
    assert len(CLASS_NAMES) >= 8
    assert len(set(CLASS_NAMES)) == len(CLASS_NAMES)
    assert len(ROTATION_SYMMETRY) == len(CLASS_NAMES)
    assert all(name.isalpha() and name.islower() for name in CLASS_NAMES)


def test_shapes_and_dtypes(data):
    n = 500
    assert len(data) == n
    assert data.images.shape == (n, 3, 32, 32)
    assert data.images.dtype == torch.uint8
    assert data.labels.shape == (n,)
    assert data.labels.dtype == torch.int64
    for name, factor in data.factors.items():
        assert factor.shape == (n,), name
        assert factor.dtype == torch.float32, name
    assert data.filled.dtype == torch.bool
    assert data.class_names == CLASS_NAMES


def test_factor_ranges(data):
    config = ShapesConfig()
    assert data.labels.min() >= 0 and data.labels.max() < len(CLASS_NAMES)
    assert data.size.min() >= config.min_size and data.size.max() <= config.max_size
    assert data.angle.min() >= 0 and data.angle.max() < 360
    # The circumscribed circle stays inside the image.
    for centre in (data.x, data.y):
        assert (centre >= data.size - 1e-6).all()
        assert (centre <= 1 - data.size + 1e-6).all()
    assert 0.3 < data.filled.float().mean() < 0.9


def test_same_seed_same_images():
    a = make_shapes(64, 5)
    b = make_shapes(64, 5)
    assert torch.equal(a.images, b.images)
    assert torch.equal(a.labels, b.labels)
    for name in a.factors:
        assert torch.equal(a.factors[name], b.factors[name])
    c = make_shapes(64, 6)
    assert not torch.equal(a.images, c.images)


def test_generator_argument_matches_integer_seed():
    a = make_shapes(32, 9)
    b = make_shapes(32, torch.Generator().manual_seed(9))
    assert torch.equal(a.images, b.images)


def test_global_random_state_untouched():
    before = torch.get_rng_state()
    make_shapes(16, 1)
    assert torch.equal(before, torch.get_rng_state())


def test_balanced_labels():
    k = len(CLASS_NAMES)
    counts = torch.bincount(make_shapes(10 * k + 3, 0).labels, minlength=k)
    assert counts.max() - counts.min() <= 1
    assert counts.sum() == 10 * k + 3
    labels = make_shapes(200, 0, config=ShapesConfig(balanced=False)).labels
    assert labels.min() >= 0 and labels.max() < k


@pytest.mark.parametrize("size", [8, 16, 64, 128])
def test_image_sizes(size):
    data = make_shapes(12, 0, image_size=size)
    assert data.images.shape == (12, 3, size, size)


def test_more_images_than_one_chunk():
    data = make_shapes(2100, 0, image_size=8)
    assert data.images.shape == (2100, 3, 8, 8)
    assert data.images[-50:].float().std() > 10  # the last chunk is drawn too


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n": 0},
        {"n": 50_001},
        {"n": 2.5},
        {"n": 10, "image_size": 7},
        {"n": 10, "image_size": 129},
        {"n": 10, "seed": -1},
        {"n": 10, "seed": "abc"},
    ],
)
def test_limits(kwargs):
    with pytest.raises(SettingError):
        make_shapes(**kwargs)


@pytest.mark.parametrize(
    "field, value",
    [
        ("clutter", 3.0),
        ("clutter", float("nan")),
        ("min_size", 0.01),
        ("max_size", 0.6),
        ("fill_probability", -0.1),
        ("supersample", 5),
        ("image_size", 4),
    ],
)
def test_config_is_checked(field, value):
    with pytest.raises(SettingError):
        ShapesConfig(**{field: value})


def test_presets_are_configs():
    assert {"clean", "standard", "cluttered", "upright"} <= set(PRESETS)
    for config in PRESETS.values():
        assert isinstance(config, ShapesConfig)


def test_upright_preset_draws_every_shape_at_angle_zero():
    upright = make_shapes(64, 0, config=PRESETS["upright"])
    assert torch.equal(upright.angle, torch.zeros(64))
    # The angle is still drawn (as 0 * u), so every other choice matches the default images.
    default = make_shapes(64, 0)
    for name in ("labels", "size", "x", "y", "filled"):
        assert torch.equal(getattr(upright, name), getattr(default, name)), name
    assert not torch.equal(upright.images, default.images)


def test_max_angle_bounds_the_angles_and_is_checked():
    data = make_shapes(200, 1, config=ShapesConfig(max_angle=30.0))
    assert data.angle.min() >= 0 and data.angle.max() < 30
    for bad in (-1.0, 361.0, float("nan")):
        with pytest.raises(SettingError):
            ShapesConfig(max_angle=bad)


def test_default_images_did_not_change_when_max_angle_was_added():
    """Values of make_shapes(64, seed=0) recorded before ``max_angle`` existed."""
    data = make_shapes(64, 0)
    assert data.labels[:12].tolist() == [4, 6, 7, 3, 7, 1, 5, 6, 3, 2, 3, 9]
    assert data.angle[:4].tolist() == pytest.approx([92.3196, 117.03, 32.4681, 141.7113], abs=1e-3)
    # Pixel sum; a tolerance only for anti-aliasing changes of a new Pillow (a different
    # sequence of random draws changes the images completely).
    assert int(data.images.long().sum()) == pytest.approx(25_577_937, rel=1e-4)


def test_filled_shapes_sit_where_the_factors_say():
    data = make_shapes(300, 2, config=CLEAN_FILLED)
    side = 32
    circles = torch.nonzero(data.labels == CLASS_NAMES.index("circle")).flatten()
    assert circles.numel() >= 20
    for i in circles.tolist():
        image = data.images[i].float()  # (3, H, W)
        background = image[:, 0, 0]  # a corner: the circle never reaches it
        drawn = (image - background[:, None, None]).abs().amax(0) > 40  # (H, W)
        area = drawn.float().sum().item()
        radius = data.size[i].item() * side
        assert area == pytest.approx(math.pi * radius**2, rel=0.2)
        rows, cols = torch.nonzero(drawn, as_tuple=True)
        assert (cols.float().mean() + 0.5) / side == pytest.approx(data.x[i].item(), abs=0.05)
        assert (rows.float().mean() + 0.5) / side == pytest.approx(data.y[i].item(), abs=0.05)


def test_shape_contrasts_with_background():
    data = make_shapes(200, 4, config=CLEAN_FILLED)
    luma = torch.tensor([0.299, 0.587, 0.114])
    image = data.images.float() / 255  # (N, 3, H, W)
    side = image.shape[-1]
    cols = (data.x * side).long().clamp(0, side - 1)
    rows = (data.y * side).long().clamp(0, side - 1)
    index = torch.arange(len(data))
    centre = image[index, :, rows, cols] @ luma  # (N,) the shape's centre is inside it
    corner = image[:, :, 0, 0] @ luma  # (N,)
    convex = torch.isin(data.labels, torch.tensor([0, 1, 2, 9]))  # circle, square, ...
    gap = (centre - corner).abs()[convex]
    assert (gap > 0.25).all()


def test_colour_says_little_about_the_class():
    data = make_shapes(2000, 8)
    mean_colour = data.images.float().mean(dim=(2, 3))  # (N, 3)
    overall = mean_colour.mean(0)
    for label in range(len(CLASS_NAMES)):
        per_class = mean_colour[data.labels == label].mean(0)
        assert (per_class - overall).abs().max() < 20, CLASS_NAMES[label]


def test_clutter_adds_distractors():
    clean = make_shapes(200, 3, config=PRESETS["clean"]).as_float()
    cluttered = make_shapes(200, 3, config=PRESETS["cluttered"]).as_float()

    def roughness(x: torch.Tensor) -> float:  # mean absolute difference of neighbours
        return (x[..., 1:] - x[..., :-1]).abs().mean().item()

    assert roughness(cluttered) > 1.5 * roughness(clean)


def test_float_and_pil_helpers(data):
    floats = data.as_float()
    assert floats.dtype == torch.float32
    assert floats.shape == data.images.shape
    assert 0.0 <= floats.min() and floats.max() <= 1.0
    assert torch.equal(to_float(data.images), floats)
    image = to_pil(data.images, 3)
    assert image.mode == "RGB" and image.size == (32, 32)
    assert to_pil(floats, 3).tobytes() == image.tobytes()


def test_cached_shapes_returns_the_same_object():
    a = cached_shapes(40, 1, 16)
    assert cached_shapes(40, 1, 16) is a
    assert cached_shapes(40, 2, 16) is not a
    assert torch.equal(a.images, make_shapes(40, 1, image_size=16).images)
    with pytest.raises(SettingError):
        cached_shapes(0, 1, 16)


def test_contact_sheet(data):
    sheet = contact_sheet(data, per_class=4, zoom=2)
    assert sheet.mode == "RGB"
    assert sheet.height > len(CLASS_NAMES) * 64
    assert sheet.width > 4 * 64

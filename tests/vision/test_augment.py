"""Tests of fmcore.vision.augment: seeded SimCLR augmentations (Chen et al. 2020, Appendix A).

Known answers (identity, flips, flat images, greys), a per-image reference written from
the formulas with plain torch ops (batching must change nothing), the sampled ranges, and
the refusal of bad settings.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F

from fmcore.errors import SettingError
from fmcore.vision.augment import (
    MAX_BATCH,
    AugmentConfig,
    AugmentParams,
    apply,
    augment,
    sample_params,
    two_views,
)

LUMA = torch.tensor([0.299, 0.587, 0.114])
PARAM_FIELDS = [f.name for f in dataclasses.fields(AugmentParams)]


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def images(batch: int = 8, size: int = 16, seed: int = 0, width: int | None = None):
    """Smooth random colour images in [0, 1]: (batch, 3, size, width)."""
    g = gen(seed)
    coarse = torch.rand(batch, 3, 5, 5, generator=g)
    smooth = F.interpolate(coarse, size=(size, width or size), mode="bilinear")
    return (smooth + 0.1 * torch.rand(smooth.shape, generator=g)).clamp(0, 1)


def flat(value, batch: int = 2, size: int = 12) -> torch.Tensor:
    """Images of one colour: value is a grey level or an (r, g, b) triple."""
    colour = torch.as_tensor(value, dtype=torch.float32).expand(3)
    return colour.view(1, 3, 1, 1).expand(batch, 3, size, size).clone()


def only(batch: int, **fields) -> AugmentParams:
    """Identity params with some fields set to one value for every image."""
    p = AugmentParams.identity(batch)
    changes = {}
    for name, value in fields.items():
        old = getattr(p, name)
        changes[name] = torch.as_tensor(value, dtype=old.dtype).expand_as(old).clone()
    return dataclasses.replace(p, **changes)


def params_equal(a: AugmentParams, b: AugmentParams) -> bool:
    return all(torch.equal(getattr(a, n), getattr(b, n)) for n in PARAM_FIELDS)


# ---------------------------------------------------------------------- seeding
def test_same_seed_same_params_and_views():
    x = images()
    cfg = AugmentConfig.simclr()
    v1, p1 = augment(x, cfg, gen(3))
    v2, p2 = augment(x, cfg, gen(3))
    assert params_equal(p1, p2)
    assert torch.equal(v1, v2)
    a = two_views(x, cfg, gen(5))
    b = two_views(x, cfg, gen(5))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert params_equal(a[2], b[2]) and params_equal(a[3], b[3])


def test_different_seeds_differ():
    x = images()
    cfg = AugmentConfig.simclr()
    v1, p1 = augment(x, cfg, gen(1))
    v2, p2 = augment(x, cfg, gen(2))
    assert not torch.equal(p1.crop, p2.crop)
    assert not torch.allclose(v1, v2)


def test_global_rng_untouched():
    state = torch.get_rng_state()
    augment(images(), AugmentConfig.simclr(), gen(0))
    two_views(images(), AugmentConfig.simclr(), gen(0))
    assert torch.equal(state, torch.get_rng_state())


def test_apply_is_deterministic_given_params():
    x = images()
    p = sample_params(8, AugmentConfig.simclr(), gen(4))
    assert torch.equal(apply(x, p), apply(x, p))
    assert torch.equal(apply(x, p, 20), apply(x, p, 20))


def test_two_views_are_independent_and_replayable():
    x = images()
    cfg = AugmentConfig.simclr()
    x_hat, x_tilde, p_hat, p_tilde = two_views(x, cfg, gen(7))
    assert not params_equal(p_hat, p_tilde)
    assert not torch.allclose(x_hat, x_tilde)
    torch.testing.assert_close(x_hat, apply(x, p_hat, cfg), atol=1e-5, rtol=0)
    torch.testing.assert_close(x_tilde, apply(x, p_tilde, cfg), atol=1e-5, rtol=0)


# ---------------------------------------------------------------------- known answers
def test_none_is_identity():
    x = images(size=20)
    views, p = augment(x, AugmentConfig.none(), gen(0))
    torch.testing.assert_close(views, x, atol=1e-5, rtol=0)
    views, _ = augment(x, AugmentConfig.none(output_size=20), gen(0))
    torch.testing.assert_close(views, x, atol=1e-5, rtol=0)
    assert not p.flip.any() and not p.jitter.any() and not p.grayscale.any()
    assert not p.blur.any()


def test_full_crop_without_flip_is_identity_through_grid_sample():
    x = images(size=16)
    p = only(8)
    # a box that is the whole image up to rounding takes the grid_sample path
    p = dataclasses.replace(p, crop=p.crop * torch.tensor([1.0, 1.0, 1.0 - 1e-7, 1.0]))
    torch.testing.assert_close(apply(x, p), x, atol=1e-5, rtol=0)


def test_flip_only_mirrors_the_flipped_rows():
    x = images(batch=16)
    cfg = AugmentConfig(
        crop_strength=0, flip_strength=1, color_strength=0, grayscale_strength=0, blur_strength=0
    )
    views, p = augment(x, cfg, gen(0))
    assert 0 < int(p.flip.sum()) < 16
    for i in range(16):
        expected = torch.flip(x[i], dims=[-1]) if p.flip[i] else x[i]
        torch.testing.assert_close(views[i], expected, atol=1e-5, rtol=0)


def test_crop_box_reads_the_right_pixels():
    # the left half of an image resized to full width: column j of the output sits at
    # input column (j + 0.5) / 2 - 0.5, a bilinear mix of columns floor and ceil of it
    x = torch.arange(16.0).div(15).view(1, 1, 1, 16).expand(1, 3, 8, 16).contiguous()
    p = only(1, crop=[0.0, 0.0, 0.5, 1.0])
    out = apply(x, p, 16)
    col = torch.arange(16.0)
    expected = ((col + 0.5) / 2 - 0.5).clamp(min=0) / 15
    torch.testing.assert_close(out[0, 0, 0], expected, atol=1e-5, rtol=0)
    assert out.shape == (1, 3, 16, 16)


def test_manual_grid_equals_affine_grid():
    from fmcore.vision.augment import _sampling_grid

    p = sample_params(16, AugmentConfig.simclr(), gen(0))
    w, h = p.crop[:, 2], p.crop[:, 3]
    theta = torch.zeros(16, 2, 3)
    theta[:, 0, 0] = torch.where(p.flip, -w, w)
    theta[:, 0, 2] = 2 * p.crop[:, 0] + w - 1
    theta[:, 1, 1] = h
    theta[:, 1, 2] = 2 * p.crop[:, 1] + h - 1
    expected = F.affine_grid(theta, [16, 3, 12, 20], align_corners=False)
    torch.testing.assert_close(
        _sampling_grid(p.crop, p.flip, (12, 20)), expected, atol=1e-6, rtol=0
    )


def test_grayscale_rows_have_equal_channels():
    x = images(batch=32)
    cfg = AugmentConfig.none()
    cfg = dataclasses.replace(cfg, grayscale_strength=2.0)  # probability 0.4
    views, p = augment(x, cfg, gen(1))
    assert 0 < int(p.grayscale.sum()) < 32
    g = views[p.grayscale]
    torch.testing.assert_close(g[:, 0], g[:, 1], atol=1e-7, rtol=0)
    torch.testing.assert_close(g[:, 1], g[:, 2], atol=1e-7, rtol=0)
    grey = (LUMA.view(1, 3, 1, 1) * x[p.grayscale]).sum(1)
    torch.testing.assert_close(g[:, 0], grey, atol=1e-5, rtol=0)
    torch.testing.assert_close(views[~p.grayscale], x[~p.grayscale], atol=1e-5, rtol=0)


@pytest.mark.parametrize("factor", [0.3, 1.0, 1.6])
def test_brightness_multiplies_a_flat_grey(factor):
    x = flat(0.5)
    out = apply(x, only(2, jitter=True, brightness=factor))
    torch.testing.assert_close(out, torch.full_like(x, 0.5 * factor), atol=1e-6, rtol=0)


def test_brightness_clamps_at_white():
    out = apply(flat(0.8), only(2, jitter=True, brightness=1.5))
    torch.testing.assert_close(out, torch.ones_like(out), atol=0, rtol=0)


def test_colour_is_clamped_once_after_the_jitter_and_grayscale():
    # one clamp for the whole colour stage (module docstring): brightness 1.5 takes greys
    # 0.8 and 0.2 to 1.2 and 0.3, which contrast 0.5 then blends with their mean 0.75;
    # torchvision would clamp 1.2 to 1 first and give 0.825 and 0.475
    x = torch.cat([torch.full((1, 3, 8, 8), 0.8), torch.full((1, 3, 8, 8), 0.2)], dim=3)
    out = apply(x, only(1, jitter=True, brightness=1.5, contrast=0.5))
    torch.testing.assert_close(out[..., :8], torch.full((1, 3, 8, 8), 0.975), atol=1e-6, rtol=0)
    torch.testing.assert_close(out[..., 8:], torch.full((1, 3, 8, 8), 0.525), atol=1e-6, rtol=0)
    # grayscale of the unclamped colour: (1.2, 0.3, 0.3) -> 0.5691 (clamped first: 0.5093)
    out = apply(flat((0.8, 0.2, 0.2)), only(2, jitter=True, brightness=1.5, grayscale=True))
    torch.testing.assert_close(out, torch.full_like(out, 0.5691), atol=1e-6, rtol=0)


def test_contrast_zero_gives_the_mean_grey_and_saturation_zero_gives_grey():
    x = images(batch=2)
    out = apply(x, only(2, jitter=True, contrast=0.0))
    mean_grey = (LUMA.view(1, 3, 1, 1) * x).sum(1).mean(dim=(1, 2))  # (B,)
    torch.testing.assert_close(out, mean_grey.view(2, 1, 1, 1).expand_as(x), atol=1e-5, rtol=0)
    out = apply(x, only(2, jitter=True, saturation=0.0))
    grey = (LUMA.view(1, 3, 1, 1) * x).sum(1, keepdim=True)
    torch.testing.assert_close(out, grey.expand_as(x), atol=1e-5, rtol=0)


def test_jitter_flag_off_means_no_change():
    x = images(batch=2)
    p = only(2, jitter=False, brightness=1.5, contrast=0.5, saturation=0.2, hue=0.3)
    torch.testing.assert_close(apply(x, p), x, atol=1e-5, rtol=0)


def test_hue_zero_changes_nothing_and_greys_stay_grey():
    x = images(batch=4)
    torch.testing.assert_close(apply(x, only(4, jitter=True, hue=0.0)), x, atol=1e-6, rtol=0)
    for shift in (-0.5, -0.2, 0.13, 0.4):
        grey = flat(0.37)
        out = apply(grey, only(2, jitter=True, hue=shift))
        torch.testing.assert_close(out, grey, atol=1e-5, rtol=0)


def test_hue_keeps_luma_and_turns_red_towards_green():
    red = flat((0.6, 0.3, 0.3))
    out = apply(red, only(2, jitter=True, hue=0.1))
    r, g, b = out[0, :, 0, 0]
    assert g > 0.3 + 0.05 and b < g  # positive shift: red -> yellow -> green, as in HSV
    luma = lambda t: (LUMA.view(1, 3, 1, 1) * t).sum(1)  # noqa: E731
    torch.testing.assert_close(luma(out), luma(red), atol=1e-5, rtol=0)
    back = apply(out, only(2, jitter=True, hue=-0.1))
    torch.testing.assert_close(back, red, atol=1e-5, rtol=0)


def test_blur_keeps_a_constant_and_reduces_noise_variance():
    const = flat(0.42, size=16)
    out = apply(const, only(2, blur=True, blur_sigma=1.7))
    torch.testing.assert_close(out, const, atol=1e-6, rtol=0)
    noise = torch.rand(2, 3, 16, 16, generator=gen(0))
    out = apply(noise, only(2, blur=True, blur_sigma=1.0))
    assert out.var() < 0.3 * noise.var()
    assert abs(float(out.mean() - noise.mean())) < 0.01


def test_output_range_shape_and_dtype():
    x = images(batch=6, size=24, width=40).double()
    for size in (8, 32):
        views, _ = augment(x, AugmentConfig(output_size=size, color_strength=2.0), gen(0))
        assert views.shape == (6, 3, size, size)
        assert views.dtype == torch.float32
        assert float(views.min()) >= 0.0 and float(views.max()) <= 1.0
    views, _ = augment(x, AugmentConfig.simclr(), gen(0))
    assert views.shape == (6, 3, 24, 40)


def test_images_that_require_grad_give_plain_views():
    x = images().requires_grad_()
    views, _ = augment(x, AugmentConfig.simclr(), gen(0))
    assert not views.requires_grad
    torch.testing.assert_close(views, augment(x.detach(), AugmentConfig.simclr(), gen(0))[0])


def test_input_is_not_modified():
    x = images()
    copy = x.clone()
    augment(x, AugmentConfig.simclr(), gen(0))
    two_views(x, AugmentConfig.simclr(), gen(0))
    assert torch.equal(x, copy)


# ---------------------------------------------------------------------- reference
YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])


def reference_one(
    x: torch.Tensor, p: AugmentParams, i: int, out_hw: tuple[int, int]
) -> torch.Tensor:
    """Image i augmented from the formulas, one operation after the other: (3, oh, ow)."""
    img = x[i : i + 1]  # (1, 3, H, W)
    x0, y0, w, h = p.crop[i].tolist()
    theta = torch.tensor([[[w, 0.0, 2 * x0 + w - 1], [0.0, h, 2 * y0 + h - 1]]])
    grid = F.affine_grid(theta, [1, 3, *out_hw], align_corners=False)
    out = F.grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=False)
    if p.flip[i]:
        out = torch.flip(out, dims=[-1])
    out = out[0]  # (3, s, s)
    if p.jitter[i]:
        for op in p.jitter_order[i].tolist():
            if op == 0:
                out = out * p.brightness[i]
            elif op == 1:
                m = (LUMA.view(3, 1, 1) * out).sum(0).mean()
                out = p.contrast[i] * out + (1 - p.contrast[i]) * m
            elif op == 2:
                grey = (LUMA.view(3, 1, 1) * out).sum(0)
                out = p.saturation[i] * out + (1 - p.saturation[i]) * grey
            else:
                yiq = torch.einsum("cd,dhw->chw", YIQ, out)
                a = -2 * math.pi * float(p.hue[i])
                c, s = math.cos(a), math.sin(a)
                yiq = torch.stack([yiq[0], c * yiq[1] - s * yiq[2], s * yiq[1] + c * yiq[2]])
                out = torch.einsum("cd,dhw->chw", torch.linalg.inv(YIQ), yiq)
    if p.grayscale[i]:
        out = (LUMA.view(3, 1, 1) * out).sum(0).expand(3, -1, -1)
    out = out.clamp(0, 1)  # once, after the jitter and grayscale (see the module docstring)
    if p.blur[i]:
        sigma = float(p.blur_sigma[i])
        r = min(math.ceil(3 * sigma), min(out_hw) - 1)
        t = torch.arange(-r, r + 1.0)
        k = torch.exp(-(t**2) / (2 * sigma**2))
        k = k / k.sum()
        padded = F.pad(out[None], (r, r, r, r), mode="reflect")  # (1, 3, oh+2r, ow+2r)
        k2 = (k[:, None] * k[None, :]).expand(3, 1, -1, -1)
        out = F.conv2d(padded, k2, groups=3)[0]
    return out.clamp(0, 1)


@pytest.mark.parametrize(
    "size, width, sigma_max",
    [(16, None, 2.0), (24, None, 2.0), (None, 28, 2.0), (12, None, 8.0)],
)
def test_batch_equals_per_image_reference(size, width, sigma_max):
    # size None keeps the 20 x 28 input (rows and columns get different blur matrices);
    # sigma up to 8 on 12 pixels hits the cap of the kernel radius at the side minus one
    x = images(batch=24, size=20, width=width)
    cfg = AugmentConfig(
        color_strength=1.5, grayscale_strength=1.5, blur_strength=1.2, blur_sigma_max=sigma_max
    )
    views, p = augment(x, dataclasses.replace(cfg, output_size=size), gen(11))
    out_hw = tuple(views.shape[-2:])
    assert p.flip.any() and p.jitter.any() and p.grayscale.any() and p.blur.any()
    assert (p.hue != 0).any() and not (p.jitter_order == p.jitter_order[0]).all()
    for i in range(24):
        expected = reference_one(x, p, i, out_hw)
        torch.testing.assert_close(views[i], expected, atol=2e-5, rtol=0, msg=f"image {i}")
        one = apply(x[i : i + 1], p.select(i), size)
        torch.testing.assert_close(views[i : i + 1], one, atol=1e-5, rtol=0)


def test_chunks_change_nothing(monkeypatch):
    # the pipeline runs over chunks of images (fmcore.vision.augment._CHUNK_BYTES): chunks of 3
    # images, blurred or not, must give the batch's result
    import fmcore.vision.augment as module

    x = images(batch=20, size=16)
    p = sample_params(20, AugmentConfig(blur_strength=1.5), gen(6))
    assert 3 < int(p.blur.sum()) < 17
    expected = apply(x, p)
    monkeypatch.setattr(module, "_CHUNK_BYTES", 3 * 3 * 16 * 16 * 4)
    torch.testing.assert_close(apply(x, p), expected, atol=1e-6, rtol=0)


# ---------------------------------------------------------------------- sampling
def test_sampled_ranges_follow_the_config():
    B = 4096
    cfg = AugmentConfig.simclr()
    p = sample_params(B, cfg, gen(0))
    x0, y0, w, h = p.crop.unbind(1)
    assert (x0 >= 0).all() and (y0 >= 0).all()
    assert (x0 + w <= 1 + 1e-6).all() and (y0 + h <= 1 + 1e-6).all()
    area = w * h
    assert float(area.min()) >= 0.08 - 1e-6
    aspect = w / h
    assert (aspect >= 0.75 - 1e-5).all() and (aspect <= 4 / 3 + 1e-5).all()
    for flag, prob in [(p.flip, 0.5), (p.jitter, 0.8), (p.grayscale, 0.2), (p.blur, 0.5)]:
        assert abs(float(flag.float().mean()) - prob) < 0.03
    j = p.jitter
    for name in ("brightness", "contrast", "saturation"):
        f = getattr(p, name)
        assert float(f[j].min()) >= 0.2 - 1e-6 and float(f[j].max()) <= 1.8 + 1e-6
        assert (f[~j] == 1).all()
    assert float(p.hue.abs().max()) <= 0.2 + 1e-6 and (p.hue[~j] == 0).all()
    assert torch.equal(p.jitter_order.sort(dim=1).values, torch.arange(4).expand(B, 4))
    assert float(p.blur_sigma[p.blur].min()) >= 0.1 and float(p.blur_sigma.max()) <= 2.0
    assert (p.blur_sigma[~p.blur] == 0).all()
    # sample_params skips the checks of AugmentParams: its rows must pass them anyway
    AugmentParams(**{name: getattr(p, name) for name in PARAM_FIELDS})
    q = sample_params(64, AugmentConfig(crop_strength=2, color_strength=2), gen(1))
    AugmentParams(**{name: getattr(q, name) for name in PARAM_FIELDS})


def test_strength_scales_the_ranges():
    weak = sample_params(2000, AugmentConfig.weak(), gen(0))
    strong = sample_params(2000, AugmentConfig.simclr(), gen(0))
    area_weak = weak.crop[:, 2] * weak.crop[:, 3]
    area_strong = strong.crop[:, 2] * strong.crop[:, 3]
    assert float(area_weak.min()) >= 0.08**0.5 - 1e-6
    assert area_weak.mean() > area_strong.mean()
    assert float((weak.brightness - 1).abs().max()) <= 0.4 + 1e-6
    assert not weak.grayscale.any() and not weak.blur.any()
    assert float(AugmentConfig(color_strength=2).color_strength) == 2.0


# ---------------------------------------------------------------------- describe
def test_describe_is_readable():
    p = sample_params(16, AugmentConfig.simclr(), gen(0))
    keys = ["crop", "flip", "colour jitter", "brightness", "contrast", "saturation", "hue"]
    keys += ["grayscale", "blur"]
    for i in range(16):
        d = p.describe(i)
        assert list(d) == keys
        assert all(isinstance(v, str) and v for v in d.values())
        assert "% of the area at (" in d["crop"]
        assert d["flip"] == ("yes" if p.flip[i] else "no")
        assert d["grayscale"] in ("yes", "no")
        if p.jitter[i]:
            assert d["brightness"].startswith("x") and d["hue"][0] in "+-"
            assert sorted(d["colour jitter"].split(", ")) == sorted(keys[3:7])
        else:
            assert d["colour jitter"] == "no" and d["brightness"] == "unchanged"
        assert d["blur"].startswith("sigma ") if p.blur[i] else d["blur"] == "no"
    d = AugmentParams.identity(1).describe(0)
    assert d["crop"] == "100% of the area at (0.00, 0.00), aspect 1.00"
    assert p.describe(-1) == p.describe(15)


# ---------------------------------------------------------------------- bad settings
@pytest.mark.parametrize(
    "kwargs",
    [
        {"crop_strength": -0.1},
        {"flip_strength": 2.5},
        {"color_strength": float("nan")},
        {"grayscale_strength": float("inf")},
        {"blur_strength": "strong"},
        {"color_probability": 1.5},
        {"blur_sigma_min": 3.0, "blur_sigma_max": 1.0},
        {"blur_sigma_max": 0.0},
        {"output_size": 7},
        {"output_size": 513},
        {"output_size": 31.5},
    ],
)
def test_bad_config_raises(kwargs):
    with pytest.raises(SettingError):
        AugmentConfig(**kwargs)


@pytest.mark.parametrize(
    "bad",
    [
        torch.rand(3, 16, 16),  # no batch dimension
        torch.rand(2, 4, 16, 16),  # four channels
        torch.randint(0, 255, (2, 3, 16, 16), dtype=torch.uint8),  # not floats
        torch.full((2, 3, 16, 16), float("nan")),
        torch.full((2, 3, 16, 16), float("inf")),
        torch.rand(2, 3, 16, 16) * 255,  # not in [0, 1]
        torch.rand(2, 3, 16, 16) - 0.5,  # normalised already
        torch.rand(2, 3, 4, 16),  # too small
        torch.zeros(MAX_BATCH + 1, 3, 8, 8),  # batch too large
        [[0.5]],  # not a tensor
    ],
)
def test_bad_images_raise(bad):
    with pytest.raises(SettingError):
        augment(bad, AugmentConfig.simclr(), gen(0))
    with pytest.raises(ValueError):
        two_views(bad, AugmentConfig.simclr(), gen(0))


def test_other_bad_arguments_raise():
    x = images(batch=4)
    cfg = AugmentConfig.simclr()
    with pytest.raises(SettingError, match="Generator"):
        augment(x, cfg, 0)  # type: ignore[arg-type]
    with pytest.raises(SettingError, match="AugmentConfig"):
        augment(x, {"crop_strength": 1}, gen(0))  # type: ignore[arg-type]
    for size in (0, MAX_BATCH + 1, 2.5, True):
        with pytest.raises(SettingError):
            sample_params(size, cfg, gen(0))  # type: ignore[arg-type]
    p = sample_params(3, cfg, gen(0))
    with pytest.raises(SettingError, match="3 images"):
        apply(x, p)
    with pytest.raises(SettingError):
        apply(x, sample_params(4, cfg, gen(0)), 600)
    with pytest.raises(SettingError):
        p.describe(3)
    with pytest.raises(SettingError):
        dataclasses.replace(p, flip=torch.zeros(2, dtype=torch.bool))
    with pytest.raises(SettingError):
        dataclasses.replace(p, hue=torch.full((3,), float("nan")))
    with pytest.raises(SettingError):
        dataclasses.replace(p, flip=torch.zeros(3))  # not bool
    with pytest.raises(SettingError):
        dataclasses.replace(p, crop=torch.tensor([[0.0, 0.0, 0.0, 1.0]]).repeat(3, 1))
    with pytest.raises(SettingError):
        dataclasses.replace(p, brightness=torch.full((3,), -1.0))
    with pytest.raises(SettingError):
        dataclasses.replace(p, jitter_order=torch.zeros(3, 4, dtype=torch.long))
    with pytest.raises(SettingError, match="output size"):
        augment(torch.rand(1, 3, 600, 600), cfg, gen(0))
    with pytest.raises(SettingError):
        AugmentParams.cat([p, {"crop": p.crop}])  # type: ignore[list-item]


def test_memory_layout_does_not_matter():
    x = images(batch=6, size=16)
    cfg = AugmentConfig.simclr()
    expected, _ = augment(x, cfg, gen(2))
    channels_last = x.contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(augment(channels_last, cfg, gen(2))[0], expected, atol=1e-6, rtol=0)
    transposed = x.transpose(2, 3).contiguous().transpose(2, 3)  # same values, odd strides
    torch.testing.assert_close(augment(transposed, cfg, gen(2))[0], expected, atol=1e-6, rtol=0)
    none, _ = augment(transposed, AugmentConfig.none(), gen(2))
    torch.testing.assert_close(none, x, atol=0, rtol=0)

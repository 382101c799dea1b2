"""Tests for fmcore.vision.scenes: the procedural sample photographs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fmcore.errors import SettingError
from fmcore.vision.scenes import SCENE_NAMES, SCENE_TITLES, make_scene, sample_scenes


@pytest.fixture(scope="module")
def scenes() -> dict[str, np.ndarray]:
    return {name: np.asarray(image, dtype=np.float64) for name, image in sample_scenes(96)}


def test_names_and_titles():
    assert 6 <= len(SCENE_NAMES) <= 8
    assert len(set(SCENE_NAMES)) == len(SCENE_NAMES)
    assert set(SCENE_TITLES) == set(SCENE_NAMES)


def test_sample_scenes_order_mode_and_size():
    pairs = sample_scenes(64)
    assert [name for name, _ in pairs] == list(SCENE_NAMES)
    for _, image in pairs:
        assert image.mode == "RGB"
        assert image.size == (64, 64)


@pytest.mark.parametrize("size", [32, 128, 200])
def test_sizes(size):
    assert make_scene("house", size).size == (size, size)


def test_deterministic():
    for name in SCENE_NAMES:
        a = np.asarray(make_scene(name, 64, seed=3))
        b = np.asarray(make_scene(name, 64, seed=3))
        assert np.array_equal(a, b), name


def test_seed_varies_the_picture():
    for name in SCENE_NAMES:
        a = np.asarray(make_scene(name, 64, seed=0), dtype=np.float64)
        b = np.asarray(make_scene(name, 64, seed=1), dtype=np.float64)
        assert np.abs(a - b).mean() > 2.0, name


def test_scenes_are_not_flat(scenes):
    for name, pixels in scenes.items():
        assert pixels.std() > 25.0, name  # over all pixels and channels, on 0..255
        # Colourful, too: the channels are not all alike.
        assert np.abs(pixels[..., 0] - pixels[..., 2]).mean() > 15.0, name


def test_scenes_differ_from_each_other(scenes):
    names = list(scenes)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert np.abs(scenes[a] - scenes[b]).mean() > 20.0, (a, b)


def test_unknown_scene_lists_the_names():
    with pytest.raises(SettingError) as info:
        make_scene("volcano")
    message = str(info.value)
    assert "volcano" in message
    for name in SCENE_NAMES:
        assert name in message


@pytest.mark.parametrize("size", [0, 31, 513, 64.5, "big", float("nan")])
def test_bad_size(size):
    with pytest.raises(SettingError):
        make_scene("cat", size)


def test_bad_seed():
    with pytest.raises(SettingError):
        make_scene("cat", 64, seed=-1)


def test_global_random_state_untouched():
    before = torch.get_rng_state()
    make_scene("city", 64, seed=5)
    assert torch.equal(before, torch.get_rng_state())

"""fmcore.vision.contrastive: the SimCLR-loss lesson's batch, views, encoders and chance level."""

import math

import pytest
import torch
import torch.nn.functional as F

from fmcore.errors import SettingError
from fmcore.vision import contrastive
from fmcore.vision.augment import AugmentConfig
from fmcore.vision.encoders import EncoderConfig, calibrate_batchnorm, make_simclr_model

CONFIG = EncoderConfig(width=8, representation_dim=16, projection_dim=8)


def views(seed=0, b=8):
    batch = contrastive.make_batch("shapes", b, torch.Generator().manual_seed(seed))
    return contrastive.make_views(batch, AugmentConfig.simclr(),
                                  torch.Generator().manual_seed(seed + 1))


def cosines(model, v):
    z_hat, z_tilde = contrastive.embed_views(model, v, CONFIG.image_size)
    return F.normalize(z_hat, dim=1) @ F.normalize(z_tilde, dim=1).T  # (B, B)


def test_an_uncalibrated_random_network_maps_every_view_alike_and_random_model_does_not():
    v = views()
    raw = cosines(make_simclr_model(CONFIG, torch.Generator().manual_seed(0)), v)
    assert float(raw.min()) > 0.9  # the collapse issue 14 saw: every cell alike
    fresh = cosines(contrastive.random_model(CONFIG, torch.Generator().manual_seed(0)), v)
    assert float(fresh.max() - fresh.min()) > 0.5  # similarities vary from pair to pair
    off = (fresh.sum() - fresh.diagonal().sum()) / (8 * 7)
    assert abs(float(fresh.diagonal().mean() - off)) < 0.2  # no diagonal stands out


def test_random_model_is_seeded_and_changes_no_weight():
    a = contrastive.random_model(CONFIG, torch.Generator().manual_seed(3))
    b = contrastive.random_model(CONFIG, torch.Generator().manual_seed(3))
    plain = make_simclr_model(CONFIG, torch.Generator().manual_seed(3))
    assert not a.training
    for (name, x), y, p in zip(a.state_dict().items(), b.state_dict().values(),
                               plain.state_dict().values(), strict=True):
        assert torch.equal(x, y), name
        if "running" not in name and "num_batches" not in name:
            assert torch.equal(x, p), name  # weights as initialised: only statistics set


def test_calibrate_batchnorm_sets_the_statistics_of_the_images():
    torch.manual_seed(0)
    bn = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.BatchNorm1d(12))
    images = torch.rand(50, 3, 2, 2) * 4 + 1
    calibrate_batchnorm(bn, images, batch_size=50)
    flat = images.flatten(1)
    assert torch.allclose(bn[1].running_mean, flat.mean(0), atol=1e-5)
    assert torch.allclose(bn[1].running_var, flat.var(0), atol=1e-4)  # unbiased, as torch
    assert bn[1].momentum == 0.1 and not bn.training


def test_chance_term_is_log_of_the_candidates_and_bad_input_is_refused():
    assert contrastive.chance_term("notes", 6) == pytest.approx(math.log(6))
    assert contrastive.chance_term("nt_xent", 6) == pytest.approx(math.log(11))
    with pytest.raises(SettingError):
        contrastive.chance_term("other", 6)
    with pytest.raises(SettingError):
        contrastive.chance_term("notes", 1)

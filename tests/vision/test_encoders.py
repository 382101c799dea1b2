"""Tests of fmcore.vision.encoders: shapes, seeded initialisation, heads and dropping U."""

from __future__ import annotations

import pytest
import torch

from fmcore.errors import SettingError
from fmcore.vision.encoders import (
    ClassifierModel,
    ConvEncoder,
    EncoderConfig,
    ProjectionHead,
    SimCLRModel,
    drop_last_layer,
    init_parameters,
    make_classifier,
    make_encoder,
    make_simclr_model,
)

SMALL = EncoderConfig(image_size=16, width=4, representation_dim=8, projection_dim=6)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def states_equal(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_default_config_matches_the_brief():
    c = EncoderConfig()
    assert (c.image_size, c.width, c.representation_dim, c.projection_dim) == (32, 32, 64, 32)


def test_output_shapes():
    x = torch.rand(5, 3, 16, 16)
    model = make_simclr_model(SMALL, gen())
    assert isinstance(model, SimCLRModel)
    assert isinstance(model.encoder, ConvEncoder) and isinstance(model.head, ProjectionHead)
    assert model.encoder(x).shape == (5, 8)
    assert model.representation(x).shape == (5, 8)
    assert model(x).shape == (5, 6)
    classifier = make_classifier(SMALL, 10, gen())
    assert classifier(x).shape == (5, 10)


def test_default_encoder_on_32x32_is_small():
    model = make_simclr_model(EncoderConfig(), gen())
    model.eval()
    assert model.encoder(torch.rand(2, 3, 32, 32)).shape == (2, 64)
    assert model(torch.rand(2, 3, 32, 32)).shape == (2, 32)
    n = sum(p.numel() for p in model.parameters())
    assert n < 1_000_000  # a few MB at most as float32


def test_same_generator_same_weights_and_different_seeds_differ():
    assert states_equal(make_simclr_model(SMALL, gen(3)), make_simclr_model(SMALL, gen(3)))
    assert not states_equal(make_simclr_model(SMALL, gen(3)), make_simclr_model(SMALL, gen(4)))
    assert states_equal(make_encoder(SMALL, gen(1)), make_encoder(SMALL, gen(1)))


def test_initialisation_never_touches_the_global_generator():
    before = torch.random.get_rng_state()
    make_simclr_model(EncoderConfig(), gen())
    make_classifier(SMALL, 3, gen())
    init_parameters(make_encoder(SMALL, gen()), gen(5))
    assert torch.equal(before, torch.random.get_rng_state())


def test_initial_values_are_sensible():
    enc = make_encoder(EncoderConfig(), gen())
    for name, tensor in enc.state_dict().items():
        assert torch.isfinite(tensor.float()).all(), name
    bn = next(m for m in enc.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert torch.equal(bn.weight, torch.ones_like(bn.weight))
    assert torch.equal(bn.running_var, torch.ones_like(bn.running_var))
    conv = enc.features[0].weight  # He normal, fan out = 32 * 9
    assert conv.std().item() == pytest.approx((2 / (32 * 9)) ** 0.5, rel=0.2)


def test_generator_is_advanced_and_order_is_encoder_then_head():
    g = gen(7)
    model = make_simclr_model(SMALL, g)
    g2 = gen(7)
    encoder = make_encoder(SMALL, g2)
    assert states_equal(model.encoder, encoder)
    head = ProjectionHead(SMALL.representation_dim, SMALL.projection_dim, g2)
    assert states_equal(model.head, head)
    assert torch.equal(torch.rand(3, generator=g), torch.rand(3, generator=g2))


def test_eval_mode_makes_each_image_independent_of_the_batch():
    enc = make_encoder(SMALL, gen())
    enc.eval()
    x = torch.rand(6, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(enc(x)[:2], enc(x[:2]), rtol=1e-5, atol=1e-6)


def test_classifier_drop_last_layer_returns_the_trained_encoder():
    classifier = make_classifier(SMALL, 4, gen())
    assert isinstance(classifier, ClassifierModel)
    assert classifier.U.weight.shape == (4, 8)
    encoder = drop_last_layer(classifier)
    assert encoder is classifier.encoder
    x = torch.rand(3, 3, 16, 16)
    classifier.eval()
    with torch.no_grad():
        torch.testing.assert_close(classifier(x), classifier.U(encoder(x)))
    with pytest.raises(SettingError):
        drop_last_layer(make_encoder(SMALL, gen()))  # type: ignore[arg-type]


def test_polarity_invariance_is_exact_and_can_be_switched_off():
    """phi(1 - x) = phi(x): the normalised negative is -u, and |conv(-u)| = |conv(u)|."""
    x = torch.rand(4, 3, 16, 16, generator=gen(1))
    enc = make_encoder(SMALL, gen())
    enc.eval()
    with torch.no_grad():
        assert torch.equal(enc(1 - x), enc(x))
    plain = make_encoder(EncoderConfig(**{**SMALL.to_dict(), "polarity_invariant": False}), gen())
    plain.eval()
    with torch.no_grad():
        assert not torch.allclose(plain(1 - x), plain(x))
    with pytest.raises(SettingError):
        EncoderConfig(polarity_invariant="yes")  # type: ignore[arg-type]


def test_gradients_flow_to_every_parameter():
    model = make_simclr_model(SMALL, gen())
    model(torch.rand(4, 3, 16, 16)).pow(2).sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


def test_config_dict_round_trip():
    assert EncoderConfig.from_dict(SMALL.to_dict()) == SMALL
    with pytest.raises(SettingError):
        EncoderConfig.from_dict({**SMALL.to_dict(), "depth": 3})
    with pytest.raises(SettingError):
        EncoderConfig.from_dict({"width": 4})
    with pytest.raises(SettingError):
        EncoderConfig.from_dict([1, 2])


@pytest.mark.parametrize(
    "changes",
    [
        {"image_size": 8},
        {"image_size": 1000},
        {"width": 0},
        {"width": 10_000},
        {"representation_dim": 1},
        {"projection_dim": 2.5},
        {"width": float("nan")},
        {"width": True},
    ],
)
def test_bad_configs_are_refused(changes):
    with pytest.raises(SettingError):
        EncoderConfig(**changes)


def test_bad_inputs_are_refused_with_a_message():
    enc = make_encoder(SMALL, gen())
    with pytest.raises(SettingError, match="16, 16"):
        enc(torch.rand(2, 3, 32, 32))
    with pytest.raises(SettingError, match="float"):
        enc(torch.zeros(2, 3, 16, 16, dtype=torch.uint8))
    with pytest.raises(SettingError):
        enc(torch.rand(3, 16, 16))
    with pytest.raises(SettingError, match="Generator"):
        make_encoder(SMALL, 0)  # type: ignore[arg-type]
    with pytest.raises(SettingError):
        make_classifier(SMALL, 1, gen())

"""Tests of fmcore.vision.pretrain: the SimCLR loop as a generator of events, and the evaluations.

Tiny configs only (16x16 images, width-4 encoder, batch 16): each run takes well under a
second. The probes' known answers are in tests/adaptation/test_probe.py.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F

import fmcore.vision.pretrain as pretrain_module
from fmcore.errors import SettingError
from fmcore.vision.augment import AugmentConfig
from fmcore.vision.encoders import (
    ClassifierModel,
    EncoderConfig,
    drop_last_layer,
    make_simclr_model,
)
from fmcore.vision.losses import nt_xent_loss
from fmcore.vision.pretrain import (
    DoneEvent,
    EvalEvent,
    SimCLRConfig,
    StartEvent,
    StepEvent,
    SupervisedConfig,
    contrastive_loss,
    evaluation_data,
    pretrain_simclr,
    pretrain_supervised,
    pretraining_data,
)

TINY = SimCLRConfig.tiny()


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def run(config: SimCLRConfig = TINY, seed: int = 0, model=None) -> list:
    return list(pretrain_simclr(config, gen(seed), model))


def losses(events: list) -> list[float]:
    return [e.loss for e in events if isinstance(e, StepEvent)]


def weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


# --------------------------------------------------------------------------- config
def test_presets_are_valid_and_tiny_is_tiny():
    for preset in (SimCLRConfig.tiny(), SimCLRConfig.classroom(), SimCLRConfig.asset()):
        assert preset.encoder.image_size == preset.image_size
        assert preset.steps_per_epoch >= 1
    assert TINY.n_images <= 100 and TINY.steps <= 50 and TINY.encoder.width <= 8
    assert SimCLRConfig.tiny(steps=3).steps == 3
    assert SimCLRConfig().loss == "nt_xent" and SimCLRConfig().temperature == 0.2


def test_image_size_overrides_the_encoder_size():
    config = SimCLRConfig(image_size=24)
    assert config.encoder.image_size == 24


@pytest.mark.parametrize(
    "changes",
    [
        {"steps": 0},
        {"steps": 10**9},
        {"steps": float("nan")},
        {"batch_size": 1},
        {"batch_size": 100_000},
        {"batch_size": 128},  # more than the 64 images of the tiny pool
        {"n_images": 10**8},
        {"learning_rate": 0.0},
        {"learning_rate": float("inf")},
        {"weight_decay": -1.0},
        {"optimizer": "lars"},
        {"loss": "infonce"},
        {"lr_schedule": "step"},
        {"temperature": 0.0},
        {"eval_every": -1},
        {"probe_steps": 10**7},
        {"eval_images": 10**7},
        {"knn_k": 1000},
        {"data_seed": 1000, "eval_seed": 1000},
        {"data_seed": 1001, "eval_seed": 1000},
        {"seed": -1},
        {"shapes_preset": "fancy"},
        {"augment": 1.0},
        {"augment": AugmentConfig(output_size=64)},
        {"encoder": {"width": 4}},
    ],
)
def test_bad_configs_raise_setting_error(changes):
    with pytest.raises(SettingError):
        dataclasses.replace(TINY, **changes)


def test_bad_arguments_raise_setting_error():
    with pytest.raises(SettingError):
        next(pretrain_simclr("tiny"))  # type: ignore[arg-type]
    with pytest.raises(SettingError):
        next(pretrain_simclr(TINY, 0))  # type: ignore[arg-type]
    wrong = make_simclr_model(EncoderConfig(image_size=16, width=8), gen())
    with pytest.raises(SettingError, match="built for"):
        next(pretrain_simclr(TINY, gen(), wrong))


# --------------------------------------------------------------------------- the loop
def test_events_in_order_with_the_right_types():
    events = run()
    assert isinstance(events[0], StartEvent)
    assert isinstance(events[-1], DoneEvent)
    start, done = events[0], events[-1]
    assert start.total_steps == TINY.steps and start.n_images == TINY.n_images
    assert start.steps_per_epoch == TINY.n_images // TINY.batch_size == 4
    assert done.model is start.model
    steps = [e for e in events if isinstance(e, StepEvent)]
    assert [e.step for e in steps] == list(range(1, TINY.steps + 1))
    assert [e.epoch for e in steps[:9]] == [1, 1, 1, 1, 2, 2, 2, 2, 3]
    assert all(e.total_steps == TINY.steps for e in steps)
    assert all(math.isfinite(e.loss) and e.images_per_s > 0 for e in steps)
    evals = [e for e in events if isinstance(e, EvalEvent)]
    assert [e.step for e in evals] == [0, 10, 20]
    # each EvalEvent comes right after the StepEvent of its step
    for i, e in enumerate(events):
        if isinstance(e, EvalEvent) and e.step > 0:
            assert isinstance(events[i - 1], StepEvent) and events[i - 1].step == e.step
    for e in evals:
        assert 0.0 <= e.probe_accuracy <= 1.0 and 0.0 <= e.knn_accuracy <= 1.0
        assert e.pca.shape == (TINY.pca_points, 2) and e.pca.dtype == torch.float32
        assert e.labels.shape == e.indices.shape == (TINY.pca_points,)
        _, test = evaluation_data(TINY)
        assert torch.equal(e.labels, test.labels[e.indices])
    assert done.probe_accuracy == evals[-1].probe_accuracy
    assert done.step == TINY.steps and math.isfinite(done.loss) and done.seconds > 0
    assert not done.model.training


def test_learning_rate_warm_up_and_cosine_decay():
    config = SimCLRConfig.tiny(steps=20, warmup_steps=4, eval_every=0, learning_rate=0.01)
    rates = [e.learning_rate for e in run(config) if isinstance(e, StepEvent)]
    assert rates[:4] == pytest.approx([0.002, 0.004, 0.006, 0.008])
    assert rates[4] == pytest.approx(0.01)
    assert all(a >= b for a, b in zip(rates[4:], rates[5:], strict=False))
    assert rates[-1] < 0.001
    constant = dataclasses.replace(config, lr_schedule="constant")
    assert [e.learning_rate for e in run(constant) if isinstance(e, StepEvent)][4:] == [0.01] * 16


def test_same_seed_same_losses_and_weights_different_seed_differs():
    config = SimCLRConfig.tiny(eval_every=0)
    a, b, c = run(config, 5), run(config, 5), run(config, 6)
    assert losses(a) == losses(b)
    assert losses(a) != losses(c)
    wa, wb = weights(a[0].model), weights(b[0].model)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_no_generator_means_config_seed():
    config = SimCLRConfig.tiny(eval_every=0, steps=3, seed=9)
    assert losses(list(pretrain_simclr(config))) == losses(run(config, 9))


def test_evaluating_does_not_change_the_training_trajectory():
    assert losses(run(SimCLRConfig.tiny(eval_every=0))) == losses(run(SimCLRConfig.tiny()))


def test_pretraining_never_reads_labels(monkeypatch):
    """Shuffled (or absurd) pool labels give identical losses: the loss is self-supervised."""
    config = SimCLRConfig.tiny(eval_every=0)
    reference = losses(run(config))
    real = pretraining_data(config)
    shuffled = dataclasses.replace(
        real, labels=real.labels[torch.randperm(len(real), generator=gen())]
    )
    monkeypatch.setattr(pretrain_module, "pretraining_data", lambda c: shuffled)
    assert losses(run(config)) == reference
    absurd = dataclasses.replace(real, labels=torch.full_like(real.labels, 7))
    monkeypatch.setattr(pretrain_module, "pretraining_data", lambda c: absurd)
    assert losses(run(config)) == reference


def test_stopping_early_keeps_what_was_learned():
    config = SimCLRConfig.tiny(eval_every=0)
    loop = pretrain_simclr(config, gen())
    start = next(loop)
    model = start.model
    before = weights(model)
    for event in loop:
        if isinstance(event, StepEvent) and event.step == 3:
            assert model.training
            break
    loop.close()
    after = weights(model)
    assert any(not torch.equal(before[k], after[k]) for k in before)
    assert not model.training  # left in eval mode when the caller stops


def test_continuing_training_from_a_given_model():
    config = SimCLRConfig.tiny(eval_every=0, steps=5)
    model = make_simclr_model(config.encoder, gen(1))
    start_weights = weights(model)
    events = run(config, 2, model)
    assert events[0].model is model and events[-1].model is model
    assert any(not torch.equal(start_weights[k], v) for k, v in model.state_dict().items())


def test_frozen_models_are_never_trained():
    """A loaded checkpoint is frozen and may be shared: the loop refuses to mutate it."""
    config = SimCLRConfig.tiny(eval_every=0, steps=2)
    model = make_simclr_model(config.encoder, gen()).requires_grad_(False)
    before = weights(model)
    with pytest.raises(SettingError, match="frozen"):
        run(config, 0, model)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_divergence_gives_a_message_not_a_traceback():
    config = SimCLRConfig.tiny(eval_every=0, steps=2)
    model = make_simclr_model(config.encoder, gen())
    with torch.no_grad():
        model.encoder.fc.weight.fill_(float("inf"))
    with pytest.raises(SettingError, match="diverged at step 1"):
        run(config, 0, model)


def test_global_random_state_is_untouched():
    before = torch.random.get_rng_state()
    run(SimCLRConfig.tiny(steps=3))
    assert torch.equal(before, torch.random.get_rng_state())


@pytest.mark.parametrize("loss", ["nt_xent", "notes"])
def test_loss_decreases_on_a_tiny_problem(loss):
    config = SimCLRConfig.tiny(
        steps=40, eval_every=0, loss=loss, learning_rate=3e-3, augment=AugmentConfig.weak()
    )
    values = losses(run(config))
    assert all(math.isfinite(v) for v in values)
    assert sum(values[-8:]) / 8 < sum(values[:8]) / 8 - 0.1


# --------------------------------------------------------------------------- loss choice
def test_notes_loss_is_the_notes_formula_on_rescaled_embeddings():
    g = gen(3)
    z_hat, z_tilde = torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g)
    tau = 0.3
    got = contrastive_loss(z_hat, z_tilde, "notes", tau)
    # loop reference: the notes' sum over i of -log(exp(s_ii) / sum_j exp(s_ij)), divided by B,
    # with s_ij = cos(z_hat_i, z_tilde_j) / tau
    total = 0.0
    for i in range(6):
        s = [F.cosine_similarity(z_hat[i], z_tilde[j], dim=0).item() / tau for j in range(6)]
        total += -math.log(math.exp(s[i]) / sum(math.exp(v) for v in s))
    assert got.item() == pytest.approx(total / 6, rel=1e-5)
    torch.testing.assert_close(
        contrastive_loss(z_hat, z_tilde, "nt_xent", tau), nt_xent_loss(z_hat, z_tilde, tau)
    )
    with pytest.raises(SettingError):
        contrastive_loss(z_hat, z_tilde, "triplet", tau)


def test_evaluation_sets_are_held_out_and_balanced():
    labelled, test = evaluation_data(TINY)
    assert len(labelled) == 10 * TINY.probe_per_class and len(test) == TINY.eval_images
    assert torch.equal(torch.bincount(labelled.labels), torch.full((10,), TINY.probe_per_class))
    pool = pretraining_data(TINY).images.flatten(1)
    for other in (labelled.images.flatten(1), test.images.flatten(1)):
        assert not (pool[:, None, :] == other[None, :, :]).all(-1).any()


# --------------------------------------------------------------------------- supervised
def test_supervised_pretraining_trains_u_phi_then_drops_u():
    config = SupervisedConfig.tiny(classes=(1, 3, 4), eval_every=0, steps=4)
    events = list(pretrain_supervised(config, gen(0)))
    start, done = events[0], events[-1]
    assert isinstance(start, StartEvent) and isinstance(done, DoneEvent)
    model = done.model
    assert isinstance(model, ClassifierModel) and model.U.out_features == 3
    assert all(math.isfinite(loss) for loss in losses(events))
    phi = drop_last_layer(model)
    assert phi is model.encoder and not hasattr(phi, "U")
    x = torch.rand(2, 3, 16, 16)
    assert phi(x).shape == (2, config.encoder.representation_dim)
    # the pool is the images of the chosen classes only
    pool = pretraining_data(config)
    assert start.n_images == int(torch.isin(pool.labels, torch.tensor([1, 3, 4])).sum())


def test_supervised_pretraining_is_deterministic():
    config = SupervisedConfig.tiny(eval_every=0, steps=3)
    a = losses(list(pretrain_supervised(config, gen(0))))
    assert a == losses(list(pretrain_supervised(config, gen(0))))
    assert a != losses(list(pretrain_supervised(config, gen(1))))


def test_supervised_config_checks_classes():
    for bad in ((), (3,), (1, 1), (0, 10), "01"):
        with pytest.raises(SettingError, match="class"):
            SupervisedConfig(classes=bad)  # type: ignore[arg-type]
    assert SupervisedConfig(classes=(4, 2)).classes == (2, 4)
    with pytest.raises(SettingError, match="fewer than the batch size"):
        next(pretrain_supervised(SupervisedConfig.tiny(classes=(0, 1), batch_size=60), gen()))


def test_precision_setting():
    with pytest.raises(SettingError, match="precision must be one of"):
        SimCLRConfig(precision="float16")
    assert not pretrain_module.uses_bfloat16(SimCLRConfig(precision="float32"))
    assert pretrain_module.uses_bfloat16(SimCLRConfig(precision="bfloat16"))
    assert SimCLRConfig.asset().precision == "float32"  # the shipped asset stays reproducible
    config = SimCLRConfig.tiny(eval_every=0, steps=3, precision="bfloat16")
    a, b = losses(run(config)), losses(run(config))
    assert a == b and all(math.isfinite(v) for v in a)
    assert a != losses(run(dataclasses.replace(config, precision="float32")))

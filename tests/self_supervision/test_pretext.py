"""Tests of the pretext tasks (fmcore.self_supervision): pseudolabel generators, the h/k/g
models, the loop and transfer.

Every generator is checked by undoing what it did (rotating back, putting the tiles back,
reading the hidden characters); losses against loops written from the formulas; the loop
with tiny configs (well under a second per step). Two slow tests check that the classroom
presets learn their pretext task.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from fmcore.data.shapes import make_shapes, to_float
from fmcore.errors import SettingError
from fmcore.self_supervision.gallery import describe, example_pictures, examples
from fmcore.self_supervision.loop import (
    DoneEvent,
    EvalEvent,
    PretextConfig,
    StartEvent,
    StepEvent,
    downstream_data,
    make_feature_extractor,
    make_pretext_model,
    pretext_accuracy,
    pretext_data,
    pretext_loss,
    pretrain_pretext,
    transfer,
)
from fmcore.self_supervision.models import CharEncoder, DownstreamModel, PretextModel, SignalEncoder
from fmcore.self_supervision.pseudolabels import (
    JIGSAW_PERMUTATIONS,
    PRETEXT_TASKS,
    PretextBatch,
    jigsaw_pseudolabels,
    make_pretext_batch,
    masked_char_pseudolabels,
    masked_feature_pseudolabels,
    next_char_pseudolabels,
    rotation_pseudolabels,
)
from fmcore.self_supervision.sentences import MASK, PAD, VOCAB_SIZE, encode, make_sentences
from fmcore.self_supervision.signals import make_signals

ALL_TASKS = [(domain, task) for domain, tasks in PRETEXT_TASKS.items() for task in tasks]


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def images(n: int = 16, size: int = 16) -> torch.Tensor:
    return make_shapes(n, 3, image_size=size).images  # (n, 3, size, size) uint8


def sentence_ids(n: int = 32) -> torch.Tensor:
    return encode(make_sentences(n, 2).texts)  # (n, 48) int64


def series(n: int = 16, length: int = 64) -> torch.Tensor:
    return make_signals(n, 4, length).series  # (n, L)


def raw_batch(domain: str) -> torch.Tensor:
    return {"images": images, "text": sentence_ids, "timeseries": series}[domain]()


def weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


# --------------------------------------------------------------------------- rotation
def test_rotation_rotates_back_exactly():
    x = images(32)
    batch = rotation_pseudolabels(x, gen(0))
    assert batch.kind == "classification" and batch.num_outputs == 4 and batch.mask is None
    assert batch.inputs.shape == (32, 3, 16, 16) and batch.inputs.dtype == torch.float32
    assert batch.targets.dtype == torch.int64 and set(batch.targets.tolist()) == {0, 1, 2, 3}
    for i, k in enumerate(batch.targets.tolist()):
        back = torch.rot90(batch.inputs[i], -k, dims=(1, 2))
        assert torch.equal(back, to_float(x[i]))


def test_rotation_by_one_quarter_is_counter_clockwise_as_displayed():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).expand(1, 3, 2, 2) / 4
    for seed in range(20):  # find a draw with k = 1
        batch = rotation_pseudolabels(x, gen(seed))
        if int(batch.targets[0]) == 1:
            break
    assert torch.equal(batch.inputs[0, 0] * 4, torch.tensor([[2.0, 4.0], [1.0, 3.0]]))
    assert describe(batch, 0) == "z = 1: turned 90° ↺"  # short: it sits under a thumbnail


def test_rotation_leaves_its_input_alone():
    x = to_float(images(8))
    before = x.clone()
    rotation_pseudolabels(x, gen(1))
    assert torch.equal(x, before)


# --------------------------------------------------------------------------- jigsaw
def test_jigsaw_permutation_table():
    assert len(JIGSAW_PERMUTATIONS) == 24 == len(set(JIGSAW_PERMUTATIONS))
    assert JIGSAW_PERMUTATIONS[0] == (0, 1, 2, 3)
    assert JIGSAW_PERMUTATIONS[7] == (1, 0, 3, 2)
    assert list(JIGSAW_PERMUTATIONS) == sorted(JIGSAW_PERMUTATIONS)  # itertools order


def test_jigsaw_inverse_permutation_restores_the_image():
    x = images(48)
    batch = jigsaw_pseudolabels(x, gen(0))
    assert batch.num_outputs == 24 and batch.inputs.shape == (48, 3, 16, 16)
    assert len(set(batch.targets.tolist())) > 12
    h = 8
    for i, z in enumerate(batch.targets.tolist()):
        p = JIGSAW_PERMUTATIONS[z]
        restored = torch.empty(3, 16, 16)
        for position, tile in enumerate(p):  # position `position` shows tile `tile` of x
            r, c = divmod(position, 2)
            tr, tc = divmod(tile, 2)
            restored[:, tr * h : (tr + 1) * h, tc * h : (tc + 1) * h] = batch.inputs[
                i, :, r * h : (r + 1) * h, c * h : (c + 1) * h
            ]
        assert torch.equal(restored, to_float(x[i]))


def test_jigsaw_on_numbered_tiles():
    # Tile t of this image is filled with the value t / 4: the shuffled image reads out p.
    x = torch.tensor([[0.0, 1.0], [2.0, 3.0]]).repeat_interleave(2, 0).repeat_interleave(2, 1)
    x = (x / 4).expand(5, 3, 4, 4)
    batch = jigsaw_pseudolabels(x, gen(3))
    for i, z in enumerate(batch.targets.tolist()):
        shown = (batch.inputs[i, 0, ::2, ::2] * 4).flatten().long().tolist()  # (4,)
        assert tuple(shown) == JIGSAW_PERMUTATIONS[z]
        tiles = "-".join(str(t + 1) for t in JIGSAW_PERMUTATIONS[z])
        assert describe(batch, i) == f"z = {z}: tiles {tiles}"


# --------------------------------------------------------------------------- text
def test_masked_char_hides_15_percent_of_each_sentence():
    ids = sentence_ids(64)
    batch = masked_char_pseudolabels(ids, gen(0))
    assert batch.num_outputs == VOCAB_SIZE and batch.kind == "classification"
    assert torch.equal(batch.targets, ids)
    assert (batch.inputs[batch.mask] == MASK).all()
    assert torch.equal(batch.inputs[~batch.mask], ids[~batch.mask])  # the rest unchanged
    assert not (batch.mask & (ids == PAD)).any()  # PAD is never hidden
    for row, mask in zip(ids, batch.mask, strict=True):
        length = int((row != PAD).sum())
        assert int(mask.sum()) == max(1, round(0.15 * length))


def test_masked_char_masks_at_least_one_character():
    ids = encode(["a", "ab", "abc"], 8)
    batch = masked_char_pseudolabels(ids, gen(0))
    assert batch.mask.sum(1).tolist() == [1, 1, 1]
    assert batch.inputs[0, 0] == MASK


def test_masked_char_positions_are_spread_out():
    ids = encode(["abcdefghij"] * 400, 10)
    counts = masked_char_pseudolabels(ids, gen(0)).mask.sum(0).float()  # (10,)
    assert counts.sum() == 400 * 2  # round(1.5) = 2 per sentence
    assert counts.min() > 50  # each position picked about 80 times


def test_next_char_targets_are_inputs_shifted():
    ids = sentence_ids(16)
    g = gen(5)
    state = g.get_state()
    batch = next_char_pseudolabels(ids, g)
    assert torch.equal(g.get_state(), state)  # draws nothing
    assert torch.equal(batch.inputs, ids[:, :-1]) and torch.equal(batch.targets, ids[:, 1:])
    assert torch.equal(batch.targets[:, :-1], batch.inputs[:, 1:])
    assert torch.equal(batch.mask, ids[:, 1:] != PAD)
    assert describe(batch, 0).startswith('"')


# --------------------------------------------------------------------------- time series
def test_masked_feature_hides_one_contiguous_quarter():
    x = series(200, 64)
    batch = masked_feature_pseudolabels(x, gen(0))
    assert batch.kind == "regression" and batch.num_outputs == 1
    assert batch.inputs.shape == (200, 2, 64) and torch.equal(batch.targets, x)
    assert torch.equal(batch.inputs[:, 1], batch.mask.float())  # the indicator channel
    assert (batch.inputs[:, 0][batch.mask] == 0).all()
    assert torch.equal(batch.inputs[:, 0][~batch.mask], x[~batch.mask])
    starts = []
    for mask in batch.mask:
        steps = torch.nonzero(mask).flatten()
        assert steps.numel() == 16
        assert torch.equal(steps, torch.arange(int(steps[0]), int(steps[0]) + 16))
        starts.append(int(steps[0]))
    assert min(starts) == 0 and max(starts) == 48  # every start 0..48 is possible
    assert describe(batch, 0) == f"steps {starts[0]}-{starts[0] + 15} hidden (16 of 64)"


# --------------------------------------------------------------------------- all tasks
@pytest.mark.parametrize(("domain", "task"), ALL_TASKS)
def test_same_generator_seed_same_batch(domain, task):
    x = raw_batch(domain)
    a = make_pretext_batch(task, x, gen(7))
    b = make_pretext_batch(task, x, gen(7))
    assert torch.equal(a.inputs, b.inputs) and torch.equal(a.targets, b.targets)
    assert (a.mask is None and b.mask is None) or torch.equal(a.mask, b.mask)
    assert a.task == task and len(a) == len(x)


@pytest.mark.parametrize(
    ("task", "x"),
    [
        ("rotation", torch.zeros(2, 3, 16, 16, dtype=torch.int64)),  # wrong dtype
        ("rotation", torch.zeros(2, 3, 16, 8)),  # not square
        ("rotation", torch.zeros(3, 16, 16)),  # no batch dimension
        ("rotation", torch.zeros(2, 1, 16, 16)),  # not RGB
        ("jigsaw", torch.zeros(2, 3, 15, 15)),  # odd side
        ("masked_char", torch.zeros(2, 10)),  # float ids
        ("masked_char", torch.full((2, 10), VOCAB_SIZE)),  # ids out of range
        ("masked_char", torch.zeros(2, 10, dtype=torch.int64)),  # only PAD
        ("next_char", torch.zeros(2, 1, dtype=torch.int64)),  # nothing to predict
        ("masked_feature", torch.zeros(2, 64, dtype=torch.int64)),  # not float
        ("masked_feature", torch.full((2, 64), float("nan"))),
        ("masked_feature", torch.zeros(2, 2, 64)),  # already two channels
        ("no_such_task", torch.zeros(2, 64)),
    ],
)
def test_bad_inputs_raise_setting_error(task, x):
    with pytest.raises(SettingError):
        make_pretext_batch(task, x, gen())


def test_a_seed_is_not_a_generator():
    with pytest.raises(SettingError, match="Generator"):
        rotation_pseudolabels(images(2), 0)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- losses
def test_pretext_loss_matches_loops_written_from_the_formulas():
    g = gen(0)
    # classification, all examples scored
    logits = torch.randn(6, 4, generator=g)
    z = torch.tensor([0, 1, 2, 3, 1, 0])
    batch = PretextBatch("rotation", torch.zeros(6), z, None, "classification", 4)
    expected = sum(-math.log(F.softmax(logits[i], 0)[z[i]]) for i in range(6)) / 6
    assert float(pretext_loss(logits, batch)) == pytest.approx(expected, rel=1e-5)
    assert pretext_accuracy(logits, batch) == pytest.approx(
        sum(int(logits[i].argmax() == z[i]) for i in range(6)) / 6
    )
    # classification per position, only masked positions scored
    logits = torch.randn(2, 5, 7, generator=g)
    z = torch.randint(0, 7, (2, 5), generator=g)
    mask = torch.tensor([[1, 0, 0, 1, 0], [0, 0, 1, 0, 0]], dtype=torch.bool)
    batch = PretextBatch("masked_char", z, z, mask, "classification", 7)
    terms = [
        -math.log(F.softmax(logits[b, t], 0)[z[b, t]])
        for b in range(2)
        for t in range(5)
        if mask[b, t]
    ]
    assert float(pretext_loss(logits, batch)) == pytest.approx(sum(terms) / 3, rel=1e-5)
    # regression on masked positions
    predicted = torch.randn(2, 5, generator=g)
    target = torch.randn(2, 5, generator=g)
    batch = PretextBatch("masked_feature", target, target, mask, "regression", 1)
    terms = [
        (predicted[b, t] - target[b, t]) ** 2 for b in range(2) for t in range(5) if mask[b, t]
    ]
    assert float(pretext_loss(predicted, batch)) == pytest.approx(float(sum(terms) / 3), rel=1e-5)
    assert pretext_accuracy(predicted, batch) is None


# --------------------------------------------------------------------------- models
@pytest.mark.parametrize(("domain", "task"), ALL_TASKS)
def test_pretext_model_outputs_and_seeded_weights(domain, task):
    config = PretextConfig.tiny(domain, task)
    model = make_pretext_model(config, gen(3))
    assert isinstance(model, PretextModel)
    assert all(torch.equal(a, b) for a, b in zip(
        weights(model).values(), weights(make_pretext_model(config, gen(3))).values(), strict=True
    ))  # fmt: skip
    batch = make_pretext_batch(task, pretext_data(config)[:5], gen(0))
    out = model(batch.inputs)
    expected = {
        "rotation": (5, 4),
        "jigsaw": (5, 24),
        "masked_char": (5, 48, VOCAB_SIZE),
        "next_char": (5, 47, VOCAB_SIZE),
        "masked_feature": (5, 32),
    }[task]
    assert out.shape == expected
    assert torch.isfinite(pretext_loss(out, batch))


def test_char_encoder_pooling_ignores_padding():
    h = CharEncoder(16, causal=False, generator=gen(0))
    texts = ["the cat", "we ran"]
    short, long = encode(texts, 20), encode(texts, 32)
    assert h(short).shape == (2, 20, 16)
    assert torch.allclose(h.pooled(short), h.pooled(long), atol=1e-6)


def test_causal_char_encoder_does_not_read_ahead():
    ids = encode(["the rain fell on the town"], 30)
    changed = ids.clone()
    changed[0, 12:] = encode("x" * 18, 18)[0]
    for causal in (True, False):
        h = CharEncoder(8, causal=causal, generator=gen(0))
        same = torch.equal(h(ids)[0, :12], h(changed)[0, :12])
        assert same == causal


def test_signal_encoder_reads_plain_series_as_nothing_hidden():
    h = SignalEncoder(8, gen(0))
    x = series(3, 32)
    with_indicator = torch.stack([x, torch.zeros_like(x)], 1)
    assert h(x).shape == (3, 32, 8)
    assert torch.equal(h(x), h(with_indicator))
    assert h.pooled(x).shape == (3, 8)


@pytest.mark.parametrize("domain", list(PRETEXT_TASKS))
def test_transfer_keeps_h_drops_k_and_adds_a_new_head(domain):
    config = PretextConfig.tiny(domain)
    model = make_pretext_model(config, gen(0))
    down = transfer(model.h, config.num_classes, gen(1))
    assert isinstance(down, DownstreamModel)
    assert down.h is model.h  # shared, not copied
    assert not hasattr(down, "k")
    k_params = {id(p) for p in model.k.parameters()}
    assert not k_params & {id(p) for p in down.parameters()}
    assert down.g.out_features == config.num_classes
    assert down.g.in_features == model.h.representation_dim
    train_x, train_y, _, _ = downstream_data(config)
    assert down(train_x[:4]).shape == (4, config.num_classes)
    # A PretextModel is accepted too: its k_gamma is dropped all the same.
    assert transfer(model, 3, gen(1)).h is model.h
    # Training the downstream model changes h_theta itself (it is the same module).
    with torch.no_grad():
        next(down.h.parameters()).add_(1.0)
    assert torch.equal(next(down.h.parameters()), next(model.h.parameters()))


def test_transfer_bad_arguments():
    h = make_feature_extractor(PretextConfig.tiny("text"), gen(0))
    with pytest.raises(SettingError):
        transfer(h, 0, gen(0))
    with pytest.raises(SettingError):
        transfer(torch.nn.Linear(2, 2), 3, gen(0))


# --------------------------------------------------------------------------- config
def test_presets_are_valid_and_tiny_is_tiny():
    for domain, task in ALL_TASKS:
        tiny = PretextConfig.tiny(domain, task)
        assert tiny.n_unlabelled <= 100 and tiny.steps <= 10 and tiny.width <= 8
        classroom = PretextConfig.classroom(domain, task)
        assert classroom.task == task and classroom.steps >= 300
    assert PretextConfig.tiny("text").task == "masked_char"
    assert PretextConfig.tiny("images", "jigsaw", steps=2).steps == 2


def test_defaults_depend_on_domain_and_task():
    assert PretextConfig(domain="images", task="rotation").shapes_preset == "upright"
    assert PretextConfig(domain="images", task="jigsaw").shapes_preset == "standard"
    assert PretextConfig(domain="text", task="next_char").width == 64
    assert PretextConfig(domain="timeseries", task="masked_feature").width == 32
    assert PretextConfig().width == 16


@pytest.mark.parametrize(
    "changes",
    [
        {"domain": "audio"},
        {"domain": ["images"]},
        {"task": "masked_char"},  # a text task for images
        {"task": "colourisation"},
        {"n_unlabelled": 10**7},
        {"n_unlabelled": 2},
        {"batch_size": 500},  # more than the 64 unlabelled examples
        {"steps": 0},
        {"steps": float("nan")},
        {"learning_rate": float("inf")},
        {"shapes_preset": "blurry"},
        {"image_size": 17},
        {"data_seed": 1000},  # the labelled downstream set
        {"width": 10_000},
        {"eval_examples": 10**6},
        {"n_labelled_per_class": 0},
    ],
)
def test_bad_settings_raise_setting_error(changes):
    with pytest.raises(SettingError):
        PretextConfig.tiny(**changes)


def test_loop_rejects_what_is_not_a_config_or_generator():
    with pytest.raises(SettingError):
        next(pretrain_pretext({"domain": "images"}))  # type: ignore[arg-type]
    with pytest.raises(SettingError):
        next(pretrain_pretext(PretextConfig.tiny(), 0))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the loop
@pytest.mark.parametrize(("domain", "task"), ALL_TASKS)
def test_loop_events_in_order(domain, task):
    config = PretextConfig.tiny(domain, task)  # 6 steps, evaluations at 0, 3 and 6
    events = list(pretrain_pretext(config, gen(0)))
    kinds = [type(e).__name__[0] if not isinstance(e, StartEvent) else "B" for e in events]
    assert "".join(kinds) == "BE" + "SSSE" * 2 + "D"
    start, done = events[0], events[-1]
    assert isinstance(done, DoneEvent) and done.model is start.model
    assert not done.model.training
    steps = [e for e in events if isinstance(e, StepEvent)]
    assert [e.step for e in steps] == list(range(1, 7))
    assert all(math.isfinite(e.loss) and e.learning_rate > 0 for e in steps)
    evals = [e for e in events if isinstance(e, EvalEvent)]
    assert [e.step for e in evals] == [0, 3, 6]
    assert all(e.random_accuracy == evals[0].transfer_accuracy for e in evals)
    for e in evals:
        assert 0 <= e.transfer_accuracy <= 1 and math.isfinite(e.pretext_loss)
    if task == "masked_feature":
        assert all(e.accuracy is None for e in steps) and evals[0].pretext_accuracy is None
    else:
        assert all(0 <= e.accuracy <= 1 for e in steps)
        assert 0 <= evals[-1].pretext_accuracy <= 1 and 0 < evals[-1].guess_baseline <= 1
    assert done.transfer_accuracy == evals[-1].transfer_accuracy


@pytest.mark.parametrize("domain", list(PRETEXT_TASKS))
def test_same_seed_same_losses(domain):
    config = PretextConfig.tiny(domain, eval_every=0)

    def losses(seed: int) -> list[float]:
        return [e.loss for e in pretrain_pretext(config, gen(seed)) if isinstance(e, StepEvent)]

    assert losses(0) == losses(0)
    assert losses(0) != losses(1)


def test_no_generator_uses_the_config_seed():
    config = PretextConfig.tiny("text", eval_every=0, steps=2, seed=5)

    def losses(run) -> list[float]:
        return [e.loss for e in run if isinstance(e, StepEvent)]

    assert losses(pretrain_pretext(config)) == losses(pretrain_pretext(config, gen(5)))


def test_stopping_early_keeps_the_trained_weights():
    config = PretextConfig.tiny("images", "rotation", eval_every=0, steps=6)
    run = pretrain_pretext(config, gen(0))
    model = next(run).model
    initial = weights(model)
    for event in run:
        if isinstance(event, StepEvent) and event.step == 2:
            break
    run.close()
    after_two = weights(model)
    assert any(not torch.equal(initial[k], after_two[k]) for k in initial)
    assert not model.training
    # The same weights as a full run of the same settings had after its second step.
    full = pretrain_pretext(config, gen(0))
    full_model = next(full).model
    for event in full:
        if isinstance(event, StepEvent) and event.step == 2:
            reference = weights(full_model)
    assert all(torch.equal(after_two[k], reference[k]) for k in reference)
    assert any(not torch.equal(weights(full_model)[k], reference[k]) for k in reference)


def test_evaluation_does_not_change_training():
    every = PretextConfig.tiny("timeseries", eval_every=1)
    never = PretextConfig.tiny("timeseries", eval_every=0)

    def losses(config) -> list[float]:
        return [e.loss for e in pretrain_pretext(config, gen(2)) if isinstance(e, StepEvent)]

    assert losses(every) == losses(never)


# --------------------------------------------------------------------------- gallery
@pytest.mark.parametrize(("domain", "task"), ALL_TASKS)
def test_examples_show_x_and_its_pseudolabels(domain, task):
    ex = examples(domain, task, 4, gen(0))
    assert len(ex.raw) == 4 and len(ex.batch) == 4 and len(ex.descriptions) == 4
    assert (ex.texts is not None) == (domain == "text")
    word = {
        "rotation": "z = ",
        "jigsaw": "tiles",
        "masked_char": "hidden",
        "next_char": "->",
        "masked_feature": "hidden",
    }[task]
    assert all(word in d for d in ex.descriptions)
    again = examples(domain, task, 4, gen(0))
    assert torch.equal(ex.raw, again.raw) and ex.descriptions == again.descriptions


def test_examples_of_rotation_are_upright_shapes():
    ex = examples("images", "rotation", 6, gen(1))
    for i, k in enumerate(ex.batch.targets.tolist()):
        assert torch.equal(torch.rot90(ex.batch.inputs[i], -k, dims=(1, 2)), to_float(ex.raw[i]))


def test_example_pictures_of_images_only():
    ex = examples("images", "jigsaw", 3, gen(2))
    originals, inputs = example_pictures(ex, zoom=2)
    assert len(originals) == len(inputs) == 3
    assert originals[0].size == (64, 64) and originals[0].mode == "RGB"
    for picture, image in ((originals[1], ex.raw[1]), (inputs[1], ex.batch.inputs[1])):
        pixels = torch.from_numpy(np.asarray(picture)[::2, ::2].copy()).permute(2, 0, 1)
        expected = image if image.dtype == torch.uint8 else (image * 255).round().byte()
        assert torch.equal(pixels, expected)  # nearest-pixel zoom of exactly x and x'
    with pytest.raises(SettingError):
        example_pictures(examples("text", "next_char", 2, gen(0)))


def test_masked_char_description_names_the_hidden_characters():
    ids = encode(["the rain fell"], 13)
    batch = masked_char_pseudolabels(ids, gen(0))  # round(0.15 * 13) = 2 hidden
    text = describe(batch, 0)
    shown, hidden = text.split(" -> hidden ")
    assert shown.count("_") == 2
    letters = [c.strip('"') for c in hidden.split(", ")]
    assert "".join(letters[::1]) == "".join(
        c for c, m in zip("the rain fell", batch.mask[0].tolist(), strict=True) if m
    )


@pytest.mark.parametrize(
    "args",
    [
        ("images", "rotation", 0),
        ("images", "rotation", 65),
        ("images", "masked_char", 4),
        ("video", "rotation", 4),
    ],
)
def test_examples_bad_arguments(args):
    with pytest.raises(SettingError):
        examples(*args, gen(0))


# --------------------------------------------------------------------------- slow
def final_eval(config: PretextConfig) -> EvalEvent:
    return [e for e in pretrain_pretext(config, gen(0)) if isinstance(e, EvalEvent)][-1]


@pytest.mark.slow
def test_classroom_rotation_learns_the_rotation_of_upright_shapes():
    last = final_eval(PretextConfig.classroom("images", "rotation"))
    assert last.pretext_accuracy > 0.5  # chance 0.25; about 0.72 at most on the Shapes
    assert last.transfer_accuracy > last.random_accuracy + 0.1


@pytest.mark.slow
def test_classroom_masked_char_beats_the_unigram_baseline():
    config = PretextConfig.classroom("text", "masked_char")
    ids = pretext_data(config)
    characters = ids[ids != PAD]
    unigram = float(torch.bincount(characters).max()) / characters.numel()  # the space
    last = final_eval(config)
    assert last.guess_baseline < unigram + 0.05
    assert last.pretext_accuracy > unigram + 0.3


def test_every_pretext_task_says_why_it_transfers_or_not():
    from fmcore.self_supervision.pseudolabels import PRETEXT_TASKS, TRANSFER_WHY

    tasks = {t for d in PRETEXT_TASKS.values() for t in d}
    assert set(TRANSFER_WHY) == tasks
    assert TRANSFER_WHY["rotation"][0] == "transfers"  # 0.42 against 0.13 for a random h
    for task in ("masked_char", "next_char"):  # level with a random h
        assert TRANSFER_WHY[task][0] == "does not transfer"
    assert "little" in TRANSFER_WHY["jigsaw"][0] and "little" in TRANSFER_WHY["masked_feature"][0]
    for _verdict, reason in TRANSFER_WHY.values():
        assert reason.endswith(".") and len(reason) > 100

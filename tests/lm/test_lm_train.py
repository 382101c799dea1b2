"""Tests of fmcore.lm.train: the training rows and loss against a loop reference of Eq. 14.8,
the events in order, learning a periodic text, one generator for everything, evaluation and
samples that do not change the trajectory, stopping early, limits and bad input."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from fmcore.errors import InvalidTextError, SettingError
from fmcore.lm.model import GPTConfig, make_gpt
from fmcore.lm.tokenizer import BEGIN, CharTokenizer
from fmcore.lm.train import (
    MAX_ACTIVATION_BYTES,
    DoneEvent,
    EvalEvent,
    LMConfig,
    SampleEvent,
    StartEvent,
    StepEvent,
    begin_share,
    draw_windows,
    evaluate_loss,
    train_lm,
    training_rows,
)

TOKENIZER = CharTokenizer("abcd ")
TEXT = "abcd " * 60  # period 5: after the first character every character is determined
VAL = "cd abcd abcd abcd abcd a"


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _run(config: LMConfig, seed: int = 0, **kwargs) -> list:
    return list(train_lm(config, TOKENIZER, TEXT, VAL, _gen(seed), **kwargs))


def _weights(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# ---------------------------------------------------------------------------------------------
# Rows and loss against a loop reference
# ---------------------------------------------------------------------------------------------


def test_training_rows_read_the_begin_token_only_where_a_document_opens():
    ids = torch.arange(10, 30, dtype=torch.int16)
    begins = torch.tensor([True, False, True])
    x, y = training_rows(ids, torch.tensor([0, 7, 14]), 6, begins)
    assert x.dtype == y.dtype == torch.long and x.shape == y.shape == (3, 6)
    assert y.tolist() == [list(range(10 + s, 16 + s)) for s in (0, 7, 14)]
    # an opening reads ⊥ (x_0 of the notes); a window cut anywhere the character before it
    assert x[:, 0].tolist() == [BEGIN, 10 + 6, BEGIN]
    assert torch.equal(x[:, 1:], y[:, :-1])  # input s + 1 is target s: u_{s+1} predicts x_{s+1}


def test_begin_share_reads_each_document_from_its_start_once_per_pass():
    assert begin_share(10, 6400, 64) == pytest.approx(0.1)  # 100 windows a pass, 10 openings
    assert begin_share(1000, 6400, 64) == 0.5  # short documents: at most half the rows
    assert begin_share(0, 6400, 64) == 0.0


def test_drawn_windows_open_documents_at_the_share_and_fit_the_text():
    doc_starts = torch.tensor([0, 30, 55, 95])  # the last one has too few characters left
    starts, begins = draw_windows(100, doc_starts, 10, 20_000, _gen())
    assert starts.shape == begins.shape == (20_000,) and begins.dtype == torch.bool
    share = begin_share(3, 100, 10)  # 95 + 10 > 100: three openings fit
    assert abs(begins.float().mean().item() - share) < 0.02
    assert set(starts[begins].tolist()) == {0, 30, 55}
    cut = starts[~begins]
    assert cut.min() == 1 and cut.max() == 90  # a character before, 10 targets after
    assert len(set(cut.tolist())) == 90  # uniform over every place
    again = draw_windows(100, doc_starts, 10, 20_000, _gen())
    assert torch.equal(again[0], starts) and torch.equal(again[1], begins)
    none = draw_windows(100, torch.zeros(0, dtype=torch.long), 10, 50, _gen())
    assert not none[1].any()


def reference_loss(model, ids: list[int], starts, begins, context: int) -> float:
    """Eq. 14.8 written out: for each window, (1/T) sum_t -log softmax(u_t)_{x_t} with
    u_t = f(x_0, x_1..x_{t-1}), one prefix at a time, where x_0 is ⊥ for a document's
    opening and the character before the window otherwise; then the mean over the windows."""
    losses = []
    for s, begin in zip(starts, begins, strict=True):
        window = ids[s : s + context]
        x0 = BEGIN if begin else ids[s - 1]
        terms = []
        for t in range(1, context + 1):
            prefix = torch.tensor([[x0, *window[: t - 1]]])
            u = model(prefix)[0, -1].double().tolist()  # u_t, the last position's logits
            log_total = math.log(sum(math.exp(v) for v in u))
            terms.append(log_total - u[window[t - 1]])
        losses.append(sum(terms) / context)
    return sum(losses) / len(losses)


@torch.no_grad()
def test_evaluate_loss_is_eq_14_8_averaged_over_windows():
    model = make_gpt(GPTConfig(vocab_size=8, context_length=5, width=8, layers=1, heads=2), _gen())
    with torch.no_grad():  # large weights: losses far from log V, so a slip would show
        for p in model.parameters():
            if p.ndim > 1:
                p.normal_(0.0, 0.5, generator=_gen(1))
    ids = torch.randint(0, 8, (30,), generator=_gen(2))
    starts = torch.tensor([0, 3, 11, 25])
    begins = torch.tensor([True, False, True, False])
    got = evaluate_loss(model, ids.to(torch.int16), starts, begins, batch_size=3)
    want = reference_loss(model, ids.tolist(), starts.tolist(), begins.tolist(), 5)
    assert got == pytest.approx(want, rel=1e-5)
    assert model.training  # make_gpt's mode is put back


# ---------------------------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------------------------


def test_events_come_in_order_with_finite_numbers():
    config = LMConfig.tiny(steps=6, eval_every=3, sample_every=4, sample_chars=7)
    events = _run(config)
    kinds = [type(e).__name__[0] + str(getattr(e, "step", "")) for e in events]
    expected = ["S", "E0", "S0", "S1", "S2", "S3", "E3", "S4", "S4", "S5", "S6", "E6", "S6", "D6"]
    assert kinds == expected
    assert isinstance(events[0], StartEvent) and isinstance(events[-1], DoneEvent)
    start, done = events[0], events[-1]
    assert start.total_steps == 6 and start.tokenizer is TOKENIZER
    assert (start.train_chars, start.val_chars) == (len(TEXT), len(VAL))
    assert done.model is start.model and not done.model.training
    steps = [e for e in events if isinstance(e, StepEvent)]
    assert [e.step for e in steps] == list(range(1, 7))
    for e in steps:
        assert math.isfinite(e.loss) and e.loss > 0 and e.tokens_per_s > 0
        assert 0 < e.learning_rate <= config.learning_rate
    evals = [e for e in events if isinstance(e, EvalEvent)]
    assert all(math.isfinite(e.train_loss) and math.isfinite(e.val_loss) for e in evals)
    assert all(e.window == config.context for e in evals)
    assert (done.train_loss, done.val_loss) == (evals[-1].train_loss, evals[-1].val_loss)
    samples = [e for e in events if isinstance(e, SampleEvent)]
    assert [len(s.text) for s in samples] == [7, 7, 7]
    assert done.loss == pytest.approx(sum(e.loss for e in steps) / 6)
    assert done.seconds > 0


def test_no_evaluation_and_no_samples_when_switched_off():
    events = _run(LMConfig.tiny(steps=3, eval_every=0, sample_every=0))
    assert [type(e) for e in events] == [StartEvent] + [StepEvent] * 3 + [DoneEvent]
    assert events[-1].train_loss is None and events[-1].val_loss is None


def test_learning_rate_warms_up_then_decays_by_a_cosine():
    config = LMConfig.tiny(steps=30, warmup_steps=4, learning_rate=0.01, eval_every=0)
    rates = [e.learning_rate for e in _run(config) if isinstance(e, StepEvent)]
    assert rates[:4] == pytest.approx([0.002, 0.004, 0.006, 0.008])
    assert rates[4] == pytest.approx(0.01)
    assert all(a >= b for a, b in zip(rates[4:], rates[5:], strict=False))
    assert rates[-1] < 1e-4
    assert rates[16] == pytest.approx(0.01 * 0.5 * (1 + math.cos(math.pi * 12 / 26)))


def test_the_loss_falls_on_a_periodic_text():
    """Every character after the first is determined: the loss must drop far below the
    log V of the untrained model within a few dozen steps."""
    config = LMConfig.tiny(steps=40, eval_every=40, sample_every=40, sample_chars=10)
    events = _run(config)
    evals = [e for e in events if isinstance(e, EvalEvent)]
    assert evals[0].val_loss > math.log(TOKENIZER.vocab_size) - 0.3
    assert evals[-1].val_loss < 0.6 and evals[-1].train_loss < 0.6
    sample = [e for e in events if isinstance(e, SampleEvent)][-1].text
    assert sample.strip(" ") and set(sample) <= set("abcd ")


@pytest.mark.parametrize("first", ["a", "c"])
def test_a_sample_from_the_begin_token_alone_starts_as_the_documents_do(first):
    """⊥ marks a document's beginning: on the same text, documents that begin at every "a"
    or at every "c" make the model's greedy sample from ⊥ alone start with that letter."""
    doc_starts = (tuple(i for i, c in enumerate(TEXT) if c == first), ())
    config = LMConfig.tiny(steps=40, eval_every=0, sample_every=40, sample_temperature=0.0)
    events = _run(config, doc_starts=doc_starts)
    sample = [e for e in events if isinstance(e, SampleEvent)][-1].text
    assert sample[0] == first


@pytest.mark.parametrize(
    ("doc_starts", "words"),
    [
        ((0,), "a pair"),
        (("abc", ()), "a pair"),
        (((0, 5.5), ()), "whole character offsets"),
        (((0, len(TEXT)), ()), "from 0 to 299"),
        (((), (-1,)), "validation document starts"),
        (((5, 0), ()), "must increase"),
    ],
)
def test_bad_document_starts_are_refused(doc_starts, words):
    with pytest.raises(SettingError, match=words):
        train_lm(LMConfig.tiny(), TOKENIZER, TEXT, VAL, doc_starts=doc_starts)


# ---------------------------------------------------------------------------------------------
# Randomness
# ---------------------------------------------------------------------------------------------


def test_same_generator_same_run_and_the_global_generator_is_untouched():
    config = LMConfig.tiny(steps=5, dropout=0.1)
    state = torch.random.get_rng_state()
    a, b, c = _run(config, seed=3), _run(config, seed=3), _run(config, seed=4)
    assert torch.equal(torch.random.get_rng_state(), state)

    def losses(events):
        return [e.loss for e in events if isinstance(e, StepEvent)]

    assert losses(a) == losses(b) != losses(c)
    assert _same_weights(_weights(a[-1].model), _weights(b[-1].model))
    samples = [[e.text for e in run if isinstance(e, SampleEvent)] for run in (a, b)]
    assert samples[0] == samples[1]


def test_the_seed_of_the_config_is_used_without_a_generator():
    config = LMConfig.tiny(steps=3, seed=7)
    a = list(train_lm(config, TOKENIZER, TEXT, VAL))
    b = _run(config, seed=7)
    assert [getattr(e, "loss", None) for e in a[:-1]] == [getattr(e, "loss", None) for e in b[:-1]]


def test_evaluating_and_sampling_do_not_change_the_training_trajectory():
    quiet = _run(LMConfig.tiny(steps=8, eval_every=0, sample_every=0, dropout=0.1))
    busy = _run(LMConfig.tiny(steps=8, eval_every=2, sample_every=3, dropout=0.1))
    loss = [[e.loss for e in run if isinstance(e, StepEvent)] for run in (quiet, busy)]
    assert loss[0] == loss[1]
    assert _same_weights(_weights(quiet[-1].model), _weights(busy[-1].model))


def test_samples_of_a_run_share_their_random_numbers():
    """Samples differ only because the model changed: an untrained model and the same
    model sampled twice give the same text."""
    config = LMConfig.tiny(steps=1, learning_rate=1e-6, warmup_steps=0, sample_every=1)
    samples = [e.text for e in _run(config) if isinstance(e, SampleEvent)]
    assert len(samples) == 2 and samples[0] == samples[1]


# ---------------------------------------------------------------------------------------------
# In place, stopping early, continuing
# ---------------------------------------------------------------------------------------------


def test_stopping_early_keeps_what_was_learned():
    run = train_lm(LMConfig.tiny(steps=50), TOKENIZER, TEXT, VAL, _gen())
    start = next(run)
    initial = _weights(start.model)
    for event in run:
        if isinstance(event, StepEvent) and event.step == 5:
            at_step_5 = _weights(start.model)
            break
    run.close()
    assert not start.model.training
    assert _same_weights(_weights(start.model), at_step_5)
    assert not _same_weights(initial, at_step_5)


def test_training_continues_a_given_model_in_place():
    config = LMConfig.tiny(steps=3)
    model = make_gpt(config.model_config(TOKENIZER.vocab_size), _gen(5))
    before = _weights(model)
    events = _run(config, model=model)
    assert events[0].model is model and events[-1].model is model
    assert not _same_weights(before, _weights(model))


def test_a_model_of_other_sizes_or_a_frozen_one_is_refused():
    config = LMConfig.tiny()
    other = make_gpt(dataclasses.replace(config, width=8).model_config(7), _gen())
    with pytest.raises(SettingError, match="built for"):
        train_lm(config, TOKENIZER, TEXT, VAL, model=other)
    wrong_vocab = make_gpt(config.model_config(9), _gen())
    with pytest.raises(SettingError, match="built for"):
        train_lm(config, TOKENIZER, TEXT, VAL, model=wrong_vocab)
    frozen = make_gpt(config.model_config(TOKENIZER.vocab_size), _gen()).requires_grad_(False)
    with pytest.raises(SettingError, match="frozen"):
        train_lm(config, TOKENIZER, TEXT, VAL, model=frozen)
    with pytest.raises(SettingError, match="TinyGPT"):
        train_lm(config, TOKENIZER, TEXT, VAL, model=torch.nn.Linear(2, 2))


def test_bfloat16_forward_pass_trains():
    events = _run(LMConfig.tiny(steps=3, precision="bfloat16", eval_every=0, sample_every=0))
    assert all(math.isfinite(e.loss) for e in events if isinstance(e, StepEvent))


# ---------------------------------------------------------------------------------------------
# Config, limits and bad input
# ---------------------------------------------------------------------------------------------


def test_presets():
    classroom = LMConfig.classroom()
    assert (classroom.layers, classroom.heads, classroom.width) == (4, 4, 128)
    assert (classroom.context, classroom.batch_size) == (64, 12)
    gpt = classroom.model_config(65)
    assert (gpt.vocab_size, gpt.context_length, gpt.head_dim) == (65, 64, 32)
    assert classroom.tokens_per_step == 12 * 64
    assert LMConfig.tiny(steps=7).steps == 7
    assert LMConfig(**LMConfig.tiny().to_dict()) == LMConfig.tiny()


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"steps": 0}, "number of steps"),
        ({"steps": 10**9}, "number of steps"),
        ({"batch_size": 0}, "batch size"),
        ({"batch_size": 100_000}, "batch size"),
        ({"context": 1}, "context"),
        ({"context": 5000}, "context"),
        ({"width": 10, "heads": 4}, "multiple of heads"),
        ({"learning_rate": float("nan")}, "learning rate"),
        ({"learning_rate": 5.0}, "learning rate"),
        ({"precision": "half"}, "precision"),
        ({"sample_temperature": -1}, "temperature"),
        ({"sample_chars": 0}, "sample_chars"),
        ({"eval_batches": 0}, "eval_batches"),
        ({"eval_every": -1}, "eval_every"),
        ({"dropout": 0.9}, "dropout"),
        ({"steps": 2.5}, "whole number"),
    ],
)
def test_bad_settings_raise_setting_errors(changes, words):
    with pytest.raises(SettingError, match=words):
        LMConfig.tiny(**changes)


def test_settings_too_large_for_memory_are_refused_before_training():
    config = LMConfig(context=1024, batch_size=512, width=512, layers=12, heads=16)
    assert config.activation_bytes(TOKENIZER.vocab_size) > MAX_ACTIVATION_BYTES
    long_text = "abcd " * 300
    with pytest.raises(SettingError, match="GB of activations"):
        train_lm(config, TOKENIZER, long_text, long_text)
    assert LMConfig.classroom().activation_bytes(100) < MAX_ACTIVATION_BYTES / 10


def test_texts_shorter_than_one_window_are_refused_with_the_sizes():
    config = LMConfig.tiny()  # context 16
    with pytest.raises(InvalidTextError, match=r"training text has 10 characters.*needs 17"):
        train_lm(config, TOKENIZER, "abcd abcd ", VAL)
    # a window cut inside the text reads the character before it: context + 1 characters
    with pytest.raises(InvalidTextError, match=r"training text has 16 characters.*needs 17"):
        train_lm(config, TOKENIZER, "abcd " * 3 + "a", VAL)
    assert train_lm(config, TOKENIZER, "abcd " * 3 + "ab", VAL)
    with pytest.raises(InvalidTextError, match=r"validation text has 0 characters.*at least"):
        train_lm(config, TOKENIZER, TEXT, "")
    with pytest.raises(InvalidTextError, match=r"validation text has 1 characters.*at least 2"):
        train_lm(config, TOKENIZER, TEXT, "a")


def test_a_validation_text_shorter_than_the_context_is_scored_in_shorter_windows():
    # 9 characters: windows of 8 targets, each after the character before it (or after ⊥)
    events = list(train_lm(LMConfig.tiny(steps=2), TOKENIZER, TEXT, "abcd abcd", _gen()))
    evals = [e for e in events if isinstance(e, EvalEvent)]
    assert evals and all(e.window == 8 for e in evals)
    assert all(math.isfinite(e.val_loss) and math.isfinite(e.train_loss) for e in evals)


def test_texts_of_unknown_characters_only_are_refused():
    with pytest.raises(InvalidTextError, match="outside the tokenizer's alphabet"):
        train_lm(LMConfig.tiny(), TOKENIZER, "xyz!" * 10, VAL)
    with pytest.raises(InvalidTextError, match="validation text is outside"):
        train_lm(LMConfig.tiny(), TOKENIZER, TEXT, "€" * 20)
    # a few unknown characters are fine: they are read as UNKNOWN
    assert _run_with(TEXT + "xyz", LMConfig.tiny(steps=1))


def _run_with(text: str, config: LMConfig) -> list:
    return list(train_lm(config, TOKENIZER, text, VAL, _gen()))


@pytest.mark.parametrize(
    "args, error, words",
    [
        ((None, TOKENIZER, TEXT, VAL), SettingError, "LMConfig"),
        ((LMConfig.tiny(), "abcd", TEXT, VAL), SettingError, "CharTokenizer"),
        ((LMConfig.tiny(), TOKENIZER, b"abcd" * 10, VAL), InvalidTextError, "string"),
        ((LMConfig.tiny(), TOKENIZER, TEXT, None), InvalidTextError, "string"),
        ((LMConfig.tiny(), TOKENIZER, "a" * 5_000_001, VAL), InvalidTextError, "at most"),
    ],
)
def test_bad_arguments_are_refused_on_the_call(args, error, words):
    with pytest.raises(error, match=words):
        train_lm(*args)


def test_a_generator_must_be_a_torch_generator():
    with pytest.raises(SettingError, match="torch.Generator"):
        train_lm(LMConfig.tiny(), TOKENIZER, TEXT, VAL, generator=42)


def test_divergence_is_reported_as_a_setting_error():
    config = LMConfig.tiny(steps=2, eval_every=0, sample_every=0)
    model = make_gpt(config.model_config(TOKENIZER.vocab_size), _gen())
    with torch.no_grad():
        model.unembed.weight.fill_(float("nan"))
    with pytest.raises(SettingError, match="diverged at step 1"):
        _run(config, model=model)

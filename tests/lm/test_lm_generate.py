"""Tests of fmcore.lm.generate: generation with the KV cache against re-reading the whole
window at every step (Eq. 14.9-14.16), the distributions in the events, greedy decoding
without random numbers, the empty prompt, truncation, running past the context, the
next-token logits, and sample_many's histogram against its distribution (chi-square)."""

from __future__ import annotations

import math

import pytest
import torch

from fmcore.errors import InvalidTextError, SettingError
from fmcore.lm.generate import (
    GenerationStep,
    generate,
    generate_text,
    next_distribution,
    sample_many,
)
from fmcore.lm.model import GPTConfig, TinyGPT, make_gpt
from fmcore.lm.sampling import filtered_probs
from fmcore.lm.tokenizer import BEGIN, CharTokenizer

TOKENIZER = CharTokenizer("abcdefgh")  # V = 11
V = TOKENIZER.vocab_size
CONTEXT = 10


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _model(dropout: float = 0.0) -> TinyGPT:
    """A random model with large weights: its distributions are far from uniform, so greedy
    choices are never near-ties that float rounding could flip."""
    config = GPTConfig(V, CONTEXT, width=16, layers=2, heads=2, dropout=dropout)
    model = make_gpt(config, _gen(1)).eval()
    with torch.no_grad():
        g = _gen(2)
        for p in model.parameters():
            if p.ndim > 1:
                p.normal_(0.0, 0.4, generator=g)
    return model


@pytest.fixture(scope="module")
def model() -> TinyGPT:
    return _model()


@torch.no_grad()
def reference_greedy(model: TinyGPT, prompt: str, n: int) -> list[int]:
    """Greedy decoding by the book with a sliding window: at every step read from scratch,
    with one full forward pass, ⊥ and the whole text while they fit in the context (a
    document read from its beginning), else the text's last ``context`` characters without
    ⊥ (a window cut inside it), and take the argmax of the last position."""
    history = TOKENIZER.encode(prompt, add_begin=False)
    out = []
    for _ in range(n):
        fits = len(history) <= CONTEXT - 1
        ids = torch.tensor([[BEGIN, *history] if fits else history[-CONTEXT:]])
        token = int(torch.argmax(model(ids)[0, -1]))
        out.append(token)
        history.append(token)
    return out


# ---------------------------------------------------------------------------------------------
# The cache against re-reading
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("prompt", ["", "ab", "abcdefg", "abcdefgha", "hgfedcbaabcdefgh"])
def test_greedy_with_the_cache_equals_greedy_by_full_reforward(model, prompt):
    """Within the context, and past it with the sliding window (reread_chars = context:
    the model always reads the last ``context`` characters)."""
    n = 3 * CONTEXT
    steps = list(generate(model, TOKENIZER, prompt, n, 0.0, _gen(), reread_chars=CONTEXT))
    assert [s.token for s in steps] == reference_greedy(model, prompt, n)


def test_each_event_has_the_logits_of_a_full_forward_of_its_window(model):
    """With the default re-reading (half the context) too: event i's logits are those of
    one forward pass over ⊥ and the whole text so far until the first re-read, then over
    the last ``window`` characters without ⊥."""
    history = TOKENIZER.encode("bad", add_begin=False)
    steps = list(generate(model, TOKENIZER, "bad", 25, 1.0, _gen(3)))
    first_reread = next(s.index for s in steps if s.reread)
    for step in steps:
        window = history[len(history) - step.window :]
        ids = torch.tensor([[BEGIN, *window] if step.index < first_reread else window])
        with torch.no_grad():
            want = model(ids)[0, -1]
        torch.testing.assert_close(step.logits, want, rtol=1e-5, atol=1e-5)
        history.append(step.token)


def test_running_past_the_context_rereads_half_the_window(model):
    steps = list(generate(model, TOKENIZER, "", 30, 1.0, _gen()))
    windows = [s.window for s in steps]
    # ⊥ alone, then one more character per token until the context (10) is full: 9
    # characters; then the last 5 characters are re-read without ⊥ (nothing begins
    # there), and the text grows to 10 characters before the next re-read.
    assert windows[:17] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 5, 6, 7, 8, 9, 10, 5]
    assert max(windows) == CONTEXT
    assert [s.index for s in steps if s.reread] == [10, 16, 22, 28]
    assert not any(s.truncated for s in steps)


# ---------------------------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------------------------


def test_events_carry_the_distribution_each_token_was_drawn_from(model):
    steps = list(generate(model, TOKENIZER, "fed", 12, 0.7, _gen(4), top_k=5, top_p=0.9))
    assert len(steps) == 12 and all(isinstance(s, GenerationStep) for s in steps)
    for i, s in enumerate(steps):
        assert s.index == i and s.text == TOKENIZER.token_text(s.token)
        assert s.probs.shape == s.logits.shape == (V,)
        assert float(s.probs.sum()) == pytest.approx(1.0, abs=1e-12)
        torch.testing.assert_close(s.probs, filtered_probs(s.logits.double(), 0.7, 5, 0.9))
        assert s.probability == float(s.probs[s.token]) > 0
        assert int((s.probs > 0).sum()) <= 5
        want = -sum(p * math.log(p) for p in s.probs.tolist() if p > 0)
        assert s.entropy == pytest.approx(want, abs=1e-12)


def test_same_generator_same_text_and_generate_text_agrees(model):
    a = [s.token for s in generate(model, TOKENIZER, "ab", 20, 1.3, _gen(5))]
    b = [s.token for s in generate(model, TOKENIZER, "ab", 20, 1.3, _gen(5))]
    c = [s.token for s in generate(model, TOKENIZER, "ab", 20, 1.3, _gen(6))]
    assert a == b != c
    assert generate_text(model, TOKENIZER, "ab", 20, 1.3, _gen(5)) == TOKENIZER.decode(a)
    assert generate_text(model, TOKENIZER, "ab", 0, 1.3, _gen(5)) == ""


def test_temperature_zero_draws_no_random_numbers(model):
    g = _gen(7)
    state = g.get_state()
    global_state = torch.random.get_rng_state()
    steps = list(generate(model, TOKENIZER, "abc", 15, 0.0, g))
    assert torch.equal(g.get_state(), state)
    assert torch.equal(torch.random.get_rng_state(), global_state)
    for s in steps:
        assert s.token == int(torch.argmax(s.logits)) and s.probability == 1.0
        assert s.entropy == 0.0


def test_greedy_steps_still_say_how_sure_the_model_was(model):
    """At tau = 0 the sampler gives the chosen token probability 1; the model's own
    probability (Eq. 14.6, tau = 1) is softmax(u)[token], below 1 for an untrained model."""
    steps = list(generate(model, TOKENIZER, "abc", 8, 0.0, _gen(7)))
    for s in steps:
        own = torch.softmax(s.logits.double(), dim=-1)  # (V,) written from Eq. 14.6
        assert s.probability == 1.0 and s.model_probability < 1.0
        assert s.model_probability == pytest.approx(float(own[s.token]), abs=1e-12)
        assert s.model_probability == pytest.approx(float(own.max()), abs=1e-12)  # the argmax
        want = -sum(p * math.log(p) for p in own.tolist() if p > 0)
        assert s.model_entropy == pytest.approx(want, abs=1e-12) and s.model_entropy > 0


def test_filtered_steps_report_the_unfiltered_model_probability(model):
    steps = list(generate(model, TOKENIZER, "fed", 10, 0.5, _gen(3), top_k=2))
    for s in steps:
        own = torch.softmax(s.logits.double(), dim=-1)
        assert s.model_probability == pytest.approx(float(own[s.token]), abs=1e-12)
        if s.token == int(torch.argmax(s.logits)):  # τ < 1 and top-k sharpen the sampler
            assert s.probability >= s.model_probability


def test_the_empty_prompt_starts_from_the_begin_token_alone(model):
    first = next(generate(model, TOKENIZER, "", 1, 1.0, _gen()))
    assert first.window == 0 and not first.truncated and not first.reread
    with torch.no_grad():
        torch.testing.assert_close(first.logits, model(torch.tensor([[BEGIN]]))[0, -1])
    logits, truncated = next_distribution(model, TOKENIZER, "")
    assert not truncated
    torch.testing.assert_close(logits, first.logits)


def test_a_long_prompt_is_cut_to_its_end_and_says_so(model):
    prompt = "hgfedcbaabcdefgh"  # 16 characters; 9 fit after ⊥: the model reads the last
    # 10 without ⊥, a window cut inside a text, not a text that begins there
    steps = list(generate(model, TOKENIZER, prompt, 4, 0.0, _gen()))
    assert all(s.truncated for s in steps) and steps[0].window == CONTEXT
    assert steps[1].reread  # the context was already full
    with torch.no_grad():
        want = model(torch.tensor([TOKENIZER.encode(prompt[-10:], add_begin=False)]))[0, -1]
    torch.testing.assert_close(steps[0].logits, want)
    logits, truncated = next_distribution(model, TOKENIZER, prompt)
    assert truncated
    torch.testing.assert_close(logits, want)
    whole = list(generate(model, TOKENIZER, prompt[-9:], 4, 0.0, _gen()))  # fits after ⊥
    assert not any(s.truncated for s in whole) and whole[0].window == 9


@pytest.mark.parametrize("prompt", ["cafe", "cabbage", "deadbeef"])
def test_next_distribution_is_the_last_position_of_one_forward(model, prompt):
    logits, truncated = next_distribution(model, TOKENIZER, prompt)
    with torch.no_grad():
        want = model(torch.tensor([TOKENIZER.encode(prompt)]))[0, -1]
    assert not truncated and logits.dtype == torch.float32 and logits.shape == (V,)
    torch.testing.assert_close(logits, want)


def test_unknown_characters_in_the_prompt_are_read_as_unknown(model):
    assert len(generate_text(model, TOKENIZER, "zz", 3, 0.0, _gen())) == 3


def test_the_models_mode_and_the_callers_gradients_are_left_alone():
    model = _model(dropout=0.3).train()
    a = generate_text(model, TOKENIZER, "ab", 12, 0.0, _gen())
    assert model.training
    model.eval()
    assert generate_text(model, TOKENIZER, "ab", 12, 0.0, _gen()) == a  # no dropout drawn
    for _ in generate(model, TOKENIZER, "ab", 3, 1.0, _gen()):
        assert torch.is_grad_enabled()
    assert all(p.grad is None for p in model.parameters())


# ---------------------------------------------------------------------------------------------
# sample_many
# ---------------------------------------------------------------------------------------------


def test_sample_many_counts_follow_the_distribution():
    """Pearson's chi-square with V - 1 = 7 degrees of freedom; 24.3 is its 0.999 quantile."""
    logits = torch.tensor([0.0, 0.5, 1.0, -0.5, 0.2, 1.5, -1.0, 0.3])
    n = 20_000
    counts = sample_many(logits, 1.2, n, _gen(8))
    assert counts.dtype == torch.long and counts.shape == (8,) and int(counts.sum()) == n
    expected = n * filtered_probs(logits.double(), 1.2)
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 24.3
    assert torch.equal(counts, sample_many(logits, 1.2, n, _gen(8)))


def test_sample_many_respects_the_filters_and_greedy():
    logits = torch.tensor([0.0, 2.0, 1.0, 3.0, -1.0])
    counts = sample_many(logits, 1.0, 5000, _gen(), top_k=2)
    assert counts.nonzero().flatten().tolist() == [1, 3]
    g = _gen(9)
    state = g.get_state()
    greedy = sample_many(logits, 0.0, 100, g)
    assert greedy.tolist() == [0, 0, 0, 100, 0] and torch.equal(g.get_state(), state)


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"n_tokens": -1}, SettingError, "number of tokens"),
        ({"n_tokens": 10**6}, SettingError, "number of tokens"),
        ({"temperature": -0.5}, SettingError, "temperature"),
        ({"temperature": float("nan")}, SettingError, "temperature"),
        ({"top_k": 0}, SettingError, "top_k"),
        ({"top_p": 1.5}, SettingError, "top_p"),
        ({"generator": None}, SettingError, "torch.Generator"),
        ({"prompt": 42}, InvalidTextError, "string"),
        ({"prompt": "a" * 100_001}, InvalidTextError, "at most"),
        ({"reread_chars": CONTEXT + 1}, SettingError, "reread_chars"),
        ({"reread_chars": 0}, SettingError, "reread_chars"),
        ({"tokenizer": CharTokenizer("abc")}, SettingError, "tokenizer the model was trained"),
        ({"model": torch.nn.Linear(2, 2)}, SettingError, "TinyGPT"),
    ],
)
def test_bad_arguments_are_refused_on_the_call(model, kwargs, error, words):
    args = {
        "model": model,
        "tokenizer": TOKENIZER,
        "prompt": "ab",
        "n_tokens": 5,
        "temperature": 1.0,
        "generator": _gen(),
    } | kwargs
    with pytest.raises(error, match=words):
        generate(**args)
    with pytest.raises(error, match=words):
        generate_text(**args)


def test_bad_arguments_of_next_distribution_and_sample_many(model):
    with pytest.raises(SettingError, match="tokenizer the model was trained"):
        next_distribution(model, CharTokenizer("abc"), "ab")
    with pytest.raises(InvalidTextError, match="string"):
        next_distribution(model, TOKENIZER, None)
    logits = torch.zeros(4)
    with pytest.raises(SettingError, match="one position"):
        sample_many(torch.zeros(2, 4), 1.0, 10, _gen())
    with pytest.raises(SettingError, match="number of samples"):
        sample_many(logits, 1.0, 0, _gen())
    with pytest.raises(SettingError, match="number of samples"):
        sample_many(logits, 1.0, 10**8, _gen())
    with pytest.raises(SettingError, match="torch.Generator"):
        sample_many(logits, 1.0, 10, None)
    with pytest.raises(SettingError, match="temperature"):
        sample_many(logits, -1.0, 10, _gen())
    with pytest.raises(SettingError, match="NaN"):
        sample_many(torch.tensor([0.0, float("nan")]), 1.0, 10, _gen())

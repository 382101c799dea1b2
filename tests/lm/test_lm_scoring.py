"""Tests of fmcore.lm.scoring: each factor p(x_t | x_<t) against a model run on the prefix
alone (Eq. 14.7), the chain rule (Eq. 14.5), the mean loss against F.cross_entropy on the
shifted targets (Eq. 14.8), alternatives, unknown characters, limits and bad input."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from fmcore.errors import InvalidTextError, SettingError
from fmcore.lm.model import GPTConfig, make_gpt
from fmcore.lm.scoring import TextScore, max_text_chars, score_text
from fmcore.lm.tokenizer import BEGIN, UNKNOWN, CharTokenizer

CONTEXT = 16


@pytest.fixture(scope="module")
def tok() -> CharTokenizer:
    return CharTokenizer("abcdefgh .")


@pytest.fixture(scope="module")
def model(tok):
    config = GPTConfig.tiny(tok.vocab_size, CONTEXT)
    return make_gpt(config, torch.Generator().manual_seed(0)).eval()


TEXT = "a bad cafe."


def test_each_factor_is_the_model_run_on_the_prefix_alone(model, tok):
    """p(x_t | x_<t) = softmax(f(x_0..x_{t-1}))_{x_t}, literally, one prefix at a time."""
    score = score_text(model, tok, TEXT)
    x = tok.encode(TEXT)
    assert score.ids == x and x[0] == BEGIN and score.length == len(TEXT)
    with torch.no_grad():
        for t in range(1, len(x)):
            u_t = model(torch.tensor([x[:t]]))[0, -1]  # u_t = f(x_0..x_{t-1})
            p = torch.softmax(u_t.double(), dim=-1)[x[t]].item()
            assert score.probs[t - 1].item() == pytest.approx(p, abs=1e-6)
            assert score.nll[t - 1].item() == pytest.approx(-math.log(p), abs=1e-5)


def test_chain_rule_sum_and_mean_loss(model, tok):
    score = score_text(model, tok, TEXT)
    assert score.log_prob == pytest.approx(score.probs.log().sum().item(), abs=1e-9)
    assert score.log_prob == pytest.approx(math.log(math.prod(score.probs.tolist())), abs=1e-9)
    ids = torch.tensor(score.ids)
    with torch.no_grad():
        logits = model(ids[None])[0]  # (T + 1, V)
    ce = F.cross_entropy(logits[:-1], ids[1:])  # u_1..u_T against x_1..x_T
    assert score.mean_loss == pytest.approx(ce.item(), abs=1e-5)
    assert score.mean_loss == pytest.approx(-score.log_prob / score.length, abs=1e-12)
    assert score.perplexity == pytest.approx(math.exp(score.mean_loss))
    assert score.bits == pytest.approx(-score.log_prob / math.log(2))


def test_alternatives_and_the_next_character(model, tok):
    score = score_text(model, tok, TEXT, top_k=4)
    T = len(TEXT)
    assert isinstance(score, TextScore)
    assert score.top_ids.shape == (T, 4) and score.top_probs.shape == (T, 4)
    assert (score.top_probs[:, :-1] >= score.top_probs[:, 1:]).all()
    assert (score.top_probs[:, 0] >= score.probs - 1e-12).all()
    with torch.no_grad():
        logits = model(torch.tensor([score.ids]))[0].double()
    assert torch.equal(score.top_ids[:, 0], logits[:-1].argmax(-1))
    torch.testing.assert_close(score.next_probs, torch.softmax(logits[-1], -1))
    assert score_text(model, tok, "ab", top_k=20).top_ids.shape == (2, tok.vocab_size)  # k <= V


def test_unknown_characters_are_scored_and_reported(model, tok):
    text = "ab😀c\x00\u202e"
    score = score_text(model, tok, text)
    assert [(u.position, u.char) for u in score.unknown] == [(2, "😀"), (4, "\x00"), (5, "\u202e")]
    assert [score.ids[1 + u.position] for u in score.unknown] == [UNKNOWN] * 3
    assert torch.isfinite(score.nll).all()


def test_the_longest_text_fits_and_one_more_character_is_refused(model, tok):
    assert max_text_chars(model) == CONTEXT - 1
    assert score_text(model, tok, "a" * (CONTEXT - 1)).length == CONTEXT - 1
    with pytest.raises(InvalidTextError, match=rf"at most {CONTEXT - 1} characters.*has {CONTEXT}"):
        score_text(model, tok, "a" * CONTEXT)


def test_the_model_mode_is_restored(tok):
    model = make_gpt(GPTConfig.tiny(tok.vocab_size, CONTEXT), torch.Generator().manual_seed(1))
    assert model.training
    score_text(model, tok, "abc")
    assert model.training


@pytest.mark.parametrize(
    "text, error, words",
    [
        ("", InvalidTextError, "empty"),
        (None, InvalidTextError, "must be a string"),
        (b"abc", InvalidTextError, "must be a string"),
    ],
)
def test_bad_texts(model, tok, text, error, words):
    with pytest.raises(error, match=words):
        score_text(model, tok, text)


def test_bad_arguments(model, tok):
    with pytest.raises(SettingError, match="tokenizer the model was trained with"):
        score_text(model, CharTokenizer("xyz"), "xyz")
    with pytest.raises(SettingError, match="TinyGPT"):
        score_text(object(), tok, "abc")
    with pytest.raises(SettingError, match="CharTokenizer"):
        score_text(model, "abc", "abc")
    with pytest.raises(SettingError, match="top_k"):
        score_text(model, tok, "abc", top_k=0)

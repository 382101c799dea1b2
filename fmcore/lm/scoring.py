"""How probable does a language model find a text? The chain rule, position by position.

By the chain rule (Eq. 14.5 of the notes) the probability of a document is the product of
the next-token probabilities,

    p(x_1, ..., x_T) = prod_{t=1..T} p(x_t | x_1, ..., x_{t-1}),

and each factor is read off the model's logits: p(x_t | x_<t) = softmax(u_t)_{x_t} with
u_t = f_theta(x_0, ..., x_{t-1}) (Eq. 14.6-14.7). One forward pass over x_0 = ⊥, x_1, ...,
x_T gives all of u_1, ..., u_{T+1} at once (Figure 14.1). :func:`score_text` returns every
factor, its -log (the "surprise" of that character, in nats), their sum log p(x_1..x_T),
the mean -log p that training minimises (Eq. 14.8), the most probable alternatives at each
position and u_{T+1}'s distribution of the character that would come next.

Texts longer than the model's context are refused with a message, not scored with a
sliding window: past the context the model would have to forget the beginning, and the
numbers would no longer be the chain rule of Eq. 14.5 for the whole text.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from fmcore.errors import InvalidTextError, SettingError
from fmcore.lm.model import TinyGPT
from fmcore.lm.tokenizer import CharTokenizer, UnknownChar
from fmcore.validate import bounded_int

__all__ = ["MAX_TOP_K", "TextScore", "max_text_chars", "score_text"]

MAX_TOP_K = 20  # alternatives listed per position


@dataclass(frozen=True, eq=False)
class TextScore:
    """The chain-rule score of a text x_1..x_T under a model (Eq. 14.5-14.8).

    Per-position tensors have one row per character of the text: row t - 1 is about x_t.
    Probabilities and losses are float64, in nats (natural logarithms).
    """

    text: str  # the text scored
    ids: list[int]  # x_0 = BEGIN, x_1, ..., x_T: T + 1 token ids
    probs: torch.Tensor  # (T,) p(x_t | x_<t): the probability the model gave each character
    nll: torch.Tensor  # (T,) -log p(x_t | x_<t): the loss term of each character
    log_prob: float  # log p(x_1..x_T) = sum_t log p(x_t | x_<t)   (Eq. 14.5, in logs)
    mean_loss: float  # (1/T) sum_t -log p(x_t | x_<t)              (Eq. 14.8)
    top_ids: torch.Tensor  # (T, k) long: the k most probable tokens at each position
    top_probs: torch.Tensor  # (T, k) their probabilities, in decreasing order
    next_probs: torch.Tensor  # (V,) softmax(u_{T+1}): the character after the text
    unknown: list[UnknownChar]  # characters outside the alphabet, scored as UNKNOWN

    @property
    def length(self) -> int:
        """T: the number of characters scored."""
        return len(self.ids) - 1

    @property
    def perplexity(self) -> float:
        """exp(mean loss): as uncertain as a uniform choice among this many characters."""
        return math.exp(self.mean_loss)

    @property
    def bits(self) -> float:
        """-log2 p(x_1..x_T): the text's total surprise in bits."""
        return -self.log_prob / math.log(2.0)


def max_text_chars(model: TinyGPT) -> int:
    """The longest text :func:`score_text` accepts: the context minus the begin token."""
    return model.config.context_length - 1


@contextlib.contextmanager
def _evaluating(model: TinyGPT) -> Iterator[None]:
    """Eval mode (no dropout) and no gradients for the block, then the model's mode back.
    Shipped models are always in eval mode already, so nothing shared is changed."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)


def score_text(model: TinyGPT, tokenizer: CharTokenizer, text: str, top_k: int = 5) -> TextScore:
    """Score ``text`` by the chain rule (Eq. 14.5) with one forward pass of ``model``.

    The text is encoded with ``tokenizer`` after the begin token x_0 = ⊥; characters
    outside its alphabet are scored as UNKNOWN and listed in ``unknown``. ``top_k``
    (1..20) alternatives are kept per position. An empty text, or one longer than
    :func:`max_text_chars`, raises InvalidTextError; a tokenizer whose vocabulary does not
    match the model raises SettingError.
    """
    if not isinstance(model, TinyGPT):
        raise SettingError(f"model must be a TinyGPT, got {type(model).__name__}.")
    if not isinstance(tokenizer, CharTokenizer):
        raise SettingError(f"tokenizer must be a CharTokenizer, got {type(tokenizer).__name__}.")
    if tokenizer.vocab_size != model.config.vocab_size:
        raise SettingError(
            f"The tokenizer has {tokenizer.vocab_size} tokens but the model expects "
            f"{model.config.vocab_size}: use the tokenizer the model was trained with."
        )
    k = min(bounded_int("top_k", top_k, 1, MAX_TOP_K), model.config.vocab_size)
    ids = tokenizer.encode(text)  # validates text: a str of at most MAX_TEXT_CHARS
    if len(text) == 0:
        raise InvalidTextError("The text is empty: type at least one character to score.")
    if len(text) > max_text_chars(model):
        raise InvalidTextError(
            f"This model reads at most {max_text_chars(model)} characters (its context is "
            f"{model.config.context_length} tokens, the begin token included); the text has "
            f"{len(text)}. Shorten it."
        )

    x = torch.tensor(ids, dtype=torch.long)  # (T + 1,): x_0 = ⊥, x_1, ..., x_T
    with _evaluating(model):
        logits = model(x[None])[0]  # (T + 1, V): row s is u_{s+1}
    log_p = torch.log_softmax(logits.double(), dim=-1)  # (T + 1, V) log softmax(u_{s+1})
    # u_t predicts x_t: rows 0..T-1 (u_1..u_T) against the targets x_1..x_T.
    targets = x[1:]  # (T,)
    log_p_target = log_p[:-1].gather(-1, targets[:, None]).squeeze(-1)  # (T,)
    probs = log_p[:-1].exp()  # (T, V)
    top = torch.sort(probs, dim=-1, descending=True, stable=True)  # ties: lowest id first
    return TextScore(
        text=text,
        ids=ids,
        probs=log_p_target.exp(),
        nll=-log_p_target,
        log_prob=float(log_p_target.sum()),
        mean_loss=float(-log_p_target.mean()),
        top_ids=top.indices[:, :k],
        top_probs=top.values[:, :k],
        next_probs=log_p[-1].exp(),
        unknown=tokenizer.unknown_characters(text),
    )

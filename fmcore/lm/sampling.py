"""From logits to the next token: temperature, greedy decoding, top-k and top-p (nucleus).

Generation (Eq. 14.9-14.12 of the notes) draws each token from softmax(u) where u are the
logits of the next token; with a temperature tau > 0 (Eq. 14.13-14.16) it draws from

    softmax(u / tau)_i = exp(u_i / tau) / sum_j exp(u_j / tau).

tau = 1 is the model's own distribution; tau < 1 sharpens it (the most likely tokens gain),
tau > 1 flattens it towards uniform; tau -> 0 becomes greedy decoding, which always takes the
most probable token. Here tau = 0 *is* greedy: :func:`next_token_probs` returns the one-hot
vector of the argmax and nothing divides by zero.

Two common filters, not in the notes, cut the unlikely tail before drawing:

- top-k (Fan et al. 2018) keeps the k most probable tokens;
- top-p or nucleus sampling (Holtzman et al. 2020) keeps the smallest set of most probable
  tokens whose total probability reaches p.

:func:`filtered_probs` applies temperature, then top-k, then top-p (on the distribution
renormalised after top-k), and renormalises: it is exactly the distribution
:func:`sample_next` draws from, so a page can plot what will be sampled.

Ties are broken towards the lowest token id everywhere (the greedy argmax, the k-th place of
top-k, the edge of the nucleus), so every result depends only on the logits. Probabilities
are computed in float64 and returned in the logits' dtype.
"""

from __future__ import annotations

import math

import torch

from fmcore.errors import SettingError
from fmcore.validate import bounded_int, check_generator, finite_float

__all__ = [
    "MAX_TEMPERATURE",
    "entropy",
    "entropy_bits",
    "filtered_probs",
    "next_token_probs",
    "sample_next",
]

MAX_TEMPERATURE = 100.0  # at 100 the character distributions are already nearly uniform
MAX_TOP_K = 1_000_000  # any k is fine; k >= V keeps every token
# A nucleus whose mass falls short of p by less than this counts as reaching p: float
# rounding of a cumulative sum must not add a token (0.5 + 0.2 reaches 0.7).
_NUCLEUS_TOLERANCE = 1e-12


# ============================================================================ checks
def _check_logits(logits: object) -> torch.Tensor:
    """``logits`` if it is a float tensor (V,) or (B, V) without NaN or +inf and with at
    least one finite entry per row; -inf is allowed and means "never this token"."""
    if not isinstance(logits, torch.Tensor):
        raise SettingError(f"logits must be a tensor, got {type(logits).__name__}.")
    if logits.ndim not in (1, 2) or logits.shape[-1] < 1 or logits.numel() < 1:
        raise SettingError(
            "logits must have shape (vocabulary,) or (batch, vocabulary), "
            f"got {tuple(logits.shape)}."
        )
    if not logits.is_floating_point():
        raise SettingError(f"logits must be floating-point numbers, got {logits.dtype}.")
    # the usual case in two calls (generation checks every token): a finite sum means
    # finite entries; otherwise (or if the sum overflows) the checks below say what is wrong
    if math.isfinite(float(logits.sum())):
        return logits
    if bool(torch.isnan(logits).any()) or bool((logits == math.inf).any()):
        raise SettingError("logits contain NaN or +inf; every score must be a number.")
    if not bool(torch.isfinite(logits).any(dim=-1).all()):
        raise SettingError("Every row of logits needs at least one finite score.")
    return logits


def _check_temperature(temperature: object) -> float:
    return finite_float("temperature", temperature, 0.0, MAX_TEMPERATURE)


def _argmax(logits: torch.Tensor) -> torch.Tensor:
    """Index of the largest logit along the last axis, the lowest one on ties: (...,)."""
    return torch.argmax(logits, dim=-1)  # documented to return the first maximal index


# ============================================================================ temperature
def _probs64(logits: torch.Tensor, tau: float) -> torch.Tensor:
    """softmax(logits / tau) in float64 over the last axis; one-hot argmax when tau = 0."""
    if tau == 0.0:  # greedy: the limit tau -> 0 (Section 14.3, after Eq. 14.16)
        return torch.nn.functional.one_hot(_argmax(logits), logits.shape[-1]).double()
    u = logits.double()
    # Subtract the largest logit first: softmax is unchanged (the factor exp(-max/tau)
    # cancels) and every exponent is <= 0, so exp never overflows, the largest entry is
    # exp(0) = 1 and the sum is >= 1. For tiny tau the others go to exp(-inf) = 0: no NaN.
    z = (u - u.amax(dim=-1, keepdim=True)) / tau  # (..., V), <= 0
    return torch.softmax(z, dim=-1)  # exp(z) / sum exp(z), in one call


def next_token_probs(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """softmax(logits / temperature) over the last axis (Eq. 14.13; Eq. 14.6 at tau = 1).

    ``logits`` (V,) or (B, V) -> probabilities of the same shape and dtype. Temperature 0
    returns exactly the one-hot vector of the argmax (greedy decoding; ties: the lowest
    id). Temperatures must lie in [0, 100]; negative, NaN or infinite ones raise
    SettingError. No NaN for any allowed temperature, however large the logits.
    """
    tau = _check_temperature(temperature)
    x = _check_logits(logits)
    return _probs64(x, tau).to(x.dtype)


# ============================================================================ filters
def _keep(p: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Zero the entries not kept and renormalise the rest to sum to 1."""
    p = torch.where(keep, p, torch.zeros_like(p))
    return p / p.sum(dim=-1, keepdim=True)


def _filtered64(
    logits: torch.Tensor, tau: float, top_k: int | None, top_p: float | None
) -> torch.Tensor:
    p = _probs64(logits, tau)  # (..., V) float64
    V = p.shape[-1]
    if top_k is not None:
        k = min(bounded_int("top_k", top_k, 1, MAX_TOP_K), V)
        # A stable sort puts equal probabilities in id order: ties at the k-th place go to
        # the lowest ids.
        order = torch.sort(p, dim=-1, descending=True, stable=True).indices  # (..., V)
        keep = torch.zeros_like(p, dtype=torch.bool).scatter(-1, order[..., :k], True)
        p = _keep(p, keep)
    if top_p is not None:
        nucleus = finite_float("top_p", top_p, 0.0, 1.0)
        if nucleus < 1.0:  # p = 1 keeps every token
            sorted_p, order = torch.sort(p, dim=-1, descending=True, stable=True)  # (..., V)
            # Mass of the tokens ranked before each one. A token is needed while that mass
            # is still short of p; the most probable token is always kept.
            cumulative = torch.cumsum(sorted_p, dim=-1)  # (..., V)
            before = torch.cat([torch.zeros_like(cumulative[..., :1]), cumulative[..., :-1]], -1)
            keep_sorted = before < nucleus - _NUCLEUS_TOLERANCE
            keep_sorted[..., 0] = True
            keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)
            p = _keep(p, keep)
    return p


def filtered_probs(
    logits: torch.Tensor,
    temperature: float,
    top_k: int | None = None,
    top_p: float | None = None,
) -> torch.Tensor:
    """The distribution :func:`sample_next` draws from, same shape and dtype as ``logits``.

    1. softmax(logits / temperature) (Eq. 14.13; one-hot argmax at temperature 0);
    2. top-k (``top_k`` >= 1, or None for no limit): keep the k most probable tokens
       (k >= V keeps all), renormalise;
    3. top-p (``top_p`` in [0, 1], or None): keep the smallest set of most probable tokens
       whose probability reaches p, at least one token (p = 0: only the most probable one;
       p = 1: all), renormalise.

    Tokens dropped have probability exactly 0; each row sums to 1.
    """
    tau = _check_temperature(temperature)
    x = _check_logits(logits)
    return _filtered64(x, tau, top_k, top_p).to(x.dtype)


# ============================================================================ sampling
def sample_next(
    logits: torch.Tensor,
    temperature: float,
    generator: torch.Generator,
    top_k: int | None = None,
    top_p: float | None = None,
) -> torch.Tensor:
    """Draw the next token from :func:`filtered_probs` (Eq. 14.13): x ~ softmax(u / tau),
    after the top-k and top-p filters.

    ``logits`` (V,) gives a long tensor of shape (); (B, V) gives (B,), one draw per row.
    Temperature 0 returns the argmax (greedy; ties: the lowest id) without drawing: the
    generator is left untouched. All randomness comes from ``generator``: the same
    generator state gives the same tokens. The draw is inverse transform sampling: one
    uniform number per row, and the first token whose cumulative probability exceeds it.
    """
    g = check_generator(generator)
    tau = _check_temperature(temperature)
    x = _check_logits(logits)
    p = _filtered64(x, tau, top_k, top_p)  # (..., V); validates top_k and top_p
    if tau == 0.0:
        return _argmax(x)
    return _inverse_cdf(p.reshape(-1, p.shape[-1]), g).reshape(p.shape[:-1])


def _inverse_cdf(p: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One draw per row of ``p`` (B, V) by inverse transform sampling: a uniform r in
    [0, total) and the first token whose cumulative probability P_i exceeds r: (B,).

    Token i is drawn when r falls in [P_{i-1}, P_i), an interval of length p_i; a token of
    probability 0 has an empty interval and is never drawn. (``torch.multinomial`` draws
    from the same distribution, but in generation, between two steps of the model, it
    cost about 60 µs a token against 25 for this.)"""
    cumulative = torch.cumsum(p, dim=-1)  # (B, V) P_i, non-decreasing
    total = cumulative[:, -1:]  # (B, 1), 1 up to rounding
    r = torch.rand(total.shape, dtype=p.dtype, generator=generator) * total  # (B, 1)
    # r * total can round up to total itself; the largest number below it keeps r < total
    r = torch.minimum(r, torch.nextafter(total, torch.zeros_like(total)))
    return torch.searchsorted(cumulative, r, right=True).squeeze(-1)  # first P_i > r


# ============================================================================ entropy
def entropy(probs: torch.Tensor) -> torch.Tensor:
    """H(p) = -sum_i p_i log p_i in nats over the last axis, with 0 log 0 = 0.

    (V,) -> (); (B, V) -> (B,). log V for the uniform distribution, 0 for a one-hot one:
    how spread out the next-token distribution is (temperature moves it between the two).
    """
    if not isinstance(probs, torch.Tensor) or not probs.is_floating_point() or probs.ndim < 1:
        raise SettingError("entropy takes a float tensor of probabilities (last axis: tokens).")
    if bool((probs < 0).any()) or not bool(torch.isfinite(probs).all()):
        raise SettingError("Probabilities must be finite and non-negative.")
    h = -torch.special.xlogy(probs, probs).sum(dim=-1)  # xlogy(0, 0) = 0
    # H >= 0, but a one-hot p gives -0.0 (shown as "-0.00") and rounding a tiny negative:
    # clamp, and + 0.0 turns -0.0 into 0.0
    return h.clamp(min=0.0) + 0.0


def entropy_bits(probs: torch.Tensor) -> torch.Tensor:
    """:func:`entropy` in bits (log base 2): log2 V for the uniform distribution."""
    return entropy(probs) / math.log(2.0)

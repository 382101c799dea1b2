"""Tests of fmcore.lm.sampling: a Python-loop softmax with temperature (Eq. 14.13), greedy at
temperature 0, limits of the temperature, top-k / top-p on hand-computed examples and against
a loop reference, sampling frequencies, generators only, entropy."""

from __future__ import annotations

import math

import pytest
import torch

from fmcore.errors import SettingError
from fmcore.lm.sampling import (
    entropy,
    entropy_bits,
    filtered_probs,
    next_token_probs,
    sample_next,
)


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _logits(*shape: int, seed: int = 0, scale: float = 2.0) -> torch.Tensor:
    return scale * torch.randn(*shape, generator=_gen(seed), dtype=torch.float64)


def _from_probs(p: list[float]) -> torch.Tensor:
    """Logits whose softmax is p (log p, up to a constant)."""
    return torch.tensor(p, dtype=torch.float64).log()


# ---------------------------------------------------------------------------------------------
# Slow references, written from the formulas
# ---------------------------------------------------------------------------------------------


def reference_softmax(u: list[float], tau: float) -> list[float]:
    """exp(u_i / tau) / sum_j exp(u_j / tau), literally (moderate logits only)."""
    exps = [math.exp(x / tau) for x in u]
    total = sum(exps)
    return [e / total for e in exps]


def reference_filter(p: list[float], top_k: int | None, top_p: float | None) -> list[float]:
    """Top-k then top-p on a list of probabilities, ranking by (-p, id)."""
    V = len(p)
    ranked = sorted(range(V), key=lambda i: (-p[i], i))
    keep = set(ranked[: top_k if top_k is not None else V])
    q = [p[i] / sum(p[j] for j in keep) if i in keep else 0.0 for i in range(V)]
    if top_p is not None:
        ranked = sorted(range(V), key=lambda i: (-q[i], i))
        nucleus, mass = [], 0.0
        for i in ranked:
            nucleus.append(i)
            mass += q[i]
            if mass >= top_p - 1e-12:
                break
        q = [q[i] / sum(q[j] for j in nucleus) if i in nucleus else 0.0 for i in range(V)]
    return q


# ---------------------------------------------------------------------------------------------
# Temperature
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tau", [0.1, 0.5, 1.0, 2.0, 10.0, 100.0])
def test_next_token_probs_matches_the_loop_softmax(tau):
    u = _logits(3, 7)
    p = next_token_probs(u, tau)
    expected = torch.tensor([reference_softmax(row, tau) for row in u.tolist()], dtype=u.dtype)
    torch.testing.assert_close(p, expected, rtol=1e-12, atol=1e-12)
    assert p.shape == u.shape and p.dtype == u.dtype


def test_temperature_zero_is_exactly_the_one_hot_argmax_lowest_on_ties():
    u = torch.tensor([[1.0, 3.0, 3.0, 0.0], [-5.0, -5.0, -5.0, -5.0], [0.0, 0.0, 0.0, 9.0]])
    expected = torch.tensor([[0.0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]])
    assert torch.equal(next_token_probs(u, 0), expected)
    assert torch.equal(next_token_probs(u[0], 0.0), expected[0])


def test_large_temperature_gives_nearly_uniform():
    u = _logits(4, 10, scale=1.0)
    p = next_token_probs(u, 100.0)
    assert (p - 0.1).abs().max() < 0.005
    assert (entropy(p) - math.log(10)).abs().max() < 1e-3


def test_lower_temperature_means_lower_entropy():
    u = _logits(10, seed=3)
    h = [entropy(next_token_probs(u, t)).item() for t in (0.0, 0.1, 0.5, 1.0, 2.0, 100.0)]
    assert h[0] == 0.0 and all(a < b for a, b in zip(h, h[1:], strict=False))


@pytest.mark.parametrize("tau", [1e-3, 1e-10, 1e-300, 5e-324])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_tiny_temperatures_and_huge_logits_never_give_nan(tau, dtype):
    big = torch.finfo(dtype).max
    u = torch.tensor([[1e4, -1e4, 3.0, 2.9], [big, -big, 0.0, big / 2]], dtype=dtype)
    p = next_token_probs(u, tau)
    assert torch.isfinite(p).all()
    assert torch.equal(p, torch.tensor([[1.0, 0, 0, 0], [1, 0, 0, 0]], dtype=dtype))


def test_tiny_temperature_splits_exact_ties_evenly():
    p = next_token_probs(torch.tensor([2.0, 5.0, 5.0]), 1e-6)
    torch.testing.assert_close(p, torch.tensor([0.0, 0.5, 0.5]))


def test_huge_logits_at_temperature_one_are_shifted_not_overflowed():
    u = torch.tensor([1000.0, 999.0, -1000.0])
    p = next_token_probs(u, 1.0)
    e = 1 / (1 + math.exp(-1))
    torch.testing.assert_close(p, torch.tensor([e, 1 - e, 0.0]))


def test_minus_infinity_means_never():
    u = torch.tensor([0.0, float("-inf"), 1.0])
    for tau in (0.0, 0.5, 1.0, 100.0):
        assert next_token_probs(u, tau)[1] == 0.0


@pytest.mark.parametrize(
    "tau", [-1.0, -1e-9, float("nan"), float("inf"), float("-inf"), 100.5, "hot", None]
)
def test_bad_temperatures_are_refused(tau):
    with pytest.raises(SettingError, match="temperature"):
        next_token_probs(torch.zeros(3), tau)
    with pytest.raises(SettingError, match="temperature"):
        sample_next(torch.zeros(3), tau, _gen())


@pytest.mark.parametrize(
    "logits, words",
    [
        (torch.tensor([0.0, float("nan")]), "NaN"),
        (torch.tensor([0.0, float("inf")]), r"\+inf"),
        (torch.tensor([[0.0, 1.0], [float("-inf"), float("-inf")]]), "at least one finite"),
        (torch.tensor([1, 2]), "floating-point"),
        (torch.zeros(2, 2, 2), "shape"),
        (torch.zeros(0), "shape"),
        ([0.0, 1.0], "tensor"),
    ],
)
def test_bad_logits_are_refused(logits, words):
    with pytest.raises(SettingError, match=words):
        next_token_probs(logits, 1.0)


# ---------------------------------------------------------------------------------------------
# Top-k and top-p
# ---------------------------------------------------------------------------------------------

# Hand-computed example: probabilities by id, ranked 1 (0.5), 3 (0.2), 2 (0.15), 4 (0.1), 0.
P = [0.05, 0.5, 0.15, 0.2, 0.1]


def _kept(p: torch.Tensor) -> set[int]:
    return set(torch.nonzero(p).flatten().tolist())


@pytest.mark.parametrize(
    "top_k, kept",
    [(1, {1}), (2, {1, 3}), (3, {1, 2, 3}), (5, {0, 1, 2, 3, 4}), (50, set(range(5)))],
)
def test_top_k_keeps_the_k_most_probable(top_k, kept):
    p = filtered_probs(_from_probs(P), 1.0, top_k=top_k)
    assert _kept(p) == kept
    mass = sum(P[i] for i in kept)
    torch.testing.assert_close(
        p, torch.tensor([P[i] / mass if i in kept else 0.0 for i in range(5)], dtype=torch.float64)
    )


@pytest.mark.parametrize(
    "top_p, kept",
    [
        (0.0, {1}),  # always at least one token
        (0.3, {1}),
        (0.5, {1}),  # 0.5 reaches 0.5
        (0.6, {1, 3}),
        (0.7, {1, 3}),  # 0.5 + 0.2 reaches 0.7 exactly: no third token despite rounding
        (0.71, {1, 2, 3}),
        (0.95, {1, 2, 3, 4}),
        (0.96, {0, 1, 2, 3, 4}),
        (1.0, {0, 1, 2, 3, 4}),
    ],
)
def test_top_p_keeps_the_smallest_set_reaching_p(top_p, kept):
    assert _kept(filtered_probs(_from_probs(P), 1.0, top_p=top_p)) == kept


def test_top_k_then_top_p_on_the_renormalised_distribution():
    # after top-3: 0.5/0.85 = 0.588 and 0.2/0.85 = 0.235 already reach 0.8
    p = filtered_probs(_from_probs(P), 1.0, top_k=3, top_p=0.8)
    assert _kept(p) == {1, 3}
    torch.testing.assert_close(p[[1, 3]], torch.tensor([5 / 7, 2 / 7], dtype=torch.float64))
    # top-p alone needs the third token: 0.5 + 0.2 < 0.8
    assert _kept(filtered_probs(_from_probs(P), 1.0, top_p=0.8)) == {1, 2, 3}


def test_ties_at_the_edge_go_to_the_lowest_ids():
    u = torch.zeros(6)
    assert _kept(filtered_probs(u, 1.0, top_k=2)) == {0, 1}
    assert _kept(filtered_probs(u, 1.0, top_p=0.4)) == {0, 1, 2}  # 3 x 1/6 reaches 0.4


@pytest.mark.parametrize("tau", [0.5, 1.0, 3.0])
@pytest.mark.parametrize("top_k", [None, 1, 3, 8])
@pytest.mark.parametrize("top_p", [None, 0.0, 0.3, 0.9, 1.0])
def test_filters_match_the_loop_reference(tau, top_k, top_p):
    u = _logits(4, 8, seed=11)
    p = filtered_probs(u, tau, top_k=top_k, top_p=top_p)
    rows = [reference_filter(reference_softmax(r, tau), top_k, top_p) for r in u.tolist()]
    torch.testing.assert_close(p, torch.tensor(rows, dtype=u.dtype), rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(p.sum(-1), torch.ones(4, dtype=u.dtype))


def test_greedy_is_unchanged_by_the_filters():
    u = _logits(3, 6, seed=4)
    one_hot = next_token_probs(u, 0.0)
    assert torch.equal(filtered_probs(u, 0.0, top_k=3, top_p=0.5), one_hot)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"top_k": 0}, "top_k"),
        ({"top_k": 2.5}, "top_k"),
        ({"top_k": True}, "top_k"),
        ({"top_p": 1.5}, "top_p"),
        ({"top_p": -0.1}, "top_p"),
        ({"top_p": float("nan")}, "top_p"),
    ],
)
def test_bad_filters_are_refused(kwargs, words):
    with pytest.raises(SettingError, match=words):
        filtered_probs(torch.zeros(4), 1.0, **kwargs)
    with pytest.raises(SettingError, match=words):
        sample_next(torch.zeros(4), 0.0, _gen(), **kwargs)


# ---------------------------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------------------------

# 99.9% quantiles of the chi-square distribution with df degrees of freedom.
CHI2_999 = {1: 10.83, 2: 13.82, 3: 16.27, 4: 18.47, 5: 20.52, 6: 22.46, 7: 24.32}


@pytest.mark.parametrize(
    "tau, top_k, top_p", [(1.0, None, None), (0.7, 5, None), (1.5, None, 0.8), (1.0, 6, 0.9)]
)
def test_sampling_frequencies_match_filtered_probs(tau, top_k, top_p):
    u = torch.tensor([1.0, 0.2, -0.5, 2.0, 0.0, -1.0, 0.7, -3.0])
    n = 4000
    draws = sample_next(u.expand(n, -1), tau, _gen(5), top_k, top_p)
    assert draws.shape == (n,) and draws.dtype == torch.long
    counts = torch.bincount(draws, minlength=8).double()
    p = filtered_probs(u, tau, top_k, top_p).double()
    assert counts[p == 0].sum() == 0  # nothing outside the kept set is ever drawn
    kept = p > 0
    expected = n * p[kept]
    chi2 = (((counts[kept] - expected) ** 2) / expected).sum().item()
    assert chi2 < CHI2_999[int(kept.sum()) - 1]


@pytest.mark.parametrize(
    "r, token", [(0.0, 1), (0.2499, 1), (0.2501, 3), (0.9999, 3), (1.0, 3)]
)
def test_a_uniform_r_draws_the_first_token_whose_cumulative_probability_exceeds_it(
    monkeypatch, r, token
):
    """Inverse transform sampling by hand: P = 0, .25, .25, 1, 1 for p = 0, .25, 0, .75, 0.
    r = 1 cannot come from torch.rand, but r * total can round up to the total: the last
    token (probability 0) must still never be drawn."""
    monkeypatch.setattr(
        torch, "rand", lambda shape, dtype, generator: torch.full(shape, r, dtype=dtype)
    )
    u = _from_probs([0.0, 0.25, 0.0, 0.75, 0.0])
    assert int(sample_next(u, 1.0, _gen())) == token
    assert sample_next(u.expand(3, -1), 1.0, _gen()).tolist() == [token] * 3


def test_one_row_gives_a_scalar_a_batch_gives_one_id_per_row():
    assert sample_next(torch.zeros(5), 1.0, _gen()).shape == ()
    assert sample_next(torch.zeros(3, 5), 1.0, _gen()).shape == (3,)
    assert sample_next(torch.zeros(3, 5), 0.0, _gen()).shape == (3,)


def test_same_generator_same_tokens_and_the_global_rng_is_untouched():
    u = _logits(50, 10, seed=1)
    state = torch.random.get_rng_state()
    a = sample_next(u, 1.0, _gen(3), top_p=0.9)
    b = sample_next(u, 1.0, _gen(3), top_p=0.9)
    c = sample_next(u, 1.0, _gen(4), top_p=0.9)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_temperature_zero_returns_the_argmax_without_drawing():
    u = torch.tensor([[0.1, 0.9, 0.9], [3.0, -1.0, 2.0]])
    g = _gen(9)
    before = g.get_state()
    assert sample_next(u, 0.0, g, top_k=2, top_p=0.5).tolist() == [1, 0]
    assert torch.equal(g.get_state(), before)


def test_sampling_needs_a_generator():
    with pytest.raises(SettingError, match="torch.Generator"):
        sample_next(torch.zeros(3), 1.0, None)
    with pytest.raises(SettingError, match="torch.Generator"):
        sample_next(torch.zeros(3), 1.0, 42)


# ---------------------------------------------------------------------------------------------
# Entropy
# ---------------------------------------------------------------------------------------------


def test_entropy_known_values_and_zero_log_zero():
    uniform = torch.full((8,), 1 / 8, dtype=torch.float64)
    assert entropy(uniform).item() == pytest.approx(math.log(8))
    assert entropy_bits(uniform).item() == pytest.approx(3.0)
    assert entropy(torch.tensor([0.0, 1.0, 0.0])).item() == 0.0
    # a one-hot distribution reads "0.00", never "-0.00" (xlogy gives -0.0 there)
    assert f"{entropy(torch.tensor([0.0, 1.0], dtype=torch.float64)).item():.2f}" == "0.00"
    assert entropy(torch.tensor([1.0 + 1e-7, 0.0])).item() >= 0.0  # rounding above 1
    p = torch.tensor([[0.5, 0.25, 0.25, 0.0], [0.1, 0.2, 0.3, 0.4]], dtype=torch.float64)
    loop = [-sum(x * math.log(x) for x in row if x > 0) for row in p.tolist()]
    torch.testing.assert_close(entropy(p), torch.tensor(loop, dtype=torch.float64))
    assert entropy_bits(p[0]).item() == pytest.approx(1.5)


@pytest.mark.parametrize(
    "probs", [torch.tensor([0.5, -0.1]), torch.tensor([float("nan"), 1.0]), torch.tensor([1, 0])]
)
def test_entropy_refuses_what_is_not_probabilities(probs):
    with pytest.raises(SettingError):
        entropy(probs)

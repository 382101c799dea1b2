"""Tests of fmcore.vision.losses: loop references, known answers, symmetries, gradients, bad input.

References are written straight from the formulas (the notes' Section 14.2 SIMCLR loss and
Eq. 1 of Chen et al. 2020) with Python loops, math.exp and math.log in float64.
"""

from __future__ import annotations

import math

import pytest
import torch

from fmcore.errors import SettingError
from fmcore.vision.losses import (
    LossBreakdown,
    nt_xent_breakdown,
    nt_xent_loss,
    simclr_breakdown,
    simclr_loss,
)

SHAPES = [(1, 3), (2, 2), (3, 5), (8, 4), (16, 32)]


def _randn(*shape: int, seed: int, scale: float = 1.0, dtype=torch.float64) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(*shape, generator=g, dtype=dtype)


# ---------------------------------------------------------------------------------------------
# Slow references
# ---------------------------------------------------------------------------------------------


def _dot(u: list[float], v: list[float]) -> float:
    return sum(a * b for a, b in zip(u, v, strict=True))


def reference_simclr_terms(z_hat: torch.Tensor, z_tilde: torch.Tensor) -> list[float]:
    """-log( exp(zh_i.zt_i) / (exp(zh_i.zt_i) + sum_{j != i} exp(zh_i.zt_j)) ), one per i."""
    zh, zt = z_hat.tolist(), z_tilde.tolist()
    B = len(zh)
    terms = []
    for i in range(B):
        p = math.exp(_dot(zh[i], zt[i]))
        q = 0.0
        for j in range(B):
            if j != i:
                q += math.exp(_dot(zh[i], zt[j]))
        terms.append(-math.log(p / (p + q)))
    return terms


def reference_nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> float:
    """Eq. 1 of Chen et al. 2020: mean over the 2N anchors, 2N-1 candidates each."""
    views = z1.tolist() + z2.tolist()
    N = len(z1)

    def sim(u: list[float], v: list[float]) -> float:
        return _dot(u, v) / (math.sqrt(_dot(u, u)) * math.sqrt(_dot(v, v)))

    total = 0.0
    for a in range(2 * N):
        b = a + N if a < N else a - N
        numerator = math.exp(sim(views[a], views[b]) / temperature)
        denominator = 0.0
        for k in range(2 * N):
            if k != a:
                denominator += math.exp(sim(views[a], views[k]) / temperature)
        total += -math.log(numerator / denominator)
    return total / (2 * N)


def f(p: float, q: float) -> float:
    """The row term of footnote 4: -log(p / (p + q))."""
    return -math.log(p / (p + q))


# ---------------------------------------------------------------------------------------------
# Agreement with the references
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_simclr_matches_loop_reference(shape):
    B, m = shape
    z_hat = _randn(B, m, seed=10 + B, scale=0.5)
    z_tilde = _randn(B, m, seed=20 + B, scale=0.5)
    expected = reference_simclr_terms(z_hat, z_tilde)
    got = simclr_loss(z_hat, z_tilde, reduction="none")
    assert got.shape == (B,)
    assert got.tolist() == pytest.approx(expected, rel=1e-10, abs=1e-10)
    assert float(simclr_loss(z_hat, z_tilde)) == pytest.approx(sum(expected), rel=1e-10)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("temperature", [0.1, 0.5, 2.0])
def test_nt_xent_matches_loop_reference(shape, temperature):
    N, m = shape
    z1 = _randn(N, m, seed=30 + N)
    z2 = _randn(N, m, seed=40 + N)
    expected = reference_nt_xent(z1, z2, temperature)
    got = float(nt_xent_loss(z1, z2, temperature=temperature))
    assert got == pytest.approx(expected, rel=1e-10, abs=1e-10)


def test_float32_close_to_reference():
    z_hat = _randn(6, 4, seed=1, dtype=torch.float32)
    z_tilde = _randn(6, 4, seed=2, dtype=torch.float32)
    expected = sum(reference_simclr_terms(z_hat, z_tilde))
    assert float(simclr_loss(z_hat, z_tilde)) == pytest.approx(expected, rel=1e-5)
    assert float(nt_xent_loss(z_hat, z_tilde, 0.2)) == pytest.approx(
        reference_nt_xent(z_hat, z_tilde, 0.2), rel=1e-5
    )


# ---------------------------------------------------------------------------------------------
# Known answers
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("N", [1, 2, 5])
@pytest.mark.parametrize("temperature", [0.05, 0.5, 10.0])
def test_nt_xent_identical_views_give_log_2n_minus_1(N, temperature):
    row = _randn(1, 7, seed=3)
    z = row.repeat(N, 1)  # every view the same vector: all logits equal
    loss = float(nt_xent_loss(z, z.clone(), temperature))
    assert loss == pytest.approx(math.log(2 * N - 1), abs=1e-9)


@pytest.mark.parametrize("B", [1, 2, 7])
def test_simclr_zero_embeddings_give_log_b(B):
    z = torch.zeros(B, 3, dtype=torch.float64)
    terms = simclr_loss(z, z, reduction="none")
    assert terms.tolist() == pytest.approx([math.log(B)] * B, abs=1e-12)
    assert float(simclr_loss(z, z)) == pytest.approx(B * math.log(B), abs=1e-12)


def test_simclr_hand_computed_2x2():
    # z_hat = [[1, 0], [0, 1]], z_tilde = [[2, 0], [1, 1]]
    # S = z_hat z_tilde^T = [[2, 1], [0, 1]]
    # row 0: -log(e^2 / (e^2 + e^1)) = log(1 + e^-1); row 1: -log(e / (e + 1)) = log(1 + e^-1)
    z_hat = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    z_tilde = torch.tensor([[2.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    expected = math.log(1 + math.exp(-1))
    assert simclr_loss(z_hat, z_tilde, "none").tolist() == pytest.approx([expected] * 2)
    assert float(simclr_loss(z_hat, z_tilde)) == pytest.approx(2 * expected)
    br = simclr_breakdown(z_hat, z_tilde)
    assert br.similarity.tolist() == [[2.0, 1.0], [0.0, 1.0]]
    assert br.positive.tolist() == pytest.approx([math.e**2, math.e])
    assert br.negatives.tolist() == pytest.approx([math.e, 1.0])


def test_nt_xent_hand_computed_orthogonal_pairs():
    # z1 = [e1, e2], z2 = [e1, e2]: cos = 1 with the positive, 0 with both negatives.
    # Each anchor: -log(e^{1/t} / (e^{1/t} + 2 e^0)) = log(1 + 2 e^{-1/t}).
    t = 0.5
    z = torch.eye(2, dtype=torch.float64)
    expected = math.log(1 + 2 * math.exp(-1 / t))
    assert float(nt_xent_loss(z, z.clone(), t)) == pytest.approx(expected, abs=1e-12)


def test_footnote4_monotonic_on_grid():
    grid = [0.01, 0.1, 0.5, 1.0, 2.0, 10.0, 100.0]
    for q in grid:
        values = [f(p, q) for p in grid]
        assert all(a > b for a, b in zip(values, values[1:], strict=False))  # decreasing in p
    for p in grid:
        values = [f(p, q) for q in grid]
        assert all(a < b for a, b in zip(values, values[1:], strict=False))  # increasing in q


def test_footnote4_gradient_signs():
    # With z_hat = I and z_tilde = S^T, the matrix z_hat z_tilde^T is S itself, so the
    # gradient w.r.t. S is the gradient w.r.t. the similarities.
    B = 4
    S = _randn(B, B, seed=5).requires_grad_(True)
    z_hat = torch.eye(B, dtype=torch.float64)
    simclr_loss(z_hat, S.T).backward()
    grad = S.grad
    assert grad is not None
    off_diagonal = ~torch.eye(B, dtype=torch.bool)
    assert bool((grad.diagonal() < 0).all())  # more positive similarity, lower loss
    assert bool((grad[off_diagonal] > 0).all())  # more negative similarity, higher loss


# ---------------------------------------------------------------------------------------------
# Symmetries
# ---------------------------------------------------------------------------------------------


def test_batch_permutation_leaves_losses_unchanged():
    z1, z2 = _randn(9, 5, seed=6), _randn(9, 5, seed=7)
    perm = torch.randperm(9, generator=torch.Generator().manual_seed(8))
    assert float(simclr_loss(z1[perm], z2[perm])) == pytest.approx(float(simclr_loss(z1, z2)))
    terms = simclr_loss(z1, z2, "none")
    assert simclr_loss(z1[perm], z2[perm], "none").tolist() == pytest.approx(terms[perm].tolist())
    assert float(nt_xent_loss(z1[perm], z2[perm], 0.3)) == pytest.approx(
        float(nt_xent_loss(z1, z2, 0.3))
    )


def test_nt_xent_symmetric_in_views():
    z1, z2 = _randn(6, 3, seed=9), _randn(6, 3, seed=10)
    assert float(nt_xent_loss(z1, z2, 0.7)) == pytest.approx(float(nt_xent_loss(z2, z1, 0.7)))


def test_nt_xent_scale_invariant():
    z1, z2 = _randn(5, 4, seed=11), _randn(5, 4, seed=12)
    base = float(nt_xent_loss(z1, z2))
    assert float(nt_xent_loss(3.0 * z1, 0.01 * z2)) == pytest.approx(base, rel=1e-10)


# ---------------------------------------------------------------------------------------------
# Gradients and large values
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1.0, 1e3])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gradients_finite_even_for_large_embeddings(scale, dtype):
    z1 = _randn(8, 6, seed=13, scale=scale, dtype=dtype).requires_grad_(True)
    z2 = _randn(8, 6, seed=14, scale=scale, dtype=dtype).requires_grad_(True)
    for loss in (simclr_loss(z1, z2), simclr_loss(z1, z2, "mean"), nt_xent_loss(z1, z2, 0.01)):
        assert bool(torch.isfinite(loss))
        g1, g2 = torch.autograd.grad(loss, (z1, z2))
        assert bool(torch.isfinite(g1).all()) and bool(torch.isfinite(g2).all())


def test_simclr_large_values_match_shifted_formula():
    # With values ~1e3 the similarities are ~1e6: exp overflows, logsumexp does not.
    z_hat = torch.tensor([[1e3, 0.0], [0.0, 1e3]], dtype=torch.float64)
    z_tilde = torch.tensor([[1e3, 0.0], [1e3, 1e-3]], dtype=torch.float64)
    # S = [[1e6, 1e6], [0, 1]]: row 0 is log 2; row 1 is log(1 + e^-1).
    expected = [math.log(2.0), math.log(1 + math.exp(-1))]
    assert simclr_loss(z_hat, z_tilde, "none").tolist() == pytest.approx(expected)
    br = simclr_breakdown(z_hat, z_tilde)
    assert math.isinf(float(br.positive[0]))  # display value overflows...
    assert br.row_terms.tolist() == pytest.approx(expected)  # ...the terms do not


def test_nt_xent_huge_entries_do_not_overflow_the_norm():
    z1, z2 = _randn(4, 3, seed=15, dtype=torch.float32), _randn(4, 3, seed=16, dtype=torch.float32)
    base = float(nt_xent_loss(z1, z2))
    assert float(nt_xent_loss(1e30 * z1, 1e-30 * z2)) == pytest.approx(base, rel=1e-5)


def test_simclr_overflowing_dot_products_refused():
    z = torch.full((2, 2), 1e30, dtype=torch.float32)
    with pytest.raises(SettingError, match="overflow"):
        simclr_loss(z, z)


# ---------------------------------------------------------------------------------------------
# Breakdowns and reductions
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_simclr_breakdown_matches_loss(shape):
    B, m = shape
    z_hat = _randn(B, m, seed=50 + B, dtype=torch.float32).requires_grad_(True)
    z_tilde = _randn(B, m, seed=60 + B, dtype=torch.float32)
    br = simclr_breakdown(z_hat, z_tilde)
    assert isinstance(br, LossBreakdown)
    assert br.method == "simclr" and br.temperature is None and br.num_negatives == B - 1
    assert br.similarity.shape == (B, B) and br.similarity.dtype == torch.float64
    for t in (br.positive, br.negatives, br.log_positive, br.log_negatives, br.row_terms):
        assert t.shape == (B,) and t.dtype == torch.float64 and not t.requires_grad
    assert br.total == pytest.approx(float(simclr_loss(z_hat, z_tilde).detach()), abs=1e-6)
    terms = simclr_loss(z_hat, z_tilde, "none").detach().double()
    assert torch.allclose(br.row_terms, terms)
    from_pq = -torch.log(br.positive / (br.positive + br.negatives))
    assert torch.allclose(br.row_terms, from_pq, atol=1e-5)
    S = (z_hat.detach() @ z_tilde.T).double()
    assert torch.allclose(br.similarity, S)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("temperature", [0.05, 0.5])
def test_nt_xent_breakdown_matches_loss(shape, temperature):
    N, m = shape
    z1 = _randn(N, m, seed=70 + N, dtype=torch.float32)
    z2 = _randn(N, m, seed=80 + N, dtype=torch.float32)
    br = nt_xent_breakdown(z1, z2, temperature)
    assert br.method == "nt_xent" and br.temperature == temperature
    assert br.num_negatives == 2 * N - 2
    assert br.similarity.shape == (N, N)
    assert br.total == pytest.approx(float(nt_xent_loss(z1, z2, temperature)), abs=1e-6)
    u1 = torch.nn.functional.normalize(z1.double(), dim=1)
    u2 = torch.nn.functional.normalize(z2.double(), dim=1)
    assert torch.allclose(br.similarity, u1 @ u2.T / temperature, atol=1e-5)
    # q_i includes the same-view negatives: all 2N-2 negatives of anchor z1_i.
    same = u1 @ u1.T / temperature
    for i in range(N):
        q = sum(math.exp(float(br.similarity[i, j])) for j in range(N) if j != i)
        q += sum(math.exp(float(same[i, k])) for k in range(N) if k != i)
        assert float(br.negatives[i]) == pytest.approx(q, rel=1e-4, abs=1e-12)
        assert float(br.positive[i]) == pytest.approx(math.exp(float(br.similarity[i, i])))
    from_pq = -torch.log(br.positive / (br.positive + br.negatives))
    assert torch.allclose(br.row_terms, from_pq, atol=1e-4)


def test_single_row_has_no_negatives():
    z = _randn(1, 4, seed=17)
    br = simclr_breakdown(z, 2 * z)
    assert br.negatives.tolist() == [0.0] and br.log_negatives.tolist() == [-math.inf]
    assert br.row_terms.tolist() == [0.0] and br.total == 0.0
    assert nt_xent_breakdown(z, z).row_terms.tolist() == pytest.approx([0.0])


def test_reductions_consistent():
    z1, z2 = _randn(7, 3, seed=18), _randn(7, 3, seed=19)
    none = simclr_loss(z1, z2, reduction="none")
    assert none.shape == (7,)
    assert float(simclr_loss(z1, z2, reduction="sum")) == pytest.approx(float(none.sum()))
    assert float(simclr_loss(z1, z2, reduction="mean")) == pytest.approx(float(none.mean()))
    assert simclr_loss(z1, z2).ndim == 0


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


GOOD = torch.zeros(3, 2)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (torch.zeros(3, 2), torch.zeros(4, 2)),
        (torch.zeros(3, 2), torch.zeros(3, 5)),
        (torch.zeros(3), torch.zeros(3)),
        (torch.zeros(2, 3, 2), torch.zeros(2, 3, 2)),
        (torch.zeros(0, 2), torch.zeros(0, 2)),
        (torch.zeros(3, 0), torch.zeros(3, 0)),
        (torch.zeros(3, 2, dtype=torch.long), torch.zeros(3, 2, dtype=torch.long)),
        ([[0.0, 0.0]], [[0.0, 0.0]]),
        (torch.tensor([[0.0, math.nan], [1.0, 2.0]]), torch.zeros(2, 2)),
        (torch.zeros(2, 2), torch.tensor([[0.0, math.inf], [1.0, 2.0]])),
    ],
)
def test_bad_embeddings_refused(a, b):
    for call in (simclr_loss, nt_xent_loss, simclr_breakdown, nt_xent_breakdown):
        with pytest.raises(SettingError):
            call(a, b)


@pytest.mark.parametrize("temperature", [0, -1, math.inf, math.nan, 0.001, 1e3, "hot", None])
def test_bad_temperature_refused(temperature):
    for call in (nt_xent_loss, nt_xent_breakdown):
        with pytest.raises(SettingError, match="temperature"):
            call(GOOD, GOOD, temperature)


@pytest.mark.parametrize("reduction", ["avg", "SUM", "", None, 1])
def test_bad_reduction_refused(reduction):
    with pytest.raises(SettingError, match="reduction"):
        simclr_loss(GOOD, GOOD, reduction=reduction)


def test_errors_are_value_errors_with_clear_messages():
    with pytest.raises(ValueError, match=r"same shape.*\(3, 2\) and \(4, 2\)"):
        simclr_loss(torch.zeros(3, 2), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="NaN"):
        nt_xent_loss(torch.full((2, 2), math.nan), torch.zeros(2, 2))
    with pytest.raises(ValueError, match="between 0.01 and 100"):
        nt_xent_loss(GOOD, GOOD, temperature=0)


def test_batch_limit():
    from fmcore.vision.losses import MAX_BATCH

    z = torch.zeros(MAX_BATCH + 1, 1)
    with pytest.raises(SettingError, match="at most"):
        simclr_loss(z, z)

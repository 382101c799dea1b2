"""Contrastive losses: the notes' SIMCLR loss and the SimCLR paper's NT-Xent.

Two losses that look alike and differ in the details a student should notice:

- :func:`simclr_loss` is the variant of the lecture notes (Section 14.2, the SIMCLR loss;
  footnote 3 calls it a simplification of the original). Similarities are raw dot products
  ``z_hat_i . z_tilde_j`` (no normalisation, no temperature), each anchor ``z_hat_i`` is
  compared only with the B second views ``z_tilde_j`` (its positive plus B-1 negatives), and
  the B terms are summed.
- :func:`nt_xent_loss` is the paper's NT-Xent (Chen et al. 2020, Eq. 1 of the paper):
  cosine similarities divided by a temperature, every one of the 2N views is an anchor whose
  candidates are the other 2N-1 views, and the 2N terms are averaged.

Both are computed with ``logsumexp`` over the rows of a similarity matrix, so large
similarities never overflow (``exp(1000)`` is never formed). The ``*_breakdown`` functions
return the pieces a teaching page shows: the similarity matrix, each row's positive term
``p_i``, its negatives ``q_i`` and its loss term ``-log(p_i / (p_i + q_i))``, which by
footnote 4 decreases in ``p_i`` and increases in ``q_i``.

Bad input (wrong shapes, NaN or inf, a temperature out of range, an unknown reduction)
raises :class:`fmcore.errors.SettingError`, a ``ValueError`` with a message a student can
act on (rule 8 of DESIGN.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from fmcore.errors import SettingError
from fmcore.validate import finite_float

# Largest batch (rows of each view) a loss accepts. The similarity matrices are (B, B) for the
# notes' loss and (2B, 2B) for NT-Xent; 4096 keeps them under a few hundred MB in float32,
# far above what a laptop-CPU lesson trains with, and stops a query parameter from asking for
# gigabytes (rule 8 of DESIGN.md).
MAX_BATCH = 4096

# Range of the NT-Xent temperature. Cosine similarities lie in [-1, 1], so the logits lie in
# [-1/temperature, 1/temperature]; 0.01 gives logits up to 100 (still exact via logsumexp).
MIN_TEMPERATURE = 0.01
MAX_TEMPERATURE = 100.0

REDUCTIONS = ("sum", "mean", "none")


@dataclass(frozen=True, eq=False)
class LossBreakdown:
    """The pieces of a contrastive loss, row by row, for display (all tensors detached, CPU).

    For row (anchor) ``i``, with ``S`` the similarity matrix below, the loss term is
    ``-log(p_i / (p_i + q_i))`` where ``p_i = exp(S_ii)`` is the positive term and ``q_i`` the
    sum of ``exp`` over the anchor's negatives. ``p`` and ``q`` can be ``inf`` (or ``q`` 0)
    when similarities are large; ``log_positive``, ``log_negatives`` and ``row_terms`` are
    computed in log space and stay finite.
    """

    method: str  # "simclr" (the notes' variant) or "nt_xent" (the paper's)
    similarity: torch.Tensor  # (B, B) float64: S_ij between first-view row i, second-view row j
    positive: torch.Tensor  # (B,) float64: p_i = exp(S_ii), for display only
    negatives: torch.Tensor  # (B,) float64: q_i = sum over the negatives of anchor i of exp(.)
    log_positive: torch.Tensor  # (B,) float64: log p_i = S_ii
    log_negatives: torch.Tensor  # (B,) float64: log q_i (-inf when there is no negative)
    row_terms: torch.Tensor  # (B,) float64: -log(p_i / (p_i + q_i)), computed stably
    total: float  # the loss: simclr_loss (sum over rows) or nt_xent_loss (mean over 2N anchors)
    temperature: float | None  # NT-Xent's temperature; None for the notes' variant
    num_negatives: int  # negatives per anchor: B-1 (notes' variant) or 2N-2 (NT-Xent)


# ---------------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------------


def _check_views(
    first_name: str, first: object, second_name: str, second: object
) -> tuple[torch.Tensor, torch.Tensor]:
    """Both views as tensors of one floating dtype and shape (B, m), or a SettingError."""
    for name, value in ((first_name, first), (second_name, second)):
        if not isinstance(value, torch.Tensor):
            raise SettingError(
                f"{name} must be a torch tensor of shape (batch, dim), got {type(value).__name__}."
            )
        if value.ndim != 2:
            raise SettingError(
                f"{name} must be 2-D, of shape (batch, dim), got shape {tuple(value.shape)}."
            )
        if not value.is_floating_point():
            raise SettingError(f"{name} must hold floating-point numbers, got {value.dtype}.")
    assert isinstance(first, torch.Tensor) and isinstance(second, torch.Tensor)
    if first.shape != second.shape:
        raise SettingError(
            f"{first_name} and {second_name} must have the same shape (one row per image in "
            f"each view), got {tuple(first.shape)} and {tuple(second.shape)}."
        )
    rows, dim = first.shape
    if rows < 1 or dim < 1:
        raise SettingError(
            f"{first_name} and {second_name} need at least one row and one column, "
            f"got shape {tuple(first.shape)}."
        )
    if rows > MAX_BATCH:
        raise SettingError(f"The batch may have at most {MAX_BATCH} rows, got {rows}.")
    for name, value in ((first_name, first), (second_name, second)):
        if not bool(torch.isfinite(value).all()):
            raise SettingError(
                f"{name} contains NaN or infinite values; every entry must be finite."
            )
    dtype = torch.promote_types(first.dtype, second.dtype)
    return first.to(dtype), second.to(dtype)


def _check_reduction(reduction: object) -> str:
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise SettingError(f"reduction must be one of {', '.join(REDUCTIONS)}; got {reduction!r}.")
    return reduction


def _check_temperature(temperature: object) -> float:
    return finite_float("temperature", temperature, MIN_TEMPERATURE, MAX_TEMPERATURE)


# ---------------------------------------------------------------------------------------------
# The notes' SIMCLR loss (Section 14.2)
# ---------------------------------------------------------------------------------------------


def _simclr_similarity(z_hat: torch.Tensor, z_tilde: torch.Tensor) -> torch.Tensor:
    """S_ij = z_hat_i . z_tilde_j, refused when a dot product overflows the dtype."""
    S = z_hat @ z_tilde.T  # (B, B)
    if not bool(torch.isfinite(S).all()):
        raise SettingError(
            "The dot products between the embeddings overflow (the embeddings are too large "
            "for their number type); scale them down or use float64."
        )
    return S


def _simclr_terms(S: torch.Tensor) -> torch.Tensor:
    """Row terms -log( exp(S_ii) / sum_j exp(S_ij) ) = logsumexp_j S_ij - S_ii."""
    return torch.logsumexp(S, dim=1) - S.diagonal()  # (B,)


def simclr_loss(z_hat: torch.Tensor, z_tilde: torch.Tensor, reduction: str = "sum") -> torch.Tensor:
    """The SIMCLR loss of the lecture notes (Section 14.2), exactly as written there.

    With ``z_hat_i = phi(x_hat_i)`` and ``z_tilde_i = phi(x_tilde_i)`` the two augmented views
    of example ``i``::

        L = sum_i -log( exp(z_hat_i . z_tilde_i)
                        / ( exp(z_hat_i . z_tilde_i) + sum_{j != i} exp(z_hat_i . z_tilde_j) ) )

    Raw dot products, no normalisation and no temperature; the anchors are the first views
    only and the candidates of anchor ``i`` are the B second views ``z_tilde_j`` (the positive
    ``j = i`` and B-1 negatives). This is the notes' simplification of the paper's loss
    (footnote 3); :func:`nt_xent_loss` is the paper's. Each term is computed as
    ``logsumexp_j S_ij - S_ii`` over ``S = z_hat @ z_tilde.T``, so it never overflows.

    Args:
        z_hat: (B, m) embeddings of the first views.
        z_tilde: (B, m) embeddings of the second views, row ``i`` paired with ``z_hat[i]``.
        reduction: ``"sum"`` (the notes' loss), ``"mean"`` (sum / B) or ``"none"`` (the B
            row terms).

    Returns:
        A scalar tensor, or a (B,) tensor for ``reduction="none"``.

    B = 1 is allowed: the formula is defined, the anchor has no negative and its term is 0.

    Raises:
        SettingError: shapes differ or are not (B, m) with B, m >= 1 and B <= MAX_BATCH,
            non-finite entries or overflowing dot products, or an unknown reduction.
    """
    reduction = _check_reduction(reduction)
    z_hat, z_tilde = _check_views("z_hat", z_hat, "z_tilde", z_tilde)
    S = _simclr_similarity(z_hat, z_tilde)  # (B, B)
    l = _simclr_terms(S)  # (B,)
    if reduction == "sum":
        return l.sum()
    if reduction == "mean":
        return l.mean()
    return l


def simclr_breakdown(z_hat: torch.Tensor, z_tilde: torch.Tensor) -> LossBreakdown:
    """Row-by-row pieces of :func:`simclr_loss` (the notes' variant, Section 14.2).

    ``similarity`` is ``S_ij = z_hat_i . z_tilde_j`` (B, B); for anchor ``i`` the positive is
    ``p_i = exp(S_ii)``, the negatives ``q_i = sum_{j != i} exp(S_ij)`` (B-1 of them) and the
    row term ``-log(p_i / (p_i + q_i))``; by footnote 4 it decreases in ``p_i`` and increases
    in ``q_i``. ``total`` is the sum of the row terms, ``simclr_loss(z_hat, z_tilde)``.
    """
    z_hat, z_tilde = _check_views("z_hat", z_hat, "z_tilde", z_tilde)
    with torch.no_grad():
        S = _simclr_similarity(z_hat.detach(), z_tilde.detach())  # (B, B)
        l = _simclr_terms(S)  # (B,)
        S64 = S.to(torch.float64).cpu()  # (B, B)
        B = S64.shape[0]
        off_diagonal = ~torch.eye(B, dtype=torch.bool)  # (B, B)
        log_p = S64.diagonal().clone()  # (B,)
        log_q = torch.logsumexp(S64.masked_fill(~off_diagonal, -torch.inf), dim=1)  # (B,)
        return LossBreakdown(
            method="simclr",
            similarity=S64,
            positive=log_p.exp(),
            negatives=log_q.exp(),
            log_positive=log_p,
            log_negatives=log_q,
            row_terms=l.to(torch.float64).cpu(),
            total=float(l.sum()),
            temperature=None,
            num_negatives=B - 1,
        )


# ---------------------------------------------------------------------------------------------
# The paper's NT-Xent (Chen et al. 2020, Eq. 1)
# ---------------------------------------------------------------------------------------------


def _unit_rows(z: torch.Tensor) -> torch.Tensor:
    """Each row divided by its L2 norm (zero rows stay zero), without overflow or underflow.

    Rows are first divided by their largest absolute entry (a constant for autograd; the
    result and its gradient are unchanged because normalisation ignores scale), so the sum of
    squares never overflows for entries like 1e30 in float32.
    """
    scale = z.detach().abs().amax(dim=1, keepdim=True)  # (R, 1)
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))  # (R, 1)
    return torch.nn.functional.normalize(z / scale, dim=1)  # (R, m)


def _nt_xent_logits(z1: torch.Tensor, z2: torch.Tensor, tau: float) -> torch.Tensor:
    """cos(z_a, z_b) / tau for all pairs of the 2N views [z1; z2]."""
    u = _unit_rows(torch.cat([z1, z2], dim=0))  # (2N, m)
    return (u @ u.T) / tau  # (2N, 2N)


def _nt_xent_terms(S: torch.Tensor) -> torch.Tensor:
    """l(a) = -log( exp(S_a,pos(a)) / sum_{k != a} exp(S_ak) ) for the 2N anchors a."""
    R = S.shape[0]  # 2N
    N = R // 2
    a = torch.arange(R, device=S.device)  # (2N,)
    positive = (a + N) % R  # (2N,): row i of z1 pairs with row i of z2
    self_mask = torch.eye(R, dtype=torch.bool, device=S.device)  # (2N, 2N)
    log_denominator = torch.logsumexp(S.masked_fill(self_mask, -torch.inf), dim=1)  # (2N,)
    return log_denominator - S[a, positive]  # (2N,)


def nt_xent_loss(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.5) -> torch.Tensor:
    """NT-Xent, the loss of the SimCLR paper (Chen et al. 2020, Eq. 1 of the paper).

    The 2N views are ``[z1; z2]``; ``sim(u, v) = u.v / (|u| |v|)`` is the cosine similarity.
    Every view ``a`` is an anchor whose positive ``b`` is the other view of the same example
    and whose candidates are the other 2N-1 views (itself excluded, the 2N-2 negatives include
    views of the same augmentation)::

        l(a, b) = -log( exp(sim(z_a, z_b) / temperature)
                        / sum_{k != a} exp(sim(z_a, z_k) / temperature) )
        L = (1 / 2N) * sum over the 2N anchors of l(a, b)     (both directions)

    Differences with the notes' :func:`simclr_loss`: cosine instead of raw dot product, a
    temperature, both directions, negatives from both views, and a mean instead of a sum.
    Computed with ``logsumexp``; a zero row has cosine 0 with everything (as in
    ``torch.nn.functional.normalize``).

    Args:
        z1: (N, m) embeddings of the first views.
        z2: (N, m) embeddings of the second views, row ``i`` paired with ``z1[i]``.
        temperature: divides the cosine similarities, finite, in [0.01, 100].

    Returns:
        A scalar tensor. N = 1 is allowed: each anchor has one candidate, its positive, and
        the loss is 0.

    Raises:
        SettingError: shapes differ or are not (N, m) with N, m >= 1 and N <= MAX_BATCH,
            non-finite entries, or a temperature that is not a finite number in [0.01, 100].
    """
    tau = _check_temperature(temperature)
    z1, z2 = _check_views("z1", z1, "z2", z2)
    S = _nt_xent_logits(z1, z2, tau)  # (2N, 2N)
    return _nt_xent_terms(S).mean()


def nt_xent_breakdown(
    z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.5
) -> LossBreakdown:
    """Row-by-row pieces of :func:`nt_xent_loss` (Chen et al. 2020, Eq. 1), first view only.

    ``similarity`` is the (N, N) cross-view matrix ``S_ij = cos(z1_i, z2_j) / temperature``.
    The rows are the N anchors of the first view ``z1_i``: ``p_i = exp(S_ii)`` is the positive
    term and ``q_i`` sums ``exp`` over all 2N-2 negatives of that anchor, the N-1 cross-view
    ones ``S_ij, j != i`` *and* the N-1 same-view ones ``cos(z1_i, z1_k) / temperature,
    k != i`` (these are not in ``similarity``). ``row_terms[i] = -log(p_i / (p_i + q_i))`` is
    the paper's ``l(i, N+i)``.

    ``total`` is the loss itself, the mean over all 2N anchors (the N first-view rows shown
    here and the N second-view anchors, not shown), so it is *not* the mean of ``row_terms``
    in general; it equals ``nt_xent_loss(z1, z2, temperature)``.
    """
    tau = _check_temperature(temperature)
    z1, z2 = _check_views("z1", z1, "z2", z2)
    with torch.no_grad():
        S = _nt_xent_logits(z1.detach(), z2.detach(), tau)  # (2N, 2N)
        l = _nt_xent_terms(S)  # (2N,)
        N = z1.shape[0]
        S64 = S.to(torch.float64).cpu()  # (2N, 2N)
        first_rows = S64[:N]  # (N, 2N): anchors z1_i against [z1; z2]
        i = torch.arange(N)  # (N,)
        log_p = first_rows[i, i + N].clone()  # (N,)
        negative_mask = torch.ones(N, 2 * N, dtype=torch.bool)  # (N, 2N)
        negative_mask[i, i] = False  # the anchor itself
        negative_mask[i, i + N] = False  # its positive
        log_q = torch.logsumexp(first_rows.masked_fill(~negative_mask, -torch.inf), dim=1)  # (N,)
        return LossBreakdown(
            method="nt_xent",
            similarity=first_rows[:, N:].clone(),  # (N, N)
            positive=log_p.exp(),
            negatives=log_q.exp(),
            log_positive=log_p,
            log_negatives=log_q,
            row_terms=l[:N].to(torch.float64).cpu(),
            total=float(l.mean()),
            temperature=tau,
            num_negatives=2 * N - 2,
        )

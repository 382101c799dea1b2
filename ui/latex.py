"""Small helpers to put live numbers into ``st.latex`` formulas."""

from __future__ import annotations

import math
from collections.abc import Sequence


def num(x: float, digits: int = 4) -> str:
    """A number for LaTeX with ``digits`` significant digits, never 'nan' or 'inf'."""
    if not math.isfinite(x):
        return r"\infty" if x > 0 else (r"-\infty" if x < 0 else r"\text{undefined}")
    text = f"{x:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa}\times 10^{{{int(exponent)}}}"
    return text


def vec(values: Sequence[float], digits: int = 4) -> str:
    """A column vector."""
    return r"\begin{bmatrix}" + r"\\".join(num(v, digits) for v in values) + r"\end{bmatrix}"


# The two contrastive losses of the lab, as the SimCLR-loss and pretraining lessons show them,
# in the notes' notation: phi_theta applied to the views (z is the pretext lesson's pseudolabel).
_PHI_HAT = r"\phi_\theta(\hat x^{(i)})^\top"
# The notes' loss (Section 14.2; the notes number no equation there), summed over the B pairs:
NOTES_SIMCLR = (r"L_{\text{pre}}(\theta) = -\sum_{i=1}^{B}\log"
                rf"\frac{{\exp({_PHI_HAT}\phi_\theta(\tilde x^{{(i)}}))}}"
                rf"{{\exp({_PHI_HAT}\phi_\theta(\tilde x^{{(i)}}))+\sum_{{j\neq i}}"
                rf"\exp({_PHI_HAT}\phi_\theta(\tilde x^{{(j)}}))}}")
# The same loss with the p and q the SimCLR-loss page's bars use, on three lines: narrow
# enough for classroom type (one line is wider than the page there)
_NOTES_PQ = [r"L_{\text{pre}}(\theta)&=-\sum_{i=1}^{B}\log\frac{p_i}{p_i+q_i}",
             rf"p_i&=\exp({_PHI_HAT}\phi_\theta(\tilde x^{{(i)}}))",
             rf"q_i&=\sum_{{j\neq i}}\exp({_PHI_HAT}\phi_\theta(\tilde x^{{(j)}}))"]
NOTES_SIMCLR_PQ = r"\begin{aligned}" + r",\\ ".join(_NOTES_PQ) + r"\end{aligned}"
# NT-Xent (Chen et al. 2020, Eq. 1), the mean over all 2B views v_1..v_2B as anchors; s_kl is
# the cosine of their phi_theta, k+ the other view of v_k's image:
_NT_XENT = (r"L_{\text{NT-Xent}}(\theta) = \frac{1}{2B}\sum_{k=1}^{2B} -\log"
            r"\frac{\exp(s_{kk^+}/\tau)}{\sum_{l\neq k}\exp(s_{kl}/\tau)}")
_COSINE = r"s_{kl} = \cos(\phi_\theta(v_k), \phi_\theta(v_l))"
NT_XENT = _NT_XENT + r",\quad " + _COSINE


def loss_formula(loss: str, value: str | None = None, lines: bool = False) -> str:
    """The formula of ``loss`` ("notes" or "nt_xent"), ending "= value" when a value is
    given (for the notes' loss the value is L_pre / B, the mean over the B anchors).
    ``lines``: one definition per line, narrow enough for classroom type."""
    if loss == "notes":
        head = _NOTES_PQ if lines else [NOTES_SIMCLR.replace("=", "&=", 1)]
        tail = [r"\tfrac{1}{B}L_{\text{pre}}(\theta) &= " + value] if value is not None else []
    else:
        head = [_NT_XENT.replace("=", "&=", 1) + (" = " + value if value is not None else "")]
        head.append(_COSINE.replace("=", "&=", 1))
        tail = []
    if lines:
        return r"\begin{aligned}" + r",\\ ".join(head + tail) + r"\end{aligned}"
    return r",\qquad ".join(line.replace("&", "") for line in head + tail)

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


# The two contrastive losses of the lab, as the SimCLR-loss and pretraining lessons show them.
# The notes' loss (Section 14.2; the notes number no equation there), summed over the B pairs:
NOTES_SIMCLR = (r"L_{\text{pre}}(\theta) = -\sum_{i=1}^{B}\log"
                r"\frac{\exp(\phi(\hat x^{(i)})^\top\phi(\tilde x^{(i)}))}"
                r"{\exp(\phi(\hat x^{(i)})^\top\phi(\tilde x^{(i)}))+\sum_{j\neq i}"
                r"\exp(\phi(\hat x^{(i)})^\top\phi(\tilde x^{(j)}))}")
# NT-Xent (Chen et al. 2020, Eq. 1), the mean over all 2B views as anchors:
NT_XENT = (r"L = \frac{1}{2B}\sum_{k=1}^{2B} -\log\frac{\exp(\cos(z_k, z_{k^+})/\tau)}"
           r"{\sum_{l\neq k}\exp(\cos(z_k, z_l)/\tau)}")
# The same loss on three lines, with the p and q the page's bars use: narrow enough for
# classroom type (one line is wider than the page there)
NOTES_SIMCLR_PQ = (r"\begin{aligned}L_{\text{pre}}(\theta)&=-\sum_{i=1}^{B}\log\frac{p_i}{p_i+q_i},"
                   r"\\ p_i&=\exp(\phi(\hat x^{(i)})^\top\phi(\tilde x^{(i)})),"
                   r"\\ q_i&=\sum_{j\neq i}\exp(\phi(\hat x^{(i)})^\top\phi(\tilde x^{(j)}))"
                   r"\end{aligned}")

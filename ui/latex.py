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

"""Checks shared by every entry point: numbers from widgets, query parameters and tests.

Limits live here, in fmcore, not only in widget bounds, because query parameters and tests
bypass widgets (rule 8 of DESIGN.md).
"""

from __future__ import annotations

import math

from fmcore.errors import SettingError


def finite_float(name: str, value: object, low: float, high: float) -> float:
    """``value`` as a float in [low, high], or a SettingError that says what is allowed."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise SettingError(f"{name} must be a number, got {value!r}.") from None
    if not math.isfinite(number):
        raise SettingError(f"{name} must be a finite number, got {value!r}.")
    if not low <= number <= high:
        raise SettingError(f"{name} must be between {low:g} and {high:g}, got {number:g}.")
    return number


def bounded_int(name: str, value: object, low: int, high: int) -> int:
    """``value`` as an int in [low, high], or a SettingError that says what is allowed."""
    if isinstance(value, bool):
        raise SettingError(f"{name} must be a whole number, got {value!r}.")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise SettingError(f"{name} must be a whole number, got {value!r}.") from None
    if not math.isfinite(number) or number != int(number):
        raise SettingError(f"{name} must be a whole number, got {value!r}.")
    if not low <= int(number) <= high:
        raise SettingError(f"{name} must be between {low} and {high}, got {int(number)}.")
    return int(number)


def check_generator(generator: object):
    """``generator`` if it is a ``torch.Generator``, else a SettingError.

    Every random function takes one (rule 4 of DESIGN.md): all users of a Streamlit server
    share one process, so the global generator must never be used or seeded.
    """
    import torch  # here: importing fmcore.validate must stay cheap for the home page

    if not isinstance(generator, torch.Generator):
        raise SettingError(
            "Pass a torch.Generator (for example torch.Generator().manual_seed(0)): the global "
            f"random generator is shared by every user of the server. Got {generator!r}."
        )
    return generator

"""Errors fmcore raises for bad input (rule 8 of DESIGN.md).

Each is a ``ValueError`` whose message a student can act on; pages show it with
``st.error`` instead of a traceback.
"""


class FMError(ValueError):
    """Base class of every error fmcore raises for bad input or settings."""


class SettingError(FMError):
    """A number or choice outside what the lesson allows (NaN, inf, too many steps...)."""


class InvalidImageError(FMError):
    """A file that is not a readable image, or one too large to load safely."""


class InvalidTextError(FMError):
    """Text that cannot be used as given (empty, too long, undecodable)."""


class CheckpointError(FMError):
    """A checkpoint whose manifest, shapes or contents do not match what is expected."""

"""A character tokenizer with the notes' begin token x_0 = ⊥ (Section 14.3).

The notes write a document as a sequence of tokens x_1, ..., x_T with x_t in {1, ..., V}
(Eq. 14.5) and add a fixed special token x_0 = ⊥ that marks the beginning of a document, so
that the model has something to read before predicting x_1. Here a token is one character
(one Unicode code point), and the vocabulary is

    id 0             PAD      fills short rows of a batch; never scored (shown "·")
    id 1             BEGIN    the notes' x_0 (shown "⊥")
    id 2             UNKNOWN  any character outside the alphabet (shown "�")
    id 3, 4, ...     the characters of ``alphabet``, in order

so V = 3 + len(alphabet). Text is never refused for containing a character the model does
not know: such a character becomes UNKNOWN, and :meth:`CharTokenizer.unknown_characters`
lists where it was, so a page can say which ones were replaced. This covers emoji, letters
of other scripts, and invisible characters that users paste without seeing them: NUL and
other control characters (except newline and tab), right-to-left marks, zero-width joiners.
Those invisible characters can never be part of an alphabet.

No Unicode normalisation is done: "é" typed as one code point and "é" typed as "e" plus a
combining accent are different inputs (the second one gives "e" and an UNKNOWN accent).

This module is plain Python; :meth:`CharTokenizer.encode_tensor` imports torch when called.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from fmcore.errors import InvalidTextError, SettingError
from fmcore.validate import bounded_int

__all__ = [
    "BEGIN",
    "BEGIN_SYMBOL",
    "MAX_ALPHABET",
    "MAX_CORPUS_CHARS",
    "MAX_TEXT_CHARS",
    "PAD",
    "PAD_SYMBOL",
    "SPECIAL_NAMES",
    "UNKNOWN",
    "UNKNOWN_SYMBOL",
    "CharTokenizer",
    "UnknownChar",
    "describe_character",
]

# ------------------------------------------------------------------------ special tokens
PAD = 0  # fills the end of short rows in a batch; never scored
BEGIN = 1  # x_0 = ⊥ of the notes: marks the beginning of a document
UNKNOWN = 2  # stands for every character outside the alphabet
SPECIAL_NAMES = ("PAD", "BEGIN", "UNKNOWN")  # in id order; stored in the manifest
PAD_SYMBOL = "·"
BEGIN_SYMBOL = "⊥"
UNKNOWN_SYMBOL = "�"  # U+FFFD, the Unicode replacement character
_SYMBOLS = (PAD_SYMBOL, BEGIN_SYMBOL, UNKNOWN_SYMBOL)
_FIRST_CHAR_ID = len(SPECIAL_NAMES)

# ------------------------------------------------------------------------ limits
MAX_TEXT_CHARS = 100_000  # one text to encode or score (a page's text box, a query param)
MAX_CORPUS_CHARS = 5_000_000  # a whole training corpus (from_corpus, encode(limit=...))
MAX_ALPHABET = 1000  # characters in the alphabet; the vocabulary adds the 3 specials

# Whitespace the alphabet may hold although Unicode calls it a control character.
_ALLOWED_CONTROLS = frozenset("\n\t")

# Readable stand-ins for whitespace, used by token_label (axis labels of charts).
_LABELS = {" ": "␣", "\n": "↵", "\t": "⇥"}

# Unicode general categories starting with "C", in words for the unknown-character report.
_CATEGORY_WORDS = {
    "Cc": "control character",
    "Cf": "invisible formatting character",
    "Cs": "lone surrogate",
    "Co": "private-use character",
    "Cn": "unassigned code point",
}


def _is_invisible(char: str) -> bool:
    """Control, formatting, surrogate, private-use or unassigned (Unicode category C*)."""
    return unicodedata.category(char).startswith("C") and char not in _ALLOWED_CONTROLS


def visible(char: str) -> str:
    """``char`` with whitespace made visible (␣ ↵ ⇥), for a chart cell."""
    return _LABELS.get(char, char)


def describe_character(char: str) -> str:
    """A readable description of one character: ``"U+1F600 GRINNING FACE"``,
    ``"U+0000 (control character)"``; for the unknown-character report of a page."""
    if not isinstance(char, str) or len(char) != 1:
        raise InvalidTextError(f"describe_character takes one character, got {char!r}.")
    code = f"U+{ord(char):04X}"
    name = unicodedata.name(char, "")
    category = unicodedata.category(char)
    if category.startswith("C"):
        words = _CATEGORY_WORDS.get(category, "special character")
        return f"{code} {name} ({words})" if name else f"{code} ({words})"
    return f"{code} {name}" if name else code


class UnknownChar(NamedTuple):
    """A character of a text that is not in the alphabet: its 0-based index in the text and
    the character itself. It is encoded as UNKNOWN."""

    position: int
    char: str

    @property
    def description(self) -> str:
        """E.g. ``"U+0000 (control character)"``; see :func:`describe_character`."""
        return describe_character(self.char)


def _check_text(text: object, limit: int = MAX_TEXT_CHARS, what: str = "The text") -> str:
    """``text`` if it is a str of at most ``limit`` characters, else InvalidTextError."""
    if not isinstance(text, str):
        raise InvalidTextError(f"{what} must be a string, got {type(text).__name__}.")
    if len(text) > limit:
        raise InvalidTextError(
            f"{what} has {len(text):,} characters; at most {limit:,} are allowed. "
            "Use a shorter text."
        )
    return text


# ============================================================================ tokenizer
@dataclass(frozen=True)
class CharTokenizer:
    """Characters <-> token ids; the alphabet is checked on creation (SettingError if not).

    ``alphabet`` lists the known characters, each once; ``alphabet[i]`` has id ``3 + i``.
    It may hold newline and tab but no other invisible character (control, formatting,
    surrogate, private-use, unassigned) and none of the display symbols ``· ⊥ �``, so that
    decoded text is never ambiguous.
    """

    alphabet: str  # the known characters, in id order (1..1000 distinct characters)
    _ids: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        alphabet = self.alphabet
        if not isinstance(alphabet, str):
            raise SettingError(f"The alphabet must be a string, got {type(alphabet).__name__}.")
        if not 1 <= len(alphabet) <= MAX_ALPHABET:
            raise SettingError(
                f"The alphabet must have between 1 and {MAX_ALPHABET} characters, "
                f"got {len(alphabet)}."
            )
        repeated = sorted({c for c, n in Counter(alphabet).items() if n > 1})
        if repeated:
            raise SettingError(
                f"Each character may appear only once in the alphabet; repeated: {repeated!r}."
            )
        reserved = [c for c in alphabet if c in _SYMBOLS]
        if reserved:
            raise SettingError(
                f"The alphabet may not contain {reserved!r}: the symbols · ⊥ � show the special "
                "tokens PAD, BEGIN and UNKNOWN."
            )
        invisible = [describe_character(c) for c in alphabet if _is_invisible(c)]
        if invisible:
            raise SettingError(
                "The alphabet may not contain invisible characters (only newline and tab are "
                f"allowed): {', '.join(invisible)}."
            )
        object.__setattr__(self, "_ids", {c: _FIRST_CHAR_ID + i for i, c in enumerate(alphabet)})

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_corpus(cls, text: str, max_size: int = 96) -> CharTokenizer:
        """The tokenizer whose alphabet is the ``max_size`` most frequent characters of
        ``text`` (invisible characters skipped), listed in code-point order. Ties in
        frequency go to the smaller code point, so the result depends only on the text."""
        text = _check_text(text, MAX_CORPUS_CHARS, what="The corpus")
        size = bounded_int("max_size", max_size, 1, MAX_ALPHABET)
        counts = Counter(text)
        usable = [(-n, c) for c, n in counts.items() if not _is_invisible(c) and c not in _SYMBOLS]
        if not usable:
            raise InvalidTextError(
                "The corpus has no usable characters to build an alphabet from; "
                "give it some visible text."
            )
        chosen = [c for _, c in sorted(usable)[:size]]  # most frequent first, ties by code point
        return cls("".join(sorted(chosen)))

    def to_dict(self) -> dict[str, Any]:
        """Plain data for a JSON manifest: the alphabet and the special tokens' layout."""
        return {"kind": "char", "specials": list(SPECIAL_NAMES), "alphabet": self.alphabet}

    @classmethod
    def from_dict(cls, values: object) -> CharTokenizer:
        """Inverse of :meth:`to_dict`; a manifest of another layout raises SettingError."""
        if not isinstance(values, dict):
            raise SettingError(f"A tokenizer manifest must be a dict, got {type(values).__name__}.")
        expected = {"kind", "specials", "alphabet"}
        if set(values) != expected:
            raise SettingError(
                f"Tokenizer manifest keys must be {sorted(expected)}, got {sorted(values)}."
            )
        if values["kind"] != "char" or values["specials"] != list(SPECIAL_NAMES):
            raise SettingError(
                f"This manifest describes a tokenizer of kind {values['kind']!r} with special "
                f"tokens {values['specials']!r}; expected kind 'char' with "
                f"{list(SPECIAL_NAMES)!r}."
            )
        return cls(values["alphabet"])

    # ------------------------------------------------------------------ vocabulary
    @property
    def vocab_size(self) -> int:
        """V: the three special tokens plus the alphabet."""
        return _FIRST_CHAR_ID + len(self.alphabet)

    def token_text(self, token_id: int) -> str:
        """What ``decode`` writes for one id: its character, or · ⊥ � for the specials."""
        i = bounded_int("token id", token_id, 0, self.vocab_size - 1)
        return _SYMBOLS[i] if i < _FIRST_CHAR_ID else self.alphabet[i - _FIRST_CHAR_ID]

    def token_label(self, token_id: int) -> str:
        """Like :meth:`token_text` but whitespace made visible (␣ ↵ ⇥), for chart labels."""
        text = self.token_text(token_id)
        return _LABELS.get(text, text)

    @property
    def labels(self) -> list[str]:
        """:meth:`token_label` of every id, in id order (the x-axis of a distribution plot)."""
        return [self.token_label(i) for i in range(self.vocab_size)]

    # ------------------------------------------------------------------ text <-> ids
    def encode(
        self, text: str, add_begin: bool = True, *, limit: int = MAX_TEXT_CHARS
    ) -> list[int]:
        """Token ids of ``text``: ``[BEGIN, x_1, ..., x_T]`` (the notes' x_0, ..., x_T), or
        ``[x_1, ..., x_T]`` without ``add_begin``. Characters outside the alphabet become
        UNKNOWN (see :meth:`unknown_characters`). ``limit`` is the longest text accepted
        (:data:`MAX_TEXT_CHARS`; a corpus may pass up to :data:`MAX_CORPUS_CHARS`)."""
        limit = bounded_int("limit", limit, 0, MAX_CORPUS_CHARS)
        text = _check_text(text, limit)
        if not isinstance(add_begin, bool):
            raise SettingError(f"add_begin must be True or False, got {add_begin!r}.")
        ids = self._ids
        body = [ids.get(c, UNKNOWN) for c in text]
        return [BEGIN, *body] if add_begin else body

    def encode_tensor(self, text: str, add_begin: bool = True, *, limit: int = MAX_TEXT_CHARS):
        """:meth:`encode` as a ``torch.long`` tensor of shape (T + 1,) (or (T,))."""
        import torch  # here: the tokenizer itself is plain Python

        return torch.tensor(self.encode(text, add_begin, limit=limit), dtype=torch.long)

    def decode(self, ids: Iterable[int]) -> str:
        """The text of a sequence of ids (a list or a 1-D tensor); the special tokens are
        written · ⊥ � (so ``decode(encode(text))`` is ``"⊥" + text`` when every character
        of ``text`` is in the alphabet). Ids outside 0..V-1 raise SettingError."""
        if hasattr(ids, "tolist"):  # a tensor or an array
            if getattr(ids, "ndim", 1) != 1:
                raise SettingError(
                    f"decode takes a 1-D sequence of ids, got shape {tuple(ids.shape)}."
                )
            ids = ids.tolist()
        if isinstance(ids, str | bytes) or not isinstance(ids, Iterable):
            raise SettingError(f"decode takes a sequence of token ids, got {type(ids).__name__}.")
        ids = list(ids)
        if len(ids) > MAX_CORPUS_CHARS:
            raise SettingError(f"decode takes at most {MAX_CORPUS_CHARS:,} ids, got {len(ids):,}.")
        return "".join(self.token_text(i) for i in ids)

    def unknown_characters(self, text: str) -> list[UnknownChar]:
        """Every character of ``text`` outside the alphabet, as (position, char) in text
        order; these are the ones :meth:`encode` replaces by UNKNOWN."""
        text = _check_text(text)
        ids = self._ids
        return [UnknownChar(i, c) for i, c in enumerate(text) if c not in ids]

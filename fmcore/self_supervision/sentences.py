"""Sentences: a procedural, labelled text dataset, and the character code the models read.

Each example is a short lowercase sentence about one of four topics (weather, food, animals,
sport), such as "the rain fell on the old town" or "she ate a warm bowl of soup". Sentences
are built from a handful of templates that mix topic words ("rain", "soup") with neutral
fillers ("she", "by the river", "last night") in different orders, so that the topic is
carried by the vocabulary and not by a fixed position: a model has to read the words.

Text is fed to models as characters (:func:`encode`): id 0 is padding (PAD), id 1 the mask
token of the masked-character pretext task (MASK), and the characters of :data:`ALPHABET`
follow from id 2. :func:`decode` turns ids back into text, showing MASK as "_".

All randomness comes from a ``torch.Generator`` (or an integer seed turned into one): the
same seed gives the same sentences (rule 4 of DESIGN.md).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from fmcore.errors import SettingError
from fmcore.validate import bounded_int

__all__ = [
    "ALPHABET",
    "MASK",
    "MAX_CHARS",
    "PAD",
    "TOPICS",
    "VOCAB_SIZE",
    "SentencesData",
    "decode",
    "encode",
    "make_sentences",
]

# The classes, in label order: label k is TOPICS[k].
TOPICS: tuple[str, ...] = ("weather", "food", "animals", "sport")

# ------------------------------------------------------------------------ character code
PAD = 0  # fills the end of short sentences; never scored
MASK = 1  # hides a character in the masked-character task (shown as "_")
ALPHABET = " abcdefghijklmnopqrstuvwxyz,.'!?-"  # id of ALPHABET[i] is i + 2
VOCAB_SIZE = len(ALPHABET) + 2  # PAD, MASK, then the characters
_ID = {c: i + 2 for i, c in enumerate(ALPHABET)}

# Limits enforced on every call (rule 8 of DESIGN.md).
MAX_CHARS = 48  # every generated sentence has at most this many characters
MAX_SENTENCES = 50_000
MAX_ENCODE_LENGTH = 512
MAX_SEED = 2**31 - 1

# ------------------------------------------------------------------------ word lists
# Neutral fillers, shared by all topics: they say nothing about the class.
_PEOPLE = ("she", "he", "we", "they", "my aunt", "the boy", "a girl", "tom", "my friend")
_PLACES = ("in the town", "by the river", "at home", "near the park", "on the hill", "by the lake")
_TIMES = ("today", "at dawn", "last night", "in june", "all week", "this morning", "on sunday")

# Per topic: subjects (noun phrases), events (what the subject did) and deeds (what a person
# did with the topic's things). Only these carry the topic.
_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "weather": {
        "subjects": ("the rain", "the snow", "a cold wind", "thick fog", "the storm",
                     "the sun", "hard frost", "dark clouds", "the hail"),
        "events": ("fell all day", "came down fast", "blew over the roofs", "hid the sky",
                   "rolled in from the sea", "did not stop", "soaked the streets",
                   "cleared by noon", "fell on the old town"),
        "deeds": ("ran in from the rain", "watched the storm", "felt the cold wind",
                  "waited for the sun", "walked in the snow", "took an umbrella",
                  "read the forecast", "heard the thunder"),
    },
    "food": {
        "subjects": ("the soup", "the bread", "a warm pie", "the rice", "fresh cheese",
                     "the cake", "the pasta", "the apples", "hot tea"),
        "events": ("tasted sweet", "smelled of garlic", "was still warm", "burned in the oven",
                   "sat on the table", "went cold", "was too salty", "cooked slowly"),
        "deeds": ("ate a warm bowl of soup", "baked fresh bread", "cooked rice and beans",
                  "sliced the cheese", "made a lemon cake", "drank hot tea",
                  "peeled an apple", "fried two eggs"),
    },
    "animals": {
        "subjects": ("the cat", "an old dog", "the horse", "a red fox", "the owl",
                     "a small mouse", "the goat", "two ducks", "the rabbit"),
        "events": ("slept by the fire", "chased a mouse", "ran across the field",
                   "hid under the bed", "barked at the gate", "hooted all night",
                   "jumped the fence", "swam in the pond"),
        "deeds": ("fed the horse", "walked the dog", "saw a fox", "heard an owl",
                  "brushed the cat", "milked the goat", "found a nest", "petted the rabbit"),
    },
    "sport": {
        "subjects": ("the team", "our coach", "the match", "the race", "the striker",
                     "the keeper", "the runners", "the final", "the players"),
        "events": ("won the cup", "ended in a draw", "started late", "lost by one goal",
                   "scored twice", "ran a fast lap", "trained for hours", "went to extra time"),
        "deeds": ("kicked the ball", "won the race", "scored a goal", "watched the match",
                  "rode a bike", "swam ten laps", "played tennis", "joined the team"),
    },
}  # fmt: skip

# Templates: where the topic words go varies, so position is no shortcut to the topic.
_TEMPLATES: tuple[str, ...] = (
    "{subject} {event}",
    "{subject} {event} {place}",
    "{time}, {subject} {event}",
    "{place}, {subject} {event}",
    "{person} {deed}",
    "{person} {deed} {place}",
    "{time} {person} {deed}",
)


@functools.lru_cache(maxsize=1)
def _banks() -> tuple[tuple[tuple[str, ...], ...], ...]:
    """Every sentence of at most MAX_CHARS characters, by topic and template (built once)."""
    banks = []
    for topic in TOPICS:
        words = _WORDS[topic]
        per_template = []
        for template in _TEMPLATES:
            slots = {
                "subject": words["subjects"],
                "event": words["events"],
                "deed": words["deeds"],
                "person": _PEOPLE,
                "place": _PLACES,
                "time": _TIMES,
            }
            used = [name for name in slots if "{" + name + "}" in template]
            sentences = tuple(
                text
                for choice in itertools.product(*(slots[name] for name in used))
                if len(text := template.format(**dict(zip(used, choice, strict=True)))) <= MAX_CHARS
            )
            per_template.append(sentences)
        banks.append(tuple(per_template))
    return tuple(banks)


@dataclass(frozen=True, eq=False)
class SentencesData:
    """A batch of sentences and their topics."""

    texts: tuple[str, ...]  # N sentences, lowercase, at most MAX_CHARS characters each
    labels: torch.Tensor  # (N,) int64, index into topics
    topics: tuple[str, ...] = TOPICS

    def __len__(self) -> int:
        return len(self.texts)


def _generator(seed_or_generator: int | torch.Generator) -> torch.Generator:
    if isinstance(seed_or_generator, torch.Generator):
        return seed_or_generator
    seed = bounded_int("seed", seed_or_generator, 0, MAX_SEED)
    return torch.Generator().manual_seed(seed)


def make_sentences(n: int, seed_or_generator: int | torch.Generator = 0) -> SentencesData:
    """Draw ``n`` labelled sentences.

    Topics are balanced (each appears n // 4 or n // 4 + 1 times, in random order); each
    sentence picks a template uniformly, then one of the template's fillings for its topic
    uniformly. The same seed gives the same sentences. Raises SettingError for a number of
    sentences or a seed out of range.
    """
    n = bounded_int("number of sentences", n, 1, MAX_SENTENCES)
    g = _generator(seed_or_generator)
    k = len(TOPICS)
    labels = (torch.arange(n) % k)[torch.randperm(n, generator=g)]  # (N,)
    u = torch.rand(n, 2, generator=g, dtype=torch.float64)  # (N, 2): template, filling
    banks = _banks()
    texts = []
    for label, (a, b) in zip(labels.tolist(), u.tolist(), strict=True):
        per_template = banks[label]
        bank = per_template[int(a * len(per_template))]
        texts.append(bank[int(b * len(bank))])
    return SentencesData(texts=tuple(texts), labels=labels.to(torch.int64))


# ============================================================================ code
def encode(texts: str | Sequence[str], length: int = MAX_CHARS) -> torch.Tensor:
    """Character ids of each text, padded with PAD (0) on the right: (N, length) int64.

    A single string counts as a batch of one. Raises SettingError naming the characters that
    are not in ALPHABET, or when a text is longer than ``length``.
    """
    length = bounded_int("sequence length", length, 1, MAX_ENCODE_LENGTH)
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, Sequence) or not all(isinstance(t, str) for t in texts):
        raise SettingError("encode takes a string or a list of strings.")
    if len(texts) > MAX_SENTENCES:
        raise SettingError(f"encode takes at most {MAX_SENTENCES} texts, got {len(texts)}.")
    unknown = sorted({c for t in texts for c in t if c not in _ID})
    if unknown:
        raise SettingError(
            f"These characters are not in the alphabet: {''.join(unknown)!r}. Use lowercase "
            f"letters, spaces and {ALPHABET[27:]!r} only."
        )
    ids = torch.full((len(texts), length), PAD, dtype=torch.int64)  # (N, length)
    for i, text in enumerate(texts):
        if len(text) > length:
            raise SettingError(
                f"Text {i} has {len(text)} characters; at most {length} fit: {text!r}."
            )
        if text:
            ids[i, : len(text)] = torch.tensor([_ID[c] for c in text])
    return ids


def decode(ids: torch.Tensor | Sequence[int]) -> str:
    """The text of one row of ids (T,): PAD dropped, MASK shown as "_"."""
    values = ids.tolist() if isinstance(ids, torch.Tensor) else list(ids)
    if not all(isinstance(v, int) for v in values):
        raise SettingError("decode takes one row of integer ids (a 1-D tensor or a list).")
    bad = sorted({v for v in values if not 0 <= v < VOCAB_SIZE})
    if bad:
        raise SettingError(f"Ids must lie in 0..{VOCAB_SIZE - 1}; got {bad[:5]}.")
    return "".join("_" if v == MASK else ALPHABET[v - 2] for v in values if v != PAD)

"""Text corpora of the language-model lessons, all offline: nothing is ever downloaded.

Three built-in corpora (:data:`CORPORA`, loaded with :func:`load_corpus`) and the user's own:

Every corpus knows where its documents begin (:attr:`Corpus.starts`): the notes' begin
token x_0 = ⊥ marks a document's beginning (Section 14.3), so a training window that starts
there reads ⊥ first, and one cut anywhere else does not (:mod:`fmcore.lm.train`).

``"toy"``
    Sentences from a small stochastic grammar (:data:`TOY_GRAMMAR`), such as "the old cat
    sees a bird. anna sleeps today." The grammar is a Markov chain over words, so its true
    entropy rate, the lowest mean loss (Eq. 14.8) that any model can reach on it, is known
    exactly (:func:`toy_entropy_rate`): a trained model's loss can be compared with the
    best possible one. Its documents are the sentences.
``"english"``
    English prose that every Python install ships: the help topics of the documentation
    (``pydoc_data.topics``, what ``help("for")`` shows), cleaned to plain ASCII. Its
    documents are the help topics.
``"python"``
    Python source code: a fixed list of pure-Python modules of the standard library. Its
    documents are the source files.

:func:`user_corpus` turns pasted or uploaded text into a :class:`Corpus` (decoding,
newlines, limits) and :func:`split_corpus` cuts a training text into a training part and
a validation part; :func:`split_starts` says where documents begin in each part.

The toy text is drawn from a ``torch.Generator`` (or an integer seed turned into one), never
from the global generator (rule 4 of DESIGN.md); the built-in corpora use a fixed seed and a
fixed file order, so they are the same on every run.
"""

from __future__ import annotations

import bisect
import codecs
import functools
import importlib
import inspect
import math
import re
import string
import sys
import sysconfig
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch

from fmcore.errors import InvalidTextError, SettingError
from fmcore.lm.tokenizer import MAX_CORPUS_CHARS
from fmcore.validate import bounded_int, check_generator, finite_float

__all__ = [
    "CORPORA",
    "DOCUMENTS",
    "MAX_NAME_CHARS",
    "MIN_TRAIN_CHARS",
    "TOY_GRAMMAR",
    "Corpus",
    "ToyGrammar",
    "load_corpus",
    "split_corpus",
    "split_starts",
    "toy_entropy_rate",
    "toy_text",
    "toy_unigram_entropy",
    "user_corpus",
]

# The built-in corpora, in menu order: name -> one-line title.
CORPORA: dict[str, str] = {
    "toy": "Toy grammar (true entropy rate known)",
    "english": "English prose (Python's help topics)",
    "python": "Python source code (standard library)",
}
# What a document of each built-in corpus is (Corpus.starts); a user's text is one document.
DOCUMENTS: dict[str, str] = {"toy": "sentence", "english": "help topic", "python": "source file"}

# ------------------------------------------------------------------------ limits
MIN_TRAIN_CHARS = 200  # shortest text split_corpus accepts for training
MAX_NAME_CHARS = 80  # the name of a user corpus, shown in titles
MAX_SEED = 2**31 - 1
_TOY_SEED = 0  # the seed of the built-in "toy" corpus
# Bytes are refused before decoding when even 4 bytes a character (the most UTF-8 uses)
# would give more than MAX_CORPUS_CHARS characters: no need to decode 100 MB to say no.
_MAX_BYTES_PER_CHAR = 4


@dataclass(frozen=True)
class Corpus:
    """A text to train or evaluate a character language model on."""

    name: str  # "toy", "english", "python", or the name given to user_corpus
    title: str  # one line for menus and headings
    text: str = field(repr=False)  # the text itself (up to MAX_CORPUS_CHARS characters)
    entropy_rate: float | None  # true entropy rate in nats per character (toy only), else None
    description: str  # one or two sentences for the page: where the text comes from
    # where its documents begin (character offsets, increasing, 0 first): a sentence of the
    # toy grammar, a help topic, a source file; a user's text is one document
    starts: tuple[int, ...] = field(default=(0,), repr=False)

    @property
    def n_chars(self) -> int:
        """Number of characters of the text."""
        return len(self.text)


# ============================================================================ toy grammar
@dataclass(frozen=True, eq=False)
class ToyGrammar:
    """A stochastic grammar that is a Markov chain over words, with its exact entropy rate.

    Every word belongs to exactly one class (determiner, adjective, noun, ...). After a word
    of class c, the class of the next word is c' with probability ``transitions[c][c']`` and
    the word itself is w in c' with probability q(w | c') (``words[c']``, weights normalised
    to sum to 1). The class "." holds the single word "." that ends a sentence; the text
    starts as if a sentence had just ended.

    Spelling. Every word is written as a space followed by its letters, except "." which
    sticks to the word before it (" the", " cat", " sleeps", ".", " a", ...), and the space
    in front of the very first word is left out: "the cat sleeps. a ...". Word w therefore
    costs c(w) = len(w) + 1 characters, and c(".") = 1. Since a word starts exactly at a
    space or a ".", the characters determine the words and the words the characters.

    Entropy rate (what :meth:`entropy_rate` computes). Because the next word depends on the
    past only through the class of the current word, the words W_1, W_2, ... form a Markov
    chain, and so do their classes, with matrix P[c, c'] = transitions[c][c']. Let pi be the
    stationary distribution of the classes (pi P = pi, sum pi = 1; solved in float64); the
    words are then stationary with pi(w) = pi(c) q(w | c) for w in class c. The entropy rate
    of a stationary Markov chain is the expected entropy of one step,

        H_word = sum_c pi(c) H(W' | c) = sum_c pi(c) [ H(P[c, :]) + sum_c' P[c, c'] H(q(. | c')) ]

    nats per word (choosing the next class, then the word within it). Characters come from
    words by the one-to-one spelling above, so the first n words and the characters that
    spell them carry the same information: -log p(x_1..x_L_n) = -log p(w_1..w_n), where
    L_n = c(w_1) + ... + c(w_n). By the ergodic theorem (a renewal-reward argument: each
    word is a renewal that "pays" c(w) characters) L_n / n -> E_pi[c(W)] almost surely, so

        entropy rate per character = lim -log p(x_1..x_L_n) / L_n = H_word / E_pi[c(W)]

    nats per character. It is the lowest mean loss per character (Eq. 14.8) that any model
    can reach on a long sample: the loss of the true model, which by the chain rule
    (Eq. 14.5) spreads -log p(w) over the characters of w.
    """

    transitions: Mapping[str, Mapping[str, float]]  # class -> next class -> probability
    words: Mapping[str, Mapping[str, float]]  # class -> word -> weight (normalised per class)
    start: str = "."  # the text starts as if after a word of this class

    def __post_init__(self) -> None:
        classes = tuple(self.words)
        if set(self.transitions) != set(classes):
            raise SettingError("The grammar needs one row of transitions for every word class.")
        if self.start not in classes:
            raise SettingError(f"The start class {self.start!r} is not a word class.")
        seen: dict[str, str] = {}
        for c, vocab in self.words.items():
            if not vocab or not all(0 < weight < math.inf for weight in vocab.values()):
                raise SettingError(f"Class {c!r} needs words with positive, finite weights.")
            for w in vocab:
                # Lowercase letters only (and the single word "."), so spelling is reversible.
                if not (w == "." or (w.isascii() and w.isalpha() and w.islower())):
                    raise SettingError(f"Word {w!r} must be lowercase letters a-z, or '.'.")
                if w in seen:
                    raise SettingError(f"Word {w!r} is in two classes, {seen[w]!r} and {c!r}.")
                seen[w] = c
        for c, row in self.transitions.items():
            if set(row) - set(classes) or not all(p >= 0 for p in row.values()):
                raise SettingError(f"Transitions from {c!r} must go to word classes, p >= 0.")
            if abs(math.fsum(row.values()) - 1.0) > 1e-9:
                raise SettingError(f"Transitions from {c!r} must sum to 1.")

    # ------------------------------------------------------------------ tables
    @property
    def classes(self) -> tuple[str, ...]:
        """The word classes, in the order of the rows of :meth:`transition_matrix`."""
        return tuple(self.words)

    def word_probabilities(self, word_class: str) -> dict[str, float]:
        """q(w | c): the probability of each word of class c (its weights normalised)."""
        vocab = self.words[word_class]
        total = math.fsum(vocab.values())
        return {w: weight / total for w, weight in vocab.items()}

    def transition_matrix(self) -> torch.Tensor:
        """P, shape (K, K) float64: P[i, j] = probability that class j follows class i."""
        classes = self.classes
        return torch.tensor(
            [[self.transitions[a].get(b, 0.0) for b in classes] for a in classes],
            dtype=torch.float64,
        )

    def stationary_distribution(self) -> torch.Tensor:
        """pi, shape (K,) float64: the classes' stationary distribution, pi P = pi.

        Solved as a linear system: the K equations (P^T - I) pi = 0 are dependent (their sum
        is 0 = 0), so the last one is replaced by sum(pi) = 1.
        """
        p = self.transition_matrix()  # (K, K)
        k = p.shape[0]
        a = p.T - torch.eye(k, dtype=torch.float64)  # (K, K)
        a[-1] = 1.0
        b = torch.zeros(k, dtype=torch.float64)
        b[-1] = 1.0
        return torch.linalg.solve(a, b)  # (K,)

    @staticmethod
    def word_chars(word: str) -> int:
        """c(w): characters that word w adds to the text (its letters and a space; 1 for ".")."""
        return 1 if word == "." else len(word) + 1

    # ------------------------------------------------------------------ entropies
    def word_entropy_rate(self) -> float:
        """H_word = sum_c pi(c) [H(P[c, :]) + sum_c' P[c, c'] H(q(. | c'))], nats per word."""
        classes = self.classes
        pi = self.stationary_distribution().tolist()
        within = {c: _entropy(self.word_probabilities(c).values()) for c in classes}
        h = 0.0
        for pi_c, c in zip(pi, classes, strict=True):
            row = self.transitions[c]
            h += pi_c * (_entropy(row.values()) + sum(p * within[b] for b, p in row.items()))
        return h

    def mean_word_chars(self) -> float:
        """E_pi[c(W)]: mean characters per word of the stationary chain, "." included."""
        pi = self.stationary_distribution().tolist()
        return sum(
            pi_c * sum(q * self.word_chars(w) for w, q in self.word_probabilities(c).items())
            for pi_c, c in zip(pi, self.classes, strict=True)
        )

    def entropy_rate(self) -> float:
        """The true entropy rate H_word / E_pi[c(W)] in nats per character (see the class)."""
        return self.word_entropy_rate() / self.mean_word_chars()

    def char_frequencies(self) -> dict[str, float]:
        """The long-run frequency of each character: expected count per word / E_pi[c(W)]."""
        pi = self.stationary_distribution().tolist()
        counts: dict[str, float] = {}
        for pi_c, c in zip(pi, self.classes, strict=True):
            for w, q in self.word_probabilities(c).items():
                for char in w if w == "." else " " + w:
                    counts[char] = counts.get(char, 0.0) + pi_c * q
        total = math.fsum(counts.values())  # = E_pi[c(W)]
        return {char: n / total for char, n in sorted(counts.items())}

    def unigram_entropy(self) -> float:
        """Entropy of the character frequencies, nats: the best loss of a model that sees no
        context at all (it can only learn how often each character occurs)."""
        return _entropy(self.char_frequencies().values())

    # ------------------------------------------------------------------ sampling
    def sample(self, n_chars: int, generator: torch.Generator) -> str:
        """``n_chars`` characters of text drawn from the grammar (the last word may be cut).

        Uniform numbers come from ``generator`` in fixed blocks, two per word (the class,
        then the word), so a shorter text from the same seed is a prefix of a longer one.
        """
        n_chars = bounded_int("number of characters", n_chars, 1, MAX_CORPUS_CHARS)
        generator = check_generator(generator)
        classes = self.classes
        index = {c: i for i, c in enumerate(classes)}
        # Inverse-CDF tables: draw u in [0, 1), take the first entry whose cumulative > u.
        next_class = []
        for c in classes:
            row = [(index[b], p) for b, p in self.transitions[c].items() if p > 0]
            next_class.append(([i for i, _ in row], _cumulative([p for _, p in row])))
        spellings = []
        for c in classes:
            q = self.word_probabilities(c)
            spelled = [w if w == "." else " " + w for w in q]
            spellings.append((spelled, _cumulative(list(q.values()))))

        state = index[self.start]
        parts: list[str] = []
        length = 0
        while length < n_chars + 1:  # + 1: the leading space is dropped below
            u = torch.rand(2 * _BLOCK, generator=generator, dtype=torch.float64).tolist()
            for j in range(0, 2 * _BLOCK, 2):
                targets, cdf = next_class[state]
                state = targets[min(bisect.bisect_right(cdf, u[j]), len(cdf) - 1)]
                spelled, cdf = spellings[state]
                word = spelled[min(bisect.bisect_right(cdf, u[j + 1]), len(cdf) - 1)]
                parts.append(word)
                length += len(word)
        text = "".join(parts)
        # The first word's space is dropped (unless the grammar starts with ".", no space).
        return text[1 : n_chars + 1] if text.startswith(" ") else text[:n_chars]


_BLOCK = 4096  # words drawn per block of uniform numbers (fixed: keeps texts prefix-stable)


def _cumulative(probs: list[float]) -> list[float]:
    """Running sums of ``probs``; the last is set to 1 so that every u < 1 finds an entry."""
    total = math.fsum(probs)
    out, running = [], 0.0
    for p in probs:
        running += p / total
        out.append(running)
    out[-1] = 1.0
    return out


def _entropy(probs) -> float:
    """-sum p log p in nats (terms with p = 0 count 0)."""
    return -math.fsum(p * math.log(p) for p in probs if p > 0)


def _zipf(words: str) -> dict[str, float]:
    """The words of a space-separated list, weighted 1 / k**0.7 for the k-th: a few frequent
    words and a long tail, as in real text (Zipf's law, flattened a little so that the tail
    is not too rare to learn)."""
    return {w: 1.0 / (k + 1) ** 0.7 for k, w in enumerate(words.split())}


# The grammar of the "toy" corpus: 113 words in 11 classes. Sentences look like "the little
# cat swims near a bird." or "tom follows ben and lena sings." Animals act, things are acted
# upon, names do both; being a first-order Markov chain it also writes "a fox sees the farmer
# sees..." now and then. The probabilities put the entropy rate (0.653 nats per character)
# far below the 2.860 of a model without context (toy_unigram_entropy), and the next
# character depends only on the previous word and the letters so far of the current one:
# about 16 characters of context, well within reach of a small Transformer with 64.
TOY_GRAMMAR = ToyGrammar(
    transitions={
        ".": {"det": 0.7, "name": 0.3},  # a sentence starts with its subject
        "det": {"adj": 0.35, "animal": 0.4, "thing": 0.25},
        "adj": {"adj": 0.1, "animal": 0.5, "thing": 0.4},
        "animal": {"tverb": 0.35, "iverb": 0.3, "prep": 0.1, ".": 0.2, "and": 0.05},
        "thing": {".": 0.55, "prep": 0.3, "and": 0.15},
        "name": {"tverb": 0.45, "iverb": 0.4, "and": 0.15},
        "tverb": {"det": 0.75, "name": 0.25},  # transitive verbs take an object
        "iverb": {".": 0.35, "prep": 0.3, "adv": 0.35},  # intransitive ones do not
        "prep": {"det": 0.85, "name": 0.15},
        "adv": {".": 0.75, "and": 0.25},
        "and": {"det": 0.5, "name": 0.5},
    },
    words={
        ".": {".": 1.0},
        "det": _zipf("the a my every this no some one that her his our"),
        "adj": _zipf(
            "little old red quiet happy green tall cold brave tiny dark kind young wild sleepy "
            "clever"
        ),
        "animal": _zipf(
            "cat dog bird girl boy king fox farmer teacher horse queen child wolf baker sailor goat"
        ),
        "thing": _zipf(
            "tree house river ship garden moon apple stone cloud window road bread hill lamp "
            "book door"
        ),
        "name": _zipf("anna tom lena omar kai mia ben zoe"),
        "tverb": _zipf(
            "sees likes finds follows watches knows wants helps loves carries calls eats paints "
            "visits meets hears"
        ),
        "iverb": _zipf("sleeps sings runs waits laughs swims falls hides dances jumps"),
        "prep": _zipf("on under near with behind into over by"),
        "adv": _zipf("today again slowly quietly often here now too"),
        "and": _zipf("and but"),
    },
)


@functools.cache
def toy_entropy_rate() -> float:
    """The true entropy rate of the "toy" corpus in nats per character: the lowest mean
    loss per character (Eq. 14.8) any model can reach on it (see :class:`ToyGrammar`)."""
    return TOY_GRAMMAR.entropy_rate()


@functools.cache
def toy_unigram_entropy() -> float:
    """Entropy of the "toy" corpus's character frequencies in nats: the best loss of a model
    that ignores the context, for comparison with :func:`toy_entropy_rate`."""
    return TOY_GRAMMAR.unigram_entropy()


def toy_text(n_chars: int, seed: int | torch.Generator = 0) -> str:
    """``n_chars`` characters of the toy grammar, drawn with ``seed`` (an integer 0..2**31-1
    or a ``torch.Generator``, which is advanced). The same seed gives the same text, and a
    shorter text is a prefix of a longer one with the same seed."""
    return TOY_GRAMMAR.sample(n_chars, _generator(seed))


def _generator(seed: int | torch.Generator) -> torch.Generator:
    """The generator given, or a new one seeded with the integer given."""
    if isinstance(seed, torch.Generator):
        return seed
    return torch.Generator().manual_seed(bounded_int("seed", seed, 0, MAX_SEED))


# ============================================================================ english
# Typographic characters of the help topics, spelled in ASCII before the rest is dropped.
_ASCII_SPELLING = str.maketrans(
    {"‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "—": "--", "–": "-", "\t": " "}
)
_PUNCTUATION = frozenset(string.punctuation)
_SPACES = re.compile(r" {2,}")
_BLANK_LINES = re.compile(r"\n{3,}")
_NOT_KEPT = re.compile(r"[^\n -~]")  # anything but newline and printable ASCII

# Modules whose docstrings stand in for the help topics when pydoc_data is missing.
_DOCSTRING_MODULES = tuple(
    """
    argparse collections contextlib csv dataclasses difflib enum fractions functools heapq
    inspect json pprint random statistics string textwrap
    """.split()
)


def _clean_prose(text: str) -> str:
    """Plain ASCII prose: typographic quotes and dashes spelled in ASCII, other characters
    outside printable ASCII and newline dropped, runs of spaces collapsed, lines stripped,
    lines made only of punctuation (reST under- and overlines such as "*****") dropped, and
    at most one blank line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_ASCII_SPELLING)
    text = _NOT_KEPT.sub("", text)
    lines = []
    for line in text.split("\n"):
        line = _SPACES.sub(" ", line).strip()
        if len(line) >= 3 and set(line) <= _PUNCTUATION:
            continue  # reST markup; code lines such as ")" are shorter and stay
        lines.append(line)
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n")


def _pydoc_topics() -> dict[str, str] | None:
    """The help topics of the documentation, or None where this Python ships without them."""
    try:
        from pydoc_data.topics import topics
    except ImportError:
        return None
    return topics if isinstance(topics, dict) and topics else None


def _module_docstrings() -> list[str]:
    """Docstrings of :data:`_DOCSTRING_MODULES` and of their public classes and functions,
    in a fixed (sorted) order."""
    parts = []
    for name in _DOCSTRING_MODULES:
        module = importlib.import_module(name)
        docs = [inspect.getdoc(module)]
        members = vars(module)  # not getattr: some modules warn on deprecated attributes
        for attr in sorted(members):
            obj = members[attr]
            if attr.startswith("_") or getattr(obj, "__module__", None) != name:
                continue
            if inspect.isclass(obj) or inspect.isfunction(obj):
                docs.append(inspect.getdoc(obj))
        parts.extend(doc for doc in docs if doc)
    return parts


def _join_documents(documents, separator: str, max_chars: int) -> tuple[str, tuple[int, ...]]:
    """The non-empty documents joined by ``separator`` and cut to ``max_chars`` characters,
    and the offsets where they begin (those inside the cut text)."""
    parts, starts, at = [], [], 0
    for doc in documents:
        if not doc:
            continue
        if parts:
            at += len(separator)
        if at >= max_chars:
            break
        parts.append(doc)
        starts.append(at)
        at += len(doc)
    return separator.join(parts)[:max_chars], tuple(starts)


def _english(max_chars: int) -> Corpus:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    topics = _pydoc_topics()
    if topics is not None:
        cleaned = (_clean_prose(str(topics[key])) for key in sorted(topics))
        text, starts = _join_documents(cleaned, "\n\n", max_chars)
        source = (
            f"The {len(topics)} help topics of Python {version}'s documentation "
            '(pydoc_data.topics: what help("for") shows), which every Python install ships, '
            "in alphabetical order"
        )
    else:
        cleaned = (_clean_prose(doc) for doc in _module_docstrings())
        text, starts = _join_documents(cleaned, "\n\n", max_chars)
        source = (
            f"The docstrings of {len(_DOCSTRING_MODULES)} standard-library modules of Python "
            f"{version} (this install has no pydoc_data help topics, the usual source)"
        )
    description = f"{source}. Cleaned to plain ASCII prose: {len(text):,} characters."
    return Corpus("english", CORPORA["english"], text, None, description, starts)


# ============================================================================ python
# Pure-Python modules of the standard library, as paths under the stdlib folder. Each has
# been a plain .py file (not a package, not a stub over a C module) in every version since
# 3.11, so the list reads the same files on any supported Python (their contents follow
# the version). About 2.1 million characters in all on 3.11.
_STDLIB_FILES = tuple(
    sorted(
        """
        abc.py argparse.py base64.py bisect.py calendar.py colorsys.py configparser.py
        contextlib.py copy.py csv.py dataclasses.py difflib.py enum.py fnmatch.py fractions.py
        functools.py getopt.py gettext.py glob.py gzip.py heapq.py hmac.py inspect.py
        keyword.py linecache.py locale.py numbers.py operator.py optparse.py os.py pprint.py
        queue.py random.py reprlib.py sched.py secrets.py selectors.py shlex.py shutil.py
        statistics.py string.py subprocess.py tarfile.py tempfile.py textwrap.py threading.py
        timeit.py tokenize.py traceback.py types.py typing.py uuid.py warnings.py weakref.py
        collections/__init__.py email/message.py html/__init__.py http/client.py
        json/__init__.py json/decoder.py json/encoder.py logging/__init__.py urllib/parse.py
        """.split()
    )
)


def _read_sources(
    root: Path, relative_paths, max_chars: int
) -> tuple[str, tuple[int, ...], list[str]]:
    """The UTF-8 text of the files that exist, in the order given, up to ``max_chars``
    characters in all; where each file begins in it; and the paths actually read."""
    parts, read, total = [], [], 0
    for rel in relative_paths:
        path = root / rel
        if total >= max_chars:
            break
        try:
            source = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # a trimmed install without sources: skip the file, never fail
        # Same text on every platform: a checkout with Windows line ends reads the same.
        source = source.replace("\r\n", "\n")
        parts.append(source)
        read.append(rel)
        total += len(source)
    text, starts = _join_documents(parts, "", max_chars)
    return text, starts, read


def _python(max_chars: int) -> Corpus:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    root = Path(sysconfig.get_paths()["stdlib"])
    text, starts, read = _read_sources(root, _STDLIB_FILES, max_chars)
    if read:
        source = (
            f"The source code of {len(read)} pure-Python modules of Python {version}'s "
            f"standard library, as written by Python's developers ({', '.join(read[:3])}... "
            "in alphabetical order)"
        )
    else:
        # Some minimal installs ship compiled files only; this app's own source is always here.
        package = Path(__file__).resolve().parents[1]
        files = sorted(str(p.relative_to(package)) for p in package.rglob("*.py"))
        text, starts, read = _read_sources(package, files, max_chars)
        source = (
            f"The source code of {len(read)} files of this app's fmcore package (this Python "
            "install has no standard-library sources, the usual source)"
        )
    description = f"{source}. {len(text):,} characters, nothing stripped."
    return Corpus("python", CORPORA["python"], text, None, description, starts)


# ============================================================================ loading
def _toy(max_chars: int) -> Corpus:
    text = toy_text(max_chars, _TOY_SEED)
    rate, unigram = toy_entropy_rate(), toy_unigram_entropy()
    n_words = sum(len(vocab) for vocab in TOY_GRAMMAR.words.values())
    description = (
        f"Sentences drawn from a small stochastic grammar: a Markov chain over {n_words} words "
        f"in {len(TOY_GRAMMAR.classes)} classes. Its true entropy rate is {rate:.3f} nats per "
        f"character, the lowest loss any model can reach; a model that ignores the context "
        f"can reach {unigram:.3f} at best."
    )
    return Corpus("toy", CORPORA["toy"], text, rate, description, _sentence_starts(text))


def _sentence_starts(text: str) -> tuple[int, ...]:
    """Where the sentences of a toy-grammar text begin: at 0 and after every ". " (the
    grammar starts a sentence after each ".", independently of the one before)."""
    return (0, *(m.end() for m in _SENTENCE_END.finditer(text) if m.end() < len(text)))


_SENTENCE_END = re.compile(r"\. ")


_BUILDERS = {"toy": _toy, "english": _english, "python": _python}


def load_corpus(name: str, max_chars: int = 1_000_000) -> Corpus:
    """The built-in corpus ``name`` (a key of :data:`CORPORA`), cut to its first
    ``max_chars`` characters (1..MAX_CORPUS_CHARS).

    Deterministic (same text on every call and every run of the same Python) and cached per
    process: the same arguments return the same object. SettingError for an unknown name.
    """
    if not isinstance(name, str) or name not in CORPORA:
        choices = ", ".join(repr(n) for n in CORPORA)
        raise SettingError(f"Unknown corpus {name!r}; choose one of {choices}.")
    max_chars = bounded_int("max_chars", max_chars, 1, MAX_CORPUS_CHARS)
    return _load(name, max_chars)


@functools.lru_cache(maxsize=8)
def _load(name: str, max_chars: int) -> Corpus:
    return _BUILDERS[name](max_chars)


# ============================================================================ user text
def user_corpus(data: bytes | str, name: str = "your text") -> Corpus:
    """A :class:`Corpus` from pasted text (str) or an uploaded file (bytes).

    Bytes are decoded as UTF-8 (a byte-order mark is removed), or as UTF-16 when they start
    with a UTF-16 byte-order mark; anything else is refused with the offset of the first
    byte that is not UTF-8. Newlines are normalised to "\\n" (Windows "\\r\\n" and old Mac
    "\\r"). Other characters are kept as they are: emoji, other scripts, right-to-left text
    (the tokenizer reports the ones outside its alphabet).

    InvalidTextError for: data of another type, undecodable bytes, a NUL character (a
    binary file?), empty or whitespace-only text, more than MAX_CORPUS_CHARS characters.
    Short texts are accepted here (a page may score them); :func:`split_corpus` refuses to
    train on fewer than MIN_TRAIN_CHARS characters.
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidTextError("The corpus needs a name: a short, non-empty text.")
    name = name.strip()
    if len(name) > MAX_NAME_CHARS:
        raise InvalidTextError(
            f"The corpus name has {len(name)} characters; at most {MAX_NAME_CHARS} are allowed."
        )
    note = ""
    if isinstance(data, bytes | bytearray):
        if len(data) > _MAX_BYTES_PER_CHAR * MAX_CORPUS_CHARS:
            raise InvalidTextError(
                f"The file has {len(data) / 1e6:,.1f} MB, far more than the limit of "
                f"{MAX_CORPUS_CHARS:,} characters. Use a shorter text."
            )
        text, note = _decode(bytes(data))
    elif isinstance(data, str):
        text = data
        # Normalising newlines can at most halve the length; refuse the hopeless at once.
        if len(text) > 2 * MAX_CORPUS_CHARS:
            _refuse_too_long(len(text))
    else:
        raise InvalidTextError(
            f"The text must be a string or the bytes of a file, got {type(data).__name__}."
        )

    nul = text.find("\x00")
    if nul >= 0:
        raise InvalidTextError(
            f"The text contains a NUL character (at character {nul:,}): this looks like a "
            "binary file (an image, a PDF, a Word document...), not plain text. Use a plain "
            "text file (.txt, .md, .py, .csv) or paste the text itself."
        )
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > MAX_CORPUS_CHARS:
        _refuse_too_long(len(text))
    if not text.strip():
        raise InvalidTextError(
            "The text is empty (or only spaces and newlines). Paste or upload some text."
        )
    lines = text.count("\n") + (not text.endswith("\n"))
    on = "1 line" if lines == 1 else f"{lines:,} lines"
    description = f"Text you provided{note}: {len(text):,} characters on {on}."
    return Corpus(name, name, text, None, description)


def _refuse_too_long(n_chars: int) -> None:
    raise InvalidTextError(
        f"The text has {n_chars:,} characters; at most {MAX_CORPUS_CHARS:,} are allowed. "
        "Use a shorter text (or a part of it)."
    )


def _decode(data: bytes) -> tuple[str, str]:
    """The text of ``data`` and a note on its encoding for the description (see
    :func:`user_corpus`); InvalidTextError if it is neither UTF-8 nor UTF-16 with a BOM."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), " (read as UTF-16)"  # the BOM gives the byte order
        except UnicodeDecodeError as error:
            raise InvalidTextError(
                f"The file starts like UTF-16 text but byte {error.start:,} cannot be decoded "
                "(a cut or damaged file?). Save the file as UTF-8 and upload it again."
            ) from None
    try:
        return data.decode("utf-8-sig"), ""  # utf-8-sig: removes a UTF-8 BOM if present
    except UnicodeDecodeError as error:
        byte = data[error.start]
        hint = ""
        if byte >= 0xA0:
            # A lone accented letter is typical of Latin-1 / Windows-1252 files.
            hint = f' (in Latin-1 it would be "{bytes([byte]).decode("latin-1")}")'
        raise InvalidTextError(
            f"The file is not UTF-8 text: byte {error.start:,} (0x{byte:02X}){hint} is not "
            "valid UTF-8. Save the file with the encoding UTF-8 (most editors offer it in "
            '"Save as") and upload it again.'
        ) from None


# ============================================================================ splitting
def split_corpus(text: str, val_fraction: float = 0.1) -> tuple[str, str]:
    """The text cut in two: (training part, validation part), where the validation part is
    the last ``val_fraction`` of the characters (0.01..0.5, at least one character).

    The cut is contiguous rather than random windows: windows drawn from one text overlap,
    so a random split would show the model, in training, most of the characters it is then
    validated on. InvalidTextError for a text shorter than MIN_TRAIN_CHARS characters (or
    longer than MAX_CORPUS_CHARS).
    """
    if not isinstance(text, str):
        raise InvalidTextError(f"The text must be a string, got {type(text).__name__}.")
    fraction = finite_float("validation fraction", val_fraction, 0.01, 0.5)
    if len(text) > MAX_CORPUS_CHARS:
        _refuse_too_long(len(text))
    if len(text) < MIN_TRAIN_CHARS:
        raise InvalidTextError(
            f"The text has {len(text):,} characters; training needs at least "
            f"{MIN_TRAIN_CHARS}. From fewer, a model can only memorise the text, not learn "
            "its patterns, and too little is left to check it on. Paste a longer text."
        )
    n_val = max(1, round(len(text) * fraction))
    return text[:-n_val], text[-n_val:]


def split_starts(starts, n_train: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Where documents begin in each part of a text cut by :func:`split_corpus` after
    ``n_train`` characters: (the starts in the training part, the starts in the validation
    part counted from its own beginning). For :func:`fmcore.lm.train.train_lm`'s
    ``doc_starts``: a window that starts there reads ⊥ first."""
    starts = tuple(int(s) for s in starts)
    return (
        tuple(s for s in starts if s < n_train),
        tuple(s - n_train for s in starts if s >= n_train),
    )

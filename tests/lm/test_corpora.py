"""Tests of fmcore.lm.corpora: the toy grammar's exact entropy rate against the true model's
loss on a long sample, the built-in corpora (offline, deterministic, capped), user text
(encodings, newlines, limits, refusals with messages) and the train/validation split."""

from __future__ import annotations

import codecs
import math
import re
import sysconfig
from collections import Counter
from pathlib import Path

import pytest
import torch

from fmcore.errors import InvalidTextError, SettingError
from fmcore.lm import corpora
from fmcore.lm.corpora import (
    CORPORA,
    MIN_TRAIN_CHARS,
    TOY_GRAMMAR,
    Corpus,
    ToyGrammar,
    load_corpus,
    split_corpus,
    split_starts,
    toy_entropy_rate,
    toy_text,
    toy_unigram_entropy,
    user_corpus,
)
from fmcore.lm.tokenizer import MAX_CORPUS_CHARS

TOY_ALPHABET = set(" .abcdefghijklmnopqrstuvwxyz")


# ------------------------------------------------------------------------------ toy grammar


def _true_model_loss(grammar: ToyGrammar, text: str) -> float:
    """Mean -log p(x_t | x_<t) per character under the true grammar, written from the chain
    rule (Eq. 14.5): the characters of a word carry -log p(word | previous word) in all.

    Words are read back from the spelling (" word" or "."); the last one may be cut and is
    dropped with its characters.
    """
    spelled = " " + text  # toy_text leaves out the first word's space
    class_of = {w: c for c, vocab in grammar.words.items() for w in vocab}
    tokens = list(re.finditer(r" [a-z]+|\.", spelled))[:-1]
    assert "".join(m.group() for m in tokens) == spelled[: tokens[-1].end()]  # nothing skipped
    previous = grammar.start
    total = 0.0
    for m in tokens:
        word = m.group().strip()
        c = class_of[word]
        p = grammar.transitions[previous][c] * grammar.word_probabilities(c)[word]
        total += -math.log(p)
        previous = c
    return total / tokens[-1].end()


def test_true_model_loss_on_a_long_sample_matches_the_entropy_rate():
    text = toy_text(200_000, seed=1)
    loss = _true_model_loss(TOY_GRAMMAR, text)
    assert loss == pytest.approx(toy_entropy_rate(), rel=0.005)  # seeds 0-5: within 0.17%


def test_toy_rate_is_far_below_the_unigram_entropy():
    rate, unigram = toy_entropy_rate(), toy_unigram_entropy()
    assert rate == pytest.approx(0.652565, abs=1e-5)  # changes only with the grammar
    assert unigram == pytest.approx(2.859771, abs=1e-5)
    assert 3 * rate < unigram


def test_unigram_entropy_matches_character_frequencies_of_a_sample():
    text = toy_text(200_000, seed=2)
    counts = Counter(text)
    empirical = -sum(n / len(text) * math.log(n / len(text)) for n in counts.values())
    assert empirical == pytest.approx(toy_unigram_entropy(), rel=0.005)
    freqs = TOY_GRAMMAR.char_frequencies()
    assert sum(freqs.values()) == pytest.approx(1.0, abs=1e-12)
    for char, f in freqs.items():
        assert counts[char] / len(text) == pytest.approx(f, abs=0.003)


def test_stationary_distribution_is_a_fixed_point_and_matches_power_iteration():
    p = TOY_GRAMMAR.transition_matrix()
    pi = TOY_GRAMMAR.stationary_distribution()
    assert p.dtype == pi.dtype == torch.float64
    assert torch.allclose(p.sum(dim=1), torch.ones(len(p), dtype=torch.float64))
    assert torch.allclose(pi @ p, pi, atol=1e-14)
    assert pi.sum().item() == pytest.approx(1.0, abs=1e-14)
    assert (pi > 0).all()
    power = torch.full_like(pi, 1 / len(pi))
    for _ in range(2000):
        power = power @ p
    assert torch.allclose(power, pi, atol=1e-12)


def test_stationary_class_frequencies_match_a_sample():
    text = toy_text(100_000, seed=3)
    words = re.findall(r"[a-z]+|\.", text)[:-1]  # the last word may be cut
    class_of = {w: c for c, vocab in TOY_GRAMMAR.words.items() for w in vocab}
    counts = Counter(class_of[w] for w in words)
    pi = TOY_GRAMMAR.stationary_distribution().tolist()
    for c, pi_c in zip(TOY_GRAMMAR.classes, pi, strict=True):
        assert counts[c] / len(words) == pytest.approx(pi_c, abs=0.01)


def test_entropy_rate_of_a_hand_computed_grammar():
    # "." -> class x; x -> "." or x, each 1/2; x holds "a" and "bb" equally. Then pi = (1/3,
    # 2/3); H_word = 1/3 log 2 + 2/3 (log 2 + 1/2 log 2) = 4/3 log 2; E[c] = 1/3 * 1 +
    # 2/3 * (2 + 3) / 2 = 2; rate = 2/3 log 2. Characters: "." 1/6, " " 1/3, a 1/6, b 1/3.
    g = ToyGrammar(
        transitions={".": {"x": 1.0}, "x": {".": 0.5, "x": 0.5}},
        words={".": {".": 1.0}, "x": {"a": 2.0, "bb": 2.0}},  # weights are normalised
    )
    assert g.stationary_distribution().tolist() == pytest.approx([1 / 3, 2 / 3], abs=1e-15)
    assert g.word_entropy_rate() == pytest.approx(4 / 3 * math.log(2), abs=1e-14)
    assert g.mean_word_chars() == pytest.approx(2.0, abs=1e-14)
    assert g.entropy_rate() == pytest.approx(2 / 3 * math.log(2), abs=1e-14)
    assert g.char_frequencies() == pytest.approx({" ": 1 / 3, ".": 1 / 6, "a": 1 / 6, "b": 1 / 3})
    assert g.unigram_entropy() == pytest.approx(math.log(6) / 3 + 2 / 3 * math.log(3))
    text = g.sample(100_000, torch.Generator().manual_seed(0))
    assert _true_model_loss(g, text) == pytest.approx(g.entropy_rate(), rel=0.02)


def test_a_deterministic_grammar_has_entropy_rate_zero():
    g = ToyGrammar(
        transitions={".": {"x": 1.0}, "x": {".": 1.0}}, words={".": {".": 1.0}, "x": {"a": 1.0}}
    )
    assert g.entropy_rate() == 0.0
    assert g.sample(11, torch.Generator().manual_seed(5)) == "a. a. a. a."


def test_toy_text_is_deterministic_per_seed_and_prefix_stable():
    text = toy_text(20_000, seed=7)
    assert len(text) == 20_000
    assert toy_text(20_000, seed=7) == text
    assert toy_text(20_000, seed=8) != text
    assert toy_text(20_000, torch.Generator().manual_seed(7)) == text
    assert toy_text(100, seed=7) == text[:100]
    assert toy_text(1, seed=7) == text[0]


def test_toy_text_leaves_the_global_generator_alone():
    before = torch.random.get_rng_state()
    toy_text(5000, seed=0)
    assert torch.equal(torch.random.get_rng_state(), before)


def test_toy_text_looks_like_sentences_in_a_small_alphabet():
    text = toy_text(50_000, seed=4)
    assert set(text) <= TOY_ALPHABET
    assert text[0].isalpha()
    assert "  " not in text and " ." not in text and ".." not in text
    assert re.fullmatch(r"([a-z]+(\. | ))+[a-z.]*", text + " ")  # words, single spaces
    vocabulary = {w for vocab in TOY_GRAMMAR.words.values() for w in vocab}
    assert set(re.findall(r"[a-z]+", text)[:-1]) <= vocabulary


@pytest.mark.parametrize("n_chars", [0, -5, MAX_CORPUS_CHARS + 1, 2.5, "lots"])
def test_toy_text_refuses_bad_lengths(n_chars):
    with pytest.raises(SettingError, match="number of characters"):
        toy_text(n_chars, seed=0)


@pytest.mark.parametrize("seed", [-1, 2**31, 1.5, None])
def test_toy_text_refuses_bad_seeds(seed):
    with pytest.raises(SettingError, match="seed"):
        toy_text(10, seed=seed)


@pytest.mark.parametrize(
    ("transitions", "words", "message"),
    [
        ({".": {"x": 1.0}, "x": {".": 0.9}}, {".": {".": 1}, "x": {"a": 1}}, "sum to 1"),
        ({".": {"x": 1.0}, "x": {".": 1.0}}, {".": {".": 1}, "x": {"A": 1}}, "lowercase"),
        ({".": {"x": 1.0}, "x": {".": 1.0}}, {".": {".": 1}, "x": {"a b": 1}}, "lowercase"),
        ({".": {"x": 1.0}, "x": {".": 1.0}}, {".": {".": 1, "a": 1}, "x": {"a": 1}}, "two"),
        ({".": {"x": 1.0}, "x": {".": 1.0}}, {".": {".": 1}, "x": {"a": 0}}, "positive"),
        ({".": {"y": 1.0}, "x": {".": 1.0}}, {".": {".": 1}, "x": {"a": 1}}, "word classes"),
        ({".": {"x": 1.0}}, {".": {".": 1}, "x": {"a": 1}}, "every word class"),
    ],
)
def test_a_broken_grammar_is_refused(transitions, words, message):
    with pytest.raises(SettingError, match=message):
        ToyGrammar(transitions=transitions, words=words)


# ------------------------------------------------------------------------------ built-ins


def test_corpora_are_listed_in_menu_order():
    assert list(CORPORA) == ["toy", "english", "python"]
    assert all(title and "\n" not in title for title in CORPORA.values())


@pytest.mark.parametrize("name", list(CORPORA))
def test_each_corpus_is_deterministic_and_capped(name):
    corpus = load_corpus(name, 20_000)
    assert isinstance(corpus, Corpus)
    assert (corpus.name, corpus.title) == (name, CORPORA[name])
    assert len(corpus.text) == corpus.n_chars == 20_000  # every corpus has more than this
    assert corpus.description and corpus.description.strip() == corpus.description
    assert load_corpus(name, 20_000) is corpus  # cached per process
    assert corpora._load.__wrapped__(name, 20_000) == corpus  # and the same when rebuilt
    assert load_corpus(name, 500).text == corpus.text[:500]
    assert corpus.text[:100] not in repr(corpus)  # a million characters stay out of reprs
    assert (corpus.entropy_rate is not None) == (name == "toy")


@pytest.mark.parametrize("name", list(CORPORA))
def test_each_corpus_at_its_default_size(name):
    corpus = load_corpus(name)
    assert 100_000 < len(corpus.text) <= 1_000_000
    assert corpus.text.strip()
    assert f"{len(corpus.text):,}" in corpus.description or name == "toy"


def test_toy_corpus_carries_its_entropy_rate():
    corpus = load_corpus("toy", 10_000)
    assert corpus.entropy_rate == toy_entropy_rate()
    assert corpus.text == toy_text(10_000, seed=0)
    assert f"{toy_entropy_rate():.3f}" in corpus.description


@pytest.mark.parametrize("name", ["Toy", "shakespeare", "", None, 3])
def test_unknown_corpus_names_list_the_choices(name):
    with pytest.raises(SettingError) as info:
        load_corpus(name)
    assert all(repr(choice) in str(info.value) for choice in CORPORA)


@pytest.mark.parametrize("max_chars", [0, MAX_CORPUS_CHARS + 1, 10.5, "all", True])
def test_load_corpus_refuses_bad_sizes(max_chars):
    with pytest.raises(SettingError, match="max_chars"):
        load_corpus("toy", max_chars)


def test_english_is_clean_ascii_prose():
    text = load_corpus("english").text
    assert set(text) <= {"\n", *map(chr, range(32, 127))}
    assert "  " not in text and "\n\n\n" not in text
    lines = text.split("\n")
    assert all(line == line.strip() for line in lines)
    assert not [line for line in lines if len(line) >= 3 and not re.search(r"[\w\s]", line)]
    assert "assert" in text[:2000]  # topics in sorted key order: "assert" comes first
    assert "pydoc_data" in load_corpus("english").description


def test_clean_prose_known_answer():
    raw = "Title\r\n*****\r\n\r\n\r\n\r\n“Quoted”  —  it’s\tfine…\n   ß\n)\n"
    assert corpora._clean_prose(raw) == 'Title\n\n"Quoted" -- it\'s fine...\n\n)'


def test_english_falls_back_to_docstrings_without_pydoc_data(monkeypatch):
    monkeypatch.setattr(corpora, "_pydoc_topics", lambda: None)
    corpus = corpora._english(50_000)  # the uncached builder: the cache stays unpolluted
    assert len(corpus.text) == 50_000
    assert set(corpus.text) <= {"\n", *map(chr, range(32, 127))}
    assert "docstrings" in corpus.description and "pydoc_data" in corpus.description
    assert corpora._english(50_000).text == corpus.text


def test_python_is_the_standard_library_source_verbatim():
    text = load_corpus("python").text
    root = Path(sysconfig.get_paths()["stdlib"])
    first = next(root / rel for rel in corpora._STDLIB_FILES if (root / rel).exists())
    source = first.read_text(encoding="utf-8")
    assert text.startswith(source)
    compile(source, str(first), "exec")  # a whole module, not a cleaned-up copy
    assert "def " in text and "class " in text and "    " in text


def test_stdlib_file_list_is_sorted_and_plain_modules():
    files = corpora._STDLIB_FILES
    assert list(files) == sorted(set(files))
    assert all(f.endswith(".py") for f in files)


def test_python_falls_back_to_this_package_without_stdlib_sources(monkeypatch, tmp_path):
    monkeypatch.setattr(corpora.sysconfig, "get_paths", lambda: {"stdlib": str(tmp_path)})
    corpus = corpora._python(30_000)
    assert len(corpus.text) == 30_000
    assert "fmcore" in corpus.description


# ------------------------------------------------------------------------------ documents


@pytest.mark.parametrize("name", list(CORPORA))
def test_each_corpus_knows_where_its_documents_begin(name):
    corpus = load_corpus(name)
    starts = corpus.starts
    assert starts[0] == 0 and list(starts) == sorted(set(starts))
    assert starts[-1] < corpus.n_chars and len(starts) > 10
    assert str(starts[1]) not in repr(corpus)
    short = load_corpus(name, 20_000)  # a cut corpus keeps the starts inside it
    assert short.starts == tuple(s for s in starts if s < 20_000)


def test_toy_documents_are_its_sentences():
    corpus = load_corpus("toy", 20_000)
    text, starts = corpus.text, corpus.starts
    assert all(text[s - 2 : s] == ". " and text[s].isalpha() for s in starts[1:])
    # every sentence: the text splits at ". " exactly where the starts are
    assert len(starts) == text.count(". ") + 1 - text.endswith(". ")
    assert Counter(text[s] for s in starts).most_common(1)[0][0] == "t"  # "the", "tom"...


def test_english_documents_are_the_help_topics():
    from pydoc_data.topics import topics

    corpus = load_corpus("english")
    cleaned = [t for t in (corpora._clean_prose(str(topics[k])) for k in sorted(topics)) if t]
    assert len(corpus.starts) == len(cleaned)
    for s, topic in zip(corpus.starts, cleaned, strict=True):
        assert corpus.text[s : s + len(topic)] == topic  # a topic begins at each start


def test_python_documents_are_the_source_files():
    corpus = load_corpus("python")
    root = Path(sysconfig.get_paths()["stdlib"])
    sources = [(root / rel).read_text(encoding="utf-8") for rel in corpora._STDLIB_FILES]
    sources = [src for src in sources if src]
    for s, source in zip(corpus.starts, sources, strict=False):
        assert corpus.text[s : s + len(source)] == source[: corpus.n_chars - s]
    assert corpus.text.startswith(sources[0]) and len(corpus.starts) <= len(sources)


def test_a_users_text_is_one_document():
    assert user_corpus("Hello there.\n\nGeneral Kenobi.").starts == (0,)


def test_split_starts_counts_each_part_from_its_own_beginning():
    assert split_starts((0, 40, 90, 95), 90) == ((0, 40), (0, 5))
    assert split_starts((0,), 90) == ((0,), ())
    corpus = load_corpus("toy", 10_000)
    train, val = split_corpus(corpus.text)
    train_starts, val_starts = split_starts(corpus.starts, len(train))
    assert all(val[s - 2 : s] == ". " for s in val_starts if s >= 2)
    assert len(train_starts) + len(val_starts) == len(corpus.starts)


# ------------------------------------------------------------------------------ user text


def test_pasted_text_becomes_a_corpus():
    corpus = user_corpus("Hello there.\nGeneral Kenobi.", name="  star wars  ")
    assert corpus.name == corpus.title == "star wars"
    assert corpus.text == "Hello there.\nGeneral Kenobi."
    assert corpus.entropy_rate is None
    assert "28 characters on 2 lines" in corpus.description


@pytest.mark.parametrize("data", ["", "   ", " \n\t\r\n ", b"", b"  \n"])
def test_empty_or_whitespace_text_is_refused(data):
    with pytest.raises(InvalidTextError, match="empty"):
        user_corpus(data)


@pytest.mark.parametrize("data", ["abc\x00def", b"hello\x00world"])
def test_nul_characters_are_refused_as_binary(data):
    with pytest.raises(InvalidTextError, match=r"NUL character \(at character [35]\)") as info:
        user_corpus(data)
    assert "binary" in str(info.value)


def test_latin1_bytes_are_refused_with_the_offset():
    data = "Le café est chaud.".encode("latin-1")
    with pytest.raises(InvalidTextError) as info:
        user_corpus(data)
    message = str(info.value)
    assert "byte 6 (0xE9)" in message and "UTF-8" in message and "é" in message


def test_utf8_bom_is_removed():
    corpus = user_corpus(codecs.BOM_UTF8 + "héllo wörld".encode())
    assert corpus.text == "héllo wörld"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_a_bom_is_read(encoding):
    text = "héllo 😀\r\nwörld"
    data = text.encode(encoding)
    if encoding != "utf-16":  # "utf-16" writes its own BOM; the others need one added
        data = (codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE) + data
    corpus = user_corpus(data)
    assert corpus.text == "héllo 😀\nwörld"
    assert "UTF-16" in corpus.description


def test_utf16_without_a_bom_is_refused():
    with pytest.raises(InvalidTextError, match="not UTF-8"):
        user_corpus("héllo".encode("utf-16-le"))


def test_damaged_utf16_is_refused():
    with pytest.raises(InvalidTextError, match="UTF-16"):
        user_corpus(codecs.BOM_UTF16_LE + "hello".encode("utf-16-le")[:-1])


def test_newlines_are_normalised():
    assert user_corpus("a\r\nb\rc\nd\r\n").text == "a\nb\nc\nd\n"
    assert user_corpus(b"a\r\nb\r\n").text == "a\nb\n"


def test_emoji_and_right_to_left_text_are_kept_as_is():
    text = "hello 😀👍🏽 שלום עולם \u200f مرحبا بالعالم e\u0301"
    assert user_corpus(text).text == text
    assert user_corpus(text.encode()).text == text


def test_a_megabyte_paste_is_accepted():
    text = "abcdefghij\n" * 100_000  # 1.1 MB
    assert user_corpus(text).text == text
    assert user_corpus(bytearray(text.encode())).text == text


def test_text_over_the_limit_is_refused_with_size_and_limit():
    with pytest.raises(InvalidTextError) as info:
        user_corpus("a" * (MAX_CORPUS_CHARS + 1))
    assert f"{MAX_CORPUS_CHARS + 1:,}" in str(info.value)
    assert f"{MAX_CORPUS_CHARS:,}" in str(info.value)
    with pytest.raises(InvalidTextError, match=f"{MAX_CORPUS_CHARS:,}"):
        user_corpus(b"a" * (MAX_CORPUS_CHARS + 1))
    with pytest.raises(InvalidTextError, match="MB"):
        user_corpus(b"a" * (4 * MAX_CORPUS_CHARS + 1))  # refused before decoding


def test_text_at_the_limit_after_newline_normalisation_is_accepted():
    text = "a\r\n" * (MAX_CORPUS_CHARS // 2)  # 1.5 x the limit before, exactly it after
    assert len(user_corpus(text).text) == MAX_CORPUS_CHARS


@pytest.mark.parametrize("data", [None, 42, ["text"], 3.5])
def test_other_types_are_refused(data):
    with pytest.raises(InvalidTextError, match="string or the bytes"):
        user_corpus(data)


@pytest.mark.parametrize("name", ["", "   ", None, "x" * 81])
def test_bad_names_are_refused(name):
    with pytest.raises(InvalidTextError, match="name"):
        user_corpus("some text", name=name)


def test_a_short_text_is_a_corpus_but_cannot_be_split_for_training():
    corpus = user_corpus("the cat sat")
    assert corpus.text == "the cat sat"
    with pytest.raises(InvalidTextError, match="at least 200"):
        split_corpus(corpus.text)


# ------------------------------------------------------------------------------ splitting


@pytest.mark.parametrize(
    ("n", "fraction", "n_val"),
    [(1000, 0.1, 100), (1001, 0.25, 250), (200, 0.01, 2), (999, 0.5, 500)],
)
def test_split_keeps_the_last_fraction_for_validation(n, fraction, n_val):
    text = "".join(chr(ord("a") + i % 26) for i in range(n))
    train, val = split_corpus(text, fraction)
    assert train + val == text  # contiguous: no character in both, none lost
    assert len(val) == n_val and val == text[len(text) - n_val :]


def test_split_of_a_real_corpus():
    text = load_corpus("toy", 10_000).text
    train, val = split_corpus(text)
    assert (len(train), len(val)) == (9_000, 1_000)
    assert text.startswith(train) and text.endswith(val)


def test_split_refuses_too_short_texts_with_a_reason():
    split_corpus("x" * MIN_TRAIN_CHARS)  # the shortest allowed
    with pytest.raises(InvalidTextError) as info:
        split_corpus("x" * (MIN_TRAIN_CHARS - 1))
    message = str(info.value)
    assert "199 characters" in message and "at least 200" in message and "longer" in message


@pytest.mark.parametrize("fraction", [0, 0.005, 0.6, 1, float("nan"), float("inf"), "some"])
def test_split_refuses_bad_fractions(fraction):
    with pytest.raises(SettingError, match="validation fraction"):
        split_corpus("x" * 1000, fraction)


@pytest.mark.parametrize("text", [None, b"x" * 1000, 1000])
def test_split_refuses_non_strings(text):
    with pytest.raises(InvalidTextError, match="string"):
        split_corpus(text)


def test_split_refuses_texts_over_the_limit():
    with pytest.raises(InvalidTextError, match=f"{MAX_CORPUS_CHARS:,}"):
        split_corpus("x" * (MAX_CORPUS_CHARS + 1))

"""Tests of fmcore.lm.tokenizer: round trips, the special ids, unknown and invisible
characters reported (never a crash), alphabets from a corpus, manifests, bad input."""

from __future__ import annotations

import json

import pytest
import torch

from fmcore.errors import InvalidTextError, SettingError
from fmcore.lm.tokenizer import (
    BEGIN,
    BEGIN_SYMBOL,
    MAX_TEXT_CHARS,
    PAD,
    UNKNOWN,
    UNKNOWN_SYMBOL,
    CharTokenizer,
    UnknownChar,
    describe_character,
)

ALPHABET = " abcdefghijklmnopqrstuvwxyz.,\n"


@pytest.fixture(scope="module")
def tok() -> CharTokenizer:
    return CharTokenizer(ALPHABET)


# ------------------------------------------------------------------------------ ids


def test_special_ids_come_first_then_the_alphabet_in_order(tok):
    assert (PAD, BEGIN, UNKNOWN) == (0, 1, 2)
    assert tok.vocab_size == 3 + len(ALPHABET)
    assert tok.encode("ab", add_begin=False) == [3 + ALPHABET.index("a"), 3 + ALPHABET.index("b")]
    assert tok.token_text(BEGIN) == BEGIN_SYMBOL == "⊥"
    assert tok.token_text(UNKNOWN) == UNKNOWN_SYMBOL


def test_encode_starts_with_the_begin_token_x0(tok):
    ids = tok.encode("hi")
    assert ids[0] == BEGIN and len(ids) == 3
    assert tok.encode("") == [BEGIN]
    assert tok.encode("", add_begin=False) == []


@pytest.mark.parametrize("text", ["", "hello world.", "a,b\nc  d", ALPHABET])
def test_round_trip(tok, text):
    assert tok.decode(tok.encode(text, add_begin=False)) == text
    assert tok.decode(tok.encode(text)) == "⊥" + text
    t = tok.encode_tensor(text)
    assert t.dtype == torch.long and t.shape == (len(text) + 1,)
    assert tok.decode(t) == "⊥" + text


def test_labels_make_whitespace_visible(tok):
    assert tok.token_label(3 + ALPHABET.index(" ")) == "␣"
    assert tok.token_label(3 + ALPHABET.index("\n")) == "↵"
    assert tok.labels[:3] == ["·", "⊥", "�"] and len(tok.labels) == tok.vocab_size


def test_equal_alphabets_give_equal_hashable_tokenizers():
    assert CharTokenizer("abc") == CharTokenizer("abc") != CharTokenizer("abd")
    assert len({CharTokenizer("abc"), CharTokenizer("abc")}) == 1


# ------------------------------------------------------------------------------ unknown


@pytest.mark.parametrize(
    "text, expected",
    [
        ("hi😀", [(2, "😀")]),  # one code point
        ("a👍🏽", [(1, "👍"), (2, "🏽")]),  # emoji + skin-tone modifier: two code points
        ("👩\u200d👧", [(0, "👩"), (1, "\u200d"), (2, "👧")]),  # zero-width joiner sequence
        ("ok שלום", [(3, "ש"), (4, "ל"), (5, "ו"), (6, "ם")]),  # right-to-left script
        ("a\u200fb\u202ec", [(1, "\u200f"), (3, "\u202e")]),  # RLM and RLO marks
        ("a\x00b", [(1, "\x00")]),  # NUL
        ("a\r\nb\x7f", [(1, "\r"), (4, "\x7f")]),  # carriage return, DEL
        ("\ud800x", [(0, "\ud800")]),  # a lone surrogate, as errors="surrogateescape" leaves
        ("Hé", [(0, "H"), (1, "é")]),  # capitals and accents are not in this alphabet
    ],
)
def test_unknown_characters_are_reported_and_encoded_as_unknown(tok, text, expected):
    found = tok.unknown_characters(text)
    assert found == [UnknownChar(p, c) for p, c in expected]
    ids = tok.encode(text, add_begin=False)
    assert len(ids) == len(text)
    assert [i for i, x in enumerate(ids) if x == UNKNOWN] == [p for p, _ in expected]
    assert all(text[u.position] == u.char for u in found)
    assert tok.decode(ids).count(UNKNOWN_SYMBOL) == len(expected)


def test_descriptions_name_invisible_characters():
    assert describe_character("\x00") == "U+0000 (control character)"
    assert describe_character("😀") == "U+1F600 GRINNING FACE"
    assert "RIGHT-TO-LEFT OVERRIDE" in UnknownChar(0, "\u202e").description
    assert "invisible formatting" in describe_character("\u200f")
    assert "surrogate" in describe_character("\ud800")
    with pytest.raises(InvalidTextError):
        describe_character("ab")


def test_known_text_has_no_unknown_characters(tok):
    assert tok.unknown_characters("hello, world.\n") == []


# ------------------------------------------------------------------------------ corpus


def test_from_corpus_keeps_the_most_frequent_characters_in_code_point_order():
    corpus = "aaaa bbb cc d" + "\x00" * 10 + "\u200f" * 10
    # counts: a 4, space 3, b 3, c 2, d 1; the invisible characters are skipped
    assert CharTokenizer.from_corpus(corpus, 3).alphabet == " ab"
    assert CharTokenizer.from_corpus(corpus, 4).alphabet == " abc"
    assert CharTokenizer.from_corpus(corpus, 100).alphabet == " abcd"
    # ties go to the smaller code point, whatever the order of the text
    assert CharTokenizer.from_corpus("zyx", 2).alphabet == "xy"
    assert CharTokenizer.from_corpus("xyz", 2).alphabet == "xy"


def test_from_corpus_keeps_newlines_and_skips_symbols_of_specials():
    tok = CharTokenizer.from_corpus("a\nb\n⊥⊥⊥�", 10)
    assert tok.alphabet == "\nab"


@pytest.mark.parametrize("corpus", ["", "\x00\x01\u200f"])
def test_from_corpus_without_usable_characters_is_refused(corpus):
    with pytest.raises(InvalidTextError, match="no usable characters"):
        CharTokenizer.from_corpus(corpus)


def test_manifest_round_trip_through_json(tok):
    data = json.loads(json.dumps(tok.to_dict()))
    assert CharTokenizer.from_dict(data) == tok


@pytest.mark.parametrize(
    "data",
    [
        "abc",
        {"alphabet": "abc"},
        {"kind": "bpe", "specials": ["PAD", "BEGIN", "UNKNOWN"], "alphabet": "abc"},
        {"kind": "char", "specials": ["BEGIN", "PAD", "UNKNOWN"], "alphabet": "abc"},
        {"kind": "char", "specials": ["PAD", "BEGIN", "UNKNOWN"], "alphabet": "abca"},
    ],
)
def test_bad_manifests_are_refused(data):
    with pytest.raises(SettingError):
        CharTokenizer.from_dict(data)


# ------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "alphabet, words",
    [
        ("", "between 1 and"),
        ("abca", "only once"),
        ("ab⊥", "special tokens"),
        ("ab\x00", "invisible"),
        ("ab\u200f", "invisible"),
        ("ab\r", "invisible"),
        (b"abc", "must be a string"),
        ("x" * 5 + "".join(chr(0x4E00 + i) for i in range(1000)), "between 1 and"),
    ],
)
def test_bad_alphabets_raise_setting_errors(alphabet, words):
    with pytest.raises(SettingError, match=words):
        CharTokenizer(alphabet)


@pytest.mark.parametrize("text", [None, 5, b"hello", ["h", "i"]])
def test_non_strings_raise_invalid_text(tok, text):
    with pytest.raises(InvalidTextError, match="must be a string"):
        tok.encode(text)
    with pytest.raises(InvalidTextError, match="must be a string"):
        tok.unknown_characters(text)


def test_too_long_text_is_refused_with_the_limit_in_the_message(tok):
    text = "a" * (MAX_TEXT_CHARS + 1)
    with pytest.raises(InvalidTextError, match="at most 100,000"):
        tok.encode(text)
    assert len(tok.encode(text, limit=MAX_TEXT_CHARS + 1)) == MAX_TEXT_CHARS + 2  # a corpus


@pytest.mark.parametrize("ids", [[0, 99], [-1], [1.5], "abc", torch.zeros(2, 2, dtype=torch.long)])
def test_decode_refuses_what_is_not_a_sequence_of_valid_ids(tok, ids):
    with pytest.raises(SettingError):
        tok.decode(ids)


def test_add_begin_must_be_a_bool(tok):
    with pytest.raises(SettingError, match="add_begin"):
        tok.encode("a", add_begin="yes")

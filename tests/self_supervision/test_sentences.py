"""Tests for fmcore.self_supervision.sentences: the procedural topic sentences and the
character code."""

from __future__ import annotations

import pytest
import torch

from fmcore.errors import SettingError
from fmcore.self_supervision.sentences import (
    _WORDS,
    ALPHABET,
    MASK,
    MAX_CHARS,
    PAD,
    TOPICS,
    VOCAB_SIZE,
    decode,
    encode,
    make_sentences,
)


@pytest.fixture(scope="module")
def data():
    return make_sentences(800, 0)


def test_texts_are_short_lowercase_and_labelled(data):
    assert len(data) == 800 and len(data.texts) == 800
    assert data.labels.shape == (800,) and data.labels.dtype == torch.int64
    assert data.topics == TOPICS == ("weather", "food", "animals", "sport")
    for text in data.texts:
        assert 0 < len(text) <= MAX_CHARS
        assert set(text) <= set(ALPHABET)
        assert text == text.strip() and "  " not in text


def test_topics_are_balanced(data):
    counts = torch.bincount(data.labels, minlength=4)
    assert counts.tolist() == [200, 200, 200, 200]


def test_same_seed_same_sentences():
    a = make_sentences(50, 4)
    b = make_sentences(50, torch.Generator().manual_seed(4))
    assert a.texts == b.texts and torch.equal(a.labels, b.labels)
    assert make_sentences(50, 5).texts != a.texts


def test_each_sentence_holds_a_word_of_its_topic_only(data):
    def phrases(topic):
        return [p for part in _WORDS[topic].values() for p in part]

    for text, label in zip(data.texts, data.labels.tolist(), strict=True):
        own = [p for p in phrases(TOPICS[label]) if p in text]
        assert own, text
        for other, topic in enumerate(TOPICS):
            if other != label:
                assert not any(p in text for p in phrases(topic)), (text, topic)


def test_topic_is_not_given_away_by_position(data):
    """The first word alone does not tell the topic: sentences of every topic share it."""
    firsts = {}
    for text, label in zip(data.texts, data.labels.tolist(), strict=True):
        firsts.setdefault(text.split()[0], set()).add(label)
    shared = [w for w, labels in firsts.items() if len(labels) == len(TOPICS)]
    assert len(shared) >= 5
    assert len(set(data.texts)) > 500  # plenty of different sentences


def test_encode_decode_round_trip():
    texts = ["the rain fell", "she ate a pie.", ""]
    ids = encode(texts, 20)
    assert ids.shape == (3, 20) and ids.dtype == torch.int64
    assert ids.min() >= 0 and ids.max() < VOCAB_SIZE
    assert [decode(row) for row in ids] == texts
    assert (ids[0, 13:] == PAD).all() and (ids[0, :13] >= 2).all()
    assert (ids[2] == PAD).all()
    assert encode(" ", 1).tolist() == [[ALPHABET.index(" ") + 2]]


def test_encode_single_string_and_default_length():
    assert encode("abc").shape == (1, MAX_CHARS)
    assert encode("abc")[0, :3].tolist() == [3, 4, 5]


def test_decode_shows_mask_and_drops_pad():
    ids = encode("cat", 6)[0]
    ids[1] = MASK
    assert decode(ids) == "c_t"
    assert decode([PAD, 2 + ALPHABET.index("a"), MASK, PAD]) == "a_"


def test_unknown_characters_are_named():
    with pytest.raises(SettingError, match="Z"):
        encode(["the Zoo"], 10)
    with pytest.raises(SettingError, match="é"):
        encode("café", 10)


@pytest.mark.parametrize(
    "call",
    [
        lambda: encode("a long sentence", 5),
        lambda: encode([1, 2], 5),
        lambda: encode("abc", 0),
        lambda: decode([0, VOCAB_SIZE]),
        lambda: decode([1.5]),
        lambda: make_sentences(0),
        lambda: make_sentences(10**7),
        lambda: make_sentences(5, -3),
    ],
)
def test_bad_arguments_raise_setting_error(call):
    with pytest.raises(SettingError):
        call()

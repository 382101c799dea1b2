"""Tests of fmcore.prompting.prompts: template checks, assembly against hand-written prompts (hidden
and explicit, multi-digit and negative answers), the loss mask on the answers, parse_answer
edge cases, check_prompt's messages, and decode_answer with tiny models (stops at the
newline or max_chars; the answer's probability is the product of its steps')."""

from __future__ import annotations

import math

import pytest
import torch

from fmcore.errors import InvalidTextError, SettingError
from fmcore.lm.model import GPTConfig, TinyGPT
from fmcore.lm.tokenizer import CharTokenizer
from fmcore.prompting import prompts
from fmcore.prompting.icl_tasks import OPERATIONS, Example, Task, corrupt, make_task
from fmcore.prompting.prompts import (
    DEFAULT_TEMPLATE,
    Answer,
    PromptTemplate,
    answer_spans,
    assemble,
    check_prompt,
    decode_answer,
    loss_mask,
    parse_answer,
    prompt_alphabet,
    shown,
    training_text,
)

TOKENIZER = CharTokenizer(prompt_alphabet())
CONTEXT = 96


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny models: one torch thread is much faster on a busy two-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# The notes' example (Section 14.3.1): ~ is addition.
NOTES_TASK = Task(OPERATIONS["add"], (Example(2, 3, 5), Example(6, 7, 13)), Example(15, 2, 17))


# ============================================================================ template
def test_default_template():
    assert DEFAULT_TEMPLATE.example == "Q: {a} {op} {b} = ? A: {answer}\n"
    assert DEFAULT_TEMPLATE.query == "Q: {a} {op} {b} = ? A: "


@pytest.mark.parametrize(
    ("example", "query", "match"),
    [
        ("Q: {a} {op} {c} = ? A: {answer}\n", "Q: {a} {op} {c} = ? A: ", r"field \{c\}"),
        ("Q: {a} {op} {b} = ? A: {answer}\n", "Q: {a} {op} = ? A: ", r"\{b\} exactly once"),
        ("Q: {a} {a} {op} {b} A: {answer}\n", "Q: {a} {a} {op} {b} A: ", r"\{a\} exactly once"),
        ("Q: {a} {op} {b} = ? A: \n", "Q: {a} {op} {b} = ? A: ", r"\{answer\} exactly once"),
        ("Q: {a} {op} {b} A: {answer}\n", "Q: {a} {op} {b} A: {answer}", r"field \{answer\}"),
        ("Q: {a:>3} {op} {b} A: {answer}\n", "Q: {a:>3} {op} {b} A: ", "plainly"),
        ("Q: {a} {op} {b} A: {answer}\n", "Q: {a} {op} {b} A: {", "braces"),
        ("Q: {a} {op} {b} = ? A: {answer}", "Q: {a} {op} {b} = ? A: ", "newline"),
        ("Q: {a} {op} {b} = ?\nA: {answer}\n", "Q: {a} {op} {b} = ? A: ", "followed by"),
        ("Q: {} {op} {b} A: {answer}\n", "Q: {} {op} {b} A: ", r"field \{\}"),
    ],
)
def test_template_errors_name_the_problem(example, query, match):
    with pytest.raises(SettingError, match=match):
        PromptTemplate(example=example, query=query)


def test_template_type_and_length():
    with pytest.raises(SettingError, match="string"):
        PromptTemplate(example=3)
    with pytest.raises(SettingError, match="at most"):
        PromptTemplate(example="x" * 300 + "{a}{op}{b}{answer}\n", query="x" * 300 + "{a}{op}{b}")


# ============================================================================ assembly
def test_assemble_the_notes_prompt_by_hand():
    expected = "Q: 2 ~ 3 = ? A: 5\nQ: 6 ~ 7 = ? A: 13\nQ: 15 ~ 2 = ? A: "
    assert assemble(NOTES_TASK) == expected
    assert training_text(NOTES_TASK) == expected + "17\n"
    assert shown(expected) == "⊥" + expected
    tokenized = TOKENIZER.decode(TOKENIZER.encode(expected))
    assert tokenized == shown(expected)  # the tokenizer adds ⊥ itself


def test_assemble_explicit_negative_and_other_template():
    task = Task(
        OPERATIONS["subtract"],
        (Example(3, 10, -7), Example(99, 0, 99)),
        Example(0, 42, -42),
        explicit=True,
    )
    assert assemble(task) == "Q: 3 - 10 = ? A: -7\nQ: 99 - 0 = ? A: 99\nQ: 0 - 42 = ? A: "
    notes_style = PromptTemplate(
        example="Q: {a} {op} {b} = ?\nA: {answer}\n", query="Q: {a} {op} {b} = ?\nA: "
    )
    assert assemble(task, notes_style) == (
        "Q: 3 - 10 = ?\nA: -7\nQ: 99 - 0 = ?\nA: 99\nQ: 0 - 42 = ?\nA: "
    )


def test_assemble_hidden_and_explicit_symbols():
    for name, op in OPERATIONS.items():
        hidden = assemble(make_task(name, 3, _gen(1)))
        explicit = assemble(make_task(name, 3, _gen(1), explicit=True))
        assert hidden.count(" ~ ") == 4 and f" {op.symbol} " not in hidden
        assert explicit.count(f" {op.symbol} ") == 4 and "~" not in explicit
        assert not TOKENIZER.unknown_characters(training_text(make_task(name, 3, _gen(1))))


def test_zero_shot_prompt_is_the_query_alone():
    task = Task(OPERATIONS["max"], (), Example(15, 2, 15), explicit=True)
    assert assemble(task) == "Q: 15 max 2 = ? A: "
    assert loss_mask(training_text(task), task) == [False] * 19 + [True] * 3


def test_assemble_checks_its_arguments():
    with pytest.raises(SettingError, match="Task"):
        assemble("Q: 1 ~ 2")
    with pytest.raises(SettingError, match="PromptTemplate"):
        assemble(NOTES_TASK, "Q: {a}")


# ============================================================================ loss mask
def _masked(text: str, mask: list[bool]) -> str:
    return "".join(c if m else "_" for c, m in zip(text, mask, strict=True))


def test_loss_mask_covers_exactly_the_answers():
    text = training_text(NOTES_TASK)
    mask = loss_mask(text, NOTES_TASK)
    assert len(mask) == len(text)
    assert _masked(text, mask) == ("_" * 16 + "5\n" + "_" * 16 + "13\n" + "_" * 17 + "17\n")
    assert answer_spans(NOTES_TASK) == [(16, 18), (34, 37), (54, 57)]
    only = loss_mask(text, NOTES_TASK, query_only=True)
    assert _masked(text, only) == "_" * 54 + "17\n"


@pytest.mark.parametrize("seed", range(5))
def test_loss_mask_on_random_tasks_spells_the_answers(seed):
    task = corrupt(make_task("subtract", 6, _gen(seed)), 2, _gen(seed + 100))
    text = training_text(task)
    mask = loss_mask(text, task)
    answers = [e.answer for e in (*task.examples, task.query)]
    flagged = "".join(c for c, m in zip(text, mask, strict=True) if m)
    assert flagged == "".join(f"{v}\n" for v in answers)
    for start, end in answer_spans(task):  # the character before each answer is the space
        assert text[start - 2 : start] == ": " and text[end - 1] == "\n"
        assert parse_answer(text[start:end]) is not None


def test_loss_mask_refuses_another_text():
    with pytest.raises(InvalidTextError, match="character 55"):
        loss_mask(assemble(NOTES_TASK) + "18\n", NOTES_TASK)
    with pytest.raises(InvalidTextError, match="training_text"):
        loss_mask(assemble(NOTES_TASK), NOTES_TASK)


# ============================================================================ parse_answer
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("17\n", 17),
        ("-12\n", -12),
        (" 7", 7),
        ("7 \nQ: 1 ~ 2", 7),
        ("0\n", 0),
        ("198\nQ: 3 ~ 4 = ? A: 7\n", 198),
        ("", None),
        ("\n", None),
        ("-\n", None),
        ("--3\n", None),
        ("+3\n", None),
        ("1 2\n", None),
        ("12a\n", None),
        ("Q: 3", None),
        ("١٢\n", None),  # Arabic-Indic digits are not the model's digits
        ("9" * 30, None),
    ],
)
def test_parse_answer(text, value):
    assert parse_answer(text) == value


def test_parse_answer_refuses_non_text():
    with pytest.raises(InvalidTextError, match="string"):
        parse_answer(17)


# ============================================================================ check_prompt
def test_check_prompt_accepts_a_prompt_that_fits():
    prompt = assemble(NOTES_TASK)
    assert check_prompt(prompt, TOKENIZER, len(prompt) + 1) == prompt


def test_check_prompt_names_unknown_characters():
    with pytest.raises(InvalidTextError, match=r"'é' \(U\+00E9 LATIN SMALL LETTER E WITH ACUTE\)"):
        check_prompt("Q: 2 é 3 = ? A: ", TOKENIZER, 64)
    with pytest.raises(InvalidTextError, match="CONTROL|control"):
        check_prompt("Q: 2 ~ 3\x00 = ? A: ", TOKENIZER, 64)


def test_check_prompt_says_how_many_examples_fit():
    prompt = assemble(NOTES_TASK)  # examples of 18 and 19 characters, query of 17
    with pytest.raises(InvalidTextError, match="keep at most 1 example \\(of 2\\)"):
        check_prompt(prompt, TOKENIZER, 19 + 17 + 1)
    with pytest.raises(InvalidTextError, match="keep at most 0 examples"):
        check_prompt(prompt, TOKENIZER, 19 + 17)
    with pytest.raises(InvalidTextError, match="only the query fits"):
        check_prompt(prompt, TOKENIZER, 10)
    with pytest.raises(
        InvalidTextError, match="54 characters, but the model reads at most 53 after the begin"
    ):
        check_prompt(prompt, TOKENIZER, len(prompt))


def test_check_prompt_checks_its_arguments():
    with pytest.raises(InvalidTextError, match="string"):
        check_prompt(None, TOKENIZER, 64)
    with pytest.raises(SettingError, match="CharTokenizer"):
        check_prompt("Q", "abc", 64)
    with pytest.raises(SettingError, match="context_length"):
        check_prompt("Q", TOKENIZER, 0)


# ============================================================================ decode_answer
def _random_model(seed: int = 0) -> TinyGPT:
    config = GPTConfig(TOKENIZER.vocab_size, CONTEXT, width=16, layers=1, heads=2)
    return TinyGPT(config, _gen(seed)).eval()


def _constant_model(char: str) -> TinyGPT:
    """A model whose logits are the same at every position, with ``char`` far ahead."""
    model = _random_model()
    with torch.no_grad():
        model.ln_final.weight.zero_()
        model.ln_final.bias.copy_(torch.linspace(-1.0, 1.0, 16))
        model.unembed.weight.normal_(0.0, 0.1, generator=_gen(1))
        model.unembed.weight[TOKENIZER.encode(char, add_begin=False)[0]] = 5 * model.ln_final.bias
    return model


def test_decode_answer_stops_at_the_newline():
    answer = decode_answer(_constant_model("\n"), TOKENIZER, assemble(NOTES_TASK))
    assert isinstance(answer, Answer)
    assert answer.text == "\n" and answer.finished and answer.value is None
    assert len(answer.steps) == 1 and answer.probability == answer.steps[0].probability
    assert 0.5 < answer.probability < 1.0


def test_decode_answer_stops_at_max_chars():
    model = _constant_model("7")
    answer = decode_answer(model, TOKENIZER, assemble(NOTES_TASK), max_chars=3)
    assert answer.text == "777" and answer.value == 777 and not answer.finished
    assert len(answer.steps) == 3
    assert answer.probability == pytest.approx(answer.steps[0].probability ** 3)
    for bad in (0, 17, 2.5):
        with pytest.raises(SettingError, match="max_chars"):
            decode_answer(model, TOKENIZER, "Q: ", max_chars=bad)


@pytest.mark.parametrize("seed", range(3))
def test_decode_answer_with_a_random_model_is_well_formed(seed):
    model = _random_model(seed)
    prompt = assemble(make_task("add", 2, _gen(seed)))
    answer = decode_answer(model, TOKENIZER, prompt, max_chars=8)
    assert 1 <= len(answer.steps) <= 8
    assert answer.text == "".join(s.text for s in answer.steps)
    assert "\n" not in answer.text[:-1]  # stops at the first newline
    assert answer.finished == answer.text.endswith("\n")
    assert answer.finished or len(answer.steps) == 8
    assert answer.value == parse_answer(answer.text)
    assert answer.probability == pytest.approx(math.prod(s.probability for s in answer.steps))
    for step in answer.steps:
        assert step.probs.shape == (TOKENIZER.vocab_size,)
        assert float(step.probs.sum()) == pytest.approx(1.0)
        assert step.token == int(torch.argmax(step.probs))  # greedy at temperature 0
        assert step.probability == pytest.approx(float(step.probs[step.token]))
    assert decode_answer(model, TOKENIZER, prompt, max_chars=8).text == answer.text


def test_decode_answer_sampling_needs_a_generator_and_repeats_with_it():
    model = _random_model(4)
    prompt = assemble(NOTES_TASK)
    with pytest.raises(SettingError, match="torch.Generator"):
        decode_answer(model, TOKENIZER, prompt, temperature=1.0)
    first = decode_answer(model, TOKENIZER, prompt, _gen(9), temperature=2.0, max_chars=6)
    again = decode_answer(model, TOKENIZER, prompt, _gen(9), temperature=2.0, max_chars=6)
    assert first.text == again.text and first.probability == again.probability
    assert first.probability == pytest.approx(math.prod(s.probability for s in first.steps))


def test_decode_answer_refuses_prompts_it_cannot_read():
    model = _random_model()
    with pytest.raises(InvalidTextError, match="does not know"):
        decode_answer(model, TOKENIZER, "Q: 2 é 3 = ? A: ")
    long_task = make_task("add", 8, _gen())
    with pytest.raises(InvalidTextError, match="keep at most"):
        decode_answer(model, TOKENIZER, assemble(long_task))
    with pytest.raises(SettingError, match="TinyGPT"):
        decode_answer("model", TOKENIZER, "Q: ")
    with pytest.raises(SettingError, match="temperature"):
        decode_answer(model, TOKENIZER, "Q: ", temperature=-1)


# ============================================================================ typed input
@pytest.mark.parametrize("value, message", [
    ("", "empty"), (None, "empty"), ("  ", "empty"), ("1€", "not '€'"), ("٣", "not '٣'"),
    ("1-2", "not a whole number"), ("--3", "not a whole number"), ("100", "between 0 and 99"),
    ("-1", "between 0 and 99"), ("9" * 40, "not a whole number"), ("1\x00", "not"),
])
def test_read_number_says_what_is_wrong(value, message):
    with pytest.raises(InvalidTextError, match=message):
        prompts.read_number(value, "a", 0, 99)


def test_read_number_reads_whole_numbers_with_spaces():
    assert prompts.read_number(" 42 ", "a", 0, 99) == 42
    assert prompts.read_number(-7, "y", -10, 10) == -7


def test_read_examples_skips_empty_rows_and_reports_every_bad_cell():
    rows = [{"a": "2", "b": "3", "answer": "5"}, {"a": None, "b": "", "answer": float("nan")},
            {"a": "x", "b": "3", "answer": "1"}, {"a": "1", "b": "200", "answer": "1"},
            {"a": "4", "b": "5", "answer": "-999"}]
    problems, examples = prompts.read_examples(rows)
    assert len(problems) == 2 and problems[0].startswith("Example 3: a")
    assert problems[1].startswith("Example 4: b is 200")
    assert [(e.a, e.b, e.answer) for e in examples] == [(2, 3, 5), (4, 5, -999)]


def test_a_prompt_link_round_trips_and_keeps_a_secret():
    link = prompts.PromptLink("max", None, (Example(2, 3, 3), Example(9, 4, 9)), (15, 2))
    assert link.to_params() == {"op": "max", "ex": "2,3,3;9,4,9", "q": "15,2"}
    assert prompts.PromptLink.from_params(link.to_params()) == link
    hidden = prompts.PromptLink(prompts.PromptLink.SECRET, "mean", (), (1, 2))
    params = hidden.to_params()
    assert params["h"] == str(list(OPERATIONS).index("mean")) and "mean" not in params.values()
    assert prompts.PromptLink.from_params(params) == hidden


@pytest.mark.parametrize("params, message", [
    ({"op": "times"}, "unknown operation"), ({"op": "add", "ex": "1,2"}, "not a,b,answer"),
    ({"op": "add", "ex": ";".join(["1,2,3"] * 17)}, "more than 16"),
    ({"op": "add", "q": "1,2,3"}, "two numbers"), ({"op": "add", "q": "1,x"}, "query b"),
    ({"op": "surprise me", "h": "12"}, "between 0 and 11"),
    ({"op": "add", "ex": "1" * 3000}, "too long"),
])
def test_a_bad_prompt_link_is_refused_whole(params, message):
    with pytest.raises(InvalidTextError, match=message):
        prompts.PromptLink.from_params(params)

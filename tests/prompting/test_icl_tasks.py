"""Tests of fmcore.prompting.icl_tasks: the hidden operations by hand-computed examples, task
sampling (determinism per generator, fresh operands, hidden "~" and explicit symbols),
corrupt (exactly n_wrong answers changed, each to a wrong value) and input checks."""

from __future__ import annotations

import pytest
import torch

from fmcore.errors import SettingError
from fmcore.prompting.icl_tasks import (
    HIDDEN_SYMBOL,
    MAX_SHOTS,
    OPERATIONS,
    Example,
    Operation,
    Task,
    corrupt,
    get_operation,
    make_task,
    operation_table,
    sample_tasks,
)


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# (a, b) -> answer, computed by hand for every operation
HAND = {
    "add": [((2, 3), 5), ((15, 2), 17), ((99, 99), 198), ((0, 0), 0)],
    "subtract": [((7, 3), 4), ((3, 10), -7), ((0, 99), -99), ((5, 5), 0)],
    "max": [((2, 3), 3), ((40, 4), 40), ((7, 7), 7)],
    "min": [((2, 3), 2), ((40, 4), 4), ((0, 99), 0)],
    "distance": [((3, 10), 7), ((10, 3), 7), ((0, 99), 99), ((8, 8), 0)],
    "first": [((12, 34), 12), ((0, 99), 0)],
    "second": [((12, 34), 34), ((99, 0), 0)],
    "mean": [((2, 3), 2), ((4, 8), 6), ((99, 98), 98), ((0, 1), 0)],
    "last_digit_sum": [((2, 3), 5), ((15, 27), 2), ((99, 99), 8), ((5, 5), 0)],
    "last_digit_product": [((12, 34), 8), ((19, 29), 81), ((10, 77), 0), ((3, 3), 9)],
    "pair_last_digits": [((12, 34), 24), ((5, 70), 50), ((0, 9), 9), ((99, 88), 98)],
    "larger_digit_sum": [((47, 91), 11), ((99, 0), 18), ((10, 2), 2), ((0, 0), 0)],
}


def test_at_least_ten_operations_each_checked_by_hand():
    assert len(OPERATIONS) >= 10
    assert set(HAND) == set(OPERATIONS)
    for name, cases in HAND.items():
        for (a, b), answer in cases:
            assert OPERATIONS[name](a, b) == answer, (name, a, b)


def test_symbols_are_distinct_and_never_the_hidden_one():
    symbols = [op.symbol for op in OPERATIONS.values()]
    assert len(set(symbols)) == len(symbols)
    assert HIDDEN_SYMBOL not in symbols
    assert OPERATIONS["add"].symbol == "+" and OPERATIONS["subtract"].symbol == "-"
    assert [row["name"] for row in operation_table()] == list(OPERATIONS)


def test_operands_outside_0_to_99_are_refused():
    for a, b in ((-1, 3), (3, 100), (2.5, 1), (True, 1)):
        with pytest.raises(SettingError):
            OPERATIONS["add"](a, b)
        with pytest.raises(SettingError):
            Example(a, b, 0)
    with pytest.raises(SettingError, match="whole number"):
        Example(1, 2, 3.0)


def test_operation_symbol_checked():
    with pytest.raises(SettingError, match="~"):
        Operation("tilde", "~", "a", lambda a, b: a)
    with pytest.raises(SettingError, match="spaces"):
        Operation("two words", "a b", "a", lambda a, b: a)


def test_unknown_operation_lists_the_known_ones():
    with pytest.raises(SettingError, match="Unknown operation 'divide'") as info:
        make_task("divide", 2, _gen())
    for name in OPERATIONS:
        assert name in str(info.value)
    assert get_operation(OPERATIONS["max"]) is OPERATIONS["max"]


def test_make_task_labels_every_example_correctly():
    task = make_task("subtract", 8, _gen(3))
    assert task.k == 8 and task.wrong == () and task.symbol == HIDDEN_SYMBOL
    for e in (*task.examples, task.query):
        assert 0 <= e.a <= 99 and 0 <= e.b <= 99
        assert e.answer == e.a - e.b
    assert len({(e.a, e.b) for e in task.examples}) > 1  # fresh operands per example


def test_make_task_is_deterministic_per_generator():
    assert make_task("add", 5, _gen(7)) == make_task("add", 5, _gen(7))
    assert make_task("add", 5, _gen(7)) != make_task("add", 5, _gen(8))
    assert sample_tasks(20, 3, _gen(1)) == sample_tasks(20, 3, _gen(1))
    assert sample_tasks(20, 3, _gen(1)) != sample_tasks(20, 3, _gen(2))


def test_zero_shot_and_shot_limits():
    task = make_task("max", 0, _gen(), explicit=True)
    assert task.examples == () and task.query.answer == max(task.query.a, task.query.b)
    make_task("max", MAX_SHOTS, _gen())
    for k in (-1, MAX_SHOTS + 1, 1.5):
        with pytest.raises(SettingError, match="number of examples k"):
            make_task("max", k, _gen())


def test_explicit_and_hidden_symbols():
    hidden = make_task("max", 2, _gen(), explicit=False)
    explicit = make_task("max", 2, _gen(), explicit=True)
    assert hidden.symbol == "~" and explicit.symbol == "max"
    assert hidden.examples == explicit.examples  # same draws, only the symbol differs
    with pytest.raises(SettingError, match="explicit"):
        make_task("max", 2, _gen(), explicit="yes")


def test_sample_tasks_draws_a_fresh_operation_per_prompt():
    tasks = sample_tasks(300, 2, _gen(5))
    assert len(tasks) == 300
    names = {t.operation.name for t in tasks}
    assert names == set(OPERATIONS)  # 300 draws over 12 operations: all appear
    for t in tasks:
        assert t.k == 2 and not t.explicit
        for e in (*t.examples, t.query):
            assert e.answer == t.operation(e.a, e.b)
    some = sample_tasks(50, 1, _gen(5), operations=["add", "min"], explicit=True)
    assert {t.operation.name for t in some} == {"add", "min"}
    assert {t.symbol for t in some} == {"+", "min"}


def test_sample_tasks_checks_its_arguments():
    with pytest.raises(SettingError, match="divide"):
        sample_tasks(3, 1, _gen(), operations=["add", "divide"])
    with pytest.raises(SettingError, match="at least one"):
        sample_tasks(3, 1, _gen(), operations=[])
    with pytest.raises(SettingError, match="list"):
        sample_tasks(3, 1, _gen(), operations="add")
    with pytest.raises(SettingError, match="number of tasks"):
        sample_tasks(0, 1, _gen())
    with pytest.raises(SettingError, match="torch.Generator"):
        sample_tasks(3, 1, 0)


@pytest.mark.parametrize("n_wrong", [0, 1, 3, 6])
def test_corrupt_changes_exactly_n_wrong_answers(n_wrong):
    task = make_task("add", 6, _gen(11))
    bad = corrupt(task, n_wrong, _gen(12))
    changed = [i for i in range(6) if bad.examples[i].answer != task.examples[i].answer]
    assert len(changed) == n_wrong and list(bad.wrong) == changed
    for i in range(6):
        assert (bad.examples[i].a, bad.examples[i].b) == (task.examples[i].a, task.examples[i].b)
        if i in changed:
            assert 0 <= bad.examples[i].answer <= 99
    assert bad.query == task.query and bad.operation is task.operation
    assert corrupt(task, n_wrong, _gen(12)) == bad  # deterministic per generator


def test_corrupt_again_only_touches_correct_examples():
    task = corrupt(make_task("min", 5, _gen(1)), 2, _gen(2))
    again = corrupt(task, 3, _gen(3))
    assert again.wrong == (0, 1, 2, 3, 4)
    with pytest.raises(SettingError, match="between 0 and 0"):
        corrupt(again, 1, _gen())
    with pytest.raises(SettingError, match="between 0 and 5"):
        corrupt(make_task("min", 5, _gen(1)), 6, _gen())


def test_corrupt_never_keeps_the_true_answer():
    # answers at the edges of 0..99 (0 and 99) and outside it (-99, 198)
    for a, b, op in ((0, 0, "add"), (99, 0, "first"), (0, 99, "subtract"), (99, 99, "add")):
        task = Task(OPERATIONS[op], (Example(a, b, OPERATIONS[op](a, b)),) * 1, Example(1, 1, 2))
        for seed in range(30):
            assert corrupt(task, 1, _gen(seed)).examples[0].answer != task.examples[0].answer


def test_task_validation():
    with pytest.raises(SettingError, match="wrong"):
        Task(OPERATIONS["add"], (Example(1, 2, 3),), Example(1, 1, 2), wrong=(1,))
    with pytest.raises(SettingError, match="number of examples k"):
        Task(OPERATIONS["add"], (Example(1, 2, 3),) * 17, Example(1, 1, 2))
    with pytest.raises(SettingError, match="Example"):
        Task(OPERATIONS["add"], ((1, 2, 3),), Example(1, 1, 2))


def test_a_smaller_max_operand_bounds_every_operand():
    g = torch.Generator().manual_seed(0)
    task = make_task("add", 16, g, max_operand=3)
    assert max(max(e.a, e.b) for e in (*task.examples, task.query)) <= 3
    tasks = sample_tasks(50, 4, g, max_operand=0)
    assert all(e.a == e.b == 0 for t in tasks for e in (*t.examples, t.query))
    with pytest.raises(SettingError):
        make_task("add", 1, g, max_operand=100)

"""A family of small few-shot tasks in the prompt format of the notes (Section 14.3.1).

The notes build an in-context-learning prompt by concatenating a few labelled examples
(x_task^(i), y_task^(i)) and a test input x_test,

    "Q: 2 ~ 3 = ? A: 5
     Q: 6 ~ 7 = ? A: 13
     ...
     Q: 15 ~ 2 = ?"

and a model that has "learned" from the examples that ~ means addition continues with 17.
Here every task is one hidden operation on two integers 0..99 (:data:`OPERATIONS`: add,
subtract, max, min, ...). A :class:`Task` holds k labelled examples with fresh operands and
one query, all of the same operation:

* **hidden** (``explicit=False``, the notes' setting): every operation is written with the
  same neutral symbol ``~`` (:data:`HIDDEN_SYMBOL`), so the model has to infer it from the
  examples: that is in-context learning, and it needs k >= 1.
* **explicit** (``explicit=True``): the operation's own symbol ("+", "max", ...) is
  written, so a model that knows the symbols can answer with k = 0 examples (zero-shot).

:func:`corrupt` replaces some answers by wrong ones, to show how a model follows misleading
examples. This module only makes the tasks; :mod:`fmcore.prompting.prompts` writes them as text.

The notes write the symbol "∼" (U+223C); here it is the ASCII tilde "~", which anyone can
type. All randomness comes from the ``torch.Generator`` passed in (rule 4 of DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

import torch

from fmcore.errors import SettingError
from fmcore.validate import bounded_int, check_generator

__all__ = [
    "HIDDEN_SYMBOL",
    "MAX_OPERAND",
    "MAX_SHOTS",
    "MAX_TASKS",
    "OPERATIONS",
    "Example",
    "Operation",
    "Task",
    "corrupt",
    "get_operation",
    "make_task",
    "operation_table",
    "sample_tasks",
]

# ------------------------------------------------------------------------ limits
MAX_OPERAND = 99  # operands are whole numbers 0..MAX_OPERAND
MAX_SHOTS = 16  # labelled examples per prompt (k = 0..MAX_SHOTS)
MAX_TASKS = 100_000  # prompts drawn by one sample_tasks call
HIDDEN_SYMBOL = "~"  # the neutral operator of hidden prompts (the notes' "∼")


# ============================================================================ operations
@dataclass(frozen=True)
class Operation:
    """One hidden operation: ``fn(a, b)`` for whole numbers a, b in 0..99.

    ``symbol`` is what an explicit prompt writes between the operands (no spaces, never
    the hidden symbol ``~``); ``describe`` says in words what is computed, for the page.
    """

    name: str  # key in OPERATIONS, e.g. "add"
    symbol: str  # written in explicit prompts, e.g. "+"
    describe: str  # one line for the page, e.g. "a + b"
    fn: Callable[[int, int], int]  # the operation itself

    def __post_init__(self) -> None:
        for field_name in ("name", "symbol", "describe"):
            value = getattr(self, field_name)
            if not isinstance(value, str) or not value.strip():
                raise SettingError(f"An operation's {field_name} must be a non-empty string.")
        if any(c.isspace() for c in self.symbol) or HIDDEN_SYMBOL in self.symbol:
            raise SettingError(
                f"The symbol of {self.name!r} is {self.symbol!r}: a symbol may hold no spaces "
                f"and not {HIDDEN_SYMBOL!r}, the symbol of hidden prompts."
            )
        if not callable(self.fn):
            raise SettingError(f"The fn of operation {self.name!r} must be callable.")

    def __call__(self, a: int, b: int) -> int:
        """The answer for operands a, b (each checked to be 0..99)."""
        a = bounded_int("operand a", a, 0, MAX_OPERAND)
        b = bounded_int("operand b", b, 0, MAX_OPERAND)
        return int(self.fn(a, b))


def _digit_sum(n: int) -> int:
    return sum(int(d) for d in str(n))


_OPERATION_LIST = (
    Operation("add", "+", "a + b", lambda a, b: a + b),
    Operation("subtract", "-", "a - b (negative when b > a)", lambda a, b: a - b),
    Operation("max", "max", "the larger of a and b", max),
    Operation("min", "min", "the smaller of a and b", min),
    Operation("distance", "dist", "|a - b|, the distance between a and b", lambda a, b: abs(a - b)),
    Operation("first", "first", "a (b is ignored)", lambda a, b: a),
    Operation("second", "second", "b (a is ignored)", lambda a, b: b),
    Operation("mean", "avg", "(a + b) / 2, rounded down", lambda a, b: (a + b) // 2),
    Operation(
        "last_digit_sum",
        "lastsum",
        "(a + b) mod 10, the last digit of a + b",
        lambda a, b: (a + b) % 10,
    ),
    Operation(
        "last_digit_product",
        "unitprod",
        "(a mod 10) x (b mod 10), the product of the last digits",
        lambda a, b: (a % 10) * (b % 10),
    ),
    Operation(
        "pair_last_digits",
        "pair",
        "the last digit of a then the last digit of b: 10 (a mod 10) + (b mod 10)",
        lambda a, b: 10 * (a % 10) + b % 10,
    ),
    Operation(
        "larger_digit_sum",
        "dsum",
        "the larger of the two digit sums, e.g. 47 and 91 -> max(11, 10) = 11",
        lambda a, b: max(_digit_sum(a), _digit_sum(b)),
    ),
)

# name -> operation, in menu order
OPERATIONS: dict[str, Operation] = {op.name: op for op in _OPERATION_LIST}


def get_operation(operation: str | Operation) -> Operation:
    """The :class:`Operation` itself, or the one named so in :data:`OPERATIONS`; an unknown
    name raises SettingError listing the known ones."""
    if isinstance(operation, Operation):
        return operation
    if isinstance(operation, str) and operation in OPERATIONS:
        return OPERATIONS[operation]
    raise SettingError(f"Unknown operation {operation!r}; choose one of: {', '.join(OPERATIONS)}.")


# ============================================================================ tasks
@dataclass(frozen=True)
class Example:
    """One labelled example a ~ b = answer (operands 0..99 checked; the answer is any
    whole number, so that a corrupted example can hold a wrong one)."""

    a: int
    b: int
    answer: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "a", bounded_int("operand a", self.a, 0, MAX_OPERAND))
        object.__setattr__(self, "b", bounded_int("operand b", self.b, 0, MAX_OPERAND))
        if isinstance(self.answer, bool) or not isinstance(self.answer, int):
            raise SettingError(f"An answer must be a whole number, got {self.answer!r}.")


@dataclass(frozen=True)
class Task:
    """One few-shot prompt's content: k labelled examples and a query of one operation.

    ``query.answer`` is always the correct answer (what the model should write);
    ``wrong`` lists the 0-based indices of the examples whose answers :func:`corrupt` made
    wrong (empty for a clean task).
    """

    operation: Operation
    examples: tuple[Example, ...]  # k = 0..MAX_SHOTS labelled examples
    query: Example  # the test input x_test and its correct answer
    explicit: bool = False  # write the operation's own symbol instead of "~"
    wrong: tuple[int, ...] = ()  # indices of examples with a wrong answer

    def __post_init__(self) -> None:
        object.__setattr__(self, "operation", get_operation(self.operation))
        examples = tuple(self.examples)
        bounded_int("number of examples k", len(examples), 0, MAX_SHOTS)
        if not all(isinstance(e, Example) for e in examples) or not isinstance(self.query, Example):
            raise SettingError("A task's examples and query must be Example objects.")
        object.__setattr__(self, "examples", examples)
        if not isinstance(self.explicit, bool):
            raise SettingError(f"explicit must be True or False, got {self.explicit!r}.")
        wrong = tuple(sorted(set(self.wrong)))
        if any(not 0 <= i < len(examples) for i in wrong):
            raise SettingError(f"wrong lists example indices 0..{len(examples) - 1}: {wrong}.")
        object.__setattr__(self, "wrong", wrong)

    @property
    def k(self) -> int:
        """Number of labelled examples (k-shot)."""
        return len(self.examples)

    @property
    def symbol(self) -> str:
        """The operator written in the prompt: the operation's symbol, or "~" if hidden."""
        return self.operation.symbol if self.explicit else HIDDEN_SYMBOL


def _check_explicit(explicit: object) -> bool:
    if not isinstance(explicit, bool):
        raise SettingError(f"explicit must be True or False, got {explicit!r}.")
    return explicit


def _task(op: Operation, pairs: list[list[int]], explicit: bool) -> Task:
    """The task whose examples are pairs[:-1] and query pairs[-1], answered by op."""
    examples = tuple(Example(a, b, op(a, b)) for a, b in pairs)
    return Task(op, examples[:-1], examples[-1], explicit)


def make_task(
    operation: str | Operation,
    k: int,
    generator: torch.Generator,
    explicit: bool = False,
    max_operand: int = MAX_OPERAND,
) -> Task:
    """A k-shot task of ``operation`` (a name of :data:`OPERATIONS` or an Operation): k + 1
    pairs of operands drawn independently and uniformly from 0..max_operand (99 unless a
    training curriculum asks for smaller ones; the last pair is the query), each labelled
    with the correct answer."""
    op = get_operation(operation)
    k = bounded_int("number of examples k", k, 0, MAX_SHOTS)
    g = check_generator(generator)
    top = bounded_int("max_operand", max_operand, 0, MAX_OPERAND)
    pairs = torch.randint(0, top + 1, (k + 1, 2), generator=g).tolist()  # (k+1, 2)
    return _task(op, pairs, _check_explicit(explicit))


def sample_tasks(
    n: int,
    k: int,
    generator: torch.Generator,
    operations: Iterable[str | Operation] | None = None,
    explicit: bool = False,
    max_operand: int = MAX_OPERAND,
) -> list[Task]:
    """``n`` k-shot tasks (1..100 000), each of an operation drawn uniformly from
    ``operations`` (names or Operations; None: all of :data:`OPERATIONS`) with its own
    fresh operands 0..max_operand, as :func:`make_task` draws them."""
    n = bounded_int("number of tasks", n, 1, MAX_TASKS)
    top = bounded_int("max_operand", max_operand, 0, MAX_OPERAND)
    k = bounded_int("number of examples k", k, 0, MAX_SHOTS)
    g = check_generator(generator)
    explicit = _check_explicit(explicit)
    if operations is None:
        ops = list(OPERATIONS.values())
    elif isinstance(operations, str | Operation) or not isinstance(operations, Iterable):
        raise SettingError("operations must be a list of operation names (or None for all).")
    else:
        ops = [get_operation(o) for o in operations]
    if not ops:
        raise SettingError(f"Choose at least one operation of: {', '.join(OPERATIONS)}.")
    which = torch.randint(0, len(ops), (n,), generator=g).tolist()  # (n,)
    pairs = torch.randint(0, top + 1, (n, k + 1, 2), generator=g).tolist()  # (n, k+1, 2)
    return [_task(ops[i], p, explicit) for i, p in zip(which, pairs, strict=True)]


def corrupt(task: Task, n_wrong: int, generator: torch.Generator) -> Task:
    """A copy of ``task`` in which ``n_wrong`` of its correctly labelled examples, chosen
    uniformly, get a wrong answer: a whole number drawn uniformly from 0..99 other than the
    correct one. The query keeps its correct answer; ``wrong`` lists every wrong example."""
    if not isinstance(task, Task):
        raise SettingError(f"corrupt takes a Task, got {type(task).__name__}.")
    correct = [i for i in range(task.k) if i not in task.wrong]
    n_wrong = bounded_int("number of wrong examples", n_wrong, 0, len(correct))
    g = check_generator(generator)
    chosen = torch.randperm(len(correct), generator=g)[:n_wrong].tolist()
    draws = torch.randint(0, MAX_OPERAND, (n_wrong,), generator=g).tolist()  # 0..98
    examples = list(task.examples)
    for j, r in zip(chosen, draws, strict=True):
        i = correct[j]
        truth = examples[i].answer
        value = r + 1 if 0 <= truth <= r else r  # skips the true answer: 99 values left
        examples[i] = replace(examples[i], answer=value)
    return replace(
        task, examples=tuple(examples), wrong=(*task.wrong, *(correct[j] for j in chosen))
    )


def operation_table(operations: Mapping[str, Operation] | None = None) -> list[dict[str, str]]:
    """Rows (name, symbol, description) of the operations, for a table on the page."""
    ops = OPERATIONS if operations is None else operations
    return [{"name": o.name, "symbol": o.symbol, "computes": o.describe} for o in ops.values()]

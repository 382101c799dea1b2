"""The few-shot prompt a student builds (the prompting lesson): the table of examples in the
session, its buttons, and the link in the address bar that shares it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from fmcore.errors import FMError
from fmcore.prompting.icl_tasks import OPERATIONS, make_task
from fmcore.prompting.prompts import PromptLink, read_examples
from ui import state

SURPRISE = PromptLink.SECRET
COLUMNS = ("order", "a", "b", "answer")
ss = st.session_state


def hidden_name() -> str:
    """The operation that labels the examples: the chosen one, or the secret one."""
    return ss.ic_secret if ss.ic_op == SURPRISE else ss.ic_op


def secret() -> bool:
    """True while the operation is a secret the class has not revealed yet."""
    return ss.ic_op == SURPRISE and not ss.ic_revealed


def label() -> str:
    """How the page names the operation: its name, or "the hidden operation"."""
    return "the hidden operation" if secret() else hidden_name()


def wrong_labels(numbers: list[int], operation: str) -> str:
    """A sentence naming the examples (numbered from 1) whose answer disagrees with the
    operation, e.g. "Examples 1 and 3 have answers that disagree with add (a + b)."."""
    op = OPERATIONS[operation]
    rule = f"{op.name} ({op.describe})"
    if len(numbers) == 1:
        return f"Example {numbers[0]}'s answer disagrees with {rule}: it is wrongly labelled."
    listed = ", ".join(map(str, numbers[:-1])) + f" and {numbers[-1]}"
    return (f"Examples {listed} have answers that disagree with {rule}: they are wrongly "
            "labelled.")


def _fresh_rows(k: int, offset: int) -> list[dict]:
    task = make_task(hidden_name(), k, state.generator(offset))
    return [{"order": i + 1, "a": str(e.a), "b": str(e.b), "answer": str(e.answer)}
            for i, e in enumerate(task.examples)]


def _set_rows(rows: list[dict]) -> None:
    ss.ic_rows = rows
    ss.pop(editor_key(), None)
    ss.ic_version += 1  # a new editor: the old one's pending edits would apply to new rows


def start() -> None:
    """Once per session: a shared link's prompt if the page was opened from one, else three
    fresh examples of the default operation."""
    if ss.ic_version:
        return
    ss.ic_version = 1
    params = st.query_params.to_dict()
    if any(k in params for k in ("op", "ex", "q")):
        try:
            link = PromptLink.from_params(params)
        except FMError as error:
            ss.ic_link_error = f"This link could not be opened as it is: {error}"
        else:
            ss.ic_op, ss.ic_qa, ss.ic_qb = link.operation, str(link.query[0]), str(link.query[1])
            if link.secret:
                ss.ic_secret, ss.ic_revealed = link.secret, False
            _set_rows([{"order": i + 1, "a": str(e.a), "b": str(e.b), "answer": str(e.answer)}
                       for i, e in enumerate(link.examples)])
            return
    ss.ic_rows = _fresh_rows(ss.ic_k, 1000)


def share(examples, query: tuple[int, int]) -> None:
    """Keep the address bar equal to this prompt, so copying it shares the prompt."""
    link = PromptLink(ss.ic_op, ss.ic_secret if ss.ic_op == SURPRISE else None,
                      tuple(examples), query)
    wanted = link.to_params()
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


# ----------------------------------------------------------------------------- buttons
def new_examples() -> None:
    ss.ic_round += 1
    _set_rows(_fresh_rows(ss.ic_k, 1000 + ss.ic_round))


def on_operation() -> None:
    ss.ic_round += 1
    if ss.ic_op == SURPRISE:
        import torch

        pick = torch.randint(len(OPERATIONS), (1,), generator=state.generator(2000 + ss.ic_round))
        ss.ic_secret, ss.ic_revealed = list(OPERATIONS)[int(pick)], False
    _set_rows(_fresh_rows(ss.ic_k, 1000 + ss.ic_round))


def reveal() -> None:
    ss.ic_revealed = True


def shuffle() -> None:
    import torch

    rows = rows_in_order()
    ss.ic_round += 1
    order = torch.randperm(len(rows), generator=state.generator(3000 + ss.ic_round)).tolist()
    _set_rows([dict(rows[i], order=j + 1) for j, i in enumerate(order)])


def mislabel() -> None:
    """Give the first correctly labelled example a wrong answer (the answer plus 1..9)."""
    rows = rows_in_order()
    op = OPERATIONS[hidden_name()]
    for row in rows:
        _, read = read_examples([row])
        if read and read[0].answer == op(read[0].a, read[0].b):
            row["answer"] = str(read[0].answer + 1 + (read[0].a + read[0].b) % 9)
            break
    _set_rows(rows)


# ----------------------------------------------------------------------------- the table
def editor_key() -> str:
    return f"editor_ic_{ss.ic_version}"


def rows_in_order() -> list[dict]:
    """The table as edited in this session (see :func:`apply_edits`)."""
    return apply_edits(ss.ic_rows, ss.get(editor_key()))


def commit() -> None:
    """The editor's callback: keep its edits in the session's rows (they then survive a
    visit to another page) and draw a fresh editor holding them, in their order."""
    _set_rows(rows_in_order())


def apply_edits(rows: list[dict], edited: object) -> list[dict]:
    """``rows`` with st.data_editor's pending edits applied (its state: edited, added and
    deleted rows), sorted by the 'order' column; rows without an order come last, in the
    order they were added."""
    rows = [dict(r) for r in rows]
    if isinstance(edited, dict):
        for i, changes in edited.get("edited_rows", {}).items():
            if int(i) < len(rows):
                rows[int(i)].update(changes)
        deleted = {int(i) for i in edited.get("deleted_rows", [])}
        rows = [r for i, r in enumerate(rows) if i not in deleted]
        rows += [dict(r) for r in edited.get("added_rows", [])]
    rows = [{c: r.get(c) for c in COLUMNS} for r in rows]

    def position(item):
        i, row = item
        try:
            return (0, float(row["order"]), i)
        except (TypeError, ValueError):
            return (1, 0.0, i)

    return [r for _, r in sorted(enumerate(rows), key=position)]


def editor() -> None:
    """The editable table of examples (add, edit, delete rows; 'order' moves them). In
    classroom mode the sidebar's CSS zooms it, so that the projected cells are as large as the
    page's type (the grid draws its text on a canvas, which the classroom font size does not
    reach)."""
    st.data_editor(
        pd.DataFrame(ss.ic_rows, columns=list(COLUMNS)),
        key=editor_key(), num_rows="dynamic", hide_index=True, width="stretch", on_change=commit,
        column_config={
            "order": st.column_config.NumberColumn("order", help="Rows are read in this order",
                                                   step=1, width="small"),
            "a": st.column_config.TextColumn("a", max_chars=8),
            "b": st.column_config.TextColumn("b", max_chars=8),
            "answer": st.column_config.TextColumn("answer (y)", max_chars=10),
        })

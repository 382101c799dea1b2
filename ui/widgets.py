"""Widget helpers shared by the lessons."""

from __future__ import annotations

import streamlit as st


def init_state(defaults: dict) -> None:
    """Give each session-state key its default once, before the widgets that use it exist.

    Widgets then take their value from the key alone, so callbacks (a reset, a dataset
    change) can set them without Streamlit's 'value and session state' warning.
    """
    for key, value in defaults.items():
        if key not in st.session_state:
            st.session_state[key] = value


def keep_widget_state() -> None:
    """Keep every page's widget values when the student visits another page and comes back.

    Streamlit forgets the state of widgets that are not drawn in a run; writing a key back
    marks it as the session's own. Buttons hold no value to keep (their keys start 'btn_'),
    and file uploaders, data editors and chart selections refuse it (their keys start
    'upload_', 'editor_' and 'sel_'; a data editor's edits are kept by its page instead).
    A refused key must be skipped here, not caught: the assignment itself succeeds and the
    widget raises later, when it is drawn again.
    """
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and not key.startswith(("btn_", "upload_", "editor_", "sel_",
                                                              "FormSubmitter")):
            try:
                st.session_state[key] = st.session_state[key]
            except Exception:  # a widget type that refuses assignment
                pass


def columns(spec, large: bool, **kwargs) -> list:
    """``st.columns(spec)``, or the same number of stacked full-width containers in
    classroom mode, where large type needs the whole width."""
    count = spec if isinstance(spec, int) else len(spec)
    if large:
        return [st.container() for _ in range(count)]
    return st.columns(spec, **kwargs)

"""The sidebar every page shares: the session's seed and classroom mode."""

from __future__ import annotations

import streamlit as st

from ui import links, model_files, state
from ui.widgets import init_state

# Streamlit sizes text in rem, so a larger root font scales the whole page for a projector;
# pure black text and heavier strokes survive a washed-out projector image.
CLASSROOM_CSS = """
<style>
html { font-size: 22px; }
[data-testid="stSidebar"] { min-width: 360px; }
[data-testid="stAppViewContainer"], [data-testid="stSidebar"] { color: #000; }
[data-testid="stMarkdownContainer"] p, [data-testid="stCaptionContainer"] { color: #000;
  font-weight: 500; }
[data-testid="stCode"] pre { border: 2px solid #000; }
</style>
"""


def render_sidebar() -> None:
    """Draw the shared controls; their values live in ``st.session_state`` (per session)."""
    init_state({state.SEED_KEY: 0, state.CLASSROOM_KEY: False})
    links.apply_shared()  # a lesson link's seed and classroom mode, before the widgets
    with st.sidebar:
        st.number_input(
            "Seed",
            min_value=0,
            max_value=state.MAX_SEED,
            step=1,
            key=state.SEED_KEY,
            help="Every random draw on every page (data, shuffling, sampling) starts from this "
            "seed. The same seed gives the same result, for a demo you can repeat.",
        )
        st.toggle(
            "Classroom mode",
            key=state.CLASSROOM_KEY,
            help="Presenter mode for a projector: large type, high contrast, technical detail "
            "and table views hidden.",
        )
    model_files.box()
    if state.classroom():
        st.html(CLASSROOM_CSS)

"""The sidebar every page shares: the session's seed and classroom mode."""

from __future__ import annotations

import streamlit as st

from ui import links, model_files, state
from ui.widgets import init_state

# Streamlit sizes text in rem, so a larger root font scales the whole page for a projector;
# pure black text and heavier strokes survive a washed-out projector image. The sidebar is
# widened only while open (a collapsed one kept a 60 px strip of it on screen), and the
# page's margins shrink (6rem above, 5rem at each side by default: 132 and 220 px at 22 px
# type, a fifth of a 720 px projector's height above the title). Home's paradigm drawing
# keeps the type sizes of its Graphviz source (Streamlit's 0.6rem, scaled, was 8 px).
CLASSROOM_CSS = """
<style>
html { font-size: 22px; }
[data-testid="stSidebar"]:not([data-collapsed="true"]) { min-width: 360px; }
[data-testid="stMainBlockContainer"] { padding: 3.5rem 2rem 4rem; }
[data-testid="stAppViewContainer"], [data-testid="stSidebar"] { color: #000; }
[data-testid="stMarkdownContainer"] p, [data-testid="stCaptionContainer"] { color: #000;
  font-weight: 500; }
[data-testid="stCode"] pre { border: 2px solid #000; }
.st-key-paradigm svg text { font-size: revert-layer; }
/* the prompting lesson's table of examples draws on a canvas, which the font size does not
   reach: zoom it (zoom scales the width too, so a narrower box fills the column exactly) */
[class*="st-key-editor_ic_"] { zoom: 1.6; width: 62.5% !important; }
</style>
"""


def sidebar_state() -> str:
    """``initial_sidebar_state`` for this session: collapsed in classroom mode."""
    return "collapsed" if state.classroom() else "auto"


def render_sidebar() -> None:
    """Draw the shared controls; their values live in ``st.session_state`` (per session)."""
    init_state({state.SEED_KEY: 0, state.CLASSROOM_KEY: False})
    links.apply_shared()  # a lesson link's seed and classroom mode, before the widgets
    # Presenter mode gives the lesson the whole width: the sidebar starts collapsed and the
    # teacher opens it with its chevron. The browser applies a new state only when it changes
    # (turning classroom mode on collapses it; off, "auto" opens it on a wide screen), and
    # once someone opens or closes the sidebar by hand, Streamlit keeps their choice.
    st.set_page_config(initial_sidebar_state=sidebar_state())
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

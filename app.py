"""The foundation-models lab: the router. Run with ``streamlit run app.py``.

It only builds the navigation and the shared sidebar; each lesson is a file in
``lessons/<section>/`` (its URL is the file's stem), run when a student opens it (so the home
page starts without importing torch).
"""

import os
import time

import streamlit as st

from ui.pages import HOME, sections
from ui.sidebar import render_sidebar
from ui.widgets import keep_widget_state

# An emoji favicon: the browser draws it itself. Without one, Streamlit makes the page's
# Material icon the favicon and fetches it from fonts.gstatic.com, and the app stays
# offline (rule 12).
st.set_page_config(page_title="Foundation models lab", layout="wide", page_icon="🧪")
started, started_cpu = time.perf_counter(), time.thread_time()


def _page(info, default=False):
    return st.Page(info.path, title=info.title, icon=info.icon, default=default)


navigation = st.navigation(
    {"": [_page(HOME, default=True)]}
    | {section: [_page(p) for p in pages] for section, pages in sections().items()}
)
keep_widget_state()
render_sidebar()
try:
    navigation.run()
finally:
    # FMLAB_RUN_LOG=path: one line per script run (page, seconds of wall-clock time, seconds
    # of this thread's CPU), so bench/load.py can tell the server's share of a slider's
    # latency from the browsers' (see the README).
    if log := os.environ.get("FMLAB_RUN_LOG"):
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"{navigation.url_path or 'home'} {time.perf_counter() - started:.4f} "
                    f"{time.thread_time() - started_cpu:.4f}\n")

"""Showing fmcore figures in a page: the chart, and under it a table view of its numbers with
a CSV download (for screen readers, for checking a number, for a spreadsheet)."""

from __future__ import annotations

import html
import re

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ui import state

# The toolbar's camera button saves a PNG at twice the size, sharp enough for slides.
PLOTLY_CONFIG = {
    "displaylogo": False,
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


def plot(figure: go.Figure, key: str, table: bool = True) -> None:
    """Draw ``figure`` as fmcore.style styled it, with a table view under it (not in
    classroom mode, which keeps the projected page to the charts).

    ``theme=None``: Streamlit's own Plotly theme would override the figure's fonts (classroom
    mode's large type) and its colour-blind-safe palette.
    """
    st.plotly_chart(figure, key=key, theme=None, config=PLOTLY_CONFIG)
    if table and not state.classroom():
        # The table is built only while its expander is open (opening it reruns the page):
        # a contour's table has thousands of rows, and every slider move would pay for it.
        title = re.sub(r"<[^>]+>", " ", str(figure.layout.title.text or "chart")).strip()
        with st.expander("Table view of this chart", icon=":material/table:",
                         key=table_key(key), on_change="rerun") as view:
            rows = figure_rows(figure) if view.open else []
            if rows:
                frame = pd.DataFrame(rows)
                st.dataframe(frame, hide_index=True, width="stretch", height=240)
                st.download_button("Download CSV", lambda: frame.to_csv(index=False).encode(),
                                   file_name=re.sub(r"\W+", "_", title)[:60].strip("_") + ".csv",
                                   mime="text/csv", key=f"btn_csv_{key}",
                                   icon=":material/download:")
            elif view.open:
                st.caption("This chart has no numbers to list.")


def table_key(key: str) -> str:
    """The session-state key of the table view under the chart ``key`` (True: open)."""
    return f"tbl_{key}"


MAX_TABLE_ROWS = 20_000  # rows of one chart's table view (a heatmap of 16 x 16 is 256)


def figure_rows(fig: go.Figure) -> list[dict]:
    """The numbers a figure shows, as table rows (the accessible view under each chart):
    one row per point (series, x, y) of a line, bar or scatter trace, one per cell (series,
    row, column, value) of a heatmap. Names are plain text (html-escaped in the figure)."""
    rows: list[dict] = []
    for trace in fig.data:
        name = html.unescape(str(getattr(trace, "name", None) or trace.type))
        x, y, z = (getattr(trace, a, None) for a in ("x", "y", "z"))
        if z is not None:
            for i, line in enumerate(z):
                for j, value in enumerate(line):
                    rows.append({"series": name, "row": y[i] if y is not None else i,
                                 "column": x[j] if x is not None else j, "value": value})
        elif y is not None:
            for i, value in enumerate(y):
                rows.append({"series": name, "x": x[i] if x is not None and i < len(x) else i,
                             "y": value})
        if len(rows) >= MAX_TABLE_ROWS:
            return rows[:MAX_TABLE_ROWS]
    return rows

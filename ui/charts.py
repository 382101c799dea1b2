"""Showing fmcore figures in a page."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

# The toolbar's camera button saves a PNG at twice the size, sharp enough for slides.
PLOTLY_CONFIG = {
    "displaylogo": False,
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


def plot(figure: go.Figure, key: str) -> None:
    """Draw ``figure`` as fmcore.plots styled it.

    ``theme=None``: Streamlit's own Plotly theme would override the figure's fonts (classroom
    mode's large type) and its colour-blind-safe palette.
    """
    st.plotly_chart(figure, key=key, theme=None, config=PLOTLY_CONFIG)

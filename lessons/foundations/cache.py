"""Cached calls of the gradient-descent lesson, shared by every session of the process: the
datasets, the loss grid, the descent paths, the comparison of orders."""

from __future__ import annotations

import streamlit as st

from fmcore.foundations import descent
from fmcore.foundations.points import make_points
from ui.cached import _generator


@st.cache_data(max_entries=64, show_spinner=False)
def points(key: str, seed: int):
    """The dataset ``key`` drawn with ``seed``."""
    return make_points(key, _generator(seed))


@st.cache_data(max_entries=64, show_spinner=False)
def loss_grid(key: str, seed: int):
    """l(theta) over the dataset's view (for the contour)."""
    return descent.loss_grid(points(key, seed))


@st.cache_data(max_entries=512, show_spinner=False)
def descent_path(key: str, seed: int, config: descent.DescentConfig):
    """The descent for ``config`` (the SGD shuffles come from ``seed`` too)."""
    return descent.run_descent(points(key, seed), config, _generator(seed))


@st.cache_data(max_entries=256, show_spinner=False)
def order_comparison(key: str, seed: int, alpha: float, batch: int, epochs: int, start):
    return descent.compare_orders(points(key, seed), alpha, batch, epochs, tuple(start), seed)

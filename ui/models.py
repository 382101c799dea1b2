"""Models trained in this session and offered to other lessons (rule 10: a model a user
trains lives in st.session_state, never in a shared cache)."""

from __future__ import annotations

import streamlit as st

KEY = "trained_models"


def offer(name: str, model, description: str) -> None:
    """Make ``model`` available to later lessons of this session under ``name``."""
    st.session_state.setdefault(KEY, {})[name] = {"model": model, "description": description}


def offered() -> dict[str, dict]:
    """{name: {"model", "description"}} of every model this session has trained."""
    return dict(st.session_state.get(KEY, {}))

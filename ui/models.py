"""Models trained in this session and offered to other lessons (rule 10: a model a user
trains lives in st.session_state, never in a shared cache)."""

from __future__ import annotations

import streamlit as st

KEY = "trained_models"


def offer(name: str, model, description: str, **more) -> None:
    """Make ``model`` available to later lessons of this session under ``name`` (``more``:
    further fields, e.g. a language model's tokenizer).

    The sidebar's *Your models* box was drawn before the page that trains: when ``model`` is
    new there, the script reruns at once so the box shows it, instead of one click later.
    """
    store = st.session_state.setdefault(KEY, {})
    new = name not in store or store[name]["model"] is not model
    store[name] = {"model": model, "description": description, **more}
    if new:
        st.rerun()


def offered() -> dict[str, dict]:
    """{name: {"model", "description"}} of every model this session has trained."""
    return dict(st.session_state.get(KEY, {}))

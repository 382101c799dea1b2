"""Per-session settings shared by every page: the seed and classroom mode.

All sessions of a Streamlit server share one process, so nothing here touches torch's
global seed (rule 4): each computation gets its own ``torch.Generator`` made from the
session's seed.
"""

from __future__ import annotations

import streamlit as st

SEED_KEY = "seed"
CLASSROOM_KEY = "classroom"
MAX_SEED = 2**31 - 1


def seed() -> int:
    """This session's seed (the sidebar control), clamped to a valid range."""
    value = st.session_state.get(SEED_KEY, 0)
    try:
        return min(max(int(value), 0), MAX_SEED)
    except (TypeError, ValueError, OverflowError):
        return 0


def classroom() -> bool:
    """True in classroom mode: large type, technical detail hidden."""
    return bool(st.session_state.get(CLASSROOM_KEY, False))


def generator(offset: int = 0):
    """A fresh ``torch.Generator`` seeded from this session's seed (plus ``offset``)."""
    import torch  # here, not at the top: the home page must not pay for importing torch

    return torch.Generator().manual_seed(seed() + offset)

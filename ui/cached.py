"""Cached calls every page shares: the shipped language models (the sidebar's model box and
the language lessons read them), and the seeded generator the sections' caches use.

Each section's own ``st.cache_data`` / ``st.cache_resource`` wrappers live beside its
lessons (``lessons/<section>/cache.py``). ``st.cache_data`` keys on the arguments, so each
session's own seed and settings get their own entry; ``max_entries`` bounds the memory a
classroom of students can fill.
"""

from __future__ import annotations

import streamlit as st


def _generator(seed: int):
    import torch

    return torch.Generator().manual_seed(seed)


@st.cache_resource(show_spinner="Loading the language models")
def shipped_language_models() -> dict:
    """{name: (model, tokenizer, manifest)} of the character language models shipped in
    assets/, loaded once per process, frozen and shared read-only (rule 10)."""
    from fmcore.checkpoints import LM_ASSETS, load_language_model
    from fmcore.errors import CheckpointError

    titles = {"toy": "toy grammar (shipped)", "english": "English prose (shipped)"}
    found = {}
    for key, path in LM_ASSETS.items():
        try:
            found[titles[key]] = load_language_model(path)
        except CheckpointError:
            continue
    return found

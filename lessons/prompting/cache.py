"""Cached calls of the prompting lesson: the shipped few-shot model (loaded once per process)
and its accuracy curves on fresh queries."""

from __future__ import annotations

import streamlit as st


@st.cache_resource(show_spinner="Loading the few-shot model")
def shipped_icl_model():
    """(model, tokenizer, manifest) of the in-context model (fmcore.prompting.icl), loaded once per
    process, frozen and shared read-only; None if the asset is missing or damaged."""
    from fmcore.checkpoints import ICL_ASSET, load_language_model
    from fmcore.errors import CheckpointError

    try:
        return load_language_model(ICL_ASSET)
    except CheckpointError:
        return None


@st.cache_data(max_entries=256, show_spinner=False)
def icl_shots_curve(operation: str, n_queries: int, max_shots: int, seed: int,
                    explicit: bool = False):
    """Accuracy of the shipped few-shot model at 0..max_shots examples on fresh queries."""
    import torch

    from fmcore.prompting.icl import accuracy_by_shots

    model, tokenizer, _ = shipped_icl_model()
    g = torch.Generator().manual_seed(seed)
    return accuracy_by_shots(model, tokenizer, operation, n_queries, max_shots, g, explicit)


@st.cache_data(max_entries=256, show_spinner=False)
def icl_wrong_curve(operation: str, n_queries: int, shots: int, seed: int):
    """Accuracy of the shipped few-shot model with 0..shots wrong examples among shots."""
    import torch

    from fmcore.prompting.icl import accuracy_with_wrong

    model, tokenizer, _ = shipped_icl_model()
    g = torch.Generator().manual_seed(seed)
    return accuracy_with_wrong(model, tokenizer, operation, n_queries, shots, g)

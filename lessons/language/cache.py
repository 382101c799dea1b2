"""Cached calls of the temperature lesson, shared by every session of the process: the
next-token logits of a prompt and their sweep over the slider's temperatures."""

from __future__ import annotations

import streamlit as st


@st.cache_data(max_entries=256, show_spinner=False)
def temperature_sweep(model_key: str, prompt: str, top_k: int | None, top_p: float | None,
                      _model, _tokenizer):
    """The next-token distribution of ``prompt`` at every temperature of the slider, and
    whether the prompt was cut. Keyed on ``model_key`` (the model itself is not hashed)."""
    from fmcore.lm.explain import temperature_sweep as sweep

    logits, truncated = next_logits(model_key, prompt, _model, _tokenizer)
    return sweep(logits, _tokenizer, top_k=top_k, top_p=top_p), truncated


@st.cache_data(max_entries=256, show_spinner=False)
def next_logits(model_key: str, prompt: str, _model, _tokenizer):
    """u_{T+1} of ``prompt`` and whether the prompt was cut to the context."""
    from fmcore.lm.generate import next_distribution

    return next_distribution(_model, _tokenizer, prompt)

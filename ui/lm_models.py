"""The language models a lesson can use: shipped (shared, read-only) and trained in this
session (rule 10), and the notes a page shows about a text the model reads."""

from __future__ import annotations

import re
import uuid

import streamlit as st

from ui import cached, models

KIND = "language model"  # how trained language models are tagged in ui.models


def available() -> dict[str, tuple]:
    """{name: (model, tokenizer, description)}: the shipped models, then this session's."""
    found = {name: (m, tok, manifest.get("description", ""))
             for name, (m, tok, manifest) in cached.shipped_language_models().items()}
    for name, item in models.offered().items():
        if item.get("kind") == KIND:
            found[name] = (item["model"], item["tokenizer"], item["description"])
    return found


def offer(name: str, model, tokenizer, description: str) -> None:
    """Offer a language model trained in this session to the other language lessons."""
    model.lab_cache_key = uuid.uuid4().hex  # a retrained model never reuses cached numbers
    models.offer(name, model, description, kind=KIND, tokenizer=tokenizer)


def key(name: str, model) -> str:
    """A cache key for the numbers computed from ``model``: a session's model gets a fresh
    one each time it is trained (an object's id could be reused after it is freed)."""
    return f"{name}#{getattr(model, 'lab_cache_key', 'shipped')}"


def report_text(tokenizer, text: str, truncated: bool, model) -> None:
    """Say what the model did not read as typed: characters outside its alphabet, and a
    text cut to the model's context."""
    unknown = tokenizer.unknown_characters(text)
    if unknown:
        shown = ", ".join(u.description for u in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        st.warning(f"{len(unknown)} character(s) are not in this model's alphabet and are read "
                   f"as the unknown token �: {shown}{more}.", icon=":material/help:")
    if truncated:
        st.info(f"The prompt is longer than the model's context: only its last "
                f"{model.config.context_length} characters are read, without ⊥, as a stretch "
                "cut from inside a text rather than its beginning.",
                icon=":material/content_cut:")


def markdown_text(text: str) -> str:
    """``text`` with the characters Markdown (and Streamlit's $ for LaTeX) would read
    escaped, to show a generated character as it is inside st.markdown."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>$~])", r"\\\1", text)

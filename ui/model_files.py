"""Download a model trained in this session (weights + manifest in one .zip) and load one
back: the sidebar's *Your models* box. Loading goes through fmcore.checkpoints, which never
unpickles objects and checks the sha256 and every tensor's shape (rule 9)."""

from __future__ import annotations

import re

import streamlit as st

from fmcore.errors import FMError
from ui import models

UPLOAD_KEY = "upload_model_zip"


def _zip_of(item: dict, name: str):
    """A callable that builds the .zip when the button is pressed (not on every rerun)."""

    def build() -> bytes:
        from fmcore.checkpoints import checkpoint_zip, export_manifest

        manifest = export_manifest(item["model"], item.get("tokenizer"), item["description"])
        return checkpoint_zip(item["model"], manifest, name)

    return build


def _load(file) -> None:
    from fmcore.checkpoints import load_checkpoint_zip
    from ui import lm_models

    model, tokenizer, manifest = load_checkpoint_zip(file.getvalue())
    name = f"uploaded: {file.name[:40]}"
    about = str(manifest.get("description") or f"a {manifest['kind']} model from {file.name}")
    st.session_state.model_upload_message = (True, f"Loaded “{name}”: the lessons that use "
                                             f"this kind of model now offer it.")
    if tokenizer is not None:  # offering reruns the script: the message is set first
        lm_models.offer(name, model, tokenizer, about)
    else:
        models.offer(name, model, about)


def box() -> None:
    """The sidebar box: a Download button per model of this session, and an uploader."""
    ss = st.session_state
    with st.sidebar.expander("Your models", icon=":material/save:"):
        offered = models.offered()
        if not offered:
            st.caption("Models you train (or load here) appear here, to download as a .zip "
                       "of their weights and manifest.")
        for i, (name, item) in enumerate(offered.items()):
            stem = re.sub(r"\W+", "_", name).strip("_")[:40] or "model"
            st.download_button(f"Download {name}", data=_zip_of(item, stem),
                               file_name=f"{stem}.zip", mime="application/zip",
                               key=f"btn_model_download_{i}", icon=":material/download:")
        file = st.file_uploader("Load a model (.zip)", type=["zip"], key=UPLOAD_KEY)
        if file is not None and ss.get("model_upload_seen") != (file.name, file.size):
            ss.model_upload_seen = (file.name, file.size)
            try:
                _load(file)
            except FMError as error:
                ss.model_upload_message = (False, f"{file.name[:60]}: {error}")
        if ss.get("model_upload_message"):
            ok, message = ss.model_upload_message
            (st.success if ok else st.error)(message)

"""Cached calls of the adaptation lesson: the shipped encoders, loaded once per process."""

from __future__ import annotations

import streamlit as st

from lessons.vision.cache import shipped_simclr_model


@st.cache_resource(show_spinner="Loading the pretrained encoders")
def shipped_encoders() -> dict:
    """{name: (encoder, description)} of the encoders shipped in assets/, loaded once per
    process, frozen and shared read-only (rule 10). Missing assets are left out."""
    from fmcore.checkpoints import PRETEXT_ASSET, SUPERVISED_ASSET, load_encoder, read_manifest
    from fmcore.errors import CheckpointError

    found = {"SimCLR (shipped)": (shipped_simclr_model().encoder,
                                  "SimCLR on 10 000 unlabelled Shapes, no labels")}
    for name, path in (("supervised (shipped)", SUPERVISED_ASSET),
                       ("pretext (shipped)", PRETEXT_ASSET)):
        try:
            found[name] = (load_encoder(path), read_manifest(path).get("description", ""))
        except CheckpointError:
            continue
    return found

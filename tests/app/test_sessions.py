"""Fifty students share one server process: what one session does stays in that session,
and models move in and out of a session only as checked .zip files."""

import torch
from streamlit.testing.v1 import AppTest

from fmcore.vision.encoders import EncoderConfig, make_simclr_model
from tests.app.conftest import APP

SMALL = EncoderConfig(image_size=32, width=4, representation_dim=8, projection_dim=4)


def session(page="lessons/adaptation/adaptation.py"):
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def test_one_sessions_seed_and_trained_models_never_show_in_another():
    alice, bob = session(), session()
    model = make_simclr_model(SMALL, torch.Generator().manual_seed(0))
    alice.session_state["trained_models"] = {
        "alice's encoder": {"model": model, "description": "trained by alice"}}
    alice.number_input(key="seed").set_value(41).run()
    bob.run()
    assert "alice's encoder" in alice.selectbox(key="ad_encoder").options
    assert "alice's encoder" not in bob.selectbox(key="ad_encoder").options
    assert bob.session_state["seed"] == 0 and alice.session_state["seed"] == 41
    assert "trained_models" not in bob.session_state
    buttons = [b.label for b in alice.sidebar.get("download_button")]
    assert any("alice's encoder" in label for label in buttons)
    assert not [b for b in bob.sidebar.get("download_button")]


def test_shipped_models_are_loaded_once_and_shared_read_only():
    from lessons.adaptation import cache

    first, second = cache.shipped_encoders(), cache.shipped_encoders()
    assert first is second  # one object per process (st.cache_resource)
    encoder = next(iter(first.values()))[0]
    assert not any(p.requires_grad for p in encoder.parameters())

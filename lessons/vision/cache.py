"""Cached calls of the vision lessons, shared by every session of the process: the shipped
SimCLR model (loaded once), random models of its architecture, the views and the loss sweep
of the SimCLR-loss lesson."""

from __future__ import annotations

import streamlit as st

from fmcore.data.images import load_image
from fmcore.vision import augment, contrastive
from ui.cached import _generator


@st.cache_resource(show_spinner="Loading the pretrained encoder")
def shipped_simclr_model():
    """The shipped SimCLR model, loaded once per process, frozen and shared read-only."""
    from fmcore.checkpoints import load_simclr_model

    return load_simclr_model()


@st.cache_resource(max_entries=16, show_spinner=False)
def random_simclr_model(seed: int):
    """An untrained model of the shipped architecture (from its manifest, or the default
    one when the asset is missing), initialised from ``seed``."""
    from fmcore.checkpoints import SIMCLR_ASSET, read_manifest
    from fmcore.errors import CheckpointError
    from fmcore.vision.encoders import EncoderConfig, make_simclr_model

    try:
        config = EncoderConfig.from_dict(read_manifest(SIMCLR_ASSET)["config"]["encoder"])
    except (CheckpointError, KeyError, TypeError):
        config = EncoderConfig()
    return make_simclr_model(config, _generator(seed))


@st.cache_data(max_entries=128, show_spinner=False)
def simclr_views(source: str, batch_size: int, config: augment.AugmentConfig, seed: int,
                 round_: int, uploads: tuple[tuple[str, bytes], ...]):
    """The batch and its two views; redrawn only when one of the arguments changes."""
    images = [(name, load_image(data, name=name)) for name, data in uploads]
    batch = contrastive.make_batch(source, batch_size, _generator(seed), images)
    views = contrastive.make_views(batch, config, _generator(seed * 7919 + round_))
    return batch, views


@st.cache_data(max_entries=128, show_spinner=False)
def simclr_sweep(source, batch_size, config, seed, round_, uploads, model: str, method: str,
                 temperatures: tuple[float, ...]):
    """The loss breakdown at every temperature for the views above, embedded by ``model``
    ("pretrained" or "random"); the embeddings are computed once per set of views."""
    _, views = simclr_views(source, batch_size, config, seed, round_, uploads)
    net = shipped_simclr_model() if model == "pretrained" else fresh_simclr_model(seed)
    z_hat, z_tilde = contrastive.embed_views(net, views, net.encoder.config.image_size)
    return contrastive.temperature_sweep(z_hat, z_tilde, method, temperatures)


@st.cache_resource(max_entries=16, show_spinner=False)
def fresh_simclr_model(seed: int):
    """The SimCLR-loss lesson's random encoder: the shipped architecture freshly initialised
    from ``seed``, its BatchNorm statistics those of Shapes images (contrastive.random_model),
    so that its similarities vary as an untrained network's do."""
    from fmcore.checkpoints import SIMCLR_ASSET, read_manifest
    from fmcore.errors import CheckpointError
    from fmcore.vision.encoders import EncoderConfig

    try:
        config = EncoderConfig.from_dict(read_manifest(SIMCLR_ASSET)["config"]["encoder"])
    except (CheckpointError, KeyError, TypeError):
        config = EncoderConfig()
    return contrastive.random_model(config, _generator(seed))

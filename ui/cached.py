"""Cached calls into fmcore, shared by every session of the process.

``st.cache_data`` keys on the arguments, so each session's own seed and settings get their
own entry; ``max_entries`` bounds the memory a classroom of students can fill.
"""

from __future__ import annotations

import streamlit as st

from fmcore.data.images import load_image
from fmcore.foundations import descent
from fmcore.foundations.points import make_points
from fmcore.vision import augment, contrastive


def _generator(seed: int):
    import torch

    return torch.Generator().manual_seed(seed)


@st.cache_data(max_entries=64, show_spinner=False)
def points(key: str, seed: int):
    """The dataset ``key`` drawn with ``seed``."""
    return make_points(key, _generator(seed))


@st.cache_data(max_entries=64, show_spinner=False)
def loss_grid(key: str, seed: int):
    """l(theta) over the dataset's view (for the contour)."""
    return descent.loss_grid(points(key, seed))


@st.cache_data(max_entries=512, show_spinner=False)
def descent_path(key: str, seed: int, config: descent.DescentConfig):
    """The descent for ``config`` (the SGD shuffles come from ``seed`` too)."""
    return descent.run_descent(points(key, seed), config, _generator(seed))


@st.cache_data(max_entries=256, show_spinner=False)
def order_comparison(key: str, seed: int, alpha: float, batch: int, epochs: int, start):
    return descent.compare_orders(points(key, seed), alpha, batch, epochs, tuple(start), seed)


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

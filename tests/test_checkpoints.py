"""Tests of fmcore.checkpoints: round trips, and every way a bad checkpoint is refused."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
from pathlib import Path

import pytest
import torch

from fmcore.checkpoints import (
    ENCODER_KIND,
    PRETEXT_ASSET,
    SIMCLR_ASSET,
    SIMCLR_KIND,
    SUPERVISED_ASSET,
    build_simclr_model,
    checkpoint_bytes,
    load_checkpoint,
    load_checkpoint_bytes,
    load_encoder,
    load_simclr_model,
    read_manifest,
    save_checkpoint,
)
from fmcore.errors import CheckpointError
from fmcore.vision.encoders import ConvEncoder, EncoderConfig, SimCLRModel, make_simclr_model

SMALL = EncoderConfig(image_size=16, width=4, representation_dim=8, projection_dim=4)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def model(seed: int = 0, config: EncoderConfig = SMALL) -> SimCLRModel:
    return make_simclr_model(config, torch.Generator().manual_seed(seed))


def manifest(config: EncoderConfig = SMALL, kind: str = SIMCLR_KIND) -> dict:
    return {
        "kind": kind,
        "config": {"encoder": config.to_dict()},
        "seed": 3,
        "data": {"dataset": "shapes", "n_images": 64},
        "metrics": {"final_loss": 1.5},
        "created_by": "tests/test_checkpoints.py",
    }


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.fixture
def saved(tmp_path) -> tuple[Path, Path, SimCLRModel]:
    m = model(1)
    pt, js = save_checkpoint(tmp_path / "ckpt", m, manifest())
    return pt, js, m


def forge(js: Path, weights: bytes, **changes) -> None:
    """Rewrite the manifest so that its checksum matches ``weights`` (an attacker who
    controls both files), with optional other changes."""
    info = json.loads(js.read_text())
    info.update(sha256=hashlib.sha256(weights).hexdigest(), **changes)
    js.write_text(json.dumps(info))


# --------------------------------------------------------------------------- round trip
def test_round_trip(saved):
    pt, js, m = saved
    assert pt.name == "ckpt.pt" and js.name == "ckpt.json"
    loaded = load_checkpoint(pt, SIMCLR_KIND, build_simclr_model)
    assert isinstance(loaded, SimCLRModel)
    assert same_weights(loaded, m)
    assert not loaded.training and not loaded.encoder.training
    assert not any(p.requires_grad for p in loaded.parameters())
    x = torch.rand(3, 3, 16, 16)
    m.eval()
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), m(x))


def test_manifest_contents(saved):
    pt, js, m = saved
    info = read_manifest(pt)
    assert info == json.loads(js.read_text())
    assert info["sha256"] == hashlib.sha256(pt.read_bytes()).hexdigest()
    assert info["bytes"] == pt.stat().st_size
    assert info["torch_version"] == torch.__version__
    assert info["parameters"] == sum(p.numel() for p in m.parameters())
    for key in ("kind", "config", "seed", "data", "metrics", "created_by"):
        assert info[key] == manifest()[key]


def test_paths_with_or_without_suffix_and_deterministic_bytes(tmp_path):
    m = model(2)
    a, _ = save_checkpoint(tmp_path / "a.pt", m, manifest())
    b, _ = save_checkpoint(tmp_path / "b", m, manifest())
    assert a.read_bytes() == b.read_bytes()
    assert same_weights(load_simclr_model(tmp_path / "a"), m)
    assert same_weights(load_simclr_model(tmp_path / "b.json"), m)
    assert not list(tmp_path.glob("*.tmp"))


def test_the_file_holds_only_a_state_dict_of_tensors(saved):
    pt, _, m = saved
    state = torch.load(pt, weights_only=True)
    assert isinstance(state, dict) and state.keys() == m.state_dict().keys()
    assert all(isinstance(v, torch.Tensor) for v in state.values())


def test_load_from_bytes(saved):
    pt, js, m = saved
    weights = pt.read_bytes()
    for man in (js.read_bytes(), js.read_text(), json.loads(js.read_text())):
        loaded = load_checkpoint_bytes(weights, man, SIMCLR_KIND, build_simclr_model)
        assert same_weights(loaded, m)
    weights2, manifest2 = checkpoint_bytes(m, manifest())
    assert weights2 == weights
    assert same_weights(
        load_checkpoint_bytes(weights2, manifest2, SIMCLR_KIND, build_simclr_model), m
    )


def test_upload_size_limit(saved):
    pt, js, _ = saved
    with pytest.raises(CheckpointError, match="at most"):
        load_checkpoint_bytes(
            pt.read_bytes(), js.read_bytes(), SIMCLR_KIND, build_simclr_model, max_bytes=100
        )
    with pytest.raises(CheckpointError, match="at most"):
        load_checkpoint(pt, SIMCLR_KIND, build_simclr_model, max_bytes=100)


# --------------------------------------------------------------------------- refusals
def test_missing_files(saved, tmp_path):
    pt, js, _ = saved
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "nothing.pt", SIMCLR_KIND, build_simclr_model)
    js.unlink()
    with pytest.raises(CheckpointError, match="manifest"):
        load_checkpoint(pt, SIMCLR_KIND, build_simclr_model)


def test_wrong_kind(saved):
    pt, _, _ = saved
    with pytest.raises(CheckpointError, match="'simclr' model, not the expected 'classifier'"):
        load_checkpoint(pt, "classifier", build_simclr_model)


def test_tampered_bytes(saved):
    pt, _, _ = saved
    data = bytearray(pt.read_bytes())
    data[len(data) // 2] ^= 0xFF
    pt.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="sha256"):
        load_checkpoint(pt, SIMCLR_KIND, build_simclr_model)


def test_wrong_shapes(saved):
    pt, js, _ = saved
    bigger = EncoderConfig(image_size=16, width=8, representation_dim=8, projection_dim=4)
    forge(js, pt.read_bytes(), config={"encoder": bigger.to_dict()})
    with pytest.raises(CheckpointError, match="shape"):
        load_checkpoint(pt, SIMCLR_KIND, build_simclr_model)


def test_missing_and_unexpected_keys(tmp_path):
    m = model()
    state = m.state_dict()
    for broken in (
        {k: v for k, v in state.items() if "head" not in k},
        {**state, "extra.weight": torch.zeros(2)},
    ):
        buffer = io.BytesIO()
        torch.save(broken, buffer)
        with pytest.raises(CheckpointError, match="do not fit"):
            load_checkpoint_bytes(
                buffer.getvalue(),
                {**manifest(), "sha256": hashlib.sha256(buffer.getvalue()).hexdigest()},
                SIMCLR_KIND,
                build_simclr_model,
            )


def test_wrong_dtype_and_non_finite_weights():
    state = model().state_dict()
    key = "encoder.fc.weight"
    for value, message in (
        (state[key].double(), "float64"),
        (torch.full_like(state[key], float("nan")), "NaN"),
    ):
        buffer = io.BytesIO()
        torch.save({**state, key: value}, buffer)
        data = buffer.getvalue()
        with pytest.raises(CheckpointError, match=message):
            load_checkpoint_bytes(
                data,
                {**manifest(), "sha256": hashlib.sha256(data).hexdigest()},
                SIMCLR_KIND,
                build_simclr_model,
            )


def test_not_a_dict_of_tensors():
    for payload in ([torch.zeros(2)], {"a": 1}, torch.zeros(3)):
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        data = buffer.getvalue()
        with pytest.raises(CheckpointError, match="dict of named tensors"):
            load_checkpoint_bytes(
                data,
                {**manifest(), "sha256": hashlib.sha256(data).hexdigest()},
                SIMCLR_KIND,
                build_simclr_model,
            )


def test_garbage_and_bad_manifests(saved):
    pt, js, _ = saved
    weights = pt.read_bytes()
    garbage = b"not a checkpoint at all"
    with pytest.raises(CheckpointError, match="plain tensors"):
        load_checkpoint_bytes(
            garbage,
            {**manifest(), "sha256": hashlib.sha256(garbage).hexdigest()},
            SIMCLR_KIND,
            build_simclr_model,
        )
    for bad in (b"{not json", b"[1, 2]", b"\xff\xfe", {"kind": SIMCLR_KIND}, 42):
        with pytest.raises(CheckpointError):
            load_checkpoint_bytes(weights, bad, SIMCLR_KIND, build_simclr_model)
    bad_config = {**json.loads(js.read_text()), "config": {"encoder": {"width": -1}}}
    with pytest.raises(CheckpointError, match="cannot build"):
        load_checkpoint_bytes(weights, bad_config, SIMCLR_KIND, build_simclr_model)
    with pytest.raises(CheckpointError):
        load_checkpoint_bytes("text", js.read_bytes(), SIMCLR_KIND, build_simclr_model)


class _Payload:
    """Unpickling this object would run a shell command that creates a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("container", ["raw pickle", "torch.save zip"])
def test_malicious_pickle_is_refused_and_never_runs(saved, tmp_path, container):
    pt, js, _ = saved
    marker = tmp_path / "pwned"
    payload = {"encoder.fc.weight": _Payload(marker)}
    if container == "raw pickle":
        data = pickle.dumps(payload)
    else:
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        data = buffer.getvalue()
    pt.write_bytes(data)
    forge(js, data)  # the checksum matches: only weights_only stands in the way
    with pytest.raises(CheckpointError, match="pickled objects are never loaded"):
        load_checkpoint(pt, SIMCLR_KIND, build_simclr_model)
    assert not marker.exists()
    # the payload is real: an unrestricted unpickler runs it (here on a harmless control)
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(_Payload(control)))
    assert control.exists()


def test_save_refuses_incomplete_or_non_json_manifests(tmp_path):
    m = model()
    for bad in (
        {k: v for k, v in manifest().items() if k != "metrics"},
        {**manifest(), "kind": ""},
        {**manifest(), "metrics": {"loss": float("nan")}},
        {**manifest(), "data": object()},
        [],
    ):
        with pytest.raises(CheckpointError):
            save_checkpoint(tmp_path / "x", m, bad)
    assert not (tmp_path / "x.pt").exists()


# --------------------------------------------------------------------------- shipped asset
def test_shipped_asset_loads_and_matches_its_manifest():
    if not SIMCLR_ASSET.exists():
        if IN_CI:
            pytest.fail(f"{SIMCLR_ASSET} is missing (python scripts/train_assets.py simclr)")
        pytest.skip(f"{SIMCLR_ASSET} is missing (python scripts/train_assets.py simclr)")
    info = read_manifest(SIMCLR_ASSET)
    assert info["kind"] == SIMCLR_KIND
    assert info["sha256"] == hashlib.sha256(SIMCLR_ASSET.read_bytes()).hexdigest()
    assert SIMCLR_ASSET.stat().st_size < 5 * 2**20
    for key in ("final_loss", "probe_accuracy", "knn_accuracy"):
        assert isinstance(info["metrics"][key], float), key
    assert info["created_by"].startswith("scripts/train_assets.py")
    encoder = load_encoder()
    assert isinstance(encoder, ConvEncoder)
    assert not encoder.training and not any(p.requires_grad for p in encoder.parameters())
    assert encoder.config == EncoderConfig.from_dict(info["config"]["encoder"])
    size = encoder.config.image_size
    with torch.no_grad():
        z = encoder(torch.rand(4, 3, size, size))
    assert z.shape == (4, encoder.config.representation_dim) and torch.isfinite(z).all()


def test_bare_encoder_checkpoints_round_trip(tmp_path):
    encoder = model(2).encoder  # e.g. phi of supervised pretraining, U dropped
    pt, _ = save_checkpoint(tmp_path / "enc", encoder, manifest(kind=ENCODER_KIND))
    loaded = load_encoder(pt)
    assert isinstance(loaded, ConvEncoder) and same_weights(loaded, encoder)
    assert not any(p.requires_grad for p in loaded.parameters())
    with pytest.raises(CheckpointError, match="not the expected"):
        load_simclr_model(pt)  # a bare encoder is not a SimCLR model


@pytest.mark.parametrize("asset", [SUPERVISED_ASSET, PRETEXT_ASSET], ids=["supervised", "pretext"])
def test_shipped_encoder_assets_load(asset):
    if not asset.exists():
        if IN_CI:
            pytest.fail(f"{asset} is missing (python scripts/train_assets.py)")
        pytest.skip(f"{asset} is missing (python scripts/train_assets.py)")
    info = read_manifest(asset)
    assert info["kind"] == ENCODER_KIND and asset.stat().st_size < 5 * 2**20
    assert info["created_by"].startswith("scripts/train_assets.py")
    encoder = load_encoder(asset)
    assert encoder.config == EncoderConfig.from_dict(info["config"]["encoder"])
    assert not encoder.training


def test_language_model_round_trip_with_its_tokenizer(tmp_path):
    from fmcore.checkpoints import LM_KIND, load_language_model
    from fmcore.lm.model import GPTConfig, make_gpt
    from fmcore.lm.tokenizer import CharTokenizer

    tokenizer = CharTokenizer("ab c")
    config = GPTConfig.tiny(vocab_size=tokenizer.vocab_size)
    gpt = make_gpt(config, torch.Generator().manual_seed(0))
    info = {"kind": LM_KIND, "config": {"model": config.to_dict(),
                                        "tokenizer": tokenizer.to_dict()},
            "seed": 0, "data": {}, "metrics": {}, "created_by": "tests"}
    pt, js = save_checkpoint(tmp_path / "lm", gpt, info)
    model, tok, manifest = load_language_model(pt)
    assert tok == tokenizer and same_weights(model, gpt) and not model.training
    assert manifest["kind"] == LM_KIND
    # a tokenizer that does not fit the model is refused
    bad = json.loads(js.read_text())
    bad["config"]["tokenizer"] = CharTokenizer("abcdef").to_dict()
    js.write_text(json.dumps(bad))
    with pytest.raises(CheckpointError, match="tokenizer has"):
        load_language_model(pt)


# ============================================================================ one-file export
def _zip(members: dict[str, bytes]) -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_session_model_round_trips_through_one_zip():
    from fmcore.checkpoints import checkpoint_zip, export_manifest, load_checkpoint_zip

    for original in (model(3), model(4).encoder):
        data = checkpoint_zip(original, export_manifest(original, description="mine"), "x")
        loaded, tokenizer, manifest = load_checkpoint_zip(data)
        assert tokenizer is None and manifest["description"] == "mine"
        assert type(loaded) is type(original) and not loaded.training
        for a, b in zip(loaded.state_dict().values(), original.state_dict().values(),
                        strict=True):
            assert torch.equal(a, b)


def test_a_language_model_round_trips_with_its_tokenizer():
    from fmcore.checkpoints import checkpoint_zip, export_manifest, load_checkpoint_zip
    from fmcore.lm.model import GPTConfig, make_gpt
    from fmcore.lm.tokenizer import CharTokenizer

    tok = CharTokenizer("abc ")
    lm = make_gpt(GPTConfig.tiny(vocab_size=tok.vocab_size), torch.Generator().manual_seed(0))
    with pytest.raises(CheckpointError, match="tokenizer"):
        export_manifest(lm)
    loaded, tokenizer, _ = load_checkpoint_zip(checkpoint_zip(lm, export_manifest(lm, tok)))
    assert tokenizer == tok and torch.equal(loaded.unembed.weight, lm.unembed.weight)


@pytest.mark.parametrize("data, message", [
    (b"", "not a readable .zip"),
    (b"PK\x03\x04 not really", "not a readable .zip"),
    (_zip({"a.pt": b"x"}), "exactly two files"),
    (_zip({"a.pt": b"x", "b.pt": b"y"}), "exactly two files"),
    (_zip({"a.pt": b"x", "a.json": b"{", "c.txt": b""}), "exactly two files"),
    (_zip({"a.pt": b"x", "a.json": b"{not json"}), "not valid JSON"),
    (_zip({"a.pt": b"x", "a.json": json.dumps({"kind": "virus", "sha256": "0",
                                               "config": {}}).encode()}), "Unknown kind"),
])
def test_a_bad_model_zip_is_refused_with_a_message(data, message):
    from fmcore.checkpoints import load_checkpoint_zip

    with pytest.raises(CheckpointError, match=message):
        load_checkpoint_zip(data)


def test_a_zip_bomb_is_refused_before_it_is_inflated():
    from fmcore.checkpoints import load_checkpoint_zip

    data = _zip({"a.pt": b"\0" * (25 * 2**20), "a.json": b"{}"})  # deflates to little
    import zipfile

    compressed = io.BytesIO()
    with zipfile.ZipFile(compressed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.pt", b"\0" * (25 * 2**20))
        archive.writestr("a.json", b"{}")
    assert len(compressed.getvalue()) < 100_000 < len(data)
    with pytest.raises(CheckpointError, match="too large"):
        load_checkpoint_zip(compressed.getvalue())


def test_a_pickle_payload_inside_a_zip_is_refused_without_running(tmp_path):
    from fmcore.checkpoints import checkpoint_zip, export_manifest, load_checkpoint_zip

    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    good = checkpoint_zip(model(1), export_manifest(model(1)))
    import zipfile

    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        manifest = json.loads(archive.read("model.json"))
    payload = pickle.dumps(Evil())
    manifest["sha256"] = hashlib.sha256(payload).hexdigest()
    bad = _zip({"model.pt": payload, "model.json": json.dumps(manifest).encode()})
    with pytest.raises(CheckpointError):
        load_checkpoint_zip(bad)
    assert not marker.exists()

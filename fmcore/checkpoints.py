"""Safe saving and loading of model weights with a JSON manifest (rule 9 of DESIGN.md).

A checkpoint is two files side by side:

- ``<name>.pt``: the model's ``state_dict`` (tensors only) written by ``torch.save``;
- ``<name>.json``: the manifest, a plain JSON object that says what the weights are
  (``kind``), how they were made (``config``, ``seed``, ``data``, ``created_by``), how good
  they are (``metrics``), the ``sha256`` of the ``.pt`` bytes and the ``torch_version``.

Loading never unpickles objects: the bytes must first match the manifest's checksum, then
``torch.load(..., weights_only=True, map_location="cpu")`` reads them with PyTorch's
restricted unpickler (tensors, dicts, numbers and strings only; a pickle that would call
``os.system`` or build any other object is refused). The tensors must then match, key by key
and shape by shape, a freshly built model of the kind the manifest describes. Any mismatch
raises :class:`fmcore.errors.CheckpointError` (a ``ValueError``) with a message that says
which check failed. The model comes back in eval mode with gradients switched off, ready to
be shared read-only between the users of a server (rule 10).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from fmcore.errors import CheckpointError, FMError
from fmcore.vision.encoders import (
    ConvEncoder,
    EncoderConfig,
    SimCLRModel,
    make_encoder,
    make_simclr_model,
)

__all__ = [
    "ASSETS",
    "ENCODER_KIND",
    "ICL_ASSET",
    "LM_ASSETS",
    "checkpoint_zip",
    "export_manifest",
    "load_checkpoint_zip",
    "LM_KIND",
    "PRETEXT_ASSET",
    "SUPERVISED_ASSET",
    "MAX_CHECKPOINT_BYTES",
    "SIMCLR_ASSET",
    "SIMCLR_KIND",
    "build_encoder",
    "build_simclr_model",
    "checkpoint_bytes",
    "load_checkpoint",
    "load_checkpoint_bytes",
    "load_encoder",
    "load_language_model",
    "load_simclr_model",
    "read_manifest",
    "save_checkpoint",
]

ASSETS = Path(__file__).resolve().parents[1] / "assets"
SIMCLR_ASSET = ASSETS / "simclr_shapes.pt"
SIMCLR_KIND = "simclr"  # a SimCLRModel: encoder phi and projection head g
ENCODER_KIND = "encoder"  # a bare ConvEncoder phi (supervised or pretext pretraining)
SUPERVISED_ASSET = ASSETS / "supervised_shapes.pt"
LM_KIND = "char_lm"  # a TinyGPT with its character tokenizer (in the manifest)
LM_ASSETS = {"toy": ASSETS / "lm_toy.pt", "english": ASSETS / "lm_english.pt"}
PRETEXT_ASSET = ASSETS / "rotation_shapes.pt"
# a char_lm trained on few-shot prompts (fmcore.prompting.icl)
ICL_ASSET = ASSETS / "icl_arithmetic.pt"

FORMAT_VERSION = 1
MAX_CHECKPOINT_BYTES = 20 * 2**20  # weights file, on disk or uploaded (the assets are ~1 MB)
MAX_MANIFEST_BYTES = 2**20
REQUIRED_KEYS = ("kind", "config", "seed", "data", "metrics", "created_by")

Build = Callable[[dict[str, Any]], nn.Module]


# ============================================================================ paths
def _paths(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """``name.pt`` and ``name.json`` for a path given with or without the ``.pt`` suffix."""
    p = Path(path)
    if p.suffix in (".pt", ".json"):
        p = p.with_suffix("")
    return p.with_name(p.name + ".pt"), p.with_name(p.name + ".json")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes files private; checkpoints are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ============================================================================ saving
def _state_bytes(model: nn.Module) -> bytes:
    """The state_dict as ``torch.save`` bytes: plain contiguous CPU tensors only."""
    if not isinstance(model, nn.Module):
        raise CheckpointError(f"Expected a torch module, got {type(model).__name__}.")
    state = {
        key: value.detach().to("cpu").contiguous().clone()
        for key, value in model.state_dict().items()
    }
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def checkpoint_bytes(model: nn.Module, manifest: Mapping[str, Any]) -> tuple[bytes, bytes]:
    """The two files of a checkpoint as bytes: (weights ``.pt``, manifest ``.json``).

    ``manifest`` must hold ``kind`` (str), ``config`` (dict), ``seed``, ``data``, ``metrics``
    (dict) and ``created_by`` (str), all JSON-serialisable (no NaN); ``sha256``, ``bytes``,
    ``parameters``, ``torch_version`` and ``format`` are added. Handy for a download button.
    """
    if not isinstance(manifest, Mapping):
        raise CheckpointError(f"The manifest must be a dict, got {type(manifest).__name__}.")
    missing = [key for key in REQUIRED_KEYS if key not in manifest]
    if missing:
        raise CheckpointError(f"The manifest lacks {', '.join(missing)}.")
    if not isinstance(manifest["kind"], str) or not manifest["kind"]:
        raise CheckpointError("The manifest's kind must be a non-empty string.")
    if not isinstance(manifest["config"], dict) or not isinstance(manifest["metrics"], dict):
        raise CheckpointError("The manifest's config and metrics must be dicts.")
    weights = _state_bytes(model)
    full = dict(manifest)
    full.update(
        sha256=_sha256(weights),
        bytes=len(weights),
        parameters=sum(p.numel() for p in model.parameters()),
        torch_version=torch.__version__,
        format=FORMAT_VERSION,
    )
    try:
        text = json.dumps(full, indent=2, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"The manifest is not plain JSON: {error}.") from None
    return weights, (text + "\n").encode()


def save_checkpoint(
    path: str | os.PathLike[str], model: nn.Module, manifest: Mapping[str, Any]
) -> tuple[Path, Path]:
    """Write ``<name>.pt`` (the state_dict) and ``<name>.json`` (the manifest); see
    :func:`checkpoint_bytes` for what the manifest must hold. Each file is written to a
    temporary name and renamed, so a crash never leaves a half-written checkpoint.
    Returns the two paths."""
    pt, js = _paths(path)
    weights, text = checkpoint_bytes(model, manifest)
    _write_atomic(pt, weights)
    _write_atomic(js, text)
    return pt, js


# ============================================================================ loading
def _parse_manifest(raw: object) -> dict[str, Any]:
    if isinstance(raw, dict):
        manifest = raw
    else:
        if isinstance(raw, str):
            raw = raw.encode()
        if not isinstance(raw, bytes | bytearray):
            raise CheckpointError(f"The manifest must be JSON, got {type(raw).__name__}.")
        if len(raw) > MAX_MANIFEST_BYTES:
            raise CheckpointError(
                f"The manifest is {len(raw):,} bytes; at most {MAX_MANIFEST_BYTES:,} allowed."
            )
        try:
            manifest = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CheckpointError(f"The manifest is not valid JSON: {error}.") from None
    if not isinstance(manifest, dict):
        raise CheckpointError("The manifest must be a JSON object.")
    for key in ("kind", "sha256", "config"):
        if key not in manifest:
            raise CheckpointError(f"The manifest has no {key!r} entry.")
    if not isinstance(manifest["sha256"], str):
        raise CheckpointError("The manifest's sha256 must be a string.")
    return manifest


def read_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest ``<name>.json`` of the checkpoint at ``path`` (``.pt`` or no suffix)."""
    _, js = _paths(path)
    if not js.is_file():
        raise CheckpointError(f"The checkpoint's manifest {js.name} was not found in {js.parent}.")
    if js.stat().st_size > MAX_MANIFEST_BYTES:
        raise CheckpointError(f"The manifest {js.name} is too large.")
    return _parse_manifest(js.read_bytes())


def _load_state(weights: bytes) -> dict[str, torch.Tensor]:
    """torch.load with the restricted unpickler; anything but a str -> tensor dict refused."""
    try:
        state = torch.load(io.BytesIO(weights), weights_only=True, map_location="cpu")
    except Exception as error:  # UnpicklingError, RuntimeError, EOFError, ...
        # torch's own message suggests weights_only=False; show only what was refused
        detail = [line.strip() for line in str(error).splitlines() if "Unsupported" in line]
        reason = f" ({detail[0][:200]})" if detail else ""
        raise CheckpointError(
            "The weights file could not be read as plain tensors; pickled objects are never "
            f"loaded. {type(error).__name__}{reason}."
        ) from None
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise CheckpointError("The weights file must hold a dict of named tensors.")
    return state


def _check_state(state: dict[str, torch.Tensor], model: nn.Module) -> None:
    """Every key, shape and dtype of ``state`` matches the model's; values are finite."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            "The weights do not fit the model: "
            f"missing {missing[:5]}{' ...' if len(missing) > 5 else ''}, "
            f"unexpected {unexpected[:5]}{' ...' if len(unexpected) > 5 else ''}."
        )
    for key, want in expected.items():
        got = state[key]
        if tuple(got.shape) != tuple(want.shape):
            raise CheckpointError(
                f"The weights do not fit the model: {key} has shape {tuple(got.shape)}, "
                f"the model expects {tuple(want.shape)}."
            )
        if got.dtype != want.dtype:
            raise CheckpointError(
                f"The weights do not fit the model: {key} is {got.dtype}, expected {want.dtype}."
            )
        if got.is_floating_point() and not bool(torch.isfinite(got).all()):
            raise CheckpointError(f"The weights contain NaN or infinite values in {key}.")


def load_checkpoint_bytes(
    weights: bytes,
    manifest: dict[str, Any] | bytes | str,
    expected_kind: str,
    build: Build,
    max_bytes: int = MAX_CHECKPOINT_BYTES,
) -> nn.Module:
    """Load a checkpoint from bytes (an uploaded ``.pt`` file and its manifest).

    Checks, in this order, each refusal a CheckpointError: the size (at most ``max_bytes``),
    the manifest (JSON object with ``kind``, ``sha256`` and ``config``), the kind, the
    sha256 of ``weights``, a restricted ``torch.load`` (``weights_only=True``), and that the
    tensors match ``build(manifest)`` key by key in shape and dtype (and are finite).

    ``build`` receives the manifest and returns a freshly built model of the right
    architecture (an error it raises about the config becomes a CheckpointError).
    Returns that model with the weights loaded, in eval mode, ``requires_grad`` False.
    """
    if not isinstance(weights, bytes | bytearray):
        raise CheckpointError(f"The weights must be bytes, got {type(weights).__name__}.")
    if len(weights) > max_bytes:
        raise CheckpointError(
            f"The weights file is {len(weights) / 2**20:.1f} MB; at most "
            f"{max_bytes / 2**20:.1f} MB is accepted."
        )
    info = _parse_manifest(manifest)
    if info["kind"] != expected_kind:
        raise CheckpointError(
            f"This checkpoint holds a {info['kind']!r} model, not the expected {expected_kind!r}."
        )
    if _sha256(bytes(weights)) != info["sha256"]:
        raise CheckpointError(
            "The weights file does not match its manifest (sha256 differs): it was changed "
            "or belongs to another checkpoint."
        )
    state = _load_state(bytes(weights))
    try:
        model = build(info)
    except (FMError, KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"The manifest's config cannot build a model: {error}") from None
    if not isinstance(model, nn.Module):
        raise CheckpointError("build(manifest) must return a torch module.")
    _check_state(state, model)
    model.load_state_dict(state, strict=True)
    model.eval()
    model.requires_grad_(False)
    return model


def load_checkpoint(
    path: str | os.PathLike[str],
    expected_kind: str,
    build: Build,
    max_bytes: int = MAX_CHECKPOINT_BYTES,
) -> nn.Module:
    """Load ``<name>.pt`` after checking it against ``<name>.json``; see
    :func:`load_checkpoint_bytes` for the checks. Missing files raise CheckpointError."""
    pt, _ = _paths(path)
    if not pt.is_file():
        raise CheckpointError(f"The weights file {pt.name} was not found in {pt.parent}.")
    manifest = read_manifest(pt)
    size = pt.stat().st_size
    if size > max_bytes:
        raise CheckpointError(
            f"The weights file is {size / 2**20:.1f} MB; at most {max_bytes / 2**20:.1f} MB "
            "is accepted."
        )
    return load_checkpoint_bytes(pt.read_bytes(), manifest, expected_kind, build, max_bytes)


# ============================================================================ SimCLR
def build_simclr_model(manifest: dict[str, Any]) -> SimCLRModel:
    """A SimCLRModel of the architecture in ``manifest["config"]["encoder"]`` (the weights
    are placeholders from a fixed generator, to be overwritten by the checkpoint)."""
    config = manifest.get("config")
    if not isinstance(config, dict) or "encoder" not in config:
        raise CheckpointError("The manifest's config has no 'encoder' entry.")
    encoder = EncoderConfig.from_dict(config["encoder"])
    return make_simclr_model(encoder, torch.Generator().manual_seed(0))


def load_simclr_model(path: str | os.PathLike[str] = SIMCLR_ASSET) -> SimCLRModel:
    """The SimCLR model (encoder and projection head) of a checkpoint, frozen, eval mode."""
    model = load_checkpoint(path, SIMCLR_KIND, build_simclr_model)
    assert isinstance(model, SimCLRModel)
    return model


def build_encoder(manifest: dict[str, Any]) -> ConvEncoder:
    """A ConvEncoder of the architecture in ``manifest["config"]["encoder"]`` (placeholder
    weights from a fixed generator, to be overwritten by the checkpoint)."""
    config = manifest.get("config")
    if not isinstance(config, dict) or "encoder" not in config:
        raise CheckpointError("The manifest's config has no 'encoder' entry.")
    return make_encoder(
        EncoderConfig.from_dict(config["encoder"]), torch.Generator().manual_seed(0)
    )


def load_encoder(path: str | os.PathLike[str] = SIMCLR_ASSET) -> ConvEncoder:
    """phi_theta of an encoder checkpoint (the shipped SimCLR one by default), frozen and in
    eval mode. A SimCLR checkpoint (kind "simclr") loses its projection head; a bare
    encoder (kind "encoder": supervised pretraining with U dropped, or a pretext task with
    k_gamma dropped) comes as it is. Load it once per process and never mutate it."""
    kind = read_manifest(path).get("kind")
    if kind == ENCODER_KIND:
        model = load_checkpoint(path, ENCODER_KIND, build_encoder)
        assert isinstance(model, ConvEncoder)
        return model
    return load_simclr_model(path).encoder


# ============================================================================ language models
def build_language_model(manifest: dict[str, Any]) -> nn.Module:
    """A TinyGPT of the architecture in ``manifest["config"]["model"]`` (placeholder
    weights, to be overwritten), after checking that the tokenizer there fits it."""
    from fmcore.lm.model import GPTConfig, make_gpt
    from fmcore.lm.tokenizer import CharTokenizer

    config = manifest.get("config")
    if not isinstance(config, dict) or "model" not in config or "tokenizer" not in config:
        raise CheckpointError("The manifest's config needs 'model' and 'tokenizer' entries.")
    gpt = GPTConfig.from_dict(config["model"])
    tokenizer = CharTokenizer.from_dict(config["tokenizer"])
    if tokenizer.vocab_size != gpt.vocab_size:
        raise CheckpointError(
            f"The tokenizer has {tokenizer.vocab_size} tokens but the model expects "
            f"{gpt.vocab_size}."
        )
    return make_gpt(gpt, torch.Generator().manual_seed(0))


def load_language_model(path: str | os.PathLike[str]) -> tuple[nn.Module, Any, dict[str, Any]]:
    """(model, tokenizer, manifest) of a character language-model checkpoint; the model is
    frozen and in eval mode. Load it once per process and never mutate it."""
    from fmcore.lm.tokenizer import CharTokenizer

    manifest = read_manifest(path)
    model = load_checkpoint(path, LM_KIND, build_language_model)
    return model, CharTokenizer.from_dict(manifest["config"]["tokenizer"]), manifest


# ============================================================================ one-file export
MAX_ZIP_MEMBERS = 2  # the weights and the manifest


def export_manifest(model: nn.Module, tokenizer: Any = None, description: str = "") -> dict:
    """The manifest of a model trained in a session, for download: its kind (a SimCLR
    model, a bare encoder, or a character language model, which needs its ``tokenizer``)
    and the config that rebuilds it. Another kind of model raises CheckpointError."""
    from fmcore.lm.model import TinyGPT

    if isinstance(model, SimCLRModel):
        kind, config = SIMCLR_KIND, {"encoder": model.encoder.config.to_dict()}
    elif isinstance(model, ConvEncoder):
        kind, config = ENCODER_KIND, {"encoder": model.config.to_dict()}
    elif isinstance(model, TinyGPT):
        if tokenizer is None:
            raise CheckpointError("A language model is exported with its tokenizer.")
        kind = LM_KIND
        config = {"model": model.config.to_dict(), "tokenizer": tokenizer.to_dict()}
    else:
        raise CheckpointError(f"A {type(model).__name__} cannot be exported.")
    return {"kind": kind, "config": config, "seed": None, "data": {}, "metrics": {},
            "description": str(description)[:500], "created_by": "exported from the lab"}


def checkpoint_zip(model: nn.Module, manifest: Mapping[str, Any], name: str = "model") -> bytes:
    """One .zip holding ``<name>.pt`` and ``<name>.json`` (see :func:`checkpoint_bytes`)."""
    import zipfile

    weights, text = checkpoint_bytes(model, manifest)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{name}.pt", weights)
        archive.writestr(f"{name}.json", text)
    return buffer.getvalue()


def load_checkpoint_zip(data: bytes) -> tuple[nn.Module, Any, dict[str, Any]]:
    """(model, tokenizer or None, manifest) of an uploaded .zip made by
    :func:`checkpoint_zip`. Every check of :func:`load_checkpoint_bytes` applies (no
    unpickling of objects, sha256, shapes); before any member is read, the archive must hold
    exactly one .pt and one .json whose declared sizes are within the limits (a zip bomb is
    refused without being inflated). The model comes frozen, in eval mode."""
    import zipfile

    from fmcore.lm.tokenizer import CharTokenizer

    if not isinstance(data, bytes | bytearray):
        raise CheckpointError(f"Expected the bytes of a .zip file, got {type(data).__name__}.")
    if len(data) > MAX_CHECKPOINT_BYTES + MAX_MANIFEST_BYTES:
        raise CheckpointError(f"The file is {len(data) / 2**20:.1f} MB: too large for a model.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise CheckpointError(f"This is not a readable .zip file ({error}).") from None
    pts = [m for m in members if m.filename.endswith(".pt")]
    jsons = [m for m in members if m.filename.endswith(".json")]
    if len(members) != MAX_ZIP_MEMBERS or len(pts) != 1 or len(jsons) != 1:
        raise CheckpointError(
            "A model file is a .zip with exactly two files: the weights (.pt) and the "
            "manifest (.json), as the lab's Download button makes them."
        )
    if pts[0].file_size > MAX_CHECKPOINT_BYTES or jsons[0].file_size > MAX_MANIFEST_BYTES:
        raise CheckpointError("The files inside the .zip are too large for a model of the lab.")
    try:
        weights, manifest = archive.read(pts[0]), archive.read(jsons[0])
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError) as error:
        raise CheckpointError(f"The .zip file is damaged ({error}).") from None
    info = _parse_manifest(manifest)
    builders = {SIMCLR_KIND: build_simclr_model, ENCODER_KIND: build_encoder,
                LM_KIND: build_language_model}
    if info["kind"] not in builders:
        raise CheckpointError(f"Unknown kind of model {str(info['kind'])[:40]!r}.")
    model = load_checkpoint_bytes(weights, info, info["kind"], builders[info["kind"]])
    tokenizer = None
    if info["kind"] == LM_KIND:
        try:
            tokenizer = CharTokenizer.from_dict(info["config"]["tokenizer"])
        except (FMError, KeyError, TypeError) as error:
            raise CheckpointError(f"The manifest's tokenizer is not usable: {error}") from None
    return model, tokenizer, info

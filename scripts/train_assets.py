"""Reproduce the checkpoints shipped in assets/ (rule 12 of DESIGN.md: no downloads).

    python scripts/train_assets.py simclr           # assets/simclr_shapes.pt + .json
    python scripts/train_assets.py simclr --quick   # a few-second smoke run, written to
                                                    # test-artifacts/quick-assets/ instead

Everything is seeded (the generator seed and the data seeds are in SimCLRConfig.asset()
and end up in the manifest) and torch runs on 2 threads (``torch.set_num_threads(2)``,
set below, as on the 2-core machines the assets were made on). On the same machine type
and torch version the run is deterministic, weights and checksum included; another CPU
may round differently (its oneDNN kernels differ), which changes the bytes and the sha256
but not the figures beyond noise.

This script prints progress; fmcore itself never prints (rule 3).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# Idle OpenMP threads sleep instead of spinning. Set before torch loads its OpenMP runtime.
# On a shared 2-core machine spinning threads of two processes starve each other: a
# training run here fell from ~1400 to ~130 images/s beside another torch process.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch

torch.set_num_threads(2)  # the threads the assets are made with: see the docstring

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fmcore.checkpoints import SIMCLR_KIND, load_simclr_model, save_checkpoint  # noqa: E402
from fmcore.pretrain import (  # noqa: E402
    DoneEvent,
    EvalEvent,
    SimCLRConfig,
    StartEvent,
    StepEvent,
    pretrain_simclr,
)

ASSET_NAME = "simclr_shapes"


def simclr_config(quick: bool) -> SimCLRConfig:
    if quick:
        return SimCLRConfig.asset(n_images=1000, steps=30, eval_every=10, eval_images=300)
    return SimCLRConfig.asset()


def train_simclr(quick: bool, out: Path) -> Path:
    config = simclr_config(quick)
    print(
        f"SimCLR on Shapes: {config.n_images} unlabelled images of {config.image_size}px, "
        f"{config.steps} steps of batch {config.batch_size} ({config.epochs:.1f} epochs), "
        f"encoder width {config.encoder.width}, m = {config.encoder.representation_dim}, "
        f"loss {config.loss} (temperature {config.temperature}), "
        f"torch threads {torch.get_num_threads()}",
        flush=True,
    )
    generator = torch.Generator().manual_seed(config.seed)
    start = time.perf_counter()
    model = None
    last_step: StepEvent | None = None
    last_eval: EvalEvent | None = None
    done: DoneEvent | None = None
    for event in pretrain_simclr(config, generator):
        if isinstance(event, StartEvent):
            model = event.model
        elif isinstance(event, StepEvent):
            last_step = event
            if event.step % 50 == 0 or event.step == 1:
                print(
                    f"step {event.step:5d}/{event.total_steps}  epoch {event.epoch:3d}  "
                    f"loss {event.loss:.4f}  lr {event.learning_rate:.2e}  "
                    f"{event.images_per_s:6.0f} images/s  {time.perf_counter() - start:6.1f} s",
                    flush=True,
                )
        elif isinstance(event, EvalEvent):
            last_eval = event
            print(
                f"  eval at step {event.step}: linear probe {event.probe_accuracy:.3f}, "
                f"kNN {event.knn_accuracy:.3f} (held-out, {config.probe_per_class} labels/class)",
                flush=True,
            )
        elif isinstance(event, DoneEvent):
            done = event
    assert model is not None and done is not None and last_step is not None
    assert last_eval is not None

    manifest = {
        "kind": SIMCLR_KIND,
        "description": (
            "SimCLR-pretrained encoder phi (and projection head g) for 32x32 Shapes images; "
            "load the encoder with fmcore.checkpoints.load_encoder()."
        ),
        "config": config.to_dict(),
        "seed": config.seed,
        "threads": torch.get_num_threads(),
        "data": {
            "dataset": "fmcore.data.shapes (procedural)",
            "preset": config.shapes_preset,
            "image_size": config.image_size,
            "pretraining_images": config.n_images,
            "pretraining_seed": config.data_seed,
            "labels_used_for_training": False,
            "evaluation": (
                f"held out: {config.probe_per_class} labelled images per class "
                f"(seed {config.eval_seed}) to fit the probe and kNN, "
                f"{config.eval_images} test images (seed {config.eval_seed + 1})"
            ),
        },
        "metrics": {
            "final_loss": round(done.loss, 5),
            "probe_accuracy": round(last_eval.probe_accuracy, 4),
            "knn_accuracy": round(last_eval.knn_accuracy, 4),
            "steps": done.step,
            "epochs": round(config.epochs, 2),
            "train_seconds": round(done.seconds, 1),
            "images_per_s": round(last_step.images_per_s, 1),
        },
        "created_by": "scripts/train_assets.py simclr" + (" --quick" if quick else ""),
    }
    pt, js = save_checkpoint(out / ASSET_NAME, model, manifest)
    reloaded = load_simclr_model(pt)  # checks the checksum, keys and shapes once more
    same = all(
        torch.equal(a, b)
        for a, b in zip(reloaded.state_dict().values(), model.state_dict().values(), strict=True)
    )
    assert same, "the reloaded weights differ from the trained ones"
    print(
        f"wrote {pt.relative_to(ROOT) if pt.is_relative_to(ROOT) else pt} "
        f"({pt.stat().st_size / 2**20:.2f} MB) and {js.name}; final loss {done.loss:.4f}, "
        f"probe {last_eval.probe_accuracy:.3f}, kNN {last_eval.knn_accuracy:.3f}, "
        f"{done.seconds:.0f} s",
        flush=True,
    )
    return pt


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the checkpoints shipped in assets/.")
    parser.add_argument("which", choices=["simclr"], help="which asset to train")
    parser.add_argument(
        "--quick", action="store_true", help="a short smoke run (not written to assets/)"
    )
    parser.add_argument("--out", type=Path, default=None, help="output folder")
    args = parser.parse_args(argv)
    out = args.out or (ROOT / "test-artifacts" / "quick-assets" if args.quick else ROOT / "assets")
    if args.which == "simclr":
        train_simclr(args.quick, out)


if __name__ == "__main__":
    main()

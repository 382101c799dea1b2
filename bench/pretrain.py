"""Benchmark: what a fixed wall-clock budget of SimCLR pretraining buys on Shapes.

SimCLR (fmcore.vision.pretrain.pretrain_simclr, notes Section 14.2) runs on the unlabelled Shapes
pool for ``--budget`` seconds on 2 torch threads (the app's per-user threads). Then three
frozen representations of the same held-out images are scored by a linear probe (Eq. 14.1,
cross-entropy, standardised features) trained on only 10 labelled images per class:

- raw pixels (phi(x) = x, 3072 numbers per image),
- a random, untrained encoder of the same architecture (same seed as the SimCLR start),
- the SimCLR-pretrained encoder.

The probe accuracy is the mean over 5 independent draws of the 100 labelled images (the
spread over draws is printed too), each tested on the same 2000 held-out test images; a kNN
classifier (k = 5, cosine) on the same splits is shown as a second opinion. All three
baselines are measured in the same run. Goal: SimCLR at least 25 points above raw pixels
and 20 above the random encoder.

The cosine learning-rate schedule needs a number of steps: a 12-step calibration run (not
counted in the budget) measures images/s, the run is planned to fill the budget, and it is
stopped at the budget in any case (the machine is shared, so its speed can change).

Run:  python bench/pretrain.py [--budget 60] [--quick] [--steps N]

``--steps N`` trains exactly N steps whatever the time, for figures that do not depend on
what else the machine is doing (on a quiet 2-core machine 60 s bought about 1300 steps).
Ends with one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import time
from pathlib import Path

# Idle OpenMP threads sleep instead of spinning. Set before torch loads its OpenMP runtime.
# On a shared 2-core machine spinning threads of two processes starve each other: a
# training run here fell from ~1400 to ~130 images/s beside another torch process.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch

torch.set_num_threads(2)  # the app's per-user torch threads: set explicitly, see docstring

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fmcore.adaptation.probe import (  # noqa: E402
    embed,
    knn_accuracy,
    linear_probe_accuracy,
    raw_pixel_features,
)
from fmcore.data.shapes import PRESETS, make_shapes  # noqa: E402
from fmcore.vision.encoders import make_simclr_model  # noqa: E402
from fmcore.vision.pretrain import (  # noqa: E402
    DoneEvent,
    SimCLRConfig,
    StartEvent,
    StepEvent,
    pretrain_simclr,
)

SEED = 0
LABELS_PER_CLASS = 10
DRAWS = 5
TEST_IMAGES = 2000
PROBE_STEPS = 300


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--budget", type=float, default=60.0, help="seconds of pretraining")
    p.add_argument("--quick", action="store_true", help="10 s budget, smaller evaluation")
    p.add_argument(
        "--steps",
        type=int,
        default=None,
        help="run exactly this many steps instead of a time budget (figures that do not "
        "depend on the load of a shared machine)",
    )
    p.add_argument("--width", type=int, default=None, help="encoder base channels")
    p.add_argument("--batch", type=int, default=None, help="images per step")
    p.add_argument("--lr", type=float, default=None, help="peak learning rate")
    p.add_argument("--crop", type=float, default=None, help="crop strength of the augmentation")
    p.add_argument("--loss", choices=("nt_xent", "notes"), default=None)
    return p.parse_args()


def bench_config(args: argparse.Namespace) -> SimCLRConfig:
    config = SimCLRConfig(n_images=8000, eval_every=0, seed=SEED)
    changes: dict[str, object] = {}
    if args.width is not None:
        changes["encoder"] = dataclasses.replace(config.encoder, width=args.width)
    if args.batch is not None:
        changes["batch_size"] = args.batch
    if args.lr is not None:
        changes["learning_rate"] = args.lr
    if args.crop is not None:
        changes["augment"] = dataclasses.replace(config.augment, crop_strength=args.crop)
    if args.loss is not None:
        changes["loss"] = args.loss
    return dataclasses.replace(config, **changes)  # type: ignore[arg-type]


def calibrate(config: SimCLRConfig) -> float:
    """Training images/s of this configuration, timed over steps 5-12 of a throw-away run
    (the first steps pay for warm-up)."""
    probe = dataclasses.replace(config, steps=12, warmup_steps=0)
    times: dict[int, float] = {}
    for event in pretrain_simclr(probe, torch.Generator().manual_seed(SEED + 1)):
        if isinstance(event, StepEvent):
            times[event.step] = time.perf_counter()
    return 8 * config.batch_size / (times[12] - times[4])


def pretrain(
    config: SimCLRConfig, budget: float, fixed_steps: int | None = None
) -> tuple[torch.nn.Module, dict[str, float]]:
    if fixed_steps is None:
        rate = calibrate(config)
        steps = max(10, int(0.97 * budget * rate / config.batch_size))
    else:
        steps, budget = fixed_steps, float("inf")
    config = dataclasses.replace(config, steps=steps, warmup_steps=min(20, steps // 10))
    model = None
    losses: list[float] = []
    last: StepEvent | None = None
    start = time.perf_counter()
    for event in pretrain_simclr(config, torch.Generator().manual_seed(SEED)):
        if isinstance(event, StartEvent):
            model = event.model
            start = time.perf_counter()  # the budget counts training only (data are cached)
        elif isinstance(event, StepEvent):
            losses.append(event.loss)
            last = event
            if event.step % 50 == 0:
                print(f"  step {event.step:5d}/{steps}  loss {event.loss:.3f}", flush=True)
            if time.perf_counter() - start > budget:
                break  # the model keeps what it has learned (updated in place)
        elif isinstance(event, DoneEvent):
            break
    assert model is not None and last is not None
    model.eval()
    seconds = time.perf_counter() - start
    return model.encoder, {
        "planned_steps": steps,
        "steps": last.step,
        "seconds": seconds,
        "images_per_s": last.images_per_s,
        "views_per_s": 2 * last.images_per_s,
        "epochs": last.step * config.batch_size / config.n_images,
        "first_loss": statistics.mean(losses[:10]),
        "final_loss": statistics.mean(losses[-10:]),
    }


def score(features, labelled_sets, test_idx, labels) -> dict[str, float]:
    """Probe and kNN accuracy of one representation, mean and spread over the draws."""
    probes, knns = [], []
    test_z, test_y = features[test_idx], labels[test_idx]
    for draw, idx in enumerate(labelled_sets):
        g = torch.Generator().manual_seed(draw)
        probes.append(
            linear_probe_accuracy(features[idx], labels[idx], test_z, test_y, PROBE_STEPS, g)
        )
        knns.append(knn_accuracy(features[idx], labels[idx], test_z, test_y, k=5))
    return {
        "probe": statistics.mean(probes),
        "probe_sd": statistics.pstdev(probes),
        "knn": statistics.mean(knns),
    }


def main() -> None:
    args = parse_args()
    budget = 10.0 if args.quick else args.budget
    test_images = 500 if args.quick else TEST_IMAGES
    config = bench_config(args)
    plan = f"{args.steps} steps" if args.steps is not None else f"budget {budget:.0f} s"
    print(
        f"SimCLR on Shapes: {plan}, torch threads {torch.get_num_threads()}, "
        f"pool {config.n_images}, batch {config.batch_size}, width {config.encoder.width}, "
        f"m {config.encoder.representation_dim}, loss {config.loss}, lr {config.learning_rate}"
    )

    # held-out evaluation images: DRAWS labelled sets of 10 per class, then the test images
    n_labelled = DRAWS * LABELS_PER_CLASS * 10
    data = make_shapes(n_labelled + test_images, seed=4242, config=PRESETS[config.shapes_preset])
    labels = data.labels
    pool_idx, test_idx = torch.arange(n_labelled), torch.arange(n_labelled, len(data))
    labelled_sets = []
    taken = torch.zeros(len(data), dtype=torch.bool)
    for _ in range(DRAWS):
        rows = []
        for c in range(10):
            free = pool_idx[(labels[pool_idx] == c) & ~taken[pool_idx]][:LABELS_PER_CLASS]
            taken[free] = True
            rows.append(free)
        labelled_sets.append(torch.cat(rows))

    encoder, run = pretrain(config, budget, args.steps)
    random_encoder = make_simclr_model(config.encoder, torch.Generator().manual_seed(SEED)).encoder
    # ^ the very weights SimCLR started from (same generator, same first draws)

    results = {
        "raw pixels": score(raw_pixel_features(data.images), labelled_sets, test_idx, labels),
        "random encoder": score(embed(random_encoder, data.images), labelled_sets, test_idx,
                                labels),
        "SimCLR encoder": score(embed(encoder, data.images), labelled_sets, test_idx, labels),
    }  # fmt: skip

    print()
    print(
        f"pretraining: {run['steps']} steps ({run['epochs']:.1f} epochs) in {run['seconds']:.1f} s"
        f", {run['images_per_s']:.0f} images/s ({run['views_per_s']:.0f} views/s), "
        f"loss {run['first_loss']:.3f} -> {run['final_loss']:.3f}"
    )
    print(f"probe: {LABELS_PER_CLASS} labels/class, mean of {DRAWS} draws, {len(test_idx)} test")
    print(f"{'representation':<16} {'probe acc':>10} {'+-':>6} {'kNN acc':>9}")
    for name, r in results.items():
        print(f"{name:<16} {r['probe']:>10.3f} {r['probe_sd']:>6.3f} {r['knn']:>9.3f}")
    simclr = results["SimCLR encoder"]["probe"]
    gain_raw = 100 * (simclr - results["raw pixels"]["probe"])
    gain_random = 100 * (simclr - results["random encoder"]["probe"])
    goal = gain_raw >= 25 and gain_random >= 20
    print(
        f"SimCLR - raw pixels: {gain_raw:+.1f} points (goal +25); "
        f"SimCLR - random: {gain_random:+.1f} points (goal +20): "
        f"{'met' if goal else 'NOT met'}"
    )
    if args.quick:
        print("(--quick is a smoke run: 10 s is too short to learn; the goal is for 60 s)")
    figures = {
        "budget_s": None if args.steps is not None else budget,
        "fixed_steps": args.steps,
        "threads": torch.get_num_threads(),
        "batch_size": config.batch_size,
        "width": config.encoder.width,
        "temperature": config.temperature,
        "loss": config.loss,
        **{k: round(v, 4) for k, v in run.items()},
        **{
            f"{key}_{stat}": round(r[stat], 4)
            for key, r in zip(("raw", "random", "simclr"), results.values(), strict=True)
            for stat in ("probe", "probe_sd", "knn")
        },
        "gain_vs_raw_points": round(gain_raw, 1),
        "gain_vs_random_points": round(gain_random, 1),
        "goal_met": goal,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

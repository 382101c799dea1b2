"""Benchmark: how many labels each pretrained encoder needs (notes Section 14.1).

For every initialisation of phi_theta (random, supervised-pretrained, pretext-pretrained,
SimCLR-pretrained: the encoders shipped in assets/, whichever are present) and every
adaptation (linear probe, Eq. 14.1; finetuning, Eq. 14.2-14.4), the test accuracy on 1000
held-out Shapes images against the number of labelled images per class (fmcore.adaptation.adapt).
Finetuning the random encoder is "from scratch", the baseline that uses no pretraining.
Every cell is repeated over draws of the labelled images (the same draws for every
encoder and method), and the table gives the mean and the standard deviation.

Goals (issue 4): with 10 labels per class the SimCLR linear probe beats from scratch by at
least 20 points, and at 50 labels per class finetuning from SimCLR matches or beats the
SimCLR probe.

Run:  python bench/label_efficiency.py [--quick]
``--quick`` (1, 10 and 50 labels per class, one repeat, 500 test images) takes about a
minute; the full grid (1, 5, 10, 25, 50; 3 repeats) about six on two cores. Ends with one
JSON line of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see bench/pretrain.py

import torch

torch.set_num_threads(2)  # the app's per-training threads

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fmcore.adaptation.adapt import AdaptConfig, label_efficiency, summarise  # noqa: E402
from fmcore.checkpoints import (  # noqa: E402
    PRETEXT_ASSET,
    SIMCLR_ASSET,
    SUPERVISED_ASSET,
    load_encoder,
)
from fmcore.vision.encoders import make_encoder  # noqa: E402


def encoders() -> dict[str, torch.nn.Module]:
    simclr = load_encoder(SIMCLR_ASSET)
    found = {"random": make_encoder(simclr.config, torch.Generator().manual_seed(0))}
    for name, path in (("supervised", SUPERVISED_ASSET), ("pretext", PRETEXT_ASSET)):
        if path.exists():
            found[name] = load_encoder(path)
        else:
            print(f"({name}: {path.name} not found, left out)")
    found["SimCLR"] = simclr
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 shot values, 1 repeat")
    args = parser.parse_args()
    shots = (1, 10, 50) if args.quick else (1, 5, 10, 25, 50)
    repeats = 1 if args.quick else 3
    config = AdaptConfig(test_images=500 if args.quick else 1000)
    inits = encoders()
    print(
        f"label efficiency on Shapes: {len(inits)} encoders x (probe, finetune) x shots "
        f"{shots} x {repeats} repeats; {config.steps} Adam steps per run, test on "
        f"{config.test_images} held-out images; torch threads {torch.get_num_threads()}",
        flush=True,
    )
    start = time.perf_counter()
    cells = []
    for cell in label_efficiency(inits, config, shots, repeats=repeats):
        cells.append(cell)
        print(
            f"  [{cell.done:3d}/{cell.total}] {cell.init:<10} {cell.method:<8} "
            f"{cell.shots:3d}/class  repeat {cell.repeat}  accuracy {cell.metric:.3f}  "
            f"({cell.seconds:.1f} s)",
            flush=True,
        )
    seconds = time.perf_counter() - start
    table = {(s.init, s.method, s.shots): s for s in summarise(cells)}

    print()
    head = f"{'encoder':<11} {'method':<13}" + "".join(f"{k:>15}" for k in shots)
    print("test accuracy, mean +- sd over repeats, by labelled images per class (n_task/10)")
    print(head)
    print("-" * len(head))
    for init in inits:
        for method in ("probe", "finetune"):
            name = "from scratch" if (init, method) == ("random", "finetune") else method
            row = "".join(
                f"{table[init, method, k].mean:>9.3f} +-{table[init, method, k].sd:.2f}"
                for k in shots
            )
            print(f"{init:<11} {name:<13}" + row)
    print("-" * len(head))

    def acc(init: str, method: str, k: int) -> float:
        return table[init, method, k].mean

    gain = 100 * (acc("SimCLR", "probe", 10) - acc("random", "finetune", 10))
    finetune_gap = 100 * (acc("SimCLR", "finetune", 50) - acc("SimCLR", "probe", 50))
    goal_probe, goal_finetune = gain >= 20, finetune_gap >= 0
    print(
        f"SimCLR probe - from scratch at 10/class: {gain:+.1f} points (goal +20): "
        f"{'met' if goal_probe else 'NOT met'}"
    )
    print(
        f"SimCLR finetune - SimCLR probe at 50/class: {finetune_gap:+.1f} points (goal >= 0): "
        f"{'met' if goal_finetune else 'NOT met'}"
    )
    print(f"grid of {len(cells)} runs in {seconds:.0f} s")
    figures = {
        "bench": "label_efficiency",
        "quick": args.quick,
        "shots": list(shots),
        "repeats": repeats,
        "seconds": round(seconds, 1),
        "accuracy": {
            f"{init}/{method}/{k}": round(table[init, method, k].mean, 4)
            for init in inits
            for method in ("probe", "finetune")
            for k in shots
        },
        "simclr_probe_minus_scratch_10": round(gain, 1),
        "simclr_finetune_minus_probe_50": round(finetune_gap, 1),
        "goal_met": goal_probe and goal_finetune,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

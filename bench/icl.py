"""Benchmark: in-context learning of the shipped few-shot model (notes Section 14.3.1).

Fresh prompts of every operation of fmcore.prompting.icl_tasks, each with 8 correctly labelled
examples and a query; every answer of a prompt is scored (the answer to example j is a
j-shot question, fmcore.prompting.icl), so each prompt gives one question at k = 0, 1, ..., 8. An
answer is right when greedy decoding writes it exactly (fmcore.prompting.icl.answers_correct, which
tests/prompting/test_icl.py checks against decode_answer).

Baseline, measured on the same prompts: the *ideal observer*, who knows the 12 operations
and answers with the value most of the operations still consistent with the j examples
give (ties split evenly). At k = 0 that is the best any reader of the question can do
without knowing the operation ("chance" here); with examples it is the ceiling set by
prompts whose examples fit two operations (max and first agree whenever a >= b).

Goals (issue 6): hidden operation, 4 or more examples: at least 0.97; zero examples: near
chance; explicit operator ("Q: 2 + 3 = ?"), zero examples: at least 0.97.

Run:  python bench/icl.py [--quick]      (--quick: 40 prompts per operation instead of 200)
Ends with one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see bench/pretrain.py

import torch

torch.set_num_threads(2)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fmcore.checkpoints import ICL_ASSET, load_language_model  # noqa: E402
from fmcore.prompting.icl import (  # noqa: E402
    accuracy_by_shots,
    accuracy_with_wrong,
    answers_correct,
    encode_tasks,
    prefix_curve,
)
from fmcore.prompting.icl_tasks import OPERATIONS, Task, make_task  # noqa: E402
from fmcore.prompting.prompts import assemble, decode_answer  # noqa: E402

SHOTS = 8


def ideal(task: Task) -> list[float]:
    """The ideal observer's expected accuracy on each answer j = 0..k of the task."""
    ops = list(OPERATIONS.values())
    items = (*task.examples, task.query)
    out = []
    for j, item in enumerate(items):
        alive = [op for op in ops if all(op(e.a, e.b) == e.answer for e in items[:j])]
        votes = Counter(op(item.a, item.b) for op in alive)
        top = max(votes.values())
        best = [v for v, n in votes.items() if n == top]
        out.append((item.answer in best) / len(best))
    return out


def page_latency(model, tokenizer, repeats: int = 7) -> dict[str, float]:
    """Median milliseconds of what the prompting page computes: on every edit of the prompt
    (the answer and the prompt cut to each k: decode_answer + prefix_curve, 8 examples),
    against decoding the answer alone (the baseline: the least a page could do); and, once
    per operation and seed (then cached), the curve of 48 fresh prompts and the misleading
    examples curve (16 prompts for each of 0..8 wrong labels)."""
    g = torch.Generator().manual_seed(7)
    task = make_task("add", SHOTS, g)
    prompt = assemble(task)

    def median_ms(fn) -> float:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(1000 * (time.perf_counter() - t0))
        return sorted(times)[len(times) // 2]

    decode = median_ms(lambda: decode_answer(model, tokenizer, prompt))
    edit = median_ms(lambda: (decode_answer(model, tokenizer, prompt),
                              prefix_curve(model, tokenizer, task)))
    curve = median_ms(lambda: accuracy_by_shots(model, tokenizer, "add", 48, SHOTS, g))
    wrong = median_ms(lambda: accuracy_with_wrong(model, tokenizer, "add", 16, SHOTS, g))
    return {"decode_ms": round(decode, 1), "edit_ms": round(edit, 1),
            "edit_vs_decode": round(edit / decode, 2), "curve_48_ms": round(curve, 1),
            "misleading_curve_ms": round(wrong, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 40 if args.quick else 200
    model, tokenizer, manifest = load_language_model(ICL_ASSET)
    context = model.config.context_length
    start = time.perf_counter()
    table, ideal_table, explicit_table = {}, {}, {}
    for i, op in enumerate(OPERATIONS):
        g = torch.Generator().manual_seed(1_000 + i)  # not the training draws (seed 0 stream)
        hidden = [make_task(op, SHOTS, g) for _ in range(n)]
        shown = [make_task(op, SHOTS, g, explicit=True) for _ in range(n)]
        table[op] = answers_correct(model, encode_tasks(hidden, tokenizer, context)).float()
        explicit_table[op] = answers_correct(model, encode_tasks(shown, tokenizer, context)).float()
        ideal_table[op] = torch.tensor([ideal(t) for t in hidden])
    seconds = time.perf_counter() - start

    def by_k(t):
        return torch.stack([t[op].mean(0) for op in OPERATIONS]).mean(0).tolist()  # (k+1,)

    def four(row):
        return sum(row[4:]) / len(row[4:])

    hidden_k, ideal_k, explicit_k = by_k(table), by_k(ideal_table), by_k(explicit_table)
    print(f"Shipped model: {ICL_ASSET.name} ({manifest['description']})")
    print(f"{n} fresh prompts per operation and format, {SHOTS} examples each; "
          f"{2 * n * len(OPERATIONS)} prompts scored in {seconds:.0f} s\n")
    head = f"{'hidden operation':<20}" + "".join(f"{f'k={k}':>7}" for k in range(SHOTS + 1))
    head += f"{'4+':>7}{'ideal 4+':>10}{'explicit 0':>12}"
    print(head)
    print("-" * len(head))
    per_op = {}
    for op in OPERATIONS:
        row = table[op].mean(0).tolist()
        ideal_row = ideal_table[op].mean(0).tolist()
        zero = float(explicit_table[op][:, 0].mean())
        per_op[op] = {"hidden_4plus": round(four(row), 4), "hidden_0": round(row[0], 4),
                      "explicit_0": round(zero, 4)}
        print(f"{op:<20}" + "".join(f"{a:7.2f}" for a in row)
              + f"{four(row):7.3f}{four(ideal_row):10.3f}{zero:12.3f}")
    print("-" * len(head))
    print(f"{'mean':<20}" + "".join(f"{a:7.2f}" for a in hidden_k)
          + f"{four(hidden_k):7.3f}{four(ideal_k):10.3f}{explicit_k[0]:12.3f}")
    print(f"{'ideal observer':<20}" + "".join(f"{a:7.2f}" for a in ideal_k))
    print(f"{'explicit symbol':<20}" + "".join(f"{a:7.2f}" for a in explicit_k))
    print()
    goals = {
        "hidden, 4+ examples >= 0.97": four(hidden_k) >= 0.97,
        "hidden, 0 examples near chance (within 0.05 of the ideal observer)":
            abs(hidden_k[0] - ideal_k[0]) <= 0.05,
        "explicit, 0 examples >= 0.97": explicit_k[0] >= 0.97,
    }
    for goal, met in goals.items():
        print(f"goal {goal}: {'met' if met else 'NOT met'}")
    print(f"model / ideal observer at 4+ examples: {four(hidden_k) / four(ideal_k):.3f}")
    latency = page_latency(model, tokenizer)
    print(f"\npage, median ms: an edit of the prompt {latency['edit_ms']:.0f} (answer + the "
          f"prompt cut to each k) vs decoding the answer alone {latency['decode_ms']:.0f} "
          f"({latency['edit_vs_decode']:.2f}x); once per operation: the 48-prompt curve "
          f"{latency['curve_48_ms']:.0f}, the misleading-examples curve "
          f"{latency['misleading_curve_ms']:.0f}")
    figures = {
        "benchmark": "icl",
        "prompts_per_operation": n,
        "hidden_by_shots": [round(a, 4) for a in hidden_k],
        "ideal_by_shots": [round(a, 4) for a in ideal_k],
        "explicit_by_shots": [round(a, 4) for a in explicit_k],
        "hidden_4plus": round(four(hidden_k), 4),
        "ideal_4plus": round(four(ideal_k), 4),
        "ratio_to_ideal_4plus": round(four(hidden_k) / four(ideal_k), 4),
        "hidden_0": round(hidden_k[0], 4),
        "chance_0": round(ideal_k[0], 4),
        "explicit_0": round(explicit_k[0], 4),
        "by_operation": per_op,
        "goals_met": all(goals.values()),
        "page": latency,
        "seconds": round(seconds, 1),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

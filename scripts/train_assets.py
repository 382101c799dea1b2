"""Reproduce the checkpoints shipped in assets/ (rule 12 of DESIGN.md: no downloads).

    python scripts/train_assets.py simclr           # assets/simclr_shapes.pt + .json
    python scripts/train_assets.py supervised       # assets/supervised_shapes.pt + .json
    python scripts/train_assets.py pretext          # assets/rotation_shapes.pt + .json
    python scripts/train_assets.py lm-toy           # assets/lm_toy.pt + .json
    python scripts/train_assets.py lm-english       # assets/lm_english.pt + .json
    python scripts/train_assets.py icl              # assets/icl_arithmetic.pt + .json
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

from fmcore.checkpoints import (  # noqa: E402
    ENCODER_KIND,
    SIMCLR_KIND,
    load_encoder,
    load_simclr_model,
    save_checkpoint,
)
from fmcore.vision.encoders import drop_last_layer  # noqa: E402
from fmcore.vision.pretrain import (  # noqa: E402
    DoneEvent,
    EvalEvent,
    SimCLRConfig,
    StartEvent,
    StepEvent,
    SupervisedConfig,
    pretrain_simclr,
    pretrain_supervised,
)

QUICK = dict(n_images=1000, steps=30, eval_every=10, eval_images=300)


def simclr_config(quick: bool) -> SimCLRConfig:
    return SimCLRConfig.asset(**QUICK) if quick else SimCLRConfig.asset()


def supervised_config(quick: bool) -> SupervisedConfig:
    """Supervised pretraining on the labels of 5 of the 10 classes (10 000 images drawn, the
    5000 of those classes used), 1500 steps of 128 (38 epochs)."""
    return SupervisedConfig.asset(**(QUICK if quick else {"steps": 1500}))


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
    loop = pretrain_simclr(config, torch.Generator().manual_seed(config.seed))
    model, done, last_step, last_eval = _run(loop, config)
    manifest = _manifest(config, SIMCLR_KIND, done, last_step, last_eval, quick, "simclr")
    manifest["description"] = (
        "SimCLR-pretrained encoder phi (and projection head g) for 32x32 Shapes images; "
        "load the encoder with fmcore.checkpoints.load_encoder()."
    )
    manifest["data"]["labels_used_for_training"] = False
    pt, _ = save_checkpoint(out / "simclr_shapes", model, manifest)
    reloaded = load_simclr_model(pt)  # checks the checksum, keys and shapes once more
    _check_same(reloaded, model, pt, done, last_eval)
    return pt


def train_supervised(quick: bool, out: Path) -> Path:
    config = supervised_config(quick)
    print(
        f"Supervised pretraining on Shapes classes {config.classes}: {config.steps} steps of "
        f"batch {config.batch_size}, encoder width {config.encoder.width}, "
        f"torch threads {torch.get_num_threads()}",
        flush=True,
    )
    loop = pretrain_supervised(config, torch.Generator().manual_seed(config.seed))
    model, done, last_step, last_eval = _run(loop, config)
    encoder = drop_last_layer(model)  # U is discarded: phi is the pretrained model
    manifest = _manifest(config, ENCODER_KIND, done, last_step, last_eval, quick, "supervised")
    manifest["description"] = (
        "Supervised-pretrained encoder phi for 32x32 Shapes images: U phi(x) was trained on "
        f"the labels of classes {list(config.classes)} only, then U was dropped. Load it with "
        "fmcore.checkpoints.load_encoder(SUPERVISED_ASSET)."
    )
    manifest["data"]["labels_used_for_training"] = f"classes {list(config.classes)}"
    pt, _ = save_checkpoint(out / "supervised_shapes", encoder, manifest)
    _check_same(load_encoder(pt), encoder, pt, done, last_eval)
    return pt


def train_pretext(quick: bool, out: Path) -> Path:
    """Rotation prediction on upright Shapes; h_theta* is kept, k_gamma dropped."""
    from fmcore.self_supervision import loop as pretext_loop

    changes = {"n_unlabelled": 1000, "steps": 30, "eval_every": 10, "eval_examples": 200}
    config = pretext_loop.PretextConfig.classroom(
        "images",
        "rotation",
        **(changes if quick else {"n_unlabelled": 10_000, "steps": 4000, "eval_every": 500}),
    )
    print(
        f"Rotation prediction on {config.n_unlabelled} upright Shapes: {config.steps} steps "
        f"of batch {config.batch_size}, torch threads {torch.get_num_threads()}",
        flush=True,
    )
    start, model, done, last = time.perf_counter(), None, None, None
    for event in pretext_loop.pretrain_pretext(config, torch.Generator().manual_seed(config.seed)):
        if isinstance(event, pretext_loop.StartEvent):
            model = event.model
        elif isinstance(event, pretext_loop.EvalEvent):
            last = event
            print(
                f"  eval at step {event.step}: pretext accuracy {event.pretext_accuracy:.3f} "
                f"(guess {event.guess_baseline:.3f}), transfer {event.transfer_accuracy:.3f} "
                f"(random h {event.random_accuracy:.3f})  {time.perf_counter() - start:.0f} s",
                flush=True,
            )
        elif isinstance(event, pretext_loop.DoneEvent):
            done = event
    assert model is not None and done is not None and last is not None
    h = model.h  # k_gamma is dropped: h_theta* is the pretrained model
    manifest = {
        "kind": ENCODER_KIND,
        "description": (
            "Encoder h_theta* pretrained by rotation prediction (0/90/180/270 degrees) on "
            "upright 32x32 Shapes, no labels; the pretext head k_gamma was dropped. Load it "
            "with fmcore.checkpoints.load_encoder(PRETEXT_ASSET)."
        ),
        "config": {"encoder": h.config.to_dict(), "pretext": config.to_dict()},
        "seed": config.seed,
        "threads": torch.get_num_threads(),
        "data": {
            "dataset": "fmcore.data.shapes (procedural), preset upright",
            "pretraining_images": config.n_unlabelled,
            "pretraining_seed": config.data_seed,
            "labels_used_for_training": False,
            "evaluation": f"transfer: {config.n_labelled_per_class} labelled images per "
            f"class (standard Shapes), {config.eval_examples} test images",
        },
        "metrics": {
            "final_loss": round(done.loss, 5),
            "pretext_accuracy": round(last.pretext_accuracy, 4),
            "transfer_accuracy": round(last.transfer_accuracy, 4),
            "random_accuracy": round(last.random_accuracy, 4),
            "steps": done.step,
            "train_seconds": round(done.seconds, 1),
        },
        "created_by": "scripts/train_assets.py pretext" + (" --quick" if quick else ""),
    }
    pt, _ = save_checkpoint(out / "rotation_shapes", h, manifest)
    reloaded = load_encoder(pt)
    assert all(
        torch.equal(a, b)
        for a, b in zip(reloaded.state_dict().values(), h.state_dict().values(), strict=True)
    ), "the reloaded weights differ from the trained ones"
    print(
        f"wrote {pt} ({pt.stat().st_size / 2**20:.2f} MB); transfer "
        f"{last.transfer_accuracy:.3f} vs random {last.random_accuracy:.3f}",
        flush=True,
    )
    return pt


LM_STEPS = {"toy": 3000, "english": 6000}


def train_language_model(corpus_name: str, quick: bool, out: Path) -> Path:
    """A character language model (4 layers, width 128, context 64) on a corpus, float32."""
    from fmcore.checkpoints import LM_KIND, load_language_model
    from fmcore.lm import train
    from fmcore.lm.corpora import load_corpus, split_corpus, split_starts
    from fmcore.lm.tokenizer import CharTokenizer

    corpus = load_corpus(corpus_name)
    train_text, val_text = split_corpus(corpus.text)
    doc_starts = split_starts(corpus.starts, len(train_text))  # where ⊥ goes in each part
    tokenizer = CharTokenizer.from_corpus(train_text)
    steps = 30 if quick else LM_STEPS[corpus_name]
    config = train.LMConfig.classroom(
        steps=steps,
        eval_every=max(10, steps // 10),
        sample_every=max(10, steps // 4),
        precision="float32",
    )
    share = train.begin_share(len(doc_starts[0]), len(train_text), config.context)
    print(
        f"Language model on {corpus.title}: {len(train_text):,} training characters, "
        f"vocabulary {tokenizer.vocab_size}, {steps} steps of batch {config.batch_size}, "
        f"{len(doc_starts[0]):,} documents (a row opens one after ⊥ with probability "
        f"{share:.3f}), torch threads {torch.get_num_threads()}",
        flush=True,
    )
    start, model, done, last = time.perf_counter(), None, None, None
    g = torch.Generator().manual_seed(config.seed)
    for event in train.train_lm(config, tokenizer, train_text, val_text, g, doc_starts=doc_starts):
        if isinstance(event, train.StartEvent):
            model = event.model
        elif isinstance(event, train.EvalEvent):
            last = event
            print(
                f"  step {event.step:5d}: train {event.train_loss:.3f}, validation "
                f"{event.val_loss:.3f} nats/char  {time.perf_counter() - start:.0f} s",
                flush=True,
            )
        elif isinstance(event, train.SampleEvent):
            print(f"  sample: {event.text[:100]!r}", flush=True)
        elif isinstance(event, train.DoneEvent):
            done = event
    assert model is not None and done is not None and last is not None
    manifest = {
        "kind": LM_KIND,
        "description": (
            f"A 4-layer character Transformer, {steps} steps of training on: {corpus.title}. "
            f"Validation loss {last.val_loss:.3f} nats/char"
            + (f", true entropy rate {corpus.entropy_rate:.3f}." if corpus.entropy_rate else ".")
        ),
        "config": {
            "model": model.config.to_dict(),
            "tokenizer": tokenizer.to_dict(),
            "training": config.to_dict(),
        },
        "seed": config.seed,
        "threads": torch.get_num_threads(),
        "data": {
            "corpus": corpus_name,
            "title": corpus.title,
            "about": corpus.description,
            "train_chars": len(train_text),
            "validation_chars": len(val_text),
            "documents": {"train": len(doc_starts[0]), "validation": len(doc_starts[1])},
            "windows": (
                "a row opens a document (read after the begin token) with probability "
                f"{share:.4f} = min(1/2, documents x context / characters), else it is cut "
                "anywhere and reads the character before it (fmcore.lm.train)"
            ),
        },
        "metrics": {
            "train_loss": round(last.train_loss, 4),
            "val_loss": round(last.val_loss, 4),
            "entropy_rate": corpus.entropy_rate,
            "steps": done.step,
            "train_seconds": round(done.seconds, 1),
        },
        "created_by": f"scripts/train_assets.py lm-{corpus_name}" + (" --quick" if quick else ""),
    }
    pt, _ = save_checkpoint(out / f"lm_{corpus_name}", model, manifest)
    reloaded, _, _ = load_language_model(pt)
    assert all(
        torch.equal(a, b)
        for a, b in zip(reloaded.state_dict().values(), model.state_dict().values(), strict=True)
    ), "the reloaded weights differ from the trained ones"
    print(
        f"wrote {pt} ({pt.stat().st_size / 2**20:.2f} MB); validation {last.val_loss:.3f}",
        flush=True,
    )
    return pt


ICL_STEPS = 8000


def train_in_context(quick: bool, out: Path) -> Path:
    """The few-shot model of the prompting lesson (fmcore.prompting.icl): 4 layers, width 128,
    context 256, trained on documents of 8 examples and a query with the loss on the
    answers only. bfloat16 forward (the CPU's native bfloat16 is what makes it fit in an
    hour on 2 cores)."""
    from fmcore.checkpoints import LM_KIND, load_language_model
    from fmcore.prompting import icl

    steps = 20 if quick else ICL_STEPS
    config = icl.ICLConfig(
        steps=steps,
        warmup_steps=min(200, steps // 5),
        eval_every=max(10, steps // 16),
        eval_tasks=4 if quick else 32,
        precision="bfloat16",
    )
    tokenizer = icl.icl_tokenizer()
    print(
        f"In-context model: {len(config.operations)} operations, {config.shots} examples per "
        f"document, {steps} steps of batch {config.batch_size}, vocabulary "
        f"{tokenizer.vocab_size}, torch threads {torch.get_num_threads()}",
        flush=True,
    )
    start, model, done, last = time.perf_counter(), None, None, None
    for event in icl.train_icl(config, torch.Generator().manual_seed(config.seed), tokenizer):
        if isinstance(event, icl.StartEvent):
            model = event.model
        elif isinstance(event, icl.StepEvent) and event.step % 100 == 0:
            print(f"  step {event.step:5d}: answer loss {event.loss:.3f}", flush=True)
        elif isinstance(event, icl.EvalEvent):
            last = event
            at4 = lambda row: sum(row[4:]) / len(row[4:])  # noqa: E731
            print(
                f"  step {event.step:5d}: hidden by shots "
                + " ".join(f"{a:.2f}" for a in event.hidden)
                + f" | explicit 0-shot {event.explicit[0]:.2f}, 4+ {at4(event.explicit):.2f}"
                + f"  {time.perf_counter() - start:.0f} s\n    per operation at 4+ shots: "
                + ", ".join(f"{op} {at4(row):.2f}" for op, row in event.by_operation.items()),
                flush=True,
            )
        elif isinstance(event, icl.DoneEvent):
            done = event
    assert model is not None and done is not None and last is not None
    four = sum(last.hidden[4:]) / len(last.hidden[4:])
    manifest = {
        "kind": LM_KIND,
        "description": (
            f"A 4-layer character Transformer trained on few-shot arithmetic prompts "
            f"({steps} steps, loss on the answers); hidden operation at 4+ examples "
            f"{four:.3f}, explicit zero-shot {last.explicit[0]:.3f} on its evaluation prompts."
        ),
        "config": {
            "model": model.config.to_dict(),
            "tokenizer": tokenizer.to_dict(),
            "training": config.to_dict(),
        },
        "seed": config.seed,
        "threads": torch.get_num_threads(),
        "data": {
            "task": "in-context arithmetic (fmcore.data.icl_tasks)",
            "template": "Q: {a} {op} {b} = ? A: {answer}",
            "operations": list(config.operations),
        },
        "metrics": {
            "hidden_by_shots": [round(a, 4) for a in last.hidden],
            "explicit_by_shots": [round(a, 4) for a in last.explicit],
            "answer_loss": round(done.loss, 4),
            "steps": done.step,
            "train_seconds": round(done.seconds, 1),
        },
        "created_by": "scripts/train_assets.py icl" + (" --quick" if quick else ""),
    }
    pt, _ = save_checkpoint(out / "icl_arithmetic", model, manifest)
    reloaded, _, _ = load_language_model(pt)
    assert all(
        torch.equal(a, b)
        for a, b in zip(reloaded.state_dict().values(), model.state_dict().values(), strict=True)
    ), "the reloaded weights differ from the trained ones"
    print(f"wrote {pt} ({pt.stat().st_size / 2**20:.2f} MB) in {done.seconds:.0f} s", flush=True)
    return pt


def _run(loop, config):
    """Drive a pretraining loop to the end, printing progress: (model, done, step, eval)."""
    start = time.perf_counter()
    model = None
    last_step: StepEvent | None = None
    last_eval: EvalEvent | None = None
    done: DoneEvent | None = None
    for event in loop:
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

    return model, done, last_step, last_eval


def _manifest(config, kind, done, last_step, last_eval, quick, which) -> dict:
    return {
        "kind": kind,
        "config": config.to_dict(),
        "seed": config.seed,
        "threads": torch.get_num_threads(),
        "data": {
            "dataset": "fmcore.data.shapes (procedural)",
            "preset": config.shapes_preset,
            "image_size": config.image_size,
            "pretraining_images": config.n_images,
            "pretraining_seed": config.data_seed,
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
        "created_by": f"scripts/train_assets.py {which}" + (" --quick" if quick else ""),
    }


def _check_same(reloaded, model, pt: Path, done, last_eval) -> None:
    same = all(
        torch.equal(a, b)
        for a, b in zip(reloaded.state_dict().values(), model.state_dict().values(), strict=True)
    )
    assert same, "the reloaded weights differ from the trained ones"
    print(
        f"wrote {pt.relative_to(ROOT) if pt.is_relative_to(ROOT) else pt} "
        f"({pt.stat().st_size / 2**20:.2f} MB) and its manifest; final loss {done.loss:.4f}, "
        f"probe {last_eval.probe_accuracy:.3f}, kNN {last_eval.knn_accuracy:.3f}, "
        f"{done.seconds:.0f} s",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the checkpoints shipped in assets/.")
    parser.add_argument(
        "which",
        choices=["simclr", "supervised", "pretext", "lm-toy", "lm-english", "icl"],
        help="which asset to train",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a short smoke run (not written to assets/)"
    )
    parser.add_argument("--out", type=Path, default=None, help="output folder")
    args = parser.parse_args(argv)
    out = args.out or (ROOT / "test-artifacts" / "quick-assets" if args.quick else ROOT / "assets")
    train = {
        "simclr": train_simclr,
        "supervised": train_supervised,
        "pretext": train_pretext,
        "lm-toy": lambda quick, out: train_language_model("toy", quick, out),
        "lm-english": lambda quick, out: train_language_model("english", quick, out),
        "icl": train_in_context,
    }
    train[args.which](args.quick, out)


if __name__ == "__main__":
    main()

"""Benchmark: the character language model (fmcore.lm, notes Section 14.3): training speed,
sampling with the KV cache, and what a time budget of training buys.

(a) Training steps per second of fmcore's TinyGPT training step (``fmcore.lm.train.train_lm``
    with the classroom settings: 4 layers, 4 heads, width 128, context 64, batch 12, with
    the precision its config picks: "auto" is bfloat16 autocast of the forward pass on a
    CPU with native bfloat16, float32 elsewhere) against a plain nanoGPT-style reference
    written below (``ReferenceGPT``: one fused qkv ``nn.Linear``, manual causal attention
    with ``masked_fill`` and ``softmax``, ``nn.LayerNorm``, GELU MLP, float32, no weight
    tying) of the identical configuration and vocabulary (65 tokens), with the same
    optimiser (AdamW, betas 0.9/0.99, weight decay on matrices, gradient clipping at 1),
    the same batches of random windows and the same loss. Rows of fmcore in float32 and of
    the reference under the same bfloat16 autocast show where the difference comes from.
    Goal: fmcore at least 1.2x the reference.
(b) Sampling 256 tokens from the begin token with ``fmcore.lm.generate.generate_text``
    (the KV cache: one new position per token; half the context re-read when it is full)
    against re-reading the window (⊥ and the text while it fits, then the last ``context``
    characters) with the model's forward pass at every step, same model, same sampler
    (``sample_next``, temperature 1). Goal: at least 5x. generate_text reads through
    ``fmcore.lm.decoder.Decoder``, the same forward pass with packed weights; a third row
    re-reads the window at every step with that decoder too (no cache), so the table shows
    how much of the ratio is the cache itself.
(c) Quality for a time budget (``--skip-quality`` leaves it out): the classroom settings
    trained on the toy grammar of ``fmcore.lm.corpora`` for 60 s, its validation loss
    (Eq. 14.8, nats per character) against the grammar's true entropy rate (goal: within
    0.05 nats/char), and on the English corpus for 90 s. The loss is reported over every
    position of the 64-character validation windows (what training minimises) and over the
    positions that read at least 32 characters of context (the entropy rate is a limit for
    a long context: the first positions of a window cut inside the text, which read only a
    few characters, cannot reach it). As in training, the windows are cut anywhere and read
    no ⊥; ⊥ only ever comes before a document's first character (fmcore.lm.train). As in
    bench/pretrain.py a short calibration run plans the number of steps of the cosine
    schedule and the run is stopped at the budget.

Timing rules: torch runs on 1 thread (``--threads``), what the app gives each training
(ui/runner.py: the cores shared by MAX_TRAININGS = 2 trainings on a 2-core server); idle
OpenMP threads sleep (OMP_WAIT_POLICY=PASSIVE). All methods are warmed up, then timed
alternately in short chunks (so they see the same background load) and the median chunk
is reported. The machine may be shared: read the ratios, not the absolute figures.

Run:  python bench/lm.py [--quick] [--skip-quality] [--threads N]
Ends with one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

# Idle OpenMP threads sleep instead of spinning (see bench/pretrain.py). Set before torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch
import torch.nn.functional as F
from torch import nn

THREADS = 1  # the app's torch threads per training (see the docstring); --threads changes it
torch.set_num_threads(THREADS)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fmcore.lm.decoder import Decoder  # noqa: E402
from fmcore.lm.generate import generate_text  # noqa: E402
from fmcore.lm.model import TinyGPT, make_gpt  # noqa: E402
from fmcore.lm.sampling import sample_next  # noqa: E402
from fmcore.lm.tokenizer import BEGIN, CharTokenizer  # noqa: E402
from fmcore.lm.train import (  # noqa: E402
    DoneEvent,
    LMConfig,
    StartEvent,
    StepEvent,
    draw_windows,
    train_lm,
    training_rows,
    uses_bfloat16,
)

SEED = 0
VOCAB_ALPHABET = "".join(chr(c) for c in range(33, 95))  # 62 characters: V = 65
SAMPLE_TOKENS = 256


# ============================================================================ reference
class ReferenceAttention(nn.Module):
    """nanoGPT's CausalSelfAttention, float32, written plainly."""

    def __init__(self, width: int, heads: int, context: int) -> None:
        super().__init__()
        self.heads = heads
        self.c_attn = nn.Linear(width, 3 * width)  # q, k, v of all heads in one product
        self.c_proj = nn.Linear(width, width)
        mask = torch.tril(torch.ones(context, context)).view(1, 1, context, context)
        self.register_buffer("bias", mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        k = k.view(B, T, self.heads, C // self.heads).transpose(1, 2)  # (B, H, T, d)
        q = q.view(B, T, self.heads, C // self.heads).transpose(1, 2)
        v = v.view(B, T, self.heads, C // self.heads).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))  # (B, H, T, T)
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = att @ v  # (B, H, T, d)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class ReferenceBlock(nn.Module):
    def __init__(self, width: int, heads: int, context: int) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = ReferenceAttention(width, heads, context)
        self.ln_2 = nn.LayerNorm(width)
        self.c_fc = nn.Linear(width, 4 * width)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.c_proj(self.gelu(self.c_fc(self.ln_2(x))))


class ReferenceGPT(nn.Module):
    """A nanoGPT-style GPT of the same sizes as TinyGPT (no weight tying, like TinyGPT)."""

    def __init__(self, vocab: int, context: int, width: int, layers: int, heads: int) -> None:
        super().__init__()
        self.wte = nn.Embedding(vocab, width)
        self.wpe = nn.Embedding(context, width)
        self.h = nn.ModuleList(ReferenceBlock(width, heads, context) for _ in range(layers))
        self.ln_f = nn.LayerNorm(width)
        self.lm_head = nn.Linear(width, vocab, bias=False)
        g = torch.Generator().manual_seed(SEED)  # nanoGPT's init, from a generator
        with torch.no_grad():
            for name, p in self.named_parameters():
                if p.ndim > 1:
                    p.normal_(0.0, 0.02, generator=g)
                elif name.endswith("bias"):
                    p.zero_()

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        T = idx.size(1)
        x = self.wte(idx) + self.wpe(torch.arange(T))  # (B, T, C)
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))  # (B, T, V)


def reference_steps(config: LMConfig, ids: torch.Tensor, bfloat16: bool):
    """An endless training loop of the reference, one step per ``next``: the same windows,
    loss, optimiser and clipping as train_lm."""
    model = ReferenceGPT(65, config.context, config.width, config.layers, config.heads).train()
    decay = [p for p in model.parameters() if p.ndim > 1]
    rest = [p for p in model.parameters() if p.ndim <= 1]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": config.weight_decay}, {"params": rest}],
        lr=config.learning_rate,
        betas=(0.9, 0.99),
        weight_decay=0.0,
    )
    g = torch.Generator().manual_seed(SEED)
    one_document = torch.zeros(1, dtype=torch.long)  # train_lm's default: the text is one
    while True:
        starts, begins = draw_windows(
            ids.shape[0], one_document, config.context, config.batch_size, g
        )
        x, y = training_rows(ids, starts, config.context, begins)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bfloat16):
            logits = model(x)
        loss = F.cross_entropy(logits.float().view(-1, logits.size(-1)), y.view(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        yield loss.item()


def fmcore_steps(config: LMConfig, tokenizer: CharTokenizer, text: str, holder: dict):
    """train_lm's StepEvents, one per ``next``; the model is put in ``holder``."""
    for event in train_lm(config, tokenizer, text, text, torch.Generator().manual_seed(SEED)):
        if isinstance(event, StartEvent):
            holder["model"] = event.model
        elif isinstance(event, StepEvent):
            yield event.loss


# ============================================================================ (a) training
def bench_training(text: str, tokenizer: CharTokenizer, rounds: int, chunk: int):
    base = LMConfig.classroom(steps=50_000, eval_every=0, sample_every=0)
    ids = torch.tensor(tokenizer.encode(text, add_begin=False, limit=len(text)))
    ours_precision = "bfloat16" if uses_bfloat16(base) else "float32"
    holder: dict = {}
    methods = {
        f"fmcore TinyGPT, precision auto ({ours_precision})": fmcore_steps(
            base, tokenizer, text, holder
        ),
        "reference nanoGPT-style, float32": reference_steps(base, ids, bfloat16=False),
        "fmcore TinyGPT, float32": fmcore_steps(
            LMConfig.classroom(steps=50_000, eval_every=0, sample_every=0, precision="float32"),
            tokenizer,
            text,
            {},
        ),
        "reference, bfloat16 autocast": reference_steps(base, ids, bfloat16=True),
    }
    for steps in methods.values():  # warm-up: first steps pay for allocations
        for _ in range(5):
            next(steps)
    rates: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(rounds):
        for name, steps in methods.items():
            start = time.perf_counter()
            for _ in range(chunk):
                next(steps)
            rates[name].append(chunk / (time.perf_counter() - start))
    for steps in methods.values():
        steps.close()
    medians = {name: statistics.median(r) for name, r in rates.items()}
    return medians, ours_precision, holder["model"]


# ============================================================================ (b) sampling
@torch.no_grad()
def sample_by_rereading(
    model: TinyGPT, n: int, generator: torch.Generator, packed: bool = False
) -> list[int]:
    """The baseline: at every step one full forward pass over the window (⊥ and the text
    while they fit in the context, then the last ``context`` characters without ⊥), then
    the same sampler. ``packed``: the forward pass of a Decoder, emptied before each step
    (what generate_text computes, without keeping anything)."""
    context = model.config.context_length
    decoder = Decoder(model, context) if packed else None
    history: list[int] = []
    for _ in range(n):
        ids = [BEGIN, *history] if len(history) < context else history[-context:]
        if decoder is None:
            logits = model(torch.tensor([ids]))[0, -1]  # (V,)
        else:
            decoder.reset()
            logits = decoder.read(ids)  # (V,)
        history.append(int(sample_next(logits, 1.0, generator)))
    return history


def bench_sampling(
    model: TinyGPT, tokenizer: CharTokenizer, rounds: int, sliding: bool = True
) -> dict[str, float]:
    model.eval()

    def cached() -> None:
        generate_text(model, tokenizer, "", SAMPLE_TOKENS, 1.0, torch.Generator().manual_seed(1))

    def sliding_window() -> None:
        context = model.config.context_length
        g = torch.Generator().manual_seed(1)
        generate_text(model, tokenizer, "", SAMPLE_TOKENS, 1.0, g, reread_chars=context)

    def reread() -> None:
        sample_by_rereading(model, SAMPLE_TOKENS, torch.Generator().manual_seed(1))

    def reread_packed() -> None:
        sample_by_rereading(model, SAMPLE_TOKENS, torch.Generator().manual_seed(1), packed=True)

    methods = {
        "KV cache (generate_text, re-read half when full)": cached,
        "full forward of the window at every step": reread,
        "the same with the Decoder (packed weights, no cache)": reread_packed,
    }
    if sliding:
        methods["KV cache, sliding window (re-read every step when full)"] = sliding_window
    for f in methods.values():
        f()
    times: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(rounds):
        for name, f in methods.items():
            start = time.perf_counter()
            f()
            times[name].append(1e3 * (time.perf_counter() - start))
    return {name: statistics.median(t) for name, t in times.items()}


# ============================================================================ (c) quality
@torch.no_grad()
def position_losses(model: TinyGPT, ids: torch.Tensor, n_windows: int) -> torch.Tensor:
    """-log p of every position of ``n_windows`` evenly spaced validation windows, cut
    anywhere (no ⊥: each reads the character before it): (N, T)."""
    T = model.config.context_length
    starts = torch.linspace(1, ids.shape[0] - T, n_windows).long()
    begins = torch.zeros(n_windows, dtype=torch.bool)
    out = []
    model.eval()
    for i in range(0, n_windows, 64):
        x, y = training_rows(ids, starts[i : i + 64], T, begins[i : i + 64])
        logp = torch.log_softmax(model(x).double(), dim=-1)  # (b, T, V)
        out.append(-logp.gather(-1, y[..., None]).squeeze(-1))  # (b, T)
    return torch.cat(out)


def train_for(budget: float, tokenizer, train, val, doc_starts) -> tuple[TinyGPT, dict]:
    """Calibrate steps/s on 15 steps, plan the cosine schedule to fill ``budget`` seconds,
    train, and stop at the budget in any case."""
    probe = LMConfig.classroom(steps=15, warmup_steps=0, eval_every=0, sample_every=0)
    times: dict[int, float] = {}
    g = torch.Generator().manual_seed(SEED + 1)
    for event in train_lm(probe, tokenizer, train, val, g, doc_starts=doc_starts):
        if isinstance(event, StepEvent):
            times[event.step] = time.perf_counter()
    rate = 10 / (times[15] - times[5])
    steps = max(20, int(0.97 * budget * rate))
    config = LMConfig.classroom(steps=steps, eval_every=0, sample_every=0)
    model, last = None, None
    start = time.perf_counter()
    g = torch.Generator().manual_seed(SEED)
    for event in train_lm(config, tokenizer, train, val, g, doc_starts=doc_starts):
        if isinstance(event, StartEvent):
            model, start = event.model, time.perf_counter()
        elif isinstance(event, StepEvent):
            last = event
            if time.perf_counter() - start > budget:
                break  # the model keeps what it learned
        elif isinstance(event, DoneEvent):
            break
    assert model is not None and last is not None
    model.eval()
    return model, {
        "planned_steps": steps,
        "steps": last.step,
        "seconds": time.perf_counter() - start,
        "tokens_per_s": last.tokens_per_s,
    }


def bench_quality(budgets: tuple[float, float]) -> dict | None:
    """None when fmcore.lm.corpora is not there."""
    try:
        from fmcore.lm.corpora import load_corpus, split_corpus, split_starts
    except ImportError:
        return None
    results = {}
    for name, budget in zip(("toy", "english"), budgets, strict=True):
        corpus = load_corpus(name)
        train, val = split_corpus(corpus.text)
        tokenizer = CharTokenizer.from_corpus(train)
        doc_starts = split_starts(corpus.starts, len(train))
        model, run = train_for(budget, tokenizer, train, val, doc_starts)
        val_ids = torch.tensor(tokenizer.encode(val, add_begin=False, limit=len(val)))
        nll = position_losses(model, val_ids, 512)  # (512, 64)
        per_position = nll.mean(0)  # (64,)
        results[name] = {
            **run,
            "budget_s": budget,
            "vocab": tokenizer.vocab_size,
            "val_loss": float(nll.mean()),
            "val_loss_context32": float(per_position[32:].mean()),
            "val_loss_first": float(per_position[0]),
            "entropy_rate": corpus.entropy_rate,
            "sample": generate_text(
                model, tokenizer, "", 100, 0.8, torch.Generator().manual_seed(SEED)
            ),
        }
    return results


# ============================================================================ main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, 10/15 s budgets")
    parser.add_argument("--skip-quality", action="store_true", help="leave out part (c)")
    parser.add_argument("--threads", type=int, default=THREADS, help="torch threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rounds, chunk, sample_rounds = (3, 5, 3) if args.quick else (8, 10, 7)
    budgets = (10.0, 15.0) if args.quick else (60.0, 90.0)

    tokenizer = CharTokenizer(VOCAB_ALPHABET)
    g = torch.Generator().manual_seed(SEED)
    text = "".join(VOCAB_ALPHABET[i] for i in torch.randint(0, 62, (200_000,), generator=g))
    print(
        f"torch {torch.__version__}, torch.set_num_threads({torch.get_num_threads()}), "
        f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}, native bfloat16: "
        f"{bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())}; classroom model: 4 layers, "
        f"4 heads, width 128, context 64, batch 12, V = {tokenizer.vocab_size}"
    )

    # (a)
    rates, precision, model = bench_training(text, tokenizer, rounds, chunk)
    ours, reference = list(rates.values())[:2]
    print(f"\n(a) training steps/s, median of {rounds} chunks of {chunk} steps, alternated")
    header = f"{'method':<48} {'steps/s':>8} {'ms/step':>8} {'vs ref':>7}"
    print(header)
    print("-" * len(header))
    for name, r in rates.items():
        print(f"{name:<48} {r:>8.1f} {1e3 / r:>8.1f} {r / reference:>6.2f}x")
    goal_a = ours / reference >= 1.2
    verdict = "met" if goal_a else "NOT met"
    print(f"fmcore / reference: {ours / reference:.2f}x (goal 1.2x): {verdict}")

    # (b)
    times = bench_sampling(model, tokenizer, sample_rounds)
    cached, full, packed = list(times.values())[:3]
    print(f"\n(b) sampling {SAMPLE_TOKENS} tokens from ⊥, median of {sample_rounds}, alternated")
    header = f"{'method':<56} {'ms':>8} {'tokens/s':>9} {'speedup':>8}"
    print(header)
    print("-" * len(header))
    for name, ms in times.items():
        print(f"{name:<56} {ms:>8.1f} {SAMPLE_TOKENS / ms * 1e3:>9.0f} {full / ms:>7.2f}x")
    goal_b = full / cached >= 5
    print(f"cache / full re-read: {full / cached:.2f}x (goal 5x): {'met' if goal_b else 'NOT met'}")
    print(
        f"of which the cache alone (both through the Decoder): {packed / cached:.2f}x, "
        f"the Decoder's packed forward pass alone (both re-reading): {full / packed:.2f}x"
    )
    # For scale: the same sizes with a 256-token context (untrained: speed does not depend
    # on the weights). The longer the window, the more a full re-read costs per token.
    long_model = make_gpt(
        dataclasses.replace(model.config, context_length=4 * model.config.context_length),
        torch.Generator().manual_seed(SEED),
    )
    long_times = bench_sampling(long_model, tokenizer, sample_rounds, sliding=False)
    long_cached, long_full, long_packed = long_times.values()
    print(
        f"for scale, context {long_model.config.context_length}: cache {long_cached:.1f} ms, "
        f"full re-read {long_full:.1f} ms: {long_full / long_cached:.2f}x (with the "
        f"Decoder, no cache: {long_packed:.1f} ms, {long_packed / long_cached:.2f}x)"
    )

    # (c)
    quality = None
    if not args.skip_quality:
        quality = bench_quality(budgets)
        if quality is None:
            print("\n(c) skipped: fmcore.lm.corpora is not available")
        else:
            print(f"\n(c) validation loss after a time budget (nats/char; {budgets} s)")
            for name, r in quality.items():
                rate = r["entropy_rate"]
                gap = "" if rate is None else f", entropy rate {rate:.3f}"
                print(
                    f"{name:<8} {r['steps']} steps in {r['seconds']:.0f} s: val loss "
                    f"{r['val_loss']:.3f} (all positions), {r['val_loss_context32']:.3f} "
                    f"(>= 32 chars of context), first position {r['val_loss_first']:.2f}{gap}"
                )
                print(f"         sample: {r['sample']!r}")
            toy = quality["toy"]
            gap = toy["val_loss_context32"] - toy["entropy_rate"]
            print(
                f"toy: loss with >= 32 characters of context - entropy rate = {gap:+.3f} "
                f"(goal <= 0.05): {'met' if gap <= 0.05 else 'NOT met'}"
            )
            if args.quick:
                print("(--quick budgets are too short for the goal; it is for 60 s)")

    figures = {
        "bench": "lm",
        "threads": torch.get_num_threads(),
        "precision": precision,
        "train_steps_per_s": round(ours, 2),
        "reference_steps_per_s": round(reference, 2),
        "train_speedup": round(ours / reference, 2),
        "train_float32_steps_per_s": round(list(rates.values())[2], 2),
        "reference_bfloat16_steps_per_s": round(list(rates.values())[3], 2),
        "sample_cached_ms": round(cached, 1),
        "sample_full_ms": round(full, 1),
        "sample_speedup": round(full / cached, 2),
        "sample_packed_reread_ms": round(packed, 1),
        "sample_speedup_cache_alone": round(packed / cached, 2),
        "sample_sliding_ms": round(list(times.values())[3], 1),
        "sample_speedup_context256": round(long_full / long_cached, 2),
        "sample_speedup_cache_alone_context256": round(long_packed / long_cached, 2),
    }
    if quality:
        for name, r in quality.items():
            figures |= {
                f"{name}_steps": r["steps"],
                f"{name}_val_loss": round(r["val_loss"], 4),
                f"{name}_val_loss_context32": round(r["val_loss_context32"], 4),
            }
        figures["toy_entropy_rate"] = round(quality["toy"]["entropy_rate"], 4)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

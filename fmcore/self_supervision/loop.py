"""Pretraining on pseudolabels, and transfer: the config, the data, the events, the loop.

:func:`pretrain_pretext` draws fresh pseudolabels for every batch (like fresh augmentations
in SimCLR) and yields typed events (rule 3 of DESIGN.md), as
:func:`fmcore.vision.pretrain.pretrain_simclr` does; :func:`transfer` and
:func:`transfer_accuracy` put a new head g_phi on the learned h_theta* for the downstream
task. All randomness comes from a ``torch.Generator`` (rule 4)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from fmcore.adaptation.probe import linear_probe_accuracy
from fmcore.data import shapes as shapes_data
from fmcore.errors import SettingError
from fmcore.optim import decay_groups, take_step, warmup_cosine
from fmcore.self_supervision import sentences as text_data
from fmcore.self_supervision import signals as signal_data
from fmcore.self_supervision.models import (
    _META,
    MAX_WIDTH,
    CharEncoder,
    DownstreamModel,
    PretextHead,
    PretextModel,
    SignalEncoder,
    _init,
    pooled_features,
)
from fmcore.self_supervision.pseudolabels import (
    CLASS_NAMES,
    JIGSAW_PERMUTATIONS,
    PretextBatch,
    _check_task,
    _first_task,
    make_pretext_batch,
)
from fmcore.validate import bounded_int, check_generator, finite_float
from fmcore.vision.encoders import ConvEncoder, EncoderConfig

__all__ = [
    "DoneEvent",
    "EvalEvent",
    "Event",
    "PretextConfig",
    "StartEvent",
    "StepEvent",
    "downstream_data",
    "make_feature_extractor",
    "make_pretext_model",
    "pretext_accuracy",
    "pretext_data",
    "pretext_loss",
    "pretrain_pretext",
    "transfer",
    "transfer_accuracy",
]

# How the pretext images are drawn when the config does not say: rotation needs upright
# shapes (see fmcore.data.shapes.PRESETS["upright"]); jigsaw works on any.
DEFAULT_SHAPES_PRESET = {"rotation": "upright", "jigsaw": "standard"}


DOWNSTREAM_SHAPES_PRESET = "standard"  # the downstream images are always drawn this way


# ------------------------------------------------------------------------------ limits
MAX_POOL = 20_000  # unlabelled examples


MAX_STEPS = 20_000


MAX_BATCH = 1024


MAX_EVAL = 5_000


MAX_PROBE_STEPS = 5_000


MAX_SEED = 2**31 - 1


_EMBED_BATCH = 256


def transfer(
    h: nn.Module | PretextModel, num_outputs: int, generator: torch.Generator
) -> DownstreamModel:
    """Keep h_theta*, discard k_gamma, and put a new linear g_phi on the pooled features.

    ``h`` is the feature extractor (or a PretextModel, whose k_gamma is dropped); it is
    shared, not copied: training the DownstreamModel end to end would finetune h itself.
    g_phi is a fresh ``nn.Linear(d, num_outputs)`` initialised from ``generator``.
    """
    if isinstance(h, PretextModel):
        h = h.h
    d = getattr(h, "representation_dim", None)
    if not isinstance(h, nn.Module) or not isinstance(d, int):
        raise SettingError("transfer needs a feature extractor with a representation_dim.")
    classes = bounded_int("number of downstream outputs", num_outputs, 1, 1000)
    g_phi = _init(nn.Linear(d, classes, **_META), generator)
    return DownstreamModel(h, g_phi)


def _scored(predictions: torch.Tensor, batch: PretextBatch) -> tuple[torch.Tensor, torch.Tensor]:
    """The predictions and targets of the scored positions: (M, K) and (M,), or (M,), (M,)."""
    if batch.mask is None:
        return predictions, batch.targets
    return predictions[batch.mask], batch.targets[batch.mask]


def pretext_loss(predictions: torch.Tensor, batch: PretextBatch) -> torch.Tensor:
    """The pretext loss, a mean over the scored positions.

    Classification: cross-entropy -log softmax(k(h(x')))_z. Regression: squared error
    (k(h(x')) - z)^2. Only positions in ``batch.mask`` count (all when mask is None).
    """
    p, z = _scored(predictions, batch)
    if batch.kind == "classification":
        return F.cross_entropy(p, z)
    return F.mse_loss(p, z)


def pretext_accuracy(predictions: torch.Tensor, batch: PretextBatch) -> float | None:
    """Fraction of scored positions whose argmax is z; None for a regression."""
    if batch.kind != "classification":
        return None
    p, z = _scored(predictions.detach(), batch)
    return float((p.argmax(-1) == z).double().mean())


def _guess_baseline(batch: PretextBatch) -> float:
    """What an input-blind guess scores: accuracy of the most frequent z (classification),
    or the squared error of predicting each series' visible mean at the hidden steps."""
    if batch.kind == "classification":
        _, z = _scored(batch.targets, batch)
        return float(torch.bincount(z).max()) / z.numel()
    visible = ~batch.mask  # (B, L)
    mean = (batch.targets * visible).sum(1, keepdim=True) / visible.sum(1, keepdim=True)
    return float(((mean.expand_as(batch.targets) - batch.targets)[batch.mask] ** 2).mean())


_DEFAULT_WIDTH = {"images": 16, "text": 64, "timeseries": 32}


@dataclass(frozen=True)
class PretextConfig:
    """Settings of one pretext pretraining run, checked on creation (SettingError if not).

    Presets: :meth:`tiny` (tests: a few steps, well under a second each) and
    :meth:`classroom` (the lesson page: 10-25 s on two cores).
    """

    # --- what
    domain: str = "images"  # "images", "text" or "timeseries"
    task: str = "rotation"  # one of PRETEXT_TASKS[domain]
    # --- data
    n_unlabelled: int = 2000  # pretext pool (16..20 000); its labels are never read
    shapes_preset: str | None = None  # images: None -> "upright" for rotation, else "standard"
    image_size: int = 32  # images: side in pixels (16..128, even)
    series_length: int = 64  # time series: steps per series (16..1024)
    data_seed: int = 0  # seed of the unlabelled pool
    eval_seed: int = 1000  # downstream labelled set, test set (+1), held-out pretext set (+2)
    # --- model h_theta
    width: int | None = None  # channels; None: the domain's (images 16, text 64, series 32)
    representation_dim: int = 64  # images: m, the size of h_theta(x)
    # --- optimisation (AdamW, linear warm-up then cosine decay)
    steps: int = 300  # optimisation steps (1..20 000)
    batch_size: int = 64  # examples per step (2..1024, at most n_unlabelled)
    learning_rate: float = 3e-3  # peak learning rate
    weight_decay: float = 1e-4  # decoupled, not on biases and norms
    warmup_steps: int = 10
    # --- monitoring (labels used here only, on held-out data)
    eval_every: int = 50  # evaluate at step 0, every this many steps and at the end; 0: never
    n_labelled_per_class: int = 10  # labelled examples per class that g_phi is fitted on
    eval_examples: int = 500  # downstream test examples, and held-out pretext examples
    probe_steps: int = 200  # full-batch Adam steps fitting g_phi
    # --- randomness
    seed: int = 0  # seeds the run's generator when pretrain_pretext gets none

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        _check_task(self.domain, self.task)
        set_(
            self,
            "n_unlabelled",
            bounded_int("unlabelled examples", self.n_unlabelled, 16, MAX_POOL),
        )
        preset = self.shapes_preset
        if preset is None:
            preset = DEFAULT_SHAPES_PRESET.get(self.task, DOWNSTREAM_SHAPES_PRESET)
        if preset not in shapes_data.PRESETS:
            raise SettingError(
                f"shapes_preset must be one of {', '.join(shapes_data.PRESETS)}; got {preset!r}."
            )
        set_(self, "shapes_preset", preset)
        size = bounded_int("image size", self.image_size, 16, 128)
        if size % 2:
            raise SettingError(f"The image size must be even (jigsaw halves it), got {size}.")
        set_(self, "image_size", size)
        set_(
            self,
            "series_length",
            bounded_int(
                "series length", self.series_length, signal_data.MIN_LENGTH, signal_data.MAX_LENGTH
            ),
        )
        for name in ("data_seed", "eval_seed", "seed"):
            set_(self, name, bounded_int(name, getattr(self, name), 0, MAX_SEED - 3))
        if self.eval_seed <= self.data_seed <= self.eval_seed + 2:
            raise SettingError(
                "data_seed must differ from eval_seed, eval_seed + 1 and eval_seed + 2, so "
                "that the evaluation data is held out from the unlabelled pool."
            )
        width = _DEFAULT_WIDTH[self.domain] if self.width is None else self.width
        set_(self, "width", bounded_int("width", width, 4, MAX_WIDTH))
        set_(
            self,
            "representation_dim",
            bounded_int("representation_dim", self.representation_dim, 2, 1024),
        )
        set_(self, "steps", bounded_int("number of steps", self.steps, 1, MAX_STEPS))
        set_(self, "batch_size", bounded_int("batch size", self.batch_size, 2, MAX_BATCH))
        if self.batch_size > self.n_unlabelled:
            raise SettingError(
                f"The batch size ({self.batch_size}) cannot exceed the number of unlabelled "
                f"examples ({self.n_unlabelled})."
            )
        set_(self, "learning_rate", finite_float("learning rate", self.learning_rate, 1e-6, 1.0))
        set_(self, "weight_decay", finite_float("weight decay", self.weight_decay, 0.0, 1.0))
        set_(self, "warmup_steps", bounded_int("warm-up steps", self.warmup_steps, 0, MAX_STEPS))
        set_(self, "eval_every", bounded_int("eval_every", self.eval_every, 0, MAX_STEPS))
        set_(
            self,
            "n_labelled_per_class",
            bounded_int("labelled examples per class", self.n_labelled_per_class, 1, 500),
        )
        set_(
            self,
            "eval_examples",
            bounded_int("evaluation examples", self.eval_examples, 8, MAX_EVAL),
        )
        set_(self, "probe_steps", bounded_int("probe_steps", self.probe_steps, 1, MAX_PROBE_STEPS))

    # ----------------------------------------------------------------- presets
    @classmethod
    def tiny(
        cls, domain: str = "images", task: str | None = None, **changes: object
    ) -> PretextConfig:
        """For tests: 64 examples (16x16 images, 32-step series), width 4 or 8, batch 16,
        6 steps, evaluations at steps 0, 3 and 6."""
        task = _first_task(domain) if task is None else task
        base = cls(
            domain=domain,
            task=task,
            n_unlabelled=64,
            image_size=16,
            series_length=32,
            width=4 if domain == "images" else 8,
            representation_dim=8,
            steps=6,
            batch_size=16,
            warmup_steps=2,
            eval_every=3,
            n_labelled_per_class=2,
            eval_examples=40,
            probe_steps=20,
        )
        return dataclasses.replace(base, **changes)  # type: ignore[arg-type]

    @classmethod
    def classroom(
        cls, domain: str = "images", task: str | None = None, **changes: object
    ) -> PretextConfig:
        """For the lesson page: 10-25 s on two CPU cores, depending on the domain (see
        _CLASSROOM for what each reaches)."""
        task = _first_task(domain) if task is None else task
        base = cls(domain=domain, task=task, **_CLASSROOM.get(domain, {}))  # type: ignore[arg-type]
        return dataclasses.replace(base, **changes)  # type: ignore[arg-type]

    @property
    def num_classes(self) -> int:
        """Classes of the downstream task."""
        return len(CLASS_NAMES[self.domain])

    def to_dict(self) -> dict[str, object]:
        """The settings as plain JSON-able values."""
        return dataclasses.asdict(self)


# Classroom settings per domain. What they reached here (two CPU cores, two torch threads):
# held-out pretext accuracy (an input-blind guess), downstream transfer accuracy with 10
# labels per class (the same for the random h_theta), and the time of a run:
# - images, rotation: 0.69 (0.27); transfer 0.42 (random 0.13); 22 s. Upright circles,
#   squares and plus signs look the same after any quarter turn, and bars after a half
#   turn, so about 0.72 is the most any model can reach on the Shapes.
# - images, jigsaw: 0.87 (0.07); transfer 0.20 (0.13); 22 s. The puzzle is largely solved
#   from low-level cues at the seams (background gradients, cut outlines), which say little
#   about the shape: a good pretext score does not promise good features.
# - text, masked_char: 0.94 (0.19, how often the most frequent character, the space, is
#   hidden); next_char: 0.90 (0.19); transfer to the topic 0.45-0.48 (random 0.45-0.47);
#   10 s. Most characters can be spelled out from their neighbours, so the features learn
#   spelling rather than topic: the two pretext tasks plateau within a few hundred steps.
# - timeseries, masked_feature: squared error 0.34 on hidden steps (0.73 for each series'
#   visible mean; the noise alone gives 0.04); transfer 0.68 (random 0.62); 10 s.
_CLASSROOM: dict[str, dict[str, object]] = {
    "images": {"n_unlabelled": 6000, "steps": 1500, "eval_every": 150},
    "text": {"n_unlabelled": 4000, "steps": 600, "eval_every": 60},
    "timeseries": {"n_unlabelled": 4000, "steps": 1500, "eval_every": 150},
}


def _domain_data(
    domain: str, n: int, seed: int | torch.Generator, config: PretextConfig, preset: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, labels) of ``n`` fresh examples of a domain: images uint8, ids int64, series."""
    if domain == "images":
        shapes = shapes_data.PRESETS[preset]
        if isinstance(seed, int):
            data = shapes_data.cached_shapes(n, seed, config.image_size, shapes)
        else:
            data = shapes_data.make_shapes(n, seed, image_size=config.image_size, config=shapes)
        return data.images, data.labels
    if domain == "text":
        sentences = text_data.make_sentences(n, seed)
        return text_data.encode(sentences.texts, text_data.MAX_CHARS), sentences.labels
    signals = signal_data.make_signals(n, seed, config.series_length)
    return signals.series, signals.labels


def pretext_data(config: PretextConfig) -> torch.Tensor:
    """The unlabelled pool x: ``n_unlabelled`` examples drawn with ``data_seed``.

    Images (N, 3, S, S) uint8 (drawn with ``config.shapes_preset``), text (N, 48) int64
    character ids, time series (N, L) float32. Labels exist but are dropped here.
    """
    x, _ = _domain_data(
        config.domain, config.n_unlabelled, config.data_seed, config, config.shapes_preset
    )
    return x


def downstream_data(config: PretextConfig) -> tuple[torch.Tensor, ...]:
    """The labelled downstream sets: (train_x, train_y, test_x, test_y).

    ``n_labelled_per_class`` examples per class (seed ``eval_seed``; the datasets balance
    classes exactly) and ``eval_examples`` test examples (seed ``eval_seed + 1``). Images
    are drawn with the "standard" Shapes whatever the pretext data was.
    """
    n_train = config.n_labelled_per_class * config.num_classes
    preset = DOWNSTREAM_SHAPES_PRESET
    train_x, train_y = _domain_data(config.domain, n_train, config.eval_seed, config, preset)
    test_x, test_y = _domain_data(
        config.domain, config.eval_examples, config.eval_seed + 1, config, preset
    )
    return train_x, train_y, test_x, test_y


def _embed(h: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Pooled features of every example in eval mode, without gradients: (N, d) float32."""
    was_training = h.training
    h.eval()
    try:
        with torch.no_grad():
            parts = [
                pooled_features(h, x[i : i + _EMBED_BATCH]).float()
                for i in range(0, x.shape[0], _EMBED_BATCH)
            ]
    finally:
        h.train(was_training)
    return torch.cat(parts)  # (N, d)


def transfer_accuracy(h: nn.Module, config: PretextConfig, generator: torch.Generator) -> float:
    """Downstream test accuracy of h_theta frozen + a new linear g_phi (a linear probe).

    g_phi is fitted on the pooled features of the ``n_labelled_per_class`` labelled examples
    per class with :func:`fmcore.adaptation.probe.linear_probe_accuracy` (standardised features,
    cross-entropy, ``probe_steps`` Adam steps, initial weights from ``generator``) and
    scored on the ``eval_examples`` test examples of :func:`downstream_data`.
    """
    train_x, train_y, test_x, test_y = downstream_data(config)
    return linear_probe_accuracy(
        _embed(h, train_x),
        train_y,
        _embed(h, test_x),
        test_y,
        config.probe_steps,
        check_generator(generator),
    )


def make_feature_extractor(config: PretextConfig, generator: torch.Generator) -> nn.Module:
    """A fresh h_theta for ``config.domain`` (and task: next_char needs a causal one)."""
    g = check_generator(generator)
    if config.domain == "images":
        encoder = EncoderConfig(
            image_size=config.image_size,
            width=config.width,
            representation_dim=config.representation_dim,
        )
        return ConvEncoder(encoder, g)
    if config.domain == "text":
        return CharEncoder(config.width, causal=config.task == "next_char", generator=g)
    return SignalEncoder(config.width, g)


def _num_outputs(task: str) -> int:
    return {"rotation": 4, "jigsaw": len(JIGSAW_PERMUTATIONS), "masked_feature": 1}.get(
        task, text_data.VOCAB_SIZE
    )


def make_pretext_model(config: PretextConfig, generator: torch.Generator) -> PretextModel:
    """h_theta then k_gamma, both initialised from ``generator`` (in that order)."""
    g = check_generator(generator)
    h = make_feature_extractor(config, g)
    k = PretextHead(h.representation_dim, _num_outputs(config.task), g)  # type: ignore[arg-type]
    return PretextModel(h, k)


@dataclass(frozen=True, eq=False)
class StartEvent:
    """First event: the model being trained (updated in place from now on) and the plan."""

    model: PretextModel  # the very object trained; keep it to keep what is learned
    total_steps: int
    n_unlabelled: int


@dataclass(frozen=True)
class StepEvent:
    """After one optimisation step (step counts from 1)."""

    step: int  # 1..total_steps
    total_steps: int
    loss: float  # the batch's pretext loss
    accuracy: float | None  # pretext accuracy on the batch (None for a regression)
    learning_rate: float  # the rate used for this step
    examples_per_s: float  # unlabelled examples per second of training so far


@dataclass(frozen=True)
class EvalEvent:
    """The pretext task on held-out data, and the transfer to the downstream task."""

    step: int  # steps done when evaluated (0: before training)
    pretext_loss: float  # on a fixed held-out batch, pseudolabels drawn once
    pretext_accuracy: float | None  # on the same batch; None for a regression
    guess_baseline: float  # an input-blind guess on it: accuracy, or loss for a regression
    transfer_accuracy: float  # h_theta frozen + new linear g_phi, downstream test accuracy
    random_accuracy: float  # the same for h_theta at its random initial weights


@dataclass(frozen=True, eq=False)
class DoneEvent:
    """Last event, after the final step (not sent when the caller stops early)."""

    step: int
    model: PretextModel  # the trained model, in eval mode
    loss: float  # mean pretext loss of the last min(20, steps) steps
    pretext_accuracy: float | None  # of the last evaluation (None: regression or no eval)
    transfer_accuracy: float | None  # of the last evaluation (None without evaluation)
    random_accuracy: float | None
    seconds: float  # wall-clock time of the run, evaluations included


Event = StartEvent | StepEvent | EvalEvent | DoneEvent


def _learning_rate(config: PretextConfig, step: int) -> float:
    """Rate for step ``step`` (1-based): linear warm-up, then cosine decay towards 0."""
    return warmup_cosine(config.learning_rate, config.warmup_steps, config.steps, step)


def _optimizer(config: PretextConfig, model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.AdamW(decay_groups(model, config.weight_decay), lr=config.learning_rate)


def _diverged(step: int) -> SettingError:
    return SettingError(
        f"Training diverged at step {step}: the loss became NaN or infinite. Lower the "
        "learning rate and train again."
    )


def _predict(model: PretextModel, inputs: torch.Tensor) -> torch.Tensor:
    """Pretext predictions in eval mode, without gradients, a batch at a time."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            parts = [
                model(inputs[i : i + _EMBED_BATCH]) for i in range(0, len(inputs), _EMBED_BATCH)
            ]
    finally:
        model.train(was_training)
    return torch.cat(parts)


def pretrain_pretext(
    config: PretextConfig, generator: torch.Generator | None = None
) -> Iterator[Event]:
    """Pretrain k_gamma(h_theta(.)) on a pretext task, one event at a time.

    Each step takes the next B examples of a random permutation of the unlabelled pool (a
    new permutation every epoch), makes fresh pseudolabels (x', z) for them with the task's
    generator and takes one AdamW step on :func:`pretext_loss`. The pool's labels are never
    read.

    Args:
        config: the settings (:class:`PretextConfig`).
        generator: all randomness (initial weights, then the permutations and
            pseudolabels) comes from it, in that order; None uses
            ``torch.Generator().manual_seed(config.seed)``. The same generator state gives
            the same losses, step by step (same machine and number of torch threads).

    Yields:
        StartEvent; an EvalEvent at step 0 (h_theta random: its transfer accuracy is the
        baseline ``random_accuracy`` of every later evaluation); per step a StepEvent, with
        an EvalEvent every ``eval_every`` steps and after the last (none if ``eval_every``
        is 0); a DoneEvent at the end. The model is updated in place and is the object of
        the StartEvent: stopping the iteration at any point keeps the weights learned so
        far. When the loop ends or is closed, the model is left in eval mode.

    The evaluations draw from their own generator, seeded once from ``generator``, so how
    often one evaluates does not change the training trajectory.
    """
    if not isinstance(config, PretextConfig):
        raise SettingError(f"config must be a PretextConfig, got {type(config).__name__}.")
    g = torch.Generator().manual_seed(config.seed) if generator is None else generator
    g = check_generator(g)
    model = make_pretext_model(config, g)
    eval_seed = int(torch.randint(0, MAX_SEED, (1,), generator=g))

    pool = pretext_data(config)  # (N, ...): labels never read
    N, B = pool.shape[0], config.batch_size
    steps_per_epoch = N // B
    optimizer = _optimizer(config, model)
    start = time.perf_counter()
    train_seconds = 0.0
    recent: list[float] = []
    last_eval: EvalEvent | None = None
    random_accuracy = 0.0

    # A fixed held-out pretext batch (seed eval_seed + 2 of the data), pseudolabels drawn once.
    held_out, _ = _domain_data(
        config.domain, config.eval_examples, config.eval_seed + 2, config, config.shapes_preset
    )
    check = make_pretext_batch(config.task, held_out, torch.Generator().manual_seed(eval_seed))
    guess = _guess_baseline(check)

    def evaluate(step: int) -> EvalEvent:
        predictions = _predict(model, check.inputs)
        probe_g = torch.Generator().manual_seed(eval_seed)  # the same g_phi init every time
        accuracy = transfer_accuracy(model.h, config, probe_g)
        return EvalEvent(
            step=step,
            pretext_loss=float(pretext_loss(predictions, check)),
            pretext_accuracy=pretext_accuracy(predictions, check),
            guess_baseline=guess,
            transfer_accuracy=accuracy,
            random_accuracy=accuracy if step == 0 else random_accuracy,
        )

    try:
        yield StartEvent(model, config.steps, N)
        if config.eval_every:
            last_eval = evaluate(0)  # h_theta still random: the baseline of later evaluations
            random_accuracy = last_eval.transfer_accuracy
            yield last_eval
        order = torch.empty(0, dtype=torch.int64)
        for step in range(1, config.steps + 1):
            t0 = time.perf_counter()
            position = (step - 1) % steps_per_epoch
            if position == 0:
                order = torch.randperm(N, generator=g)  # (N,)
            x = pool[order[position * B : (position + 1) * B]]  # (B, ...)
            batch = make_pretext_batch(config.task, x, g)
            model.train()
            predictions = model(batch.inputs)
            loss = pretext_loss(predictions, batch)
            if not bool(torch.isfinite(loss)):
                raise _diverged(step)
            lr = _learning_rate(config, step)
            value = take_step(optimizer, loss, lr)
            train_seconds += time.perf_counter() - t0
            recent = (recent + [value])[-20:]
            yield StepEvent(
                step=step,
                total_steps=config.steps,
                loss=value,
                accuracy=pretext_accuracy(predictions, batch),
                learning_rate=lr,
                examples_per_s=step * B / max(train_seconds, 1e-9),
            )
            if config.eval_every and (step % config.eval_every == 0 or step == config.steps):
                last_eval = evaluate(step)
                yield last_eval
        model.eval()
        yield DoneEvent(
            step=config.steps,
            model=model,
            loss=sum(recent) / len(recent),
            pretext_accuracy=None if last_eval is None else last_eval.pretext_accuracy,
            transfer_accuracy=None if last_eval is None else last_eval.transfer_accuracy,
            random_accuracy=None if last_eval is None else last_eval.random_accuracy,
            seconds=time.perf_counter() - start,
        )
    finally:
        model.eval()

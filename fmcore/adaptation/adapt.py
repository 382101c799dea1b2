"""Adapting a pretrained encoder to a downstream task: linear probe, finetuning, from scratch,
and the label-efficiency runs that compare them (notes Section 14.1, Eq. 14.1-14.4).

The downstream task has n_task labelled examples (x_task, y_task). Here they are Shapes
images (:mod:`fmcore.data.shapes`) with one of three targets:

- ``"class"``: which of the ten shapes it is (cross-entropy, accuracy);
- ``"size"``: the shape's radius as a fraction of the image side (squared error, R^2);
- ``"x"``: the horizontal position of the shape's centre (squared error, R^2).

``shots`` labelled images are drawn per class, so n_task = 10 x shots, the total number of
labelled examples. The notes count n_task in total: n_task = 0 is zero-shot and n_task of 1
to 50 is few-shot, which here is 1 to 5 per class; :data:`FULL_SHOTS` is the "full"
setting (n_task = 5000).

The adapted model is w^T phi_theta(x) + b (:class:`AdaptedModel`):

- **linear probe** (Eq. 14.1): theta is the pretrained theta-hat and stays fixed; only the
  linear head w is trained;
- **finetuning** (Eq. 14.2-14.4): w starts at random, theta starts at theta-hat, and both
  are trained, the encoder with its own, smaller learning rate;
- **from scratch**: finetuning from a random theta, the baseline that uses no pretraining.

The head reads the features standardised with their mean and standard deviation on the
labelled set at the start (a fixed affine map, not trained): w^T ((phi - mu) / sigma) + b is
still a linear head on phi, and the same learning rate then suits every encoder.

:func:`adapt` is a generator of events (rule 3 of DESIGN.md) and :func:`label_efficiency`
runs a whole grid of (initialisation, method, shots, repeat) as events, one cell at a time,
so a page can fill its chart live and a stop keeps the finished cells.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import statistics
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from fmcore.data.shapes import PRESETS, ShapesData, cached_shapes, to_float
from fmcore.errors import SettingError
from fmcore.validate import bounded_int, check_generator, finite_float

__all__ = [
    "FULL_SHOTS",
    "GRID_REPEATS",
    "GRID_SHOTS",
    "METHODS",
    "TASKS",
    "AdaptConfig",
    "AdaptDone",
    "AdaptEval",
    "AdaptStart",
    "AdaptStep",
    "AdaptedModel",
    "CellEvent",
    "adapt",
    "downstream_data",
    "label_efficiency",
    "summarise",
]

NUM_CLASSES = 10
POOL_PER_CLASS = 500  # labelled downstream images per class to draw the few shots from
FULL_SHOTS = POOL_PER_CLASS  # the "full" setting: every labelled image (n_task = 5000)
MAX_STEPS = 5000
MAX_TEST_IMAGES = 5000
MAX_SEED = 2**31 - 1

# The lesson's default label-efficiency grid: the SimCLR and a random encoder x (probe,
# finetune) x these shots x repeats = 36 runs of AdaptConfig.grid() (100 steps), about half
# a minute on one core. Three repeats, so that an error bar (the standard deviation over
# draws of the labelled images) means something. What this grid shows at seed 0 (mean of
# the 3 repeats; tests/adaptation/test_adapt.py checks it):
#   random encoder, probe and from scratch: 0.09-0.15 at every shots value (chance 0.10);
#   SimCLR probe:    0.27 (1 per class), 0.70 (10), 0.86 (50);
#   SimCLR finetune: 0.25 (1 per class), 0.68 (10), 0.89 (50): level with the probe (within
#   the error bars) up to 10 per class, ahead of it at 50.
GRID_SHOTS = (1, 10, 50)
GRID_REPEATS = 3

# target name -> (what it is, loss kind)
TASKS: dict[str, str] = {
    "class": "which of the 10 shapes (classification, cross-entropy)",
    "size": "the shape's size (regression, squared error)",
    "x": "the shape's horizontal position (regression, squared error)",
}
METHODS: dict[str, str] = {
    "probe": "linear probe: phi frozen, only w is trained (Eq. 14.1)",
    "finetune": "finetuning: w and theta both trained, theta starts at theta-hat (Eq. 14.2-14.4)",
}


def is_classification(task: str) -> bool:
    return task == "class"


def metric_name(task: str) -> str:
    """'accuracy' for classification, 'R²' (fraction of variance explained) for regression."""
    return "accuracy" if is_classification(task) else "R²"


# ============================================================================ config
@dataclass(frozen=True)
class AdaptConfig:
    """One adaptation run, checked on creation (SettingError if not)."""

    task: str = "class"  # "class", "size" or "x" (see TASKS)
    method: str = "probe"  # "probe" (Eq. 14.1) or "finetune" (Eq. 14.2-14.4)
    shots: int = 10  # labelled images per class: n_task = 10 * shots (1..FULL_SHOTS)
    steps: int = 150  # optimisation steps
    batch_size: int = 64  # images per finetuning step (the probe uses all n_task at once)
    head_lr: float = 1e-2  # learning rate of the head w (Adam)
    encoder_lr: float = 1e-3  # learning rate of theta when finetuning (Adam)
    weight_decay: float = 1e-4  # L2 penalty on w (and on theta when finetuning)
    shapes_preset: str = "standard"  # how the downstream Shapes are drawn
    data_seed: int = 2000  # the labelled pool the shots are drawn from
    test_seed: int = 2001  # the held-out test images
    test_images: int = 1000  # test images the metric is computed on
    eval_every: int = 25  # test the model every this many steps (and at 0 and the end); 0: end
    seed: int = 0  # seeds the run's generator when adapt() gets none

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name, value, allowed in (("task", self.task, TASKS), ("method", self.method, METHODS)):
            if value not in allowed:
                raise SettingError(f"{name} must be one of {', '.join(allowed)}; got {value!r}.")
        if self.shapes_preset not in PRESETS:
            raise SettingError(
                f"shapes_preset must be one of {', '.join(PRESETS)}; got {self.shapes_preset!r}."
            )
        if not isinstance(self.shots, int) or isinstance(self.shots, bool):
            raise SettingError(f"shots must be a whole number, got {self.shots!r}.")
        if self.shots > FULL_SHOTS:
            raise SettingError(
                f"There are only {FULL_SHOTS} labelled images per class to draw from; "
                f"asked for {self.shots}. Use {FULL_SHOTS} for the 'full' setting."
            )
        if self.shots < 1:
            raise SettingError(
                "shots must be at least 1: with n_task = 0 (zero-shot) there is nothing to "
                "train a head on, and an image encoder has no way to name the classes."
            )
        set_(self, "steps", bounded_int("number of steps", self.steps, 1, MAX_STEPS))
        set_(self, "batch_size", bounded_int("batch size", self.batch_size, 1, 1024))
        set_(self, "head_lr", finite_float("head learning rate", self.head_lr, 1e-6, 1.0))
        set_(self, "encoder_lr", finite_float("encoder learning rate", self.encoder_lr, 0.0, 1.0))
        set_(self, "weight_decay", finite_float("weight decay", self.weight_decay, 0.0, 1.0))
        for name in ("data_seed", "test_seed", "seed"):
            set_(self, name, bounded_int(name, getattr(self, name), 0, MAX_SEED - 1))
        if self.data_seed == self.test_seed:
            raise SettingError("data_seed and test_seed must differ (the test set is held out).")
        test = bounded_int("test images", self.test_images, 10, MAX_TEST_IMAGES)
        set_(self, "test_images", test)
        set_(self, "eval_every", bounded_int("eval_every", self.eval_every, 0, MAX_STEPS))

    @property
    def n_task(self) -> int:
        """Labelled downstream examples: shots per class times the ten classes."""
        return self.shots * NUM_CLASSES

    @classmethod
    def grid(cls, **changes: object) -> AdaptConfig:
        """For the lesson's label-efficiency grid: 100 steps, 500 test images per run."""
        return cls(steps=100, test_images=500, **changes)  # type: ignore[arg-type]

    @classmethod
    def tiny(cls, **changes: object) -> AdaptConfig:
        """For tests: 2 shots, 6 steps, 40 test images."""
        base = cls(shots=2, steps=6, batch_size=8, test_images=40, eval_every=3)
        return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


# ============================================================================ data
def _pool(config: AdaptConfig, image_size: int) -> ShapesData:
    shapes = PRESETS[config.shapes_preset]
    return cached_shapes(POOL_PER_CLASS * NUM_CLASSES, config.data_seed, image_size, shapes)


def _targets(data: ShapesData, task: str) -> torch.Tensor:
    """The downstream label y_task of each image: class index (int64) or a factor (float32)."""
    return data.labels if is_classification(task) else data.factors[task]


def downstream_data(
    config: AdaptConfig, generator: torch.Generator, image_size: int = 32
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The few-shot training set and the test set: (x_train, y_train, x_test, y_test).

    ``config.shots`` images of each class are drawn without replacement from a labelled pool
    of :data:`POOL_PER_CLASS` per class (seed ``config.data_seed``) with ``generator``; the
    test images (seed ``config.test_seed``) are held out. Images are uint8 (N, 3, S, S);
    targets follow ``config.task``.
    """
    g = check_generator(generator)
    pool = _pool(config, image_size)
    rows = []
    for c in range(NUM_CLASSES):
        members = (pool.labels == c).nonzero().squeeze(1)  # (POOL_PER_CLASS,)
        pick = torch.randperm(members.numel(), generator=g)[: config.shots]
        rows.append(members[pick])
    idx = torch.cat(rows)  # (n_task,)
    test = cached_shapes(
        config.test_images, config.test_seed, image_size, PRESETS[config.shapes_preset]
    )
    y_train, y_test = _targets(pool, config.task)[idx], _targets(test, config.task)
    return pool.images[idx], y_train.clone(), test.images, y_test.clone()


# ============================================================================ the model
class AdaptedModel(nn.Module):
    """w^T phi_theta(x) + b: a pretrained (or random) encoder and a new linear head w.

    ``mean`` and ``std`` standardise the features before the head (fixed, not trained; see
    the module docstring). ``outputs`` is 10 for classification, 1 for regression. A
    regression head is trained on the standardised target (y - y_mean) / y_std, so that
    its loss reads the same for every target (1 = no better than the mean);
    :meth:`predict` maps its output back to the target's own units.
    """

    def __init__(
        self,
        encoder: nn.Module,
        outputs: int,
        mean: torch.Tensor,
        std: torch.Tensor,
        generator: torch.Generator,
        y_mean: float = 0.0,
        y_std: float = 1.0,
    ) -> None:
        super().__init__()
        m = mean.numel()
        self.encoder = encoder
        self.register_buffer("mean", mean.reshape(1, m).clone())
        self.register_buffer("std", std.reshape(1, m).clone())
        self.register_buffer("y_mean", torch.tensor(float(y_mean)))
        self.register_buffer("y_std", torch.tensor(float(y_std)))
        self.w = nn.Linear(m, outputs)
        bound = 1.0 / math.sqrt(m)  # PyTorch's default initialisation, from our generator
        with torch.no_grad():
            self.w.weight.copy_(torch.rand(outputs, m, generator=generator) * 2 * bound - bound)
            self.w.bias.zero_()

    def head(self, features: torch.Tensor) -> torch.Tensor:
        """w^T (phi - mean) / std + b: (B, m) -> (B, outputs)."""
        return self.w((features - self.mean) / self.std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The head's output (class logits, or the standardised target): (B, outputs)."""
        return self.head(self.encoder(x))

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Predicted class (B,) int64, or the regression target in its own units (B,)."""
        out = self(x)
        if out.shape[1] > 1:
            return out.argmax(1)
        return out.squeeze(1) * self.y_std + self.y_mean


# ============================================================================ events
@dataclass(frozen=True, eq=False)
class AdaptStart:
    """First event: the model (trained in place) and which parameters move."""

    model: AdaptedModel
    method: str
    n_task: int
    trainable: int  # number of parameters the optimiser updates
    frozen: int  # number of parameters that stay fixed


@dataclass(frozen=True)
class AdaptStep:
    step: int  # 1..total_steps
    total_steps: int
    loss: float  # training loss of this step (cross-entropy or mean squared error)


@dataclass(frozen=True)
class AdaptEval:
    step: int
    train_metric: float  # accuracy or R^2 on the n_task training examples
    test_metric: float  # the same on the held-out test images
    test_loss: float


@dataclass(frozen=True, eq=False)
class AdaptDone:
    model: AdaptedModel
    train_metric: float
    test_metric: float
    seconds: float


AdaptEvent = AdaptStart | AdaptStep | AdaptEval | AdaptDone


# ============================================================================ helpers
@torch.no_grad()
def _features(encoder: nn.Module, images: torch.Tensor, batch: int = 512) -> torch.Tensor:
    """phi(x) in eval mode, a batch at a time: uint8 (N, 3, S, S) -> (N, m)."""
    was_training = encoder.training
    encoder.eval()
    out = [encoder(to_float(images[i : i + batch])) for i in range(0, len(images), batch)]
    encoder.train(was_training)
    return torch.cat(out)


def _loss(task: str, outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Eq. 14.1's l_task: cross-entropy for classes, squared error for a regression target."""
    if is_classification(task):
        return F.cross_entropy(outputs, y)
    return F.mse_loss(outputs.squeeze(1), y)


def _metric(task: str, outputs: torch.Tensor, y: torch.Tensor) -> float:
    """Accuracy, or R^2 = 1 - SSE / SST of standardised targets, whose baseline is the
    training targets' mean, 0 (a head that always predicts it scores 0 on any set, a
    perfect one 1; R^2 does not change when both are mapped back to the target's units)."""
    if is_classification(task):
        return float((outputs.argmax(1) == y).double().mean())
    residual = ((outputs.squeeze(1) - y).double() ** 2).sum()
    total = (y.double() ** 2).sum().clamp_min(1e-12)
    return float(1.0 - residual / total)


def _check_encoder(encoder: object, image_size: int) -> nn.Module:
    if not isinstance(encoder, nn.Module):
        raise SettingError(f"encoder must be a torch module, got {type(encoder).__name__}.")
    m = getattr(encoder, "representation_dim", None)
    if not isinstance(m, int):
        raise SettingError("The encoder must say its representation size (representation_dim).")
    try:
        with torch.no_grad():
            was = encoder.training
            encoder.eval()
            out = encoder(torch.zeros(2, 3, image_size, image_size))
            encoder.train(was)
    except (RuntimeError, ValueError) as error:
        raise SettingError(
            f"This encoder does not take {image_size}x{image_size} RGB images: {error}"
        ) from None
    if tuple(out.shape) != (2, m):
        raise SettingError(
            f"The encoder returned features of shape {tuple(out.shape[1:])}, expected ({m},)."
        )
    return encoder


# ============================================================================ the loop
def adapt(
    encoder: nn.Module,
    config: AdaptConfig,
    generator: torch.Generator | None = None,
    image_size: int = 32,
) -> Iterator[AdaptEvent]:
    """Adapt ``encoder`` (phi_theta-hat, pretrained or random) to the downstream task.

    The encoder is copied first (a shipped model is shared by every user and never changed).
    ``config.method``:

    - ``"probe"`` (Eq. 14.1): the copy is frozen (no gradients, eval mode); phi(x) of the
      n_task images is computed once and w is trained full-batch with Adam.
    - ``"finetune"`` (Eq. 14.2-14.4): w starts at random (Eq. 14.3), theta at theta-hat
      (Eq. 14.4); both are trained with Adam on minibatches of ``batch_size`` images,
      w at ``head_lr`` and theta at ``encoder_lr``. BatchNorm layers keep normalising with
      their pretrained statistics (eval mode), as is usual when finetuning on few examples:
      batch statistics of a handful of images are noisy (at 10 shots per class, training-
      mode BatchNorm cost the SimCLR encoder 7 points here; at 50 shots the two tied).
      From scratch the same rule holds (a random encoder's statistics are 0 and 1).

    Yields AdaptStart, an AdaptStep per step, AdaptEval at step 0, every ``eval_every`` steps
    and at the end, then AdaptDone. Stopping early keeps the model as trained so far.
    ``generator`` (None: seeded with ``config.seed``) draws the shots, the head's initial
    weights and the minibatches, in that order.
    """
    if not isinstance(config, AdaptConfig):
        raise SettingError(f"config must be an AdaptConfig, got {type(config).__name__}.")
    g = torch.Generator().manual_seed(config.seed) if generator is None else generator
    g = check_generator(g)
    encoder = _check_encoder(encoder, image_size)
    x_train, y_train, x_test, y_test = downstream_data(config, g, image_size)
    encoder = copy.deepcopy(encoder).requires_grad_(True)
    finetune = config.method == "finetune"
    features = _features(encoder, x_train)  # (n, m)
    mean, std = features.mean(0), features.std(0, unbiased=False).clamp_min(1e-6)
    if is_classification(config.task):
        outputs, y_mean, y_std = NUM_CLASSES, 0.0, 1.0
    else:  # the head learns the standardised target (see AdaptedModel)
        outputs, y_mean = 1, float(y_train.mean())
        y_std = max(float(y_train.std(unbiased=False)), 1e-6)
        y_train, y_test = (y_train - y_mean) / y_std, (y_test - y_mean) / y_std
    model = AdaptedModel(encoder, outputs, mean, std, g, y_mean, y_std)
    if not finetune:
        encoder.requires_grad_(False)
    groups = [{"params": list(model.w.parameters()), "lr": config.head_lr}]
    if finetune:
        groups.append({"params": list(encoder.parameters()), "lr": config.encoder_lr})
    optimizer = torch.optim.Adam(groups, weight_decay=config.weight_decay)
    trainable = sum(p.numel() for group in groups for p in group["params"])
    total = sum(p.numel() for p in model.parameters())
    start = time.perf_counter()

    @torch.no_grad()
    def evaluate(step: int) -> AdaptEval:
        model.eval()
        train_out = model.head(features if not finetune else _features(encoder, x_train))
        test_out = model.head(_features(encoder, x_test))
        return AdaptEval(
            step=step,
            train_metric=_metric(config.task, train_out, y_train),
            test_metric=_metric(config.task, test_out, y_test),
            test_loss=float(_loss(config.task, test_out, y_test)),
        )

    last: AdaptEval | None = None
    try:
        yield AdaptStart(model, config.method, config.n_task, trainable, total - trainable)
        last = evaluate(0)
        yield last
        n = x_train.shape[0]
        B = min(config.batch_size, n)
        order = torch.empty(0, dtype=torch.int64)
        for step in range(1, config.steps + 1):
            model.eval()  # BatchNorm keeps its statistics (see the docstring); no dropout
            if finetune:
                position = ((step - 1) * B) % n
                if position + B > n or step == 1:
                    order, position = torch.randperm(n, generator=g), 0
                idx = order[position : position + B]  # (B,)
                out = model(to_float(x_train[idx]))
                loss = _loss(config.task, out, y_train[idx])
            else:
                loss = _loss(config.task, model.head(features), y_train)
            if not bool(torch.isfinite(loss)):
                raise SettingError(
                    f"Adaptation diverged at step {step} (the loss became NaN or infinite): "
                    "lower the learning rates and try again."
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            yield AdaptStep(step, config.steps, float(loss.detach()))
            if step == config.steps or (config.eval_every and step % config.eval_every == 0):
                last = evaluate(step)
                yield last
        yield AdaptDone(model, last.train_metric, last.test_metric, time.perf_counter() - start)
    finally:
        model.eval()


def run_to_end(
    encoder: nn.Module, config: AdaptConfig, generator: torch.Generator, image_size: int = 32
) -> AdaptDone:
    """:func:`adapt` without the intermediate events: the final AdaptDone."""
    done = None
    for event in adapt(encoder, dataclasses.replace(config, eval_every=0), generator, image_size):
        if isinstance(event, AdaptDone):
            done = event
    assert done is not None
    return done


# ============================================================================ label efficiency
@dataclass(frozen=True)
class CellEvent:
    """One finished cell of a label-efficiency grid."""

    init: str  # name of the starting encoder (e.g. "random", "SimCLR")
    method: str  # "probe" or "finetune"
    shots: int  # labelled images per class
    repeat: int  # 0-based repeat (a different draw of the shots and of the head)
    metric: float  # test accuracy (or R^2)
    seconds: float
    done: int  # cells finished so far, this one included
    total: int  # cells in the grid

    @property
    def step(self) -> int:
        """Progress, for a runner that counts steps: the cells finished."""
        return self.done


def label_efficiency(
    encoders: Mapping[str, nn.Module],
    config: AdaptConfig,
    shots: Sequence[int],
    methods: Sequence[str] = ("probe", "finetune"),
    repeats: int = 3,
    seed: int = 0,
    image_size: int = 32,
) -> Iterator[CellEvent]:
    """Test metric against n_task for every (initialisation, method), with repeats.

    For each shots value (smallest first, so a chart fills from the left), each repeat, each
    encoder and each method, runs :func:`adapt` with ``config`` to the end and yields a
    :class:`CellEvent`. Repeat r of a shots value draws its shots and head from a generator
    seeded with (seed, shots, r), shared by every encoder and method: all of them see the
    same labelled images, so their differences are the initialisation and the method only.
    Stopping early keeps the cells yielded so far.
    """
    if not encoders:
        raise SettingError("Give at least one encoder to compare.")
    for name, encoder in encoders.items():
        _check_encoder(encoder, image_size)
        if not isinstance(name, str) or not name:
            raise SettingError("Encoders must be named.")
    shots = sorted({int(bounded_int("shots", s, 1, FULL_SHOTS)) for s in shots})
    if not shots:
        raise SettingError("Give at least one value of shots.")
    for method in methods:
        if method not in METHODS:
            raise SettingError(f"method must be one of {', '.join(METHODS)}; got {method!r}.")
    repeats = bounded_int("repeats", repeats, 1, 20)
    total = len(shots) * repeats * len(encoders) * len(methods)
    done = 0
    for k in shots:
        for r in range(repeats):
            for name, encoder in encoders.items():
                for method in methods:
                    cell = dataclasses.replace(config, shots=k, method=method)
                    g = torch.Generator().manual_seed(_cell_seed(seed, k, r))
                    start = time.perf_counter()
                    result = run_to_end(encoder, cell, g, image_size)
                    done += 1
                    yield CellEvent(
                        name, method, k, r, result.test_metric,
                        time.perf_counter() - start, done, total,
                    )  # fmt: skip


def _cell_seed(seed: int, shots: int, repeat: int) -> int:
    return (seed * 1_000_003 + shots * 1009 + repeat) % MAX_SEED


@dataclass(frozen=True)
class Summary:
    init: str
    method: str
    shots: int
    mean: float
    sd: float  # population standard deviation over the repeats (0 for one repeat)
    n: int


def summarise(cells: Sequence[CellEvent]) -> list[Summary]:
    """Mean and spread over repeats of each (init, method, shots), in the cells' order."""
    groups: dict[tuple[str, str, int], list[float]] = {}
    for c in cells:
        groups.setdefault((c.init, c.method, c.shots), []).append(c.metric)
    return [
        Summary(i, m, k, statistics.mean(v), statistics.pstdev(v), len(v))
        for (i, m, k), v in groups.items()
    ]

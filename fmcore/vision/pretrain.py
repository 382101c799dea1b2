"""Contrastive pretraining (SimCLR, notes Section 14.2) as a generator of events, and the
frozen-feature evaluations that monitor it.

Pretraining (Section 14.1) minimises a self-supervised loss L_pre(theta) over an *unlabelled*
pool of Shapes images: every step draws B images, makes two random augmentations x_hat,
x_tilde of each (:func:`fmcore.vision.augment.two_views`), embeds the 2B views and takes a
contrastive loss on the embeddings. The labels of the pool are never read: the images come
from :func:`pretraining_data` and only ``.images`` is used.

Monitoring uses labels, but only on a separate, held-out evaluation set
(:func:`evaluation_data`): every ``eval_every`` steps the representation phi(x) of those
images is frozen and scored by a linear probe (Eq. 14.1 with the cross-entropy loss) and by
a k-nearest-neighbour classifier, and projected to 2-D by PCA for a scatter plot. Nothing
learned during evaluation flows back into theta.

The loop :func:`pretrain_simclr` is a generator (rule 3 of DESIGN.md): it yields a
:class:`StartEvent`, then a :class:`StepEvent` per optimisation step with an
:class:`EvalEvent` whenever the representation is evaluated, and finally a
:class:`DoneEvent`. It never prints. The model is trained *in place*: the object passed in
(or created, and handed out in the StartEvent) holds the weights learned so far at every
yield, so a caller that stops iterating (a Stop button) keeps what was learned.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from fmcore import optim
from fmcore.adaptation.probe import (
    MAX_PROBE_STEPS,
    embed,
    knn_accuracy,
    linear_probe_accuracy,
    pca_2d,
)
from fmcore.data.shapes import PRESETS, ShapesData, cached_shapes, to_float
from fmcore.errors import SettingError
from fmcore.optim import PRECISIONS, decay_groups, take_step, warmup_cosine
from fmcore.validate import bounded_int, finite_float
from fmcore.vision.augment import AugmentConfig, augment, two_views
from fmcore.vision.encoders import (
    ClassifierModel,
    EncoderConfig,
    SimCLRModel,
    make_classifier,
    make_simclr_model,
)
from fmcore.vision.losses import MAX_TEMPERATURE, MIN_TEMPERATURE, nt_xent_loss, simclr_loss

__all__ = [
    "DoneEvent",
    "EvalEvent",
    "Event",
    "PretrainConfig",
    "SimCLRConfig",
    "StartEvent",
    "StepEvent",
    "SupervisedConfig",
    "contrastive_loss",
    "evaluate_representation",
    "evaluation_data",
    "pretrain_simclr",
    "pretrain_supervised",
    "pretraining_data",
]

# ------------------------------------------------------------------------------ limits
MAX_POOL = 20_000  # pretraining images (uint8 32x32: 61 MB)


MAX_STEPS = 50_000  # optimisation steps in one run


MAX_BATCH = 1024  # images per step (2048 views)


MAX_EVAL_IMAGES = 5_000


MAX_SEED = 2**31 - 1


LOSSES = ("nt_xent", "notes")


OPTIMIZERS = ("adamw", "adam", "sgd")


SCHEDULES = ("cosine", "constant")


NUM_CLASSES = 10  # Shapes classes


def _default_augment() -> AugmentConfig:
    """The augmentations that taught the most about shape per second here (bench/pretrain.py).

    SimCLR's recipe with three changes for 32x32 Shapes: milder crops (strength 0.5, area
    >= 28%: a shape's radius is 20-42% of the side, so the paper's 8% crops often cut it
    out), no blur (a sigma of up to 2 px wipes out the 1-2 px outlines) and twice the
    grayscale probability (0.4: colour says nothing about the class). Measured at 600
    steps of 256 (10-labels-per-class probe): 30-32% with blur off and grayscale 0.4,
    26-29% with SimCLR's blur and grayscale. Crop strength 0.5 then beat 0.7 and 0.3 by
    3-4 points after 775 steps of 128.
    """
    return AugmentConfig(crop_strength=0.5, blur_strength=0.0, grayscale_strength=2.0)


# What the shipped checkpoints were trained with (scripts/train_assets.py); kept apart from
# the defaults, which were tuned later for short runs, so that the assets stay reproducible.
ASSET_AUGMENT = AugmentConfig(crop_strength=0.7, blur_strength=0.0, grayscale_strength=2.0)


ASSET_LEARNING_RATE = 3e-3


@dataclass(frozen=True)
class PretrainConfig:
    """Settings shared by every pretraining run on Shapes, checked on creation (SettingError
    if not): the pool, the encoder, the optimiser, the augmentations and the monitoring.
    :class:`SimCLRConfig` adds the contrastive loss, :class:`SupervisedConfig` the classes.

    Presets: :meth:`tiny` (tests, well under a second per step), :meth:`classroom` (the
    lesson page: about 30 s on two cores), :meth:`asset` (the shipped checkpoint).
    """

    # --- data: unlabelled pool and held-out evaluation set (Shapes, fmcore.data.shapes)
    n_images: int = 4000  # unlabelled pretraining pool (16..20 000); an epoch visits each once
    image_size: int = 32  # side of the images in pixels; overrides encoder.image_size
    shapes_preset: str = "standard"  # how the Shapes are drawn: "clean", "standard", "cluttered"
    data_seed: int = 0  # seed of the pretraining pool
    eval_seed: int = 1000  # seeds of the evaluation sets: eval_seed (labelled), eval_seed + 1
    # --- model
    # phi_theta and head sizes; width 16 (not EncoderConfig's 32): 3x the images per second on
    # two cores; in the same time width 32 reached a 17% probe (200 steps), width 16 32% (600)
    encoder: EncoderConfig = EncoderConfig(width=16)
    # --- optimisation
    # B images per step, 2B views (2..1024, at most n_images). 128 beat 256 and 64 for the same
    # number of images seen (probe 41% vs 32% and 38%): more updates, enough negatives
    batch_size: int = 128
    steps: int = 600  # optimisation steps (1..50 000); epochs = steps * B / n_images
    # peak learning rate: 1e-2 beat 3e-3 by about 8 probe points after 775 steps (bench/pretrain.py)
    learning_rate: float = 1e-2
    weight_decay: float = 1e-4  # decoupled for AdamW, L2 for Adam and SGD
    optimizer: str = "adamw"  # "adamw" (default), "adam" or "sgd" (Nesterov momentum 0.9)
    lr_schedule: str = "cosine"  # "cosine" decay to 0 after warm-up, or "constant"
    warmup_steps: int = 10  # linear warm-up from 0 to learning_rate
    # the encoder's forward pass: "bfloat16" (autocast) took 1.5x less time per step on a
    # CPU with native bfloat16 (AVX512-BF16); "auto" uses it only where the CPU has it
    precision: str = "auto"
    # --- augmentations of each training image (two views for SimCLR, one for supervised)
    augment: AugmentConfig = dataclasses.field(default_factory=_default_augment)
    # --- monitoring (uses labels of the held-out evaluation set only)
    eval_every: int = 50  # evaluate after every this many steps (and at 0 and the end); 0: never
    probe_per_class: int = 10  # labelled evaluation images per class for the probe and kNN
    eval_images: int = 1000  # held-out test images the probe and kNN are scored on
    pca_points: int = 500  # test images shown in the PCA scatter (capped at eval_images)
    probe_steps: int = 200  # full-batch steps of the linear probe's optimiser
    knn_k: int = 5  # neighbours of the kNN classifier
    # --- randomness
    seed: int = 0  # seeds the training generator when the loop gets none

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "n_images", bounded_int("number of images", self.n_images, 16, MAX_POOL))
        size = bounded_int("image size", self.image_size, 16, 128)
        set_(self, "image_size", size)
        if self.shapes_preset not in PRESETS:
            raise SettingError(
                f"shapes_preset must be one of {', '.join(PRESETS)}; got {self.shapes_preset!r}."
            )
        for name in ("data_seed", "eval_seed", "seed"):
            set_(self, name, bounded_int(name, getattr(self, name), 0, MAX_SEED - 1))
        if self.data_seed in (self.eval_seed, self.eval_seed + 1):
            raise SettingError(
                "data_seed must differ from eval_seed and eval_seed + 1, so that the "
                "evaluation images are held out from the pretraining pool."
            )
        if not isinstance(self.encoder, EncoderConfig):
            raise SettingError(f"encoder must be an EncoderConfig, got {self.encoder!r}.")
        if self.encoder.image_size != size:
            set_(self, "encoder", dataclasses.replace(self.encoder, image_size=size))
        set_(self, "batch_size", bounded_int("batch size", self.batch_size, 2, MAX_BATCH))
        if self.batch_size > self.n_images:
            raise SettingError(
                f"The batch size ({self.batch_size}) cannot exceed the number of images "
                f"({self.n_images})."
            )
        set_(self, "steps", bounded_int("number of steps", self.steps, 1, MAX_STEPS))
        set_(self, "learning_rate", finite_float("learning rate", self.learning_rate, 1e-6, 1.0))
        set_(self, "weight_decay", finite_float("weight decay", self.weight_decay, 0.0, 1.0))
        for name, value, allowed in (
            ("optimizer", self.optimizer, OPTIMIZERS),
            ("lr_schedule", self.lr_schedule, SCHEDULES),
            ("precision", self.precision, PRECISIONS),
        ):
            if value not in allowed:
                raise SettingError(f"{name} must be one of {', '.join(allowed)}; got {value!r}.")
        set_(self, "warmup_steps", bounded_int("warm-up steps", self.warmup_steps, 0, MAX_STEPS))
        if not isinstance(self.augment, AugmentConfig):
            raise SettingError(f"augment must be an AugmentConfig, got {self.augment!r}.")
        if self.augment.output_size not in (None, size):
            raise SettingError(
                f"augment.output_size ({self.augment.output_size}) must be None or the image "
                f"size ({size})."
            )
        set_(self, "eval_every", bounded_int("eval_every", self.eval_every, 0, MAX_STEPS))
        set_(self, "probe_per_class", bounded_int("probe_per_class", self.probe_per_class, 1, 500))
        set_(self, "eval_images", bounded_int("eval_images", self.eval_images, 10, MAX_EVAL_IMAGES))
        pca_points = bounded_int("pca_points", self.pca_points, 1, MAX_EVAL_IMAGES)
        set_(self, "pca_points", min(pca_points, self.eval_images))
        set_(self, "probe_steps", bounded_int("probe_steps", self.probe_steps, 1, MAX_PROBE_STEPS))
        labelled = self.probe_per_class * NUM_CLASSES
        set_(self, "knn_k", bounded_int("knn_k", self.knn_k, 1, labelled))

    # ----------------------------------------------------------------- presets
    @classmethod
    def tiny(cls, **changes: object):
        """For tests: 64 images of 16x16, a narrow encoder, batch 16, 20 steps."""
        base = cls(
            n_images=64,
            image_size=16,
            encoder=EncoderConfig(image_size=16, width=4, representation_dim=8, projection_dim=8),
            batch_size=16,
            steps=20,
            warmup_steps=2,
            eval_every=10,
            probe_per_class=2,
            eval_images=40,
            pca_points=20,
            probe_steps=20,
            knn_k=3,
        )
        return dataclasses.replace(base, **changes)  # type: ignore[arg-type]

    @classmethod
    def classroom(cls, **changes: object):
        """For the lesson page: 2000 images, 400 steps of 128, about 30 s on two cores."""
        base = cls(n_images=2000, steps=400, eval_every=50, eval_images=500, pca_points=300)
        return dataclasses.replace(base, **changes)  # type: ignore[arg-type]

    @classmethod
    def asset(cls, **changes: object):
        """The shipped checkpoint ``assets/simclr_shapes.pt`` (scripts/train_assets.py):
        10 000 images, 5000 steps of 128 (64 epochs), about 5 minutes on two cores."""
        base = cls(
            n_images=10_000,
            steps=5000,
            eval_every=500,
            learning_rate=ASSET_LEARNING_RATE,
            augment=ASSET_AUGMENT,
            precision="float32",
        )
        return dataclasses.replace(base, **changes)  # type: ignore[arg-type]

    # ----------------------------------------------------------------- derived
    @property
    def steps_per_epoch(self) -> int:
        """Full batches per pass over the pool (the last, partial batch is skipped)."""
        return self.n_images // self.batch_size

    @property
    def epochs(self) -> float:
        """Passes over the pool that ``steps`` make."""
        return self.steps / self.steps_per_epoch

    def to_dict(self) -> dict[str, object]:
        """The settings as plain JSON-able values (nested configs as dicts)."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class SimCLRConfig(PretrainConfig):
    """A SimCLR run (notes Section 14.2): the shared settings plus the contrastive loss."""

    loss: str = "nt_xent"  # "nt_xent" (the paper's) or "notes" (the notes' formula); see below
    temperature: float = 0.2  # tau of both losses (0.01..100); 0.2 did a little better than 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.loss not in LOSSES:
            raise SettingError(f"loss must be one of {', '.join(LOSSES)}; got {self.loss!r}.")
        tau = finite_float("temperature", self.temperature, MIN_TEMPERATURE, MAX_TEMPERATURE)
        object.__setattr__(self, "temperature", tau)


@dataclass(frozen=True)
class SupervisedConfig(PretrainConfig):
    """Supervised pretraining (notes Section 14.2): train U phi(x) on labelled images of
    ``classes`` only, then keep phi. Pretraining on some classes and adapting to all ten
    asks the question that matters: do features learned for one set of labels help with
    labels they never saw?"""

    classes: tuple[int, ...] = (0, 1, 2, 3, 4)  # Shapes classes with labels for pretraining

    def __post_init__(self) -> None:
        super().__post_init__()
        classes = tuple(self.classes) if isinstance(self.classes, (tuple, list)) else None
        if not classes or len(set(classes)) != len(classes) or len(classes) < 2:
            raise SettingError(
                f"classes must list at least two different Shapes classes, got {self.classes!r}."
            )
        for c in classes:
            bounded_int("class", c, 0, NUM_CLASSES - 1)
        object.__setattr__(self, "classes", tuple(int(c) for c in sorted(classes)))


@dataclass(frozen=True, eq=False)
class StartEvent:
    """First event: the model being trained (updated in place from now on) and the plan."""

    model: nn.Module  # the very object trained (SimCLRModel, ClassifierModel): keep it
    total_steps: int
    steps_per_epoch: int
    n_images: int  # size of the unlabelled pool


@dataclass(frozen=True)
class StepEvent:
    """After one optimisation step (step counts from 1)."""

    step: int  # 1..total_steps
    total_steps: int
    epoch: int  # 1-based pass over the pool this step belongs to
    loss: float  # the step's contrastive loss (mean over anchors, see contrastive_loss)
    learning_rate: float  # the rate used for this step
    images_per_s: float  # pool images per second (2 views each) over the training time so far


@dataclass(frozen=True, eq=False)
class EvalEvent:
    """The frozen representation phi(x) scored on the held-out evaluation set.

    Labels are used here, for monitoring only; they never enter the training step.
    """

    step: int  # optimisation steps done when evaluated (0: before training)
    probe_accuracy: float  # linear probe (Eq. 14.1, cross-entropy) on the test images
    knn_accuracy: float  # k-nearest neighbours (cosine) on the test images
    pca: torch.Tensor  # (P, 2) float32: PCA of phi(x) of the first P test images
    labels: torch.Tensor  # (P,) int64: their classes, to colour the scatter
    indices: torch.Tensor  # (P,) int64: their rows in evaluation_data(config)[1]


@dataclass(frozen=True, eq=False)
class DoneEvent:
    """Last event, after the final step (not sent when the caller stops early)."""

    step: int  # steps done (= total_steps)
    model: nn.Module  # the trained model, in eval mode
    loss: float  # mean loss of the last min(20, steps) steps
    probe_accuracy: float | None  # of the last evaluation; None without evaluation
    knn_accuracy: float | None
    seconds: float  # wall-clock time of the run, evaluations included


Event = StartEvent | StepEvent | EvalEvent | DoneEvent


def pretraining_data(config: PretrainConfig) -> ShapesData:
    """The unlabelled pool: ``config.n_images`` Shapes drawn with ``config.data_seed``.

    Returned as ShapesData (labels included, shared and cached per process), but the
    training loop only ever reads ``.images``.
    """
    return cached_shapes(
        config.n_images, config.data_seed, config.image_size, PRESETS[config.shapes_preset]
    )


def evaluation_data(config: PretrainConfig) -> tuple[ShapesData, ShapesData]:
    """Held-out monitoring sets: (labelled, test).

    ``labelled`` has exactly ``probe_per_class`` images of each class (seed ``eval_seed``),
    ``test`` has ``eval_images`` images (seed ``eval_seed + 1``); neither overlaps the pool.
    """
    shapes = PRESETS[config.shapes_preset]
    labelled = cached_shapes(
        config.probe_per_class * NUM_CLASSES, config.eval_seed, config.image_size, shapes
    )
    test = cached_shapes(config.eval_images, config.eval_seed + 1, config.image_size, shapes)
    return labelled, test


def contrastive_loss(
    z_hat: torch.Tensor, z_tilde: torch.Tensor, loss: str, temperature: float
) -> torch.Tensor:
    """The pretraining loss on the projections of the two views, as a mean over anchors.

    - ``"nt_xent"``: the SimCLR paper's NT-Xent (:func:`fmcore.vision.losses.nt_xent_loss`):
      cosine similarities over temperature, 2B anchors with 2B-1 candidates each.
    - ``"notes"``: the notes' SIMCLR loss (Section 14.2, :func:`fmcore.vision.losses.simclr_loss`),
      raw dot products, B anchors with the B second views as candidates, applied to
      ``u = z / (|z| sqrt(temperature))``. Then ``u_hat_i . u_tilde_j = cos(z_hat_i,
      z_tilde_j) / temperature``: this *is* the notes' formula, with phi_theta ending in a
      fixed (parameter-free) normalisation layer. Without it, raw dot products of unbounded
      embeddings let the loss fall by inflating norms rather than by arranging directions,
      and training is unstable. Reported divided by B (the notes sum over the B anchors).
    """
    if loss == "nt_xent":
        return nt_xent_loss(z_hat, z_tilde, temperature)
    if loss == "notes":
        scale = 1.0 / math.sqrt(temperature)
        u_hat = F.normalize(z_hat, dim=1) * scale  # (B, d), |u| = 1 / sqrt(tau)
        u_tilde = F.normalize(z_tilde, dim=1) * scale  # (B, d)
        return simclr_loss(u_hat, u_tilde, reduction="mean")
    raise SettingError(f"loss must be one of {', '.join(LOSSES)}; got {loss!r}.")


def _learning_rate(config: PretrainConfig, step: int) -> float:
    """Rate for step ``step`` (1-based): linear warm-up, then cosine decay or constant."""
    return warmup_cosine(
        config.learning_rate, config.warmup_steps, config.steps, step,
        constant=config.lr_schedule == "constant",
    )


def _optimizer(config: PretrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    groups = decay_groups(model, config.weight_decay)  # none on biases and BatchNorm
    if config.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=config.learning_rate)
    if config.optimizer == "adam":
        return torch.optim.Adam(groups, lr=config.learning_rate)
    return torch.optim.SGD(groups, lr=config.learning_rate, momentum=0.9, nesterov=True)


def _check_model(model: object, config: SimCLRConfig) -> SimCLRModel:
    if not isinstance(model, SimCLRModel):
        raise SettingError(f"model must be a SimCLRModel, got {type(model).__name__}.")
    return _check_trainable(model, config)


def _check_trainable(model: nn.Module, config: PretrainConfig) -> nn.Module:
    """``model`` if its encoder was built for ``config.encoder`` and nothing in it is frozen."""
    have = getattr(model.encoder, "config", None)
    if have != config.encoder:
        raise SettingError(
            f"The model was built for {have}, but the settings ask for {config.encoder}."
        )
    if not all(p.requires_grad for p in model.parameters()):
        raise SettingError(
            "This model is frozen (a loaded checkpoint, possibly shared by every user of the "
            "server): train a copy instead, copy.deepcopy(model).requires_grad_(True)."
        )
    return model


def _diverged(step: int) -> SettingError:
    return SettingError(
        f"Training diverged at step {step}: the embeddings or the loss became NaN or "
        "infinite. Lower the learning rate (or raise the temperature) and train again."
    )


def pretrain_simclr(
    config: SimCLRConfig,
    generator: torch.Generator | None = None,
    model: SimCLRModel | None = None,
) -> Iterator[Event]:
    """SimCLR pretraining (notes Section 14.2; Chen et al. 2020), one event at a time.

    Each step takes the next B images of a random permutation of the unlabelled pool (a new
    permutation every epoch), draws two augmentations x_hat, x_tilde of each, computes
    ``z = g(phi_theta(x))`` for the 2B views in one batch and takes one optimiser step on
    :func:`contrastive_loss`. Pool labels are never read.

    Args:
        config: the settings (:class:`SimCLRConfig`).
        generator: all randomness of the run (initial weights when ``model`` is None, then
            the epoch permutations and augmentations) comes from it, in that order; None
            uses ``torch.Generator().manual_seed(config.seed)``. The same generator state
            and settings give the same losses, step by step (on the same machine and number
            of torch threads).
        model: a SimCLRModel to continue training (its weights are the start; the optimiser
            state starts afresh); None creates one with :func:`make_simclr_model`.

    Yields:
        StartEvent, then per step a StepEvent, with an EvalEvent at step 0, every
        ``eval_every`` steps and after the last step (none if ``eval_every`` is 0), and a
        DoneEvent at the end. The model is updated in place and is the object in the
        StartEvent and DoneEvent: stopping the iteration at any point keeps the weights
        learned so far. When the loop ends or is closed, the model is left in eval mode.

    The evaluations draw from their own generator, seeded once from ``generator`` at the
    start, so how often one evaluates does not change the training trajectory.
    """
    if not isinstance(config, SimCLRConfig):
        raise SettingError(f"config must be a SimCLRConfig, got {type(config).__name__}.")
    g = _check_loop_generator(generator, config)
    if model is None:
        model = make_simclr_model(config.encoder, g)
    model = _check_model(model, config)
    images = pretraining_data(config).images  # (N, 3, S, S) uint8; labels never read
    B = config.batch_size

    def step_loss(idx: torch.Tensor, step: int) -> torch.Tensor:
        x = to_float(images[idx])  # (B, 3, S, S) in [0, 1]
        x_hat, x_tilde, _, _ = two_views(x, config.augment, g)  # (B, 3, S, S) each
        with _autocast(config):
            z = model(torch.cat([x_hat, x_tilde])).float()  # (2B, d)
        if not bool(torch.isfinite(z).all()):
            raise _diverged(step)
        return contrastive_loss(z[:B], z[B:], config.loss, config.temperature)

    yield from _pretrain_loop(config, model, model.encoder, images.shape[0], step_loss, g)


def pretrain_supervised(
    config: SupervisedConfig,
    generator: torch.Generator | None = None,
    model: ClassifierModel | None = None,
) -> Iterator[Event]:
    """Supervised pretraining (notes Section 14.2), one event at a time.

    Trains the classifier U phi_theta(x) (:class:`fmcore.vision.encoders.ClassifierModel`) with the
    cross-entropy loss on the labelled images of ``config.classes`` in the pool (labels
    renumbered 0..k-1 in the order of ``config.classes``), one augmented view per image.
    Afterwards :func:`fmcore.vision.encoders.drop_last_layer` discards U and keeps phi_theta, the
    penultimate activations, as the pretrained model.

    Events, evaluation (of phi on all ten classes of the held-out set), the generator and
    stopping early work as in :func:`pretrain_simclr`; the model in the events is the
    ClassifierModel.
    """
    if not isinstance(config, SupervisedConfig):
        raise SettingError(f"config must be a SupervisedConfig, got {type(config).__name__}.")
    g = _check_loop_generator(generator, config)
    if model is None:
        model = make_classifier(config.encoder, len(config.classes), g)
    if not isinstance(model, ClassifierModel) or model.U.out_features != len(config.classes):
        raise SettingError(
            f"model must be a ClassifierModel with {len(config.classes)} outputs, one per class."
        )
    _check_trainable(model, config)
    data = pretraining_data(config)
    keep = torch.isin(data.labels, torch.tensor(config.classes))  # (N,)
    images = data.images[keep]  # (n, 3, S, S) uint8
    renumber = torch.full((NUM_CLASSES,), -1, dtype=torch.int64)
    renumber[list(config.classes)] = torch.arange(len(config.classes))
    labels = renumber[data.labels[keep]]  # (n,) in 0..k-1
    if config.batch_size > images.shape[0]:
        raise SettingError(
            f"The pool has {images.shape[0]} images of the chosen classes, fewer than the batch "
            f"size ({config.batch_size}): raise n_images or lower the batch size."
        )

    def step_loss(idx: torch.Tensor, step: int) -> torch.Tensor:
        x, _ = augment(to_float(images[idx]), config.augment, g)  # (B, 3, S, S)
        with _autocast(config):
            logits = model(x).float()  # (B, k)
        if not bool(torch.isfinite(logits).all()):
            raise _diverged(step)
        return F.cross_entropy(logits, labels[idx])

    yield from _pretrain_loop(config, model, model.encoder, images.shape[0], step_loss, g)


def uses_bfloat16(config: PretrainConfig) -> bool:
    """Whether the forward pass runs in bfloat16 (:func:`fmcore.optim.uses_bfloat16`)."""
    return optim.uses_bfloat16(config.precision)


def _autocast(config: PretrainConfig) -> torch.autocast:
    """Mixed precision for the model's forward pass only (:func:`fmcore.optim.autocast`);
    the augmentations and the evaluations stay in float32."""
    return optim.autocast(config.precision)


def _check_loop_generator(
    generator: torch.Generator | None, config: PretrainConfig
) -> torch.Generator:
    if generator is None:
        return torch.Generator().manual_seed(config.seed)
    if not isinstance(generator, torch.Generator):
        raise SettingError(f"generator must be a torch.Generator, got {generator!r}.")
    return generator


def _pretrain_loop(
    config: PretrainConfig,
    model: nn.Module,
    encoder: nn.Module,
    N: int,
    step_loss: Callable[[torch.Tensor, int], torch.Tensor],
    g: torch.Generator,
) -> Iterator[Event]:
    """The loop both pretraining methods share: epochs over a pool of N images in a random
    order, ``step_loss(batch indices, step)`` per step, an optimiser step, the events.

    The seed of the evaluations is drawn from ``g`` first, so how often one evaluates does
    not change the training trajectory.
    """
    eval_seed = int(torch.randint(0, MAX_SEED, (1,), generator=g))
    B = config.batch_size
    steps_per_epoch = N // B
    optimizer = _optimizer(config, model)
    start = time.perf_counter()
    train_seconds = 0.0
    recent: list[float] = []
    last_eval: EvalEvent | None = None

    def evaluate(step: int) -> EvalEvent:
        return evaluate_representation(
            encoder, config, step, torch.Generator().manual_seed(eval_seed)
        )

    try:
        yield StartEvent(model, config.steps, steps_per_epoch, N)
        if config.eval_every:
            last_eval = evaluate(0)
            yield last_eval
        order = torch.empty(0, dtype=torch.int64)
        for step in range(1, config.steps + 1):
            t0 = time.perf_counter()
            position = (step - 1) % steps_per_epoch
            if position == 0:
                order = torch.randperm(N, generator=g)  # (N,)
            idx = order[position * B : (position + 1) * B]  # (B,)
            model.train()
            loss = step_loss(idx, step)
            if not bool(torch.isfinite(loss)):
                raise _diverged(step)
            lr = _learning_rate(config, step)
            value = take_step(optimizer, loss, lr)
            train_seconds += time.perf_counter() - t0
            recent = (recent + [value])[-20:]
            yield StepEvent(
                step=step,
                total_steps=config.steps,
                epoch=(step - 1) // steps_per_epoch + 1,
                loss=value,
                learning_rate=lr,
                images_per_s=step * B / max(train_seconds, 1e-9),
            )
            if config.eval_every and (step % config.eval_every == 0 or step == config.steps):
                last_eval = evaluate(step)
                yield last_eval
        model.eval()
        yield DoneEvent(
            step=config.steps,
            model=model,
            loss=sum(recent) / len(recent),
            probe_accuracy=None if last_eval is None else last_eval.probe_accuracy,
            knn_accuracy=None if last_eval is None else last_eval.knn_accuracy,
            seconds=time.perf_counter() - start,
        )
    finally:
        model.eval()


def evaluate_representation(
    encoder: nn.Module, config: PretrainConfig, step: int, generator: torch.Generator
) -> EvalEvent:
    """Score the frozen phi(x) on the held-out evaluation sets (labels used for this only).

    Linear probe (standardised features, ``config.probe_steps`` steps) and kNN
    (``config.knn_k``, cosine) trained on the ``probe_per_class`` labelled images per class
    and tested on the ``eval_images`` test images; PCA of the first ``pca_points`` test
    embeddings.
    """
    labelled, test = evaluation_data(config)
    train_z = embed(encoder, labelled.images)  # (n, m)
    test_z = embed(encoder, test.images)  # (t, m)
    probe = linear_probe_accuracy(
        train_z, labelled.labels, test_z, test.labels, config.probe_steps, generator
    )
    knn = knn_accuracy(train_z, labelled.labels, test_z, test.labels, config.knn_k)
    P = config.pca_points
    return EvalEvent(
        step=step,
        probe_accuracy=probe,
        knn_accuracy=knn,
        pca=pca_2d(test_z[:P]),
        labels=test.labels[:P].clone(),
        indices=torch.arange(P),
    )

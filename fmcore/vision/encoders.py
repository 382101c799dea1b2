"""Small encoders phi_theta, projection heads and task heads for the vision lessons.

Notation of the notes (Section 14.1): an encoder ``phi_theta`` maps an image ``x`` to an
m-dimensional representation ``phi_theta(x)`` in R^m (its *features* or *embedding*). The
modules here are:

- :class:`ConvEncoder`: ``phi_theta``, a small CNN for 32x32 RGB images, sized so that a
  SimCLR epoch over a few thousand images takes seconds on two CPU cores;
- :class:`ProjectionHead`: SimCLR's MLP ``g`` (Chen et al. 2020, Section 2.1) mapping the
  representation to the space where the contrastive loss is computed;
- :class:`SimCLRModel`: ``z = g(phi_theta(x))``, the network the SimCLR loss of Section 14.2
  is applied to (the notes write the loss on ``phi_theta`` directly; the paper adds ``g``
  and throws it away after pretraining, which is what the lessons do);
- :class:`ClassifierModel`: ``U phi_theta(x)``, the network of *supervised pretraining*
  (Section 14.2): a classifier whose last layer ``U`` is discarded afterwards
  (:func:`drop_last_layer`) to keep ``phi_theta`` as the pretrained model.

Parameters are initialised from a ``torch.Generator`` and never from the global random
state (rule 4 of DESIGN.md): the layers are created on the ``meta`` device (which draws no
random numbers), given real storage, and then filled by :func:`init_parameters`. The same
generator state gives bit-identical weights.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from fmcore.errors import SettingError
from fmcore.validate import bounded_int, check_generator

__all__ = [
    "ClassifierModel",
    "ConvEncoder",
    "EncoderConfig",
    "ProjectionHead",
    "SimCLRModel",
    "calibrate_batchnorm",
    "drop_last_layer",
    "init_parameters",
    "make_classifier",
    "make_encoder",
    "make_simclr_model",
]

# ------------------------------------------------------------------------------ limits
MIN_IMAGE_SIZE, MAX_IMAGE_SIZE = 16, 128  # side of the square input, in pixels
MAX_WIDTH = 128  # base channels; the widest layer has 4x this many
MAX_DIM = 1024  # representation and projection dimensions
MAX_CLASSES = 1000

# Fixed input normalisation: pixels in [0, 1] are mapped to (x - 0.5) / 0.25, roughly zero
# mean and unit variance on the Shapes images. A constant, not a statistic of the data, so
# a checkpoint never depends on the data it was trained on through it.
PIXEL_MEAN = 0.5
PIXEL_STD = 0.25


# ============================================================================ config
@dataclass(frozen=True)
class EncoderConfig:
    """Sizes of the encoder phi_theta and of SimCLR's projection head (checked on creation).

    The encoder has three stages at 16x16, 8x8 and 4x4 (for a 32x32 input) with ``width``,
    ``2 width`` and ``4 width`` channels; see :class:`ConvEncoder`.
    """

    image_size: int = 32  # side of the square RGB input in pixels (16..128)
    width: int = 32  # base number of channels; the last stage has 4 * width (4..128)
    representation_dim: int = 64  # m in the notes: phi_theta(x) lies in R^m (2..1024)
    projection_dim: int = 32  # output of the projection head g, where the loss is taken
    polarity_invariant: bool = True  # stem takes |conv|: x and its negative 1 - x look alike

    def __post_init__(self) -> None:
        if not isinstance(self.polarity_invariant, bool):
            raise SettingError(
                f"polarity_invariant must be True or False, got {self.polarity_invariant!r}."
            )
        for name, low, high in (
            ("image_size", MIN_IMAGE_SIZE, MAX_IMAGE_SIZE),
            ("width", 4, MAX_WIDTH),
            ("representation_dim", 2, MAX_DIM),
            ("projection_dim", 2, MAX_DIM),
        ):
            object.__setattr__(self, name, bounded_int(name, getattr(self, name), low, high))

    def to_dict(self) -> dict[str, int | bool]:
        """The fields as a plain dict (for a JSON manifest)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: object) -> EncoderConfig:
        """Inverse of :meth:`to_dict`; unknown or missing keys raise SettingError."""
        if not isinstance(values, dict):
            raise SettingError(f"An encoder config must be a dict, got {type(values).__name__}.")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        missing = sorted(names - set(values))
        if unknown or missing:
            raise SettingError(
                f"Encoder config keys do not match: unknown {unknown}, missing {missing}."
            )
        return cls(**values)


# ============================================================================ init
def init_parameters(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """(Re)initialise every parameter and buffer of ``module`` in place from ``generator``.

    Convolutions: He (Kaiming) normal, fan-out, for ReLU networks, as in ResNets; linear
    layers: PyTorch's default (weights and biases uniform in +-1/sqrt(fan_in)); batch norms:
    scale 1, shift 0, running mean 0, running variance 1. Modules are visited in the order
    of ``module.modules()``, so the same generator state always gives the same weights.
    Works on modules whose tensors were created on the ``meta`` device and then given
    storage with ``to_empty``. Returns ``module``.
    """
    g = check_generator(generator)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu", generator=g)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.Linear):
                bound = 1.0 / math.sqrt(m.in_features)
                m.weight.uniform_(-bound, bound, generator=g)
                if m.bias is not None:
                    m.bias.uniform_(-bound, bound, generator=g)
            elif isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.reset_running_stats()
                if m.affine:
                    m.weight.fill_(1.0)
                    m.bias.zero_()
    return module


def _materialise(module: nn.Module, generator: torch.Generator) -> None:
    """Give a module built on the meta device CPU storage and random initial values."""
    module.to_empty(device="cpu")
    init_parameters(module, generator)


_META: dict[str, Any] = {"device": "meta"}  # factory kwargs: layers draw no random numbers


class Abs(nn.Module):
    """|x|, elementwise: the magnitude of each filter response, whatever its sign."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.abs()


def _conv_block(c_in: int, c_out: int, stride: int = 1, rectify: bool = False) -> list[nn.Module]:
    """3x3 convolution (no bias: BatchNorm's shift replaces it), [|.|], BatchNorm, ReLU."""
    conv = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False, **_META)
    return [
        conv,
        *([Abs()] if rectify else []),
        nn.BatchNorm2d(c_out, **_META),
        nn.ReLU(inplace=True),
    ]


# ============================================================================ modules
class ConvEncoder(nn.Module):
    """phi_theta: a small CNN from (B, 3, S, S) images in [0, 1] to (B, m) representations.

    Layers, with shapes for S = 32 and w = ``config.width``::

        (x - 0.5) / 0.25                       fixed normalisation       (B, 3, 32, 32)
        conv3x3 stride 2, |.|, BN, ReLU        stem                      (B, w, 16, 16)
        conv3x3, BN, ReLU; max-pool 2          stage 2                   (B, 2w, 8, 8)
        conv3x3, BN, ReLU; max-pool 2          stage 3                   (B, 4w, 4, 4)
        conv3x3, BN, ReLU                      stage 4                   (B, 4w, 4, 4)
        global average pool                                              (B, 4w)
        linear                                 to the representation     (B, m)

    The strided stem halves the resolution at once: on two CPU cores a full-resolution
    first stage cost about three times the time. Convolutions run in ``channels_last``
    memory format (faster with oneDNN on CPU; the same numbers up to rounding).

    Polarity invariance (``config.polarity_invariant``, on by default): the stem takes the
    absolute value of its filter responses. The normalised negative image 1 - x is exactly
    minus the normalised x and the stem convolution has no bias, so |conv| is the same for
    both: a light shape on a dark background and a dark shape on a light one give the very
    same features (``phi(1 - x) = phi(x)``), and the edges of an outline look more like
    those of a filled shape. No augmentation of the library flips polarity, so SimCLR
    cannot learn this invariance from the data. In 600-step SimCLR runs on Shapes (batch
    256, SimCLR's augmentations) building it in raised the 10-labels-per-class probe
    accuracy from about 20% to 26-28%; a random encoder stays near chance either way.

    BatchNorm makes the output of one image depend on the rest of the batch in training
    mode; put the model in eval mode (``model.eval()``) to embed images one by one.
    """

    def __init__(self, config: EncoderConfig, generator: torch.Generator) -> None:
        super().__init__()
        if not isinstance(config, EncoderConfig):
            raise SettingError(f"config must be an EncoderConfig, got {type(config).__name__}.")
        self.config = config
        w, m = config.width, config.representation_dim
        self.features = nn.Sequential(
            *_conv_block(3, w, stride=2, rectify=config.polarity_invariant),
            *_conv_block(w, 2 * w),
            nn.MaxPool2d(2),
            *_conv_block(2 * w, 4 * w),
            nn.MaxPool2d(2),
            *_conv_block(4 * w, 4 * w),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.fc = nn.Linear(4 * w, m, **_META)
        _materialise(self, generator)
        self.features.to(memory_format=torch.channels_last)

    @property
    def representation_dim(self) -> int:
        return self.config.representation_dim

    def check_input(self, x: object) -> torch.Tensor:
        """``x`` if it is a float batch (B, 3, S, S) of the configured size, else SettingError."""
        S = self.config.image_size
        if not isinstance(x, torch.Tensor):
            raise SettingError(f"The encoder takes a tensor of images, got {type(x).__name__}.")
        if x.ndim != 4 or x.shape[1] != 3 or tuple(x.shape[2:]) != (S, S) or x.shape[0] < 1:
            raise SettingError(
                f"The encoder takes RGB images of shape (batch, 3, {S}, {S}), got {tuple(x.shape)}."
            )
        if not x.is_floating_point():
            raise SettingError(
                f"The encoder takes float images in [0, 1], got {x.dtype} "
                "(convert uint8 images with fmcore.data.shapes.to_float)."
            )
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """phi_theta(x): (B, 3, S, S) floats in [0, 1] -> (B, m)."""
        x = self.check_input(x)
        x = ((x - PIXEL_MEAN) / PIXEL_STD).contiguous(memory_format=torch.channels_last)
        h = self.features(x)  # (B, 4w)
        return self.fc(h)  # (B, m)


class ProjectionHead(nn.Module):
    """SimCLR's projection head g (Chen et al. 2020, Section 2.1): an MLP R^m -> R^d.

    ``linear(m, m) -> BatchNorm -> ReLU -> linear(m, d)``; the contrastive loss is computed
    on ``z = g(h)`` and g is discarded after pretraining (the representation h = phi(x) keeps
    more of what the augmentations change, which downstream tasks may need).
    """

    def __init__(self, input_dim: int, output_dim: int, generator: torch.Generator) -> None:
        super().__init__()
        m = bounded_int("input_dim", input_dim, 1, MAX_DIM)
        d = bounded_int("output_dim", output_dim, 1, MAX_DIM)
        self.net = nn.Sequential(
            nn.Linear(m, m, bias=False, **_META),
            nn.BatchNorm1d(m, **_META),
            nn.ReLU(inplace=True),
            nn.Linear(m, d, **_META),
        )
        _materialise(self, generator)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """g(h): (B, m) -> (B, d)."""
        return self.net(h)


class SimCLRModel(nn.Module):
    """z = g(phi_theta(x)): the encoder followed by the projection head (Section 14.2)."""

    def __init__(self, encoder: ConvEncoder, head: ProjectionHead) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """z = g(phi(x)): (B, 3, S, S) -> (B, d)."""
        return self.head(self.encoder(x))

    def representation(self, x: torch.Tensor) -> torch.Tensor:
        """phi(x): (B, 3, S, S) -> (B, m), the pretrained features kept after training."""
        return self.encoder(x)


class ClassifierModel(nn.Module):
    """U phi_theta(x): the network of supervised pretraining (Section 14.2).

    ``U`` is the last, fully connected layer (m -> number of classes) and phi_theta all the
    other layers; after training, :func:`drop_last_layer` discards U and keeps phi_theta, the
    penultimate activations, as the pretrained representation.
    """

    def __init__(self, encoder: nn.Module, num_classes: int, generator: torch.Generator) -> None:
        super().__init__()
        classes = bounded_int("number of classes", num_classes, 2, MAX_CLASSES)
        m = getattr(encoder, "representation_dim", None)
        if not isinstance(m, int):
            raise SettingError("The encoder must have an integer representation_dim.")
        self.encoder = encoder
        self.U = nn.Linear(m, classes, **_META)
        _materialise(self.U, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits U phi(x): (B, 3, S, S) -> (B, classes)."""
        return self.U(self.encoder(x))


def drop_last_layer(model: ClassifierModel) -> nn.Module:
    """Discard U and return phi_theta (the same module object, trained weights included)."""
    if not isinstance(model, ClassifierModel):
        raise SettingError(f"Expected a ClassifierModel, got {type(model).__name__}.")
    return model.encoder


@torch.no_grad()
def calibrate_batchnorm(model: nn.Module, images: torch.Tensor, batch_size: int = 256) -> nn.Module:
    """Set every BatchNorm's running mean and variance to the statistics of ``images``.

    A freshly initialised network has running mean 0 and variance 1, which in eval mode
    makes each BatchNorm the identity: nothing then centres the all-positive ReLU features,
    they share one large mean, and every image maps to nearly the same direction (cosines
    of 0.98-1.00 between any two images). Training mode normalises with the statistics of
    the batch instead; these are the statistics a network uses at its first training step.
    Here they are averaged over ``images`` (B, 3, S, S), in chunks of ``batch_size``, with
    the weights untouched, and the model is left in eval mode. Returns ``model``.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the chunks, not an exponential one
    model.train()
    try:
        for chunk in images.split(bounded_int("batch_size", batch_size, 2, 4096)):
            if chunk.shape[0] >= 2:  # BatchNorm needs two images for a variance
                model(chunk)
    finally:
        for m, momentum in zip(norms, momenta, strict=True):
            m.momentum = momentum
        model.eval()
    return model


# ============================================================================ builders
def make_encoder(config: EncoderConfig, generator: torch.Generator) -> ConvEncoder:
    """A freshly initialised phi_theta; the same generator state gives the same weights."""
    return ConvEncoder(config, check_generator(generator))


def make_simclr_model(config: EncoderConfig, generator: torch.Generator) -> SimCLRModel:
    """Encoder then projection head, both initialised from ``generator`` (in that order)."""
    g = check_generator(generator)
    encoder = ConvEncoder(config, g)
    head = ProjectionHead(config.representation_dim, config.projection_dim, g)
    return SimCLRModel(encoder, head)


def make_classifier(
    config: EncoderConfig, num_classes: int, generator: torch.Generator
) -> ClassifierModel:
    """Encoder then last layer U, both initialised from ``generator`` (in that order)."""
    g = check_generator(generator)
    return ClassifierModel(ConvEncoder(config, g), num_classes, g)

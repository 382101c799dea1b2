"""Batched, seeded image augmentations for contrastive learning (SimCLR).

The notes (Section 14.2, "Contrastive learning") build a *positive pair* x_hat, x_tilde
from one image x by two independent random augmentations: "random cropping, flipping,
and/or color transformation". SimCLR (Chen et al. 2020, "A Simple Framework for Contrastive
Learning of Visual Representations", Appendix A) fixes the recipe this module follows, in
this order:

1. random resized crop: a box covering a uniform fraction of the area in [0.08, 1] with a
   log-uniform aspect ratio in [3/4, 4/3], resized back to the output size (bilinear);
2. horizontal flip with probability 0.5;
3. colour jitter with probability 0.8: brightness 0.8s, contrast 0.8s, saturation 0.8s and
   hue 0.2s for a colour strength s, the four applied **in a random order drawn per image**
   (as torchvision's ``ColorJitter``, which the paper's pseudo-code calls);
4. random grayscale with probability 0.2;
5. Gaussian blur with probability 0.5 and sigma uniform in [0.1, 2.0] pixels.

The work is split in two so that a page can show *what* was drawn and a test can replay it:

- :func:`sample_params` draws every random number first, from the ``torch.Generator`` it is
  given (never the global RNG: all users of a Streamlit server share one process, rule 4 of
  DESIGN.md), and returns an :class:`AugmentParams`, one row per image;
- :func:`apply` is deterministic given those params, and batched: one call augments a whole
  ``(B, 3, H, W)`` batch with no Python loop over images for the heavy work.

Each augmentation has a *strength* in [0, 2]: 0 switches it off, 1 is the SimCLR default
(see :class:`AugmentConfig` for what larger values mean).

Implementation choices (documented because they differ from torchvision):

- crop boxes are continuous fractions of the input (not whole pixels); crop, resize and
  flip are one affine map per image, sampled with ``grid_sample`` (bilinear,
  ``align_corners=False``, border padding, no antialiasing when shrinking);
- the aspect ratio is that of the box relative to the image's own shape (the same thing as
  the pixel aspect ratio for square images);
- **one clamp for the whole colour stage.** Every jitter operation is a per-image 3x3 colour
  matrix (contrast adds a bias from the image's mean grey) and grayscale is one more, so an
  image's jitter, in its random order, and its grayscale compose into ONE affine colour
  map, applied in one batched matrix product and clamped to [0, 1] once, at the end.
  torchvision clamps after each jitter operation and converts the clamped result to grey.
  The two agree wherever no intermediate value leaves [0, 1]; where one does, this module
  keeps it (brightness 1.5 then contrast 0.5 on a pixel at 0.8: torchvision blends from
  1.0, here from 1.2; the contrast mean is that of the unclamped image too). At SimCLR's
  strength 1 about half the images then differ somewhere by more than one grey level in
  255; the mean change is 0.014 (under 4 grey levels), the largest 0.63 on single pixels;
  the grayscale part alone changes 7% of the images, by 0.003 on average. In exchange the
  colour stage is one pass over the pixels instead of four matrix products and clamps
  plus a grayscale pass;
- hue is a rotation of the chroma plane of YIQ (which keeps the luma, so greys stay grey),
  not torchvision's shift in HSV: a rotation is one more colour matrix, where an HSV round
  trip costs some twenty elementwise passes over the batch (it was the slowest step in a
  first version), and it looks alike (the two agree on greys and on the direction
  red -> yellow -> green; they differ in how saturation and brightness move on the way);
- the Gaussian kernel of each image is truncated at ``ceil(3 sigma)`` pixels (at most the
  image side minus one) and the image is padded by reflection; torchvision instead uses a
  fixed kernel of 10% of the image side. The blur of a row, padding included, is a matrix
  per image, so blurring is two batched matrix products: 2 x side multiply-adds per pixel,
  faster than a depthwise convolution at 32 pixels, on a par at 64 to 128 (the app's
  largest) and about twice as slow at 512;
- the pixels are processed a chunk of images (about half a megabyte) at a time, so that the
  temporaries stay in the CPU cache and are reused instead of being fresh memory (see
  :func:`_apply`). Results do not depend on the chunking or on the batch size.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from fmcore.errors import SettingError
from fmcore.validate import bounded_int, check_generator, finite_float

__all__ = [
    "MAX_BATCH",
    "MAX_STRENGTH",
    "AugmentConfig",
    "AugmentParams",
    "apply",
    "augment",
    "sample_params",
    "two_views",
]

# ----------------------------------------------------------------------------- limits
MAX_STRENGTH = 2.0  # every strength lies in [0, MAX_STRENGTH]; 1 is the SimCLR default
MAX_BATCH = 4096  # images per call
MIN_OUTPUT_SIZE, MAX_OUTPUT_SIZE = 8, 512  # side of the (square) output, in pixels
MIN_INPUT_SIDE, MAX_INPUT_SIDE = 8, 2048  # each side of the input, in pixels
MAX_PIXELS = 1 << 24  # batch * height * width, input and output (about 200 MB of float32)
MIN_SIGMA, MAX_SIGMA = 0.01, 10.0  # Gaussian blur sigma, in output pixels
VALUE_TOLERANCE = 1e-3  # how far outside [0, 1] input values may stray (rounding)

# ------------------------------------------------------------------- SimCLR constants
SIMCLR_MIN_AREA = 0.08  # smallest crop area at strength 1 (fraction of the image)
SIMCLR_MAX_ASPECT = 4.0 / 3.0  # crop aspect ratio in [3/4, 4/3] at strength 1
SIMCLR_FLIP_P = 0.5
SIMCLR_COLOR_P = 0.8
SIMCLR_GRAYSCALE_P = 0.2
SIMCLR_BLUR_P = 0.5
CROP_TRIES = 10  # as torchvision's RandomResizedCrop; then the whole image

# ITU-R 601-2 luma, as Pillow's convert("L") and torchvision's rgb_to_grayscale
_LUMA = (0.299, 0.587, 0.114)

# jitter operations, in the numbering of AugmentParams.jitter_order
BRIGHTNESS, CONTRAST, SATURATION, HUE = 0, 1, 2, 3
JITTER_NAMES = ("brightness", "contrast", "saturation", "hue")

# column layout of the one uniform draw that sample_params makes per image
_C_AREA = slice(0, CROP_TRIES)
_C_RATIO = slice(CROP_TRIES, 2 * CROP_TRIES)
_C_X = 2 * CROP_TRIES
_C_Y = _C_X + 1
_C_FLIP = _C_Y + 1
_C_JITTER = _C_FLIP + 1
_C_FACTORS = slice(_C_JITTER + 1, _C_JITTER + 5)  # brightness, contrast, saturation, hue
_C_ORDER = slice(_C_JITTER + 5, _C_JITTER + 9)  # sort keys of the random order
_C_GRAY = _C_JITTER + 9
_C_BLUR = _C_GRAY + 1
_C_SIGMA = _C_BLUR + 1
_N_UNIFORMS = _C_SIGMA + 1


# ============================================================================ config
@dataclass(frozen=True)
class AugmentConfig:
    """How strong each SimCLR augmentation is (Chen et al. 2020, Appendix A).

    Strengths lie in [0, 2]: 0 switches an augmentation off, 1 is the paper's setting.

    - ``crop_strength`` s: crop area uniform in [0.08**s, 1], aspect ratio log-uniform in
      [(3/4)**s, (4/3)**s]. s = 0 keeps the whole image; s = 2 allows 0.64% of the area.
    - ``flip_strength`` s: flip probability 0.5 * min(s, 1) (0.5 is already the most random).
    - ``color_strength`` s: with probability ``color_probability``, factors for brightness,
      contrast and saturation uniform in [max(0, 1 - 0.8s), 1 + 0.8s] and a hue shift
      uniform in [-0.2s, 0.2s] turns of the colour wheel (capped at 0.5).
    - ``grayscale_strength`` s: grayscale probability min(1, 0.2s).
    - ``blur_strength`` s: blur probability min(1, 0.5s), sigma uniform in
      [``blur_sigma_min``, ``blur_sigma_max``] pixels of the output.
    """

    output_size: int | None = None  # side of the square output; None keeps the input's size
    crop_strength: float = 1.0  # random resized crop: 1 = area [0.08, 1], aspect [3/4, 4/3]
    flip_strength: float = 1.0  # horizontal flip: 1 = probability 0.5
    color_strength: float = 1.0  # colour jitter s: brightness/contrast/saturation 0.8s, hue 0.2s
    color_probability: float = SIMCLR_COLOR_P  # chance that an image is jittered at all
    grayscale_strength: float = 1.0  # random grayscale: 1 = probability 0.2
    blur_strength: float = 1.0  # Gaussian blur: 1 = probability 0.5
    blur_sigma_min: float = 0.1  # smallest blur sigma, in output pixels (SimCLR: 0.1)
    blur_sigma_max: float = 2.0  # largest blur sigma, in output pixels (SimCLR: 2.0)

    def __post_init__(self) -> None:
        if self.output_size is not None:
            size = bounded_int("output_size", self.output_size, MIN_OUTPUT_SIZE, MAX_OUTPUT_SIZE)
            object.__setattr__(self, "output_size", size)
        for name in (
            "crop_strength",
            "flip_strength",
            "color_strength",
            "grayscale_strength",
            "blur_strength",
        ):
            value = finite_float(name, getattr(self, name), 0.0, MAX_STRENGTH)
            object.__setattr__(self, name, value)
        p = finite_float("color_probability", self.color_probability, 0.0, 1.0)
        object.__setattr__(self, "color_probability", p)
        low = finite_float("blur_sigma_min", self.blur_sigma_min, MIN_SIGMA, MAX_SIGMA)
        high = finite_float("blur_sigma_max", self.blur_sigma_max, MIN_SIGMA, MAX_SIGMA)
        if low > high:
            raise SettingError(
                f"blur_sigma_min ({low:g}) must not be larger than blur_sigma_max ({high:g})."
            )
        object.__setattr__(self, "blur_sigma_min", low)
        object.__setattr__(self, "blur_sigma_max", high)

    # ----------------------------------------------------------------- presets
    @classmethod
    def none(cls, output_size: int | None = None) -> AugmentConfig:
        """Every augmentation off: apply() returns the input (resized to ``output_size``)."""
        return cls(
            output_size=output_size,
            crop_strength=0.0,
            flip_strength=0.0,
            color_strength=0.0,
            grayscale_strength=0.0,
            blur_strength=0.0,
        )

    @classmethod
    def weak(cls, output_size: int | None = None) -> AugmentConfig:
        """Mild crops (area >= 28%), flips and gentle colour changes; no grayscale or blur."""
        return cls(
            output_size=output_size,
            crop_strength=0.5,
            flip_strength=1.0,
            color_strength=0.5,
            grayscale_strength=0.0,
            blur_strength=0.0,
        )

    @classmethod
    def simclr(cls, output_size: int | None = None) -> AugmentConfig:
        """The ImageNet recipe of SimCLR (Chen et al. 2020, Appendix A): every strength 1."""
        return cls(output_size=output_size)

    @classmethod
    def simclr_cifar(cls, output_size: int | None = None) -> AugmentConfig:
        """SimCLR's CIFAR-10 recipe (Appendix B.9): colour strength 0.5 and no blur."""
        return cls(output_size=output_size, color_strength=0.5, blur_strength=0.0)

    # ----------------------------------------------------------------- derived ranges
    @property
    def min_crop_area(self) -> float:
        """Smallest crop area, as a fraction of the image: 0.08 ** crop_strength."""
        return SIMCLR_MIN_AREA**self.crop_strength

    @property
    def max_aspect(self) -> float:
        """Largest crop aspect ratio (the smallest is its inverse): (4/3) ** crop_strength."""
        return SIMCLR_MAX_ASPECT**self.crop_strength

    @property
    def flip_probability(self) -> float:
        return SIMCLR_FLIP_P * min(self.flip_strength, 1.0)

    @property
    def jitter_probability(self) -> float:
        return self.color_probability if self.color_strength > 0 else 0.0

    @property
    def grayscale_probability(self) -> float:
        return min(1.0, SIMCLR_GRAYSCALE_P * self.grayscale_strength)

    @property
    def blur_probability(self) -> float:
        return min(1.0, SIMCLR_BLUR_P * self.blur_strength)


# ============================================================================ params
@dataclass(frozen=True, eq=False)
class AugmentParams:
    """Everything :func:`apply` needs, drawn in advance: one row per image (B rows).

    Neutral values are stored where an augmentation is off for an image (factors 1, hue 0,
    sigma 0), so every row reads as what is actually done to that image.
    """

    crop: torch.Tensor  # (B, 4) float32: x0, y0, width, height as fractions of the input
    flip: torch.Tensor  # (B,) bool: mirror left-right
    jitter: torch.Tensor  # (B,) bool: colour jitter applied
    brightness: torch.Tensor  # (B,) float32: multiply by this factor
    contrast: torch.Tensor  # (B,) float32: blend with the image's mean grey, this weight
    saturation: torch.Tensor  # (B,) float32: blend with the grayscale image, this weight
    hue: torch.Tensor  # (B,) float32: hue shift in turns of the colour wheel, [-0.5, 0.5]
    jitter_order: torch.Tensor  # (B, 4) int64: permutation of (0 bri, 1 con, 2 sat, 3 hue)
    grayscale: torch.Tensor  # (B,) bool: convert to grey (kept as 3 equal channels)
    blur: torch.Tensor  # (B,) bool: Gaussian blur applied
    blur_sigma: torch.Tensor  # (B,) float32: blur sigma in output pixels (0 when no blur)

    def __post_init__(self) -> None:
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        for name, value in fields.items():
            if not isinstance(value, torch.Tensor):
                raise SettingError(f"AugmentParams.{name} must be a tensor, got {value!r}.")
        batch = self.crop.shape[0] if self.crop.dim() == 2 else -1
        if self.crop.shape != (batch, 4) or batch < 1:
            raise SettingError(f"AugmentParams.crop must have shape (B, 4), got {self.crop.shape}.")
        if self.jitter_order.shape != (batch, 4):
            raise SettingError(
                f"AugmentParams.jitter_order must have shape ({batch}, 4), "
                f"got {tuple(self.jitter_order.shape)}."
            )
        for name, value in fields.items():
            if name in ("crop", "jitter_order"):
                continue
            if value.shape != (batch,):
                raise SettingError(
                    f"AugmentParams.{name} must have shape ({batch},), got {tuple(value.shape)}."
                )
        for name in ("flip", "jitter", "grayscale", "blur"):
            if fields[name].dtype != torch.bool:
                raise SettingError(f"AugmentParams.{name} must be a bool tensor.")
        for name in ("crop", "brightness", "contrast", "saturation", "hue", "blur_sigma"):
            value = fields[name]
            if not value.is_floating_point() or not torch.isfinite(value).all():
                raise SettingError(f"AugmentParams.{name} must hold finite floats.")
        x0, y0, w, h = self.crop.unbind(dim=1)
        if not bool(((w > 0) & (w <= 1) & (h > 0) & (h <= 1) & (x0 >= 0) & (y0 >= 0)).all()):
            raise SettingError(
                "AugmentParams.crop rows must be x0, y0 >= 0 and 0 < width, height <= 1."
            )
        factors = torch.stack([self.brightness, self.contrast, self.saturation])
        if bool((factors < 0).any()) or bool((self.hue.abs() > 0.5).any()):
            raise SettingError(
                "Jitter factors must be >= 0 and hue shifts within [-0.5, 0.5] turn."
            )
        if bool(((self.blur_sigma < 0) | (self.blur_sigma > MAX_SIGMA)).any()):
            raise SettingError(f"AugmentParams.blur_sigma must lie in [0, {MAX_SIGMA:g}].")
        order = self.jitter_order
        if order.is_floating_point() or not torch.equal(
            order.sort(dim=1).values.cpu(), torch.arange(4).expand(batch, 4)
        ):
            raise SettingError(
                "Each row of AugmentParams.jitter_order must be a permutation of 0-3."
            )

    # ----------------------------------------------------------------- construction
    @classmethod
    def identity(cls, batch_size: int) -> AugmentParams:
        """Params that leave every image as it is: whole-image crop, nothing else.

        Handy to show one augmentation alone: ``dataclasses.replace(p, flip=...)``.
        """
        B = bounded_int("batch_size", batch_size, 1, MAX_BATCH)
        ones = torch.ones(B)
        no = torch.zeros(B, dtype=torch.bool)
        return cls(
            crop=torch.tensor([[0.0, 0.0, 1.0, 1.0]]).repeat(B, 1),
            flip=no.clone(),
            jitter=no.clone(),
            brightness=ones.clone(),
            contrast=ones.clone(),
            saturation=ones.clone(),
            hue=torch.zeros(B),
            jitter_order=torch.arange(4).repeat(B, 1),
            grayscale=no.clone(),
            blur=no.clone(),
            blur_sigma=torch.zeros(B),
        )

    @classmethod
    def _trusted(cls, **fields: torch.Tensor) -> AugmentParams:
        """Params from rows that are valid by construction (:func:`sample_params`, ``cat``
        of checked params), built without the checks of ``__post_init__``: they cost about
        as much as drawing the rows, at every call of :func:`augment`."""
        params = object.__new__(cls)
        for f in dataclasses.fields(cls):
            object.__setattr__(params, f.name, fields[f.name])
        return params

    @property
    def batch_size(self) -> int:
        return int(self.crop.shape[0])

    def __len__(self) -> int:
        return self.batch_size

    def select(self, index: int | slice | torch.Tensor) -> AugmentParams:
        """The rows ``index`` (an int keeps a batch of one)."""
        if isinstance(index, int):
            index = slice(index, index + 1) if index != -1 else slice(-1, None)
        return AugmentParams(
            **{f.name: getattr(self, f.name)[index] for f in dataclasses.fields(self)}
        )

    @staticmethod
    def cat(parts: list[AugmentParams]) -> AugmentParams:
        """Rows of several params one after the other."""
        for p in parts:
            if not isinstance(p, AugmentParams):
                raise SettingError(f"AugmentParams.cat takes AugmentParams, got {p!r}.")
        return AugmentParams._trusted(
            **{
                f.name: torch.cat([getattr(p, f.name) for p in parts])
                for f in dataclasses.fields(AugmentParams)
            }
        )

    # ----------------------------------------------------------------- for the page
    def describe(self, i: int) -> dict[str, str]:
        """What is done to image ``i``, in plain words (keys in the order they are applied).

        The crop reads "<area> of the area at (<x0>, <y0>)" with the box's top-left corner
        as fractions of the width and height; hue shifts are in turns of the colour wheel.

        Example: ``{"crop": "62% of the area at (0.10, 0.25), aspect 1.10", "flip": "yes",
        "colour jitter": "brightness, hue, contrast, saturation", "brightness": "x1.21",
        "contrast": "x0.85", "saturation": "x1.40", "hue": "+0.05 turn", "grayscale": "no",
        "blur": "sigma 0.8 px"}``.
        """
        i = bounded_int("image index", i, -self.batch_size, self.batch_size - 1)
        x0, y0, w, h = (float(v) for v in self.crop[i])
        jittered = bool(self.jitter[i])
        out = {
            "crop": f"{w * h:.0%} of the area at ({x0:.2f}, {y0:.2f}), aspect {w / h:.2f}",
            "flip": "yes" if bool(self.flip[i]) else "no",
            "colour jitter": ", ".join(JITTER_NAMES[int(k)] for k in self.jitter_order[i])
            if jittered
            else "no",
        }
        for name in ("brightness", "contrast", "saturation"):
            out[name] = f"x{float(getattr(self, name)[i]):.2f}" if jittered else "unchanged"
        out["hue"] = f"{float(self.hue[i]):+.2f} turn" if jittered else "unchanged"
        out["grayscale"] = "yes" if bool(self.grayscale[i]) else "no"
        out["blur"] = f"sigma {float(self.blur_sigma[i]):.1f} px" if bool(self.blur[i]) else "no"
        return out


# ============================================================================ sampling
def _check_config(config: object) -> AugmentConfig:
    if not isinstance(config, AugmentConfig):
        raise SettingError(f"config must be an AugmentConfig, got {type(config).__name__}.")
    return config


def sample_params(
    batch_size: int, config: AugmentConfig, generator: torch.Generator
) -> AugmentParams:
    """Draw the random augmentation of ``batch_size`` images (SimCLR, Chen et al. 2020).

    All randomness comes from one ``torch.rand(batch_size, 35, generator=generator)``; the
    strengths of ``config`` only map those uniforms to ranges, so moving a strength slider
    with the same seed changes *how much* each image is augmented, not where.

    - crop: up to 10 tries per image of (area a ~ U[min_area, 1], log aspect r ~
      U[-log max_aspect, log max_aspect]); box width sqrt(a r), height sqrt(a / r)
      (fractions of the image); the first try that fits is kept, else the whole image
      (torchvision's rule); its top-left corner is uniform among the positions that fit.
    - flip, jitter, grayscale, blur: Bernoulli with the probabilities of ``config``.
    - jitter factors: see :class:`AugmentConfig`; the order is a uniform random permutation.
    """
    B = bounded_int("batch_size", batch_size, 1, MAX_BATCH)
    config = _check_config(config)
    generator = check_generator(generator)
    u = torch.rand(B, _N_UNIFORMS, generator=generator)  # (B, 35) in [0, 1)

    # --- random resized crop: fractions of the input's width and height
    area = config.min_crop_area + (1.0 - config.min_crop_area) * u[:, _C_AREA]  # (B, T)
    ratio = torch.exp(math.log(config.max_aspect) * (2.0 * u[:, _C_RATIO] - 1.0))  # (B, T)
    wh_try = torch.sqrt(torch.stack([area * ratio, area / ratio], dim=1))  # (B, 2, T)
    fits = (wh_try <= 1.0).all(dim=1)  # (B, T)
    # the first try that fits (argmax of a bool picks the first True), else the whole image
    first = fits.to(torch.uint8).argmax(dim=1)  # (B,)
    wh = wh_try[torch.arange(B), :, first]  # (B, 2): width, height
    wh = torch.where(fits.any(dim=1, keepdim=True), wh, 1.0).clamp_(max=1.0)
    xy0 = (1.0 - wh) * u[:, _C_X : _C_Y + 1]  # (B, 2): top-left corner
    crop = torch.cat([xy0, wh], dim=1)  # (B, 4)

    # --- flip
    flip = u[:, _C_FLIP] < config.flip_probability  # (B,)

    # --- colour jitter: neutral factors where it is not applied
    jitter = u[:, _C_JITTER] < config.jitter_probability  # (B,)
    s = config.color_strength
    spread = 0.8 * s
    low = max(0.0, 1.0 - spread)
    f = low + (1.0 + spread - low) * u[:, _C_FACTORS][:, :3]  # (B, 3)
    f = torch.where(jitter[:, None], f, torch.ones_like(f))
    hue_max = min(0.5, 0.2 * s)
    hue = hue_max * (2.0 * u[:, _C_FACTORS][:, 3] - 1.0)  # (B,)
    hue = torch.where(jitter, hue, torch.zeros_like(hue))
    order = u[:, _C_ORDER].argsort(dim=1)  # (B, 4): a uniform random permutation

    # --- grayscale and blur
    grayscale = u[:, _C_GRAY] < config.grayscale_probability
    blur = u[:, _C_BLUR] < config.blur_probability
    sigma = config.blur_sigma_min + (config.blur_sigma_max - config.blur_sigma_min) * u[:, _C_SIGMA]
    sigma = torch.where(blur, sigma, torch.zeros_like(sigma))

    return AugmentParams._trusted(
        crop=crop,
        flip=flip,
        jitter=jitter,
        brightness=f[:, 0].contiguous(),
        contrast=f[:, 1].contiguous(),
        saturation=f[:, 2].contiguous(),
        hue=hue,
        jitter_order=order,
        grayscale=grayscale,
        blur=blur,
        blur_sigma=sigma,
    )


# ============================================================================ checks
def _check_images(images: object) -> torch.Tensor:
    """``images`` as a float32 (B, 3, H, W) tensor in [0, 1], or a SettingError."""
    if not isinstance(images, torch.Tensor):
        raise SettingError(f"images must be a torch tensor, got {type(images).__name__}.")
    if images.dim() != 4 or images.shape[1] != 3:
        raise SettingError(
            f"images must have shape (batch, 3, height, width), got {tuple(images.shape)}."
        )
    if not images.is_floating_point():
        raise SettingError(
            f"images must be floats in [0, 1], got dtype {images.dtype} "
            "(divide 8-bit images by 255)."
        )
    B, _, H, W = images.shape
    bounded_int("batch size", B, 1, MAX_BATCH)
    bounded_int("image height", H, MIN_INPUT_SIDE, MAX_INPUT_SIDE)
    bounded_int("image width", W, MIN_INPUT_SIDE, MAX_INPUT_SIDE)
    if B * H * W > MAX_PIXELS:
        raise SettingError(
            f"{B} images of {H}x{W} are too many pixels ({B * H * W:,}); "
            f"at most {MAX_PIXELS:,} per call."
        )
    images = images.float()
    lo, hi = torch.aminmax(images.detach())  # one pass; NaN propagates to both
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise SettingError("images contain NaN or infinite values.")
    if lo < -VALUE_TOLERANCE or hi > 1.0 + VALUE_TOLERANCE:
        raise SettingError(
            f"images must lie in [0, 1], got values from {lo:.3g} to {hi:.3g} "
            "(augment before normalising)."
        )
    return images


def _output_hw(
    images: torch.Tensor, config_or_output_size: AugmentConfig | int | None
) -> tuple[int, int]:
    if isinstance(config_or_output_size, AugmentConfig):
        size = config_or_output_size.output_size
    else:
        size = config_or_output_size
    if size is None:
        H, W = images.shape[-2:]
        if max(H, W) > MAX_OUTPUT_SIZE:
            raise SettingError(
                f"images of {H}x{W} are larger than {MAX_OUTPUT_SIZE} pixels: set an output size "
                f"between {MIN_OUTPUT_SIZE} and {MAX_OUTPUT_SIZE}."
            )
        return int(H), int(W)
    size = bounded_int("output_size", size, MIN_OUTPUT_SIZE, MAX_OUTPUT_SIZE)
    if images.shape[0] * size * size > MAX_PIXELS:
        raise SettingError(
            f"{images.shape[0]} outputs of {size}x{size} are too many pixels; "
            f"at most {MAX_PIXELS:,} per call."
        )
    return size, size


# ============================================================================ the ops
def _sampling_axes(
    crop: torch.Tensor, flip: torch.Tensor, out_hw: tuple[int, int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Where each output column and row reads the input, in ``grid_sample`` coordinates:
    gx (B, out_w) and gy (B, out_h).

    ``grid_sample`` works in normalised coordinates where [-1, 1] spans the image edges
    (``align_corners=False``). The output pixel centre u_j = (2j + 1) / out_w - 1 reads the
    input at x = c_x + s_x u_j, with c_x = 2 x0 + w - 1 (the box centre) and s_x = w, or -w
    when flipped; the same for y without the sign. This is ``affine_grid`` of
    theta = [[s_x, 0, c_x], [0, h, c_y]], which has no rotation, so the grid is an outer
    sum of one row and one column. Sampled bilinearly, ``align_corners=False`` (a
    whole-image box without flip is the identity), border padding (a sample between the box
    edge and the first pixel centre repeats the edge pixel instead of blending with black),
    no antialiasing (a small box blown up is smooth, a large image shrunk a lot may alias).
    """
    oh, ow = out_hw
    x0, y0, w, h = crop.unbind(dim=1)  # each (B,)
    sign = 1.0 - 2.0 * flip.to(crop.dtype)  # (B,) +1 or -1
    u = (2.0 * torch.arange(ow, dtype=crop.dtype, device=crop.device) + 1.0) / ow - 1.0  # (ow,)
    v = (2.0 * torch.arange(oh, dtype=crop.dtype, device=crop.device) + 1.0) / oh - 1.0  # (oh,)
    gx = (sign * w)[:, None] * u + (2.0 * x0 + w - 1.0)[:, None]  # (B, ow)
    gy = h[:, None] * v + (2.0 * y0 + h - 1.0)[:, None]  # (B, oh)
    return gx, gy


def _grid(gx: torch.Tensor, gy: torch.Tensor) -> torch.Tensor:
    """The ``grid_sample`` grid (n, out_h, out_w, 2) of the axes gx (n, out_w), gy (n, out_h).

    The (x, y) pairs are the real and imaginary parts of one complex tensor: one vectorised
    op, where interleaving two float tensors into the last axis is a strided copy that took
    twice as long.
    """
    n, oh, ow = gx.shape[0], gy.shape[1], gx.shape[1]
    xy = torch.complex(gx[:, None, :].expand(n, oh, ow), gy[:, :, None].expand(n, oh, ow))
    return torch.view_as_real(xy)  # (n, oh, ow, 2), no copy


def _sampling_grid(crop: torch.Tensor, flip: torch.Tensor, out_hw: tuple[int, int]) -> torch.Tensor:
    """The grid ``F.affine_grid`` makes for the crop-and-flip map, built axis by axis
    (``affine_grid`` computes it with a slower matrix product).
    crop (B, 4), flip (B,) -> grid (B, out_h, out_w, 2)."""
    return _grid(*_sampling_axes(crop, flip, out_hw))


def _whole_images(
    images: torch.Tensor, crop: torch.Tensor, flip: torch.Tensor, out_hw: tuple[int, int]
) -> bool:
    """True when every box is the whole image, unflipped, at the input's size: the crop is
    then the identity and is skipped (sampling would only add rounding)."""
    return (
        tuple(images.shape[-2:]) == tuple(out_hw)
        and not bool(flip.any())
        and bool((crop == torch.tensor([0.0, 0.0, 1.0, 1.0], device=crop.device)).all())
    )


# RGB -> YIQ (NTSC): Y is the ITU-R 601 luma, (I, Q) the chroma plane whose angle is the hue
_YIQ = torch.tensor(
    [[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]],
    dtype=torch.float64,
)
_YIQ_INV = torch.linalg.inv(_YIQ)
# A hue rotation by an angle a, Y^-1 R(a) Y with R(a) turning the (I, Q) plane, is
# I + (cos a - 1) _HUE_COS + (sin a) _HUE_SIN: exactly I for a = 0.
_HUE_COS = _YIQ_INV @ torch.diag(torch.tensor([0.0, 1.0, 1.0], dtype=torch.float64)) @ _YIQ
_HUE_SIN = (
    _YIQ_INV
    @ torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]], dtype=torch.float64)
    @ _YIQ
)
# 1 l^T: every channel becomes the luma l.x (grayscale, and the grey that saturation blends)
_GREY = torch.tensor(_LUMA, dtype=torch.float64).expand(3, 3).contiguous()
# the factors that leave an image as it is: brightness, contrast, saturation 1, hue shift 0
_NEUTRAL = torch.tensor([1.0, 1.0, 1.0, 0.0], dtype=torch.float64)
# which operations blend with 1 l^T (columns: brightness, contrast, saturation, hue): row 0
# for the pixels (saturation only), row 1 for the image's mean colour (contrast too)
_BLENDS = torch.tensor([[0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0]], dtype=torch.float64)


def _colour_maps(
    params: AugmentParams, device: torch.device, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    """Each image's colour jitter (its four operations in its own order) and grayscale as
    ONE affine colour map: a pixel x of an image whose mean colour is x_mean becomes
    A x + V x_mean. Returns A, V: (B, 3, 3) each.

    Every operation is a 3x3 colour matrix. Brightness f: f I. Contrast f: f I, plus the
    blend with the mean grey of the image, (1 - f) 1 l^T (mean colour). Saturation f:
    f I + (1 - f) 1 l^T, a blend of each pixel with its own grey l.x. Hue shift t turns: a
    rotation by 2 pi t of the chroma plane (I, Q) of YIQ, which keeps the luma Y, so greys
    stay grey: Y^-1 R Y; the sign makes a positive shift turn red towards yellow and green,
    as in HSV. Grayscale: 1 l^T. An operation that is off (no jitter, or a neutral factor)
    is exactly I.

    A is the product of the matrices in the image's order. The mean colour goes through the
    same steps, except that contrast maps a mean colour m to f m + (1 - f) 1 l^T m (a
    saturation-like blend): M, the product with that matrix for contrast, maps x_mean to the
    mean colour of the result, and the bias of the whole map is (M - A) x_mean. Exact for
    the unclamped composition; composed on these small matrices, never on the pixels.
    """
    f64 = torch.float64
    factors = torch.stack(
        [params.brightness, params.contrast, params.saturation, params.hue], dim=1
    ).to(device, f64)  # (B, 4 ops)
    factors = torch.where(params.jitter.to(device)[:, None], factors, _NEUTRAL.to(device))
    order = params.jitter_order.to(device)  # (B, 4 steps)
    # (B, 2 products, 4 steps, 3, 3); product 0 is A (the pixels), product 1 is M (the mean)
    f = factors.gather(1, order)[:, None, :, None, None]  # each step's factor
    blends = _BLENDS.to(device)[:, order].transpose(0, 1)[..., None, None]  # 1 or 0
    angle = (-2.0 * math.pi * factors[:, HUE])[:, None, None, None, None]
    hue = (torch.cos(angle) - 1.0) * _HUE_COS.to(device) + torch.sin(angle) * _HUE_SIN.to(device)
    eye = torch.eye(3, dtype=f64, device=device)
    steps = torch.where(
        (order == HUE)[:, None, :, None, None],
        eye + hue,  # the hue step
        f * eye + (1.0 - f) * blends * _GREY.to(device),  # f I, or f I + (1 - f) 1 l^T
    )
    AM = steps[:, :, 3] @ steps[:, :, 2] @ steps[:, :, 1] @ steps[:, :, 0]  # (B, 2, 3, 3)
    grey = params.grayscale.to(device)[:, None, None, None]
    AM = torch.where(grey, _GREY.to(device) @ AM, AM)  # grayscale after the jitter
    return AM[:, 0].to(dtype), (AM[:, 1] - AM[:, 0]).to(dtype)


def _blur_matrices(sigma: torch.Tensor, size: int, max_radius: int) -> torch.Tensor:
    """The Gaussian blur of a row (or column) of ``size`` pixels as one matrix per sigma,
    (n, size, size), so that blurring an image is two matrix products.

    The kernel is g(d) = exp(-d^2 / (2 sigma^2)) for |d| <= ceil(3 sigma) (at least 1, at
    most ``max_radius`` <= size - 1), zero beyond, normalised to sum 1, and the row is
    padded by reflection (pixel -d reads pixel d; pixel size - 1 + d reads size - 1 - d).
    So output pixel i takes from input pixel p the weight g(|p - i|), plus g(p + i) if
    p >= 1 (reflected at the first pixel), plus g(2 (size - 1) - p - i) if p <= size - 2
    (reflected at the last). ``table`` (n, R + 1) holds g(0), ..., g(R), and ``hits``
    (R + 1, size, size) counts, for each distance d, in how many of these three ways pixel
    i reads pixel p at distance d: the matrices are ``table @ hits``.
    """
    radius = torch.ceil(3.0 * sigma).clamp_(1, max_radius)  # (n,)
    R = int(radius.max())
    d = torch.arange(R + 1, device=sigma.device)  # (R + 1,)
    table = torch.exp((d**2).to(sigma.dtype) * (-0.5 / sigma**2)[:, None])  # (n, R + 1)
    table.masked_fill_(d > radius[:, None], 0.0)  # truncate at each radius
    table /= 2.0 * table.sum(dim=1, keepdim=True) - table[:, :1]  # g(0) + 2 (g(1) + ...)
    i = torch.arange(size, device=sigma.device)[:, None]  # output pixel, (size, 1)
    p = torch.arange(size, device=sigma.device)  # input pixel, (size,)
    never = 2 * size  # a distance no kernel reaches
    d = d[:, None, None]
    hits = (
        ((p - i).abs() == d).to(sigma.dtype)
        + (torch.where(p >= 1, p + i, never) == d).to(sigma.dtype)
        + (torch.where(p <= size - 2, 2 * (size - 1) - p - i, never) == d).to(sigma.dtype)
    )  # (R + 1, size, size)
    return (table @ hits.view(R + 1, size * size)).view(-1, size, size)


def _separable(x: torch.Tensor, left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
    """left[b] @ x[b, c] @ right[b]^T for every image b and channel c: two batched matrix
    products. x: (n, C, H, W), left (n, H', H), right (n, W', W) -> (n, C, H', W')."""
    n, C, H, W = x.shape
    rows = torch.bmm(x.reshape(n, C * H, W), right.transpose(1, 2))  # (n, C H, W')
    return torch.matmul(left[:, None], rows.view(n, C, H, -1))  # (n, C, H', W')


# The pipeline runs on chunks of images of about this many bytes of output (see _apply).
_CHUNK_BYTES = 1 << 19


@torch.no_grad()  # data preparation, not part of a model: the views carry no autograd history
def _apply(images: torch.Tensor, params: AugmentParams, out_hw: tuple[int, int]) -> torch.Tensor:
    """The SimCLR pipeline on checked inputs: crop/resize/flip, jitter and grayscale, blur.

    What is per image (sampling axes, colour maps, blur matrices) is computed for the whole
    batch first; the pixels are then processed a chunk of images at a time (about
    ``_CHUNK_BYTES`` of output), written straight into the result: crop, colour and clamp
    chunk by chunk, then the blur of the blurred images, a chunk of them at a time. A
    chunk's temporaries (sampling grid, cropped images, blurred images) stay in the CPU
    cache and are reused from the heap chunk after chunk. Whole-batch steps made several
    megabytes of fresh temporaries per call, and on CPU the page faults of fresh memory
    (about 4000 a call) took longer than the arithmetic of the pipeline.
    """
    device, dtype = images.device, images.dtype
    B = images.shape[0]
    oh, ow = out_hw
    out = torch.empty(B, 3, oh, ow, dtype=dtype, device=device)
    chunk = max(1, _CHUNK_BYTES // (3 * oh * ow * out.element_size()))
    # 1-2. random resized crop and flip: where each output column and row reads the input
    crop, flip = params.crop.to(device, dtype), params.flip.to(device)
    whole = _whole_images(images, crop, flip, out_hw)
    gx, gy = _sampling_axes(crop, flip, out_hw)  # (B, ow), (B, oh)
    # 3-4. colour jitter and grayscale: one affine colour map per image
    A, V = _colour_maps(params, device, dtype)  # (B, 3, 3) each
    for start in range(0, B, chunk):
        rows = slice(start, start + chunk)
        x = images[rows]
        if not whole:
            grid = _grid(gx[rows], gy[rows])  # (n, oh, ow, 2)
            x = F.grid_sample(x, grid, "bilinear", "border", align_corners=False)
        x = x.reshape(x.shape[0], 3, oh * ow)  # (n, 3, HW)
        bias = V[rows] @ x.mean(dim=2, keepdim=True)  # (n, 3, 1): V x_mean
        y = torch.baddbmm(bias, A[rows], x, out=out[rows].view(-1, 3, oh * ow))  # A x + bias
        y.clamp_(0.0, 1.0)  # once, after jitter and grayscale (see the module docstring)
    # 5. Gaussian blur of the images that get it, a chunk of them at a time
    blurred = (params.blur & (params.blur_sigma > 0)).to(device).nonzero().squeeze(1)  # (n,)
    if blurred.numel() > 0:
        sigma = params.blur_sigma.to(device, dtype)[blurred]
        kx = _blur_matrices(sigma, ow, min(oh, ow) - 1)  # (n, ow, ow)
        ky = kx if oh == ow else _blur_matrices(sigma, oh, min(oh, ow) - 1)  # (n, oh, oh)
        for start in range(0, blurred.numel(), chunk):
            part = slice(start, start + chunk)
            z = _separable(out.index_select(0, blurred[part]), ky[part], kx[part])
            out.index_copy_(0, blurred[part], z.clamp_(0.0, 1.0))  # clamp: rounding only
    return out


# ============================================================================ public calls
def apply(
    images: torch.Tensor,
    params: AugmentParams,
    config_or_output_size: AugmentConfig | int | None = None,
) -> torch.Tensor:
    """Augment ``images`` as ``params`` say; deterministic (no randomness here).

    images: (B, 3, H, W) floats in [0, 1]; params: B rows from :func:`sample_params`;
    config_or_output_size: an :class:`AugmentConfig` (its ``output_size`` is used), a side in
    pixels, or None to keep the input's size. Returns (B, 3, out, out) float32 in [0, 1].
    The order is SimCLR's (Chen et al. 2020, Appendix A): crop and resize, flip, colour
    jitter, grayscale, blur.
    """
    images = _check_images(images)
    if not isinstance(params, AugmentParams):
        raise SettingError(f"params must be AugmentParams, got {type(params).__name__}.")
    if params.batch_size != images.shape[0]:
        raise SettingError(
            f"params are for {params.batch_size} images but {images.shape[0]} were given."
        )
    return _apply(images, params, _output_hw(images, config_or_output_size))


def augment(
    images: torch.Tensor, config: AugmentConfig, generator: torch.Generator
) -> tuple[torch.Tensor, AugmentParams]:
    """One random view of each image: ``(views, params)``, see :func:`sample_params`."""
    images = _check_images(images)
    config = _check_config(config)
    out_hw = _output_hw(images, config)
    params = sample_params(images.shape[0], config, generator)
    return _apply(images, params, out_hw), params


def two_views(
    images: torch.Tensor, config: AugmentConfig, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, AugmentParams, AugmentParams]:
    """The positive pairs of SimCLR: two independent views x_hat, x_tilde of every image.

    Returns ``(x_hat, x_tilde, params_hat, params_tilde)``; row i of x_hat and x_tilde come
    from image i (notes, Section 14.2). params_hat is drawn first, then params_tilde, from
    the same generator; both views are computed in one batched call of 2B images.
    """
    images = _check_images(images)
    config = _check_config(config)
    out_hw = _output_hw(images, config)
    B = images.shape[0]
    params_hat = sample_params(B, config, generator)
    params_tilde = sample_params(B, config, generator)
    both = _apply(
        torch.cat([images, images]), AugmentParams.cat([params_hat, params_tilde]), out_hw
    )  # (2B, 3, oh, ow)
    return both[:B], both[B:], params_hat, params_tilde

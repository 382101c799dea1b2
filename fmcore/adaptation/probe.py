"""Reading out a frozen representation phi(x): embed the images, then a linear probe (on
standardised features), k nearest neighbours (cosine) and a 2-D PCA to look at, with the
raw pixels as the baseline representation (notes Section 14.1: adaptation with theta fixed).

One of each: the pretraining loop's evaluation
(:func:`fmcore.vision.pretrain.evaluate_representation`), the adaptation lesson and the
pretext tasks' transfer all use these."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fmcore.data.shapes import to_float
from fmcore.errors import SettingError
from fmcore.validate import bounded_int

__all__ = [
    "embed",
    "fit_linear_probe",
    "knn_accuracy",
    "linear_probe_accuracy",
    "pca_2d",
    "raw_pixel_features",
]

MAX_PROBE_STEPS = 5_000


MAX_EMBED_BATCH = 4096


def _check_features(name: str, z: object, rows: int | None = None) -> torch.Tensor:
    if not isinstance(z, torch.Tensor) or z.ndim != 2 or not z.is_floating_point():
        raise SettingError(f"{name} must be a float tensor of shape (N, m).")
    if z.shape[0] < 1 or z.shape[1] < 1:
        raise SettingError(f"{name} needs at least one row and one column, got {tuple(z.shape)}.")
    if rows is not None and z.shape[0] != rows:
        raise SettingError(f"{name} has {z.shape[0]} rows; expected {rows}.")
    if not bool(torch.isfinite(z).all()):
        raise SettingError(f"{name} contains NaN or infinite values.")
    return z


def _check_labels(name: str, y: object, rows: int) -> torch.Tensor:
    if not isinstance(y, torch.Tensor) or y.ndim != 1 or y.dtype != torch.int64:
        raise SettingError(f"{name} must be an int64 tensor of shape (N,).")
    if y.shape[0] != rows:
        raise SettingError(f"{name} has {y.shape[0]} labels for {rows} rows of features.")
    if bool((y < 0).any()):
        raise SettingError(f"{name} must be class indices >= 0.")
    return y


def _check_split(train_z, train_y, test_z, test_y) -> tuple[torch.Tensor, ...]:
    """Features and labels of a train/test split, checked together (SettingError if not)."""
    train_z = _check_features("train_z", train_z)
    test_z = _check_features("test_z", test_z)
    train_y = _check_labels("train_y", train_y, train_z.shape[0])
    test_y = _check_labels("test_y", test_y, test_z.shape[0])
    if train_z.shape[1] != test_z.shape[1]:
        raise SettingError("train_z and test_z must have the same number of columns.")
    return train_z, train_y, test_z, test_y


def _images_as_float(images: object) -> torch.Tensor:
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] != 3:
        raise SettingError("images must be a tensor of shape (N, 3, H, W).")
    if images.dtype == torch.uint8:
        return to_float(images)
    if not images.is_floating_point():
        raise SettingError(f"images must be uint8 or float in [0, 1], got {images.dtype}.")
    return images.float()


def embed(encoder: nn.Module, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """phi(x) for every image: (N, 3, S, S) uint8 (or float in [0, 1]) -> (N, m) float32.

    Runs in eval mode (BatchNorm uses its running statistics, so each image's features do
    not depend on the others) under ``torch.no_grad``, ``batch_size`` images at a time, and
    puts the encoder back in the mode it was in.
    """
    batch_size = bounded_int("batch size", batch_size, 1, MAX_EMBED_BATCH)
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[0] < 1:
        raise SettingError("images must be a tensor of shape (N, 3, H, W) with N >= 1.")
    was_training = encoder.training
    encoder.eval()
    try:
        with torch.no_grad():
            parts = [
                encoder(_images_as_float(images[i : i + batch_size])).float()
                for i in range(0, images.shape[0], batch_size)
            ]
    finally:
        encoder.train(was_training)
    return torch.cat(parts)  # (N, m)


def raw_pixel_features(images: torch.Tensor) -> torch.Tensor:
    """The baseline representation phi(x) = x: pixels in [0, 1], flattened to (N, 3 H W)."""
    return _images_as_float(images).flatten(1)


def knn_accuracy(
    train_z: torch.Tensor,
    train_y: torch.Tensor,
    test_z: torch.Tensor,
    test_y: torch.Tensor,
    k: int = 5,
) -> float:
    """Accuracy of a k-nearest-neighbour classifier with cosine similarity.

    Each test point takes the majority class of its k most cosine-similar training points;
    a tie is broken by the larger total similarity of the tied classes' neighbours.
    train_z (n, m), train_y (n,) int64, test_z (t, m), test_y (t,) int64.
    """
    train_z, train_y, test_z, test_y = _check_split(train_z, train_y, test_z, test_y)
    k = bounded_int("k", k, 1, train_z.shape[0])
    C = int(max(train_y.max(), test_y.max())) + 1
    sims = F.normalize(test_z.double(), dim=1) @ F.normalize(train_z.double(), dim=1).T  # (t, n)
    top_sim, top_idx = sims.topk(k, dim=1)  # (t, k)
    votes = F.one_hot(train_y[top_idx], C).double()  # (t, k, C)
    # counts differ by integers; the similarity term lies in (-1/2, 1/2) and only breaks ties
    score = votes.sum(1) + (votes * top_sim[:, :, None]).sum(1) / (2 * k + 1)  # (t, C)
    return float((score.argmax(1) == test_y).double().mean())


def _standardise(train: torch.Tensor, test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Both sets shifted and scaled by the training set's per-feature mean and std."""
    mean = train.mean(0, keepdim=True)
    std = train.std(0, unbiased=False, keepdim=True).clamp_min(1e-6)
    return (train - mean) / std, (test - mean) / std


def fit_linear_probe(
    train_z: torch.Tensor,
    train_y: torch.Tensor,
    steps: int,
    generator: torch.Generator,
    num_classes: int | None = None,
    weight_decay: float = 1e-3,
    learning_rate: float = 0.05,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Multinomial logistic regression on frozen features (Eq. 14.1, cross-entropy loss).

    Minimises ``(1/n) sum_i CE(y_i, W^T z_i + b) + weight_decay |W|^2`` over W (m, C) and b
    (C,) with ``steps`` full-batch Adam steps from small random weights drawn from
    ``generator``. The features are used as given (standardise them first). Returns (W, b).
    """
    train_z = _check_features("train_z", train_z)
    train_y = _check_labels("train_y", train_y, train_z.shape[0])
    steps = bounded_int("probe steps", steps, 1, MAX_PROBE_STEPS)
    if not isinstance(generator, torch.Generator):
        raise SettingError(f"generator must be a torch.Generator, got {generator!r}.")
    C = int(train_y.max()) + 1 if num_classes is None else num_classes
    z = train_z.detach().float()
    m = z.shape[1]
    W = (0.01 * torch.randn(m, C, generator=generator)).requires_grad_()  # (m, C)
    b = torch.zeros(C, requires_grad=True)  # (C,)
    opt = torch.optim.Adam([W, b], lr=learning_rate)
    with torch.enable_grad():
        for _ in range(steps):
            logits = z @ W + b  # (n, C)
            loss = F.cross_entropy(logits, train_y) + weight_decay * (W * W).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return W.detach(), b.detach()


def linear_probe_accuracy(
    train_z: torch.Tensor,
    train_y: torch.Tensor,
    test_z: torch.Tensor,
    test_y: torch.Tensor,
    steps: int = 200,
    generator: torch.Generator | None = None,
) -> float:
    """Test accuracy of a linear probe w^T phi(x) trained on frozen features (Eq. 14.1).

    The features are standardised with the training set's per-feature mean and standard
    deviation, then :func:`fit_linear_probe` fits a multinomial logistic regression (the
    cross-entropy version of Eq. 14.1 with one weight vector per class).
    ``generator`` draws the probe's initial weights (None: seed 0).
    """
    train_z, train_y, test_z, test_y = _check_split(train_z, train_y, test_z, test_y)
    g = generator if generator is not None else torch.Generator().manual_seed(0)
    a, t = _standardise(train_z.double(), test_z.double())
    C = int(max(train_y.max(), test_y.max())) + 1
    W, b = fit_linear_probe(a.float(), train_y, steps, g, num_classes=C)
    predictions = (t.float() @ W + b).argmax(1)
    return float((predictions == test_y).double().mean())


def pca_2d(z: torch.Tensor) -> torch.Tensor:
    """The first two principal components of the rows of z: (N, m) -> (N, 2) float32.

    Centres the rows, takes ``torch.linalg.svd`` of the centred matrix and projects on the
    two leading right singular vectors. Singular vectors are defined up to sign, and the
    sign an SVD routine returns is arbitrary; here each direction is flipped so that its
    entry of largest absolute value is positive, which fixes the picture from call to call
    (and does not depend on the order of the rows). Columns beyond the rank are 0.
    """
    z = _check_features("z", z).detach().double()
    zc = z - z.mean(0, keepdim=True)  # (N, m)
    out = torch.zeros(z.shape[0], 2, dtype=torch.float64)
    if z.shape[0] < 2:
        return out.float()
    _, S, Vh = torch.linalg.svd(zc, full_matrices=False)  # Vh (r, m)
    for k in range(min(2, Vh.shape[0])):
        if S[k] <= 1e-12 * max(float(S[0]), 1e-300):
            break
        v = Vh[k]  # (m,)
        v = v * torch.sign(v[v.abs().argmax()])
        out[:, k] = zc @ v
    return out.float()

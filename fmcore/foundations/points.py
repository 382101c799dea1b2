"""Small 2-parameter datasets for the gradient-descent lesson.

Each dataset pairs examples with a model that has exactly two parameters theta = (theta1,
theta2), so that the loss l(theta) can be drawn as a contour over the plane:

- ``cats_dogs``: two classes of 2-D points (a stand-in for the slides' cat/dog features),
  classified by the sign of theta . x with the logistic loss d_k = log(1 + exp(-s_k theta . x_k)),
  s_k = +1 for a dog and -1 for a cat. The features are scores read off a picture: ear
  pointiness (cats' ears are the pointier, dogs' often floppy) and fur length (long or short
  in both kinds of animal, so it tells them apart no better than chance).
- ``house_prices`` and ``house_prices_raw``: a price (in 100 k€, always positive) predicted
  from a size (in 100 m²) by the line theta1 * size + theta2, with the squared error
  d_k = (theta . x_k - y_k)^2, x_k = (size_k, 1). The first centres the sizes (size minus the
  mean 200 m²); the raw variant keeps them uncentred, which stretches the bowl into a narrow
  valley. Both draw the same kind of houses: only the size's origin differs.

The examples are stored in a *correlated order* (all cats, then all dogs; houses sorted by
size), the situation of the lecture notes' remark at the end of chapter 13 (on ICA, just
before chapter 14): visiting correlated examples in order can be slower than shuffled.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from fmcore.errors import SettingError


@dataclass(frozen=True)
class PointsSpec:
    """What a dataset is, independent of the random draw."""

    key: str
    title: str  # shown in the page's picker
    kind: str  # "classification" (logistic loss) or "regression" (squared error)
    feature_names: tuple[str, str]  # the two columns of x_k
    target_name: str  # what y_k is: the class, or the price and its unit
    theta_names: tuple[str, str]  # what theta1 and theta2 mean
    view: tuple[float, float, float, float]  # theta1_min, theta1_max, theta2_min, theta2_max
    default_learning_rate: float  # alpha that shows a clean descent
    default_start: tuple[float, float]  # a start far enough from the minimum to see the path
    n_examples: int  # K


SPECS: dict[str, PointsSpec] = {
    spec.key: spec
    for spec in (
        PointsSpec(
            key="cats_dogs",
            title="Cats vs dogs (logistic loss)",
            kind="classification",
            feature_names=("ear pointiness (score)", "fur length (score)"),
            target_name="dog (+1) or cat (−1)",
            theta_names=("weight of ear pointiness", "weight of fur length"),
            view=(-6.0, 3.0, -3.5, 3.5),
            default_learning_rate=0.03,
            default_start=(2.0, 3.0),
            n_examples=40,
        ),
        PointsSpec(
            key="house_prices",
            title="House prices (squared error)",
            kind="regression",
            feature_names=("size − 200 m² (100 m², centred)", "constant 1"),
            target_name="price (100 k€)",
            theta_names=("slope", "intercept"),
            view=(-2.0, 4.0, 0.5, 6.5),
            default_learning_rate=0.0075,
            default_start=(-1.5, 6.0),
            n_examples=30,
        ),
        PointsSpec(
            key="house_prices_raw",
            title="House prices, sizes not centred (narrow valley)",
            kind="regression",
            feature_names=("size (100 m²)", "constant 1"),
            target_name="price (100 k€)",
            theta_names=("slope", "intercept"),
            view=(-1.0, 4.0, -3.0, 7.0),
            default_learning_rate=0.0042,
            default_start=(-0.5, 6.0),
            n_examples=30,
        ),
    )
}


@dataclass(frozen=True)
class PointsData:
    """One draw of a dataset: x_k in rows of ``x`` and targets in ``y``, in stored order."""

    spec: PointsSpec
    x: torch.Tensor  # (K, 2) float64, the inputs theta is dotted with
    y: torch.Tensor  # (K,) float64: +1 dog / -1 cat, or the price (100 k€)

    @property
    def n(self) -> int:
        return int(self.x.shape[0])


def make_points(key: str, generator: torch.Generator) -> PointsData:
    """Draw dataset ``key`` with ``generator`` (same seed, same points), in correlated order."""
    if key not in SPECS:
        raise SettingError(f"Unknown dataset {key!r}; choose one of {', '.join(SPECS)}.")
    spec = SPECS[key]
    k = spec.n_examples
    g = generator
    if spec.kind == "classification":
        half = k // 2
        # Ears tell cats (pointier, +0.7) from dogs (-0.7); fur (1.2 on average for both)
        # does not. The clouds overlap, so l(theta) has a finite minimum inside the view
        # (theta1 < 0: pointier ears make "dog" less likely); and cats pull theta2 down while
        # dogs pull it up, so visiting all cats then all dogs zig-zags.
        spread = 0.9
        cat = torch.tensor([0.7, 1.2], dtype=torch.float64)
        dog = torch.tensor([-0.7, 1.2], dtype=torch.float64)
        cats = cat + spread * torch.randn(half, 2, generator=g, dtype=torch.float64)
        dogs = dog + spread * torch.randn(k - half, 2, generator=g, dtype=torch.float64)
        x = torch.cat([cats, dogs])  # (K, 2): all cats first, then all dogs
        y = torch.cat([-torch.ones(half), torch.ones(k - half)]).to(torch.float64)
        return PointsData(spec, x, y)
    # 150 k€ per 100 m² plus 50 k€, give or take 30 k€ (a normal cut at 3 standard
    # deviations): 125 to 575 k€ before the noise, never below 35 k€ with it.
    if key == "house_prices":
        size = torch.rand(k, generator=g, dtype=torch.float64) * 3.0 - 1.5  # size - 200 m²
        mean = 1.5 * size + 3.5
    else:
        size = torch.rand(k, generator=g, dtype=torch.float64) * 3.0 + 0.5  # 50 to 350 m²
        mean = 1.5 * size + 0.5
    price = mean + 0.3 * torch.randn(k, generator=g, dtype=torch.float64).clamp(-3.0, 3.0)
    order = torch.argsort(size)  # sorted by size: neighbours in the list are alike
    size, price = size[order], price[order]
    x = torch.stack([size, torch.ones_like(size)], dim=1)  # (K, 2): (size, 1)
    return PointsData(spec, x, price)

"""Gradient descent on a loss of two parameters (course slides, "Gradient descent").

The slides define the loss as a sum over the K training examples,

    l(theta) = sum_k d_k(theta),

and gradient descent as the repeated update

    theta <- theta - alpha * grad l(theta).

Stochastic gradient descent (SGD) replaces grad l by an estimate from a mini-batch B of the
examples, (K / |B|) * sum_{k in B} grad d_k(theta), which has the same expectation, so the
same alpha means the same thing in both. Gradients come from autograd; the tests check them
against finite differences.

``descend`` is a generator of events (rule 3 of DESIGN.md); ``run_descent`` collects them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from fmcore.errors import SettingError
from fmcore.foundations.points import PointsData
from fmcore.validate import bounded_int, finite_float

MAX_STEPS = 5000  # enough for any demo; keeps one rerun well under a second
MAX_LEARNING_RATE = 100.0
MAX_START = 100.0
# A loss this many times its starting value (or a non-finite one) counts as diverged.
DIVERGENCE_FACTOR = 1e3
ORDERS = ("shuffled", "in order")


@dataclass(frozen=True)
class DescentConfig:
    """Settings of one descent; ``validated()`` enforces the limits whatever the widgets allow."""

    learning_rate: float = 0.05  # alpha in theta <- theta - alpha * grad
    steps: int = 20  # how many updates to take
    batch_size: int | None = None  # None: full batch (GD); b: mini-batches of b examples (SGD)
    order: str = "shuffled"  # SGD only: visit examples "shuffled" each epoch or "in order"
    start: tuple[float, float] = (-3.0, 3.0)  # theta_0

    def validated(self, n_examples: int) -> DescentConfig:
        """A copy with every field checked; raises SettingError with a clear message."""
        alpha = finite_float("The learning rate α", self.learning_rate, 0.0, MAX_LEARNING_RATE)
        if alpha <= 0:
            raise SettingError("The learning rate α must be positive.")
        steps = bounded_int("The number of steps", self.steps, 0, MAX_STEPS)
        batch = self.batch_size
        if batch is not None:
            batch = bounded_int("The batch size", batch, 1, n_examples)
        if self.order not in ORDERS:
            raise SettingError(f"The order must be one of {ORDERS}, got {self.order!r}.")
        try:
            t1, t2 = self.start
        except (TypeError, ValueError):
            raise SettingError("The start point must be two numbers (theta1, theta2).") from None
        start = (
            finite_float("theta1 at the start", t1, -MAX_START, MAX_START),
            finite_float("theta2 at the start", t2, -MAX_START, MAX_START),
        )
        return DescentConfig(alpha, steps, batch, self.order, start)


@dataclass(frozen=True)
class Step:
    """One update: theta_{t-1} -> theta_t, with the gradient estimate that made it."""

    step: int  # t
    theta: tuple[float, float]  # theta_t, after the update
    loss: float  # l(theta_t), the full loss (sum over all K examples)
    gradient: tuple[float, float]  # the gradient estimate used at theta_{t-1}
    batch: tuple[int, ...]  # indices of the examples that made the estimate


@dataclass(frozen=True)
class Diverged:
    """The loss blew up at step ``step``: the descent stops there."""

    step: int
    loss: float
    message: str


@dataclass(frozen=True)
class DescentPath:
    """Everything a page needs to draw a descent, collected from ``descend``."""

    thetas: torch.Tensor  # (S+1, 2): theta_0 .. theta_S (finite values only)
    losses: torch.Tensor  # (S+1,): l(theta_0) .. l(theta_S)
    gradients: torch.Tensor  # (S, 2): the estimate used for each update
    batches: tuple[tuple[int, ...], ...]  # S entries
    diverged: Diverged | None

    @property
    def steps(self) -> int:
        return int(self.gradients.shape[0])

    @property
    def rising(self) -> bool:
        """True when the loss is now higher than at the start: a sign alpha is too large."""
        return bool(self.losses[-1] > self.losses[0])


def per_example_losses(theta: torch.Tensor, data: PointsData) -> torch.Tensor:
    """d_k(theta) for every example k; theta (..., 2) -> (..., K).

    Classification: d_k = log(1 + exp(-s_k theta . x_k)), the cross-entropy of the logistic
    model p(dog | x) = sigmoid(theta . x). Regression: d_k = (theta . x_k - y_k)^2.
    """
    score = theta @ data.x.T  # (..., K)
    if data.spec.kind == "classification":
        return torch.nn.functional.softplus(-data.y * score)  # stable log(1 + exp(.))
    return (score - data.y) ** 2


def total_loss(theta: torch.Tensor, data: PointsData) -> torch.Tensor:
    """l(theta) = sum_k d_k(theta); theta (..., 2) -> (...)."""
    return per_example_losses(theta, data).sum(dim=-1)


def loss_and_gradient(
    theta: tuple[float, float] | torch.Tensor,
    data: PointsData,
    batch: torch.Tensor | None = None,
) -> tuple[float, torch.Tensor]:
    """The loss estimate and its gradient at ``theta``, by autograd.

    With ``batch`` None this is l(theta) and grad l(theta). With a batch of indices it is the
    SGD estimate (K / |B|) * sum_{k in B} d_k(theta), an unbiased estimate of l(theta).
    """
    t = torch.as_tensor(theta, dtype=torch.float64).detach().clone().requires_grad_(True)
    d = per_example_losses(t, data)  # (K,)
    estimate = d.sum() if batch is None else d[batch].sum() * (data.n / len(batch))
    (grad,) = torch.autograd.grad(estimate, t)
    return float(estimate.detach()), grad.detach()  # grad: (2,)


def smoothness(data: PointsData) -> float:
    """lambda_max, the largest curvature of l(theta): the top eigenvalue of (a bound on) its
    Hessian. (Optimisation texts call it L, the smoothness constant; the page writes
    lambda_max, since the slides' L(theta) is the loss.)

    Squared error: the Hessian is exactly 2 sum_k x_k x_k^T. Logistic loss: its Hessian is at
    most (1/4) sum_k x_k x_k^T. Along the top eigenvector l is a parabola (lambda_max / 2) u^2
    and one step maps u to (1 - alpha lambda_max) u, so full-batch GD decreases l at every
    step when alpha < 2 / lambda_max, and on the squared error it diverges when
    alpha > 2 / lambda_max.
    """
    scatter = data.x.T @ data.x  # (2, 2): sum_k x_k x_k^T
    factor = 0.25 if data.spec.kind == "classification" else 2.0
    return float(torch.linalg.eigvalsh(factor * scatter).max())


def stable_learning_rate(data: PointsData) -> float:
    """2 / lambda_max: below it full-batch GD cannot blow up (see ``smoothness``)."""
    return 2.0 / smoothness(data)


def descend(
    data: PointsData, config: DescentConfig, generator: torch.Generator
) -> Iterator[Step | Diverged]:
    """Yield one ``Step`` per update of theta <- theta - alpha * g, g the (estimated) gradient.

    Full batch when ``config.batch_size`` is None; otherwise SGD over epochs, each epoch
    visiting every example once in mini-batches, shuffled with ``generator`` or in the stored
    (correlated) order. Stops early with a ``Diverged`` event if the loss blows up.
    """
    config = config.validated(data.n)
    theta = torch.tensor(config.start, dtype=torch.float64)  # (2,)
    start_loss = float(total_loss(theta, data))
    ceiling = DIVERGENCE_FACTOR * max(start_loss, 1.0)
    queue: list[torch.Tensor] = []  # the mini-batches left in this epoch
    for t in range(1, config.steps + 1):
        if config.batch_size is None:
            batch = None
        else:
            if not queue:
                if config.order == "shuffled":
                    order = torch.randperm(data.n, generator=generator)
                else:
                    order = torch.arange(data.n)
                queue = list(torch.split(order, config.batch_size))
            batch = queue.pop(0)
        _, grad = loss_and_gradient(theta, data, batch)
        theta = theta - config.learning_rate * grad  # the update of the slides
        loss = float(total_loss(theta, data))
        if not (loss < ceiling) or not bool(torch.isfinite(theta).all()):  # catches NaN too
            yield Diverged(t, loss, _divergence_message(t, start_loss, loss, config, data))
            return
        indices = tuple(range(data.n)) if batch is None else tuple(batch.tolist())
        yield Step(t, (float(theta[0]), float(theta[1])), loss, (float(grad[0]), float(grad[1])),
                   indices)


def _divergence_message(
    t: int, start_loss: float, loss: float, config: DescentConfig, data: PointsData
) -> str:
    # Shown to students as is: the symbol of the slides (α), and "1 step", not "1 steps".
    reached = f"{loss:.3g}" if math.isfinite(loss) else "infinity"
    steps = "1 step" if t == 1 else f"{t} steps"
    return (
        f"Diverged: with α = {config.learning_rate:g} the loss grew from {start_loss:.3g} "
        f"to {reached} in {steps}, so the descent was stopped. Each step overshoots the "
        f"valley by more than it gains. Try α below 2/λ_max = {stable_learning_rate(data):.3g}."
    )


def run_descent(data: PointsData, config: DescentConfig, generator: torch.Generator) -> DescentPath:
    """Run ``descend`` to the end and collect its events into a ``DescentPath``."""
    config = config.validated(data.n)
    start = torch.tensor(config.start, dtype=torch.float64)
    thetas, losses = [start], [float(total_loss(start, data))]
    gradients: list[tuple[float, float]] = []
    batches: list[tuple[int, ...]] = []
    diverged = None
    for event in descend(data, config, generator):
        if isinstance(event, Diverged):
            diverged = event
            break
        thetas.append(torch.tensor(event.theta, dtype=torch.float64))
        losses.append(event.loss)
        gradients.append(event.gradient)
        batches.append(event.batch)
    return DescentPath(
        thetas=torch.stack(thetas),
        losses=torch.tensor(losses, dtype=torch.float64),
        gradients=torch.tensor(gradients, dtype=torch.float64).reshape(-1, 2),
        batches=tuple(batches),
        diverged=diverged,
    )


def loss_grid(data: PointsData, resolution: int = 61) -> tuple[torch.Tensor, ...]:
    """l(theta) on a resolution x resolution grid over the dataset's view.

    Returns (theta1 values (G,), theta2 values (G,), losses (G, G) indexed [theta2, theta1]).
    """
    resolution = bounded_int("The grid resolution", resolution, 2, 301)
    a1, b1, a2, b2 = data.spec.view
    t1 = torch.linspace(a1, b1, resolution, dtype=torch.float64)  # (G,)
    t2 = torch.linspace(a2, b2, resolution, dtype=torch.float64)  # (G,)
    grid = torch.stack(torch.meshgrid(t2, t1, indexing="ij")[::-1], dim=-1)  # (G, G, 2)
    return t1, t2, total_loss(grid, data)  # losses: (G, G)


@dataclass(frozen=True)
class OrderRun:
    """One curve of ``compare_orders``: the loss after each update, placed in epochs."""

    epochs: torch.Tensor  # (S+1,): x of each loss, in passes over the K examples
    losses: torch.Tensor  # (S+1,): l(theta_0) .. l(theta_S)
    diverged: Diverged | None  # set when the loss blew up and the run was stopped

    @property
    def last_step(self) -> int:
        """The last update kept: the run stopped here if it diverged."""
        return len(self.losses) - 1

    def outcome(self) -> str:
        """How the run ended, in words: its final loss, or where it diverged and stopped.

        A stopped run's last loss is no result: it is where the descent was cut off, often
        at the start, so it is not given as a final loss that looks like the best."""
        if self.diverged is None:
            return f"final l = {float(self.losses[-1]):.4g}"
        where = f"step {self.last_step}"
        epoch = float(self.epochs[-1])
        if epoch != self.last_step:  # SGD: several steps per epoch, say which epoch too
            where += f" (epoch {epoch:.3g})"
        return f"diverged, stopped at {where}"


def compare_orders(
    data: PointsData,
    learning_rate: float,
    batch_size: int,
    epochs: int,
    start: tuple[float, float],
    seed: int,
) -> dict[str, OrderRun]:
    """Loss curves of SGD visiting examples shuffled vs in stored order, and of full-batch GD.

    The lecture notes (a remark at the end of chapter 13, on ICA, just before chapter 14) say
    that when successive examples are correlated, visiting them in a randomly shuffled order
    sometimes speeds up the convergence of SGD. All three runs start at ``start`` with the
    same alpha; the x-axis is in epochs (passes over the K examples), so each curve has seen
    the same number of examples at the same x.

    Returns {name: OrderRun}; a diverged run stops where it blew up and says so.
    """
    epochs = bounded_int("The number of epochs", epochs, 1, 200)
    batch_size = bounded_int("The batch size", batch_size, 1, data.n)
    per_epoch = -(-data.n // batch_size)  # ceil(K / b) updates per epoch
    runs = {}
    for name, batch, order, steps in (
        ("SGD, shuffled", batch_size, "shuffled", epochs * per_epoch),
        ("SGD, in order", batch_size, "in order", epochs * per_epoch),
        ("full-batch GD", None, "shuffled", epochs),
    ):
        config = DescentConfig(learning_rate, steps, batch, order, start)
        generator = torch.Generator().manual_seed(seed)
        path = run_descent(data, config, generator)
        updates_per_epoch = 1 if batch is None else per_epoch
        x = torch.arange(len(path.losses), dtype=torch.float64) / updates_per_epoch
        runs[name] = OrderRun(x, path.losses, path.diverged)
    return runs


def learning_rate_choices() -> tuple[float, ...]:
    """alpha values for a log-scale slider: eight per decade from 1e-4 to 1, three digits."""
    return tuple(float(f"{10 ** (k / 8):.3g}") for k in range(-32, 1))


def snap_learning_rate(value: float) -> float:
    """The choice of ``learning_rate_choices`` nearest to ``value`` on a log scale."""
    value = finite_float("The learning rate α", value, 1e-12, MAX_LEARNING_RATE)
    return min(learning_rate_choices(), key=lambda a: abs(math.log(a / value)))

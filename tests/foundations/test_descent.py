"""The gradient-descent lesson's core: losses, gradients, steps, divergence, SGD orders."""

import math

import pytest
import torch

from fmcore.errors import SettingError
from fmcore.foundations import descent
from fmcore.foundations.descent import DescentConfig, run_descent
from fmcore.foundations.points import SPECS, PointsData, make_points


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def tiny(kind, x, y):
    spec = SPECS["cats_dogs" if kind == "classification" else "house_prices"]
    return PointsData(spec, torch.tensor(x, dtype=torch.float64),
                      torch.tensor(y, dtype=torch.float64))


@pytest.mark.parametrize("key", list(SPECS))
def test_loss_is_the_sum_of_per_example_losses_written_from_the_formula(key):
    data = make_points(key, gen(3))
    theta = torch.tensor([0.7, -0.4], dtype=torch.float64)
    expected = 0.0
    for xk, yk in zip(data.x.tolist(), data.y.tolist(), strict=True):
        score = theta[0].item() * xk[0] + theta[1].item() * xk[1]
        if data.spec.kind == "classification":
            expected += math.log(1 + math.exp(-yk * score))
        else:
            expected += (score - yk) ** 2
    assert float(descent.total_loss(theta, data)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("key", list(SPECS))
@pytest.mark.parametrize("batch", [None, [0, 3, 7]])
def test_autograd_gradient_matches_finite_differences(key, batch):
    data = make_points(key, gen(1))
    index = None if batch is None else torch.tensor(batch)
    for theta in ([0.3, -1.2], [2.0, 0.5], [-1.5, 2.5]):
        _, grad = descent.loss_and_gradient(theta, data, index)
        h = 1e-6
        for i in range(2):
            up, down = list(theta), list(theta)
            up[i] += h
            down[i] -= h
            numeric = (descent.loss_and_gradient(up, data, index)[0]
                       - descent.loss_and_gradient(down, data, index)[0]) / (2 * h)
            assert float(grad[i]) == pytest.approx(numeric, rel=1e-6, abs=1e-6)


def test_minibatch_estimate_is_unbiased():
    """Averaged over every batch of an epoch, (K/|B|) sum_B grad d_k is exactly grad l."""
    data = make_points("house_prices", gen(0))
    theta = [0.5, 0.5]
    _, full = descent.loss_and_gradient(theta, data)
    batches = torch.split(torch.arange(data.n), 5)
    mean = sum(descent.loss_and_gradient(theta, data, b)[1] for b in batches) / len(batches)
    assert torch.allclose(mean, full, rtol=1e-12)


def test_known_answer_step_squared_error():
    # d = (theta . x - y)^2 with x = (1, 1), y = 2 at theta = 0: grad = 2 * (0 - 2) * x = (-4, -4)
    data = tiny("regression", [[1.0, 1.0]], [2.0])
    path = run_descent(data, DescentConfig(0.1, 1, None, "shuffled", (0.0, 0.0)), gen())
    assert path.gradients[0].tolist() == pytest.approx([-4.0, -4.0])
    assert path.thetas[1].tolist() == pytest.approx([0.4, 0.4])
    assert float(path.losses[0]) == pytest.approx(4.0)
    assert float(path.losses[1]) == pytest.approx((0.8 - 2.0) ** 2)


def test_known_answer_step_logistic():
    # d = log(1 + exp(-theta . x)) for a dog at x = (1, 0): at theta = 0 the gradient is -x / 2
    data = tiny("classification", [[1.0, 0.0]], [1.0])
    path = run_descent(data, DescentConfig(1.0, 1, None, "shuffled", (0.0, 0.0)), gen())
    assert path.gradients[0].tolist() == pytest.approx([-0.5, 0.0])
    assert path.thetas[1].tolist() == pytest.approx([0.5, 0.0])
    assert float(path.losses[1]) == pytest.approx(math.log(1 + math.exp(-0.5)))


def test_full_batch_gd_reaches_the_least_squares_solution():
    data = make_points("house_prices", gen(2))
    alpha = 0.9 * descent.stable_learning_rate(data)
    path = run_descent(data, DescentConfig(alpha, 400, None, "shuffled", (-1.5, 3.0)), gen())
    exact = torch.linalg.lstsq(data.x, data.y.unsqueeze(1)).solution.squeeze(1)
    assert path.diverged is None
    assert torch.allclose(path.thetas[-1], exact, atol=1e-6)
    assert bool((path.losses[1:] <= path.losses[:-1] + 1e-12).all())  # never goes up


@pytest.mark.parametrize("key", ["house_prices", "house_prices_raw"])
def test_the_stability_limit_two_over_L_is_sharp_on_squared_error(key):
    data = make_points(key, gen(0))
    limit = descent.stable_learning_rate(data)
    below = run_descent(data, DescentConfig(0.95 * limit, 300, None, "shuffled", (-0.5, 3)), gen())
    above = run_descent(data, DescentConfig(1.1 * limit, 300, None, "shuffled", (-0.5, 3)), gen())
    assert below.diverged is None and below.losses[-1] < below.losses[0]
    assert above.diverged is not None
    assert "Diverged" in above.diverged.message and "α" in above.diverged.message


def test_divergence_is_caught_before_any_nan_or_inf_reaches_the_path():
    data = make_points("house_prices_raw", gen(0))
    path = run_descent(data, DescentConfig(100.0, 5000, None, "shuffled", (0, 0)), gen())
    assert path.diverged is not None and path.diverged.step <= 5
    assert torch.isfinite(path.thetas).all() and torch.isfinite(path.losses).all()
    events = list(descent.descend(data, DescentConfig(100.0, 50, None, "shuffled", (0, 0)), gen()))
    assert isinstance(events[-1], descent.Diverged)
    assert all(isinstance(e, descent.Step) for e in events[:-1])


def test_divergence_message_writes_alpha_as_the_symbol_and_counts_steps_in_words():
    data = make_points("house_prices", gen(0))
    one = run_descent(data, DescentConfig(1.0, 10, None, "shuffled", (-0.5, 3.0)), gen())
    assert one.diverged is not None and one.diverged.step == 1
    assert "with α = 1 " in one.diverged.message and "in 1 step," in one.diverged.message
    assert "alpha" not in one.diverged.message and "1 steps" not in one.diverged.message
    limit = descent.stable_learning_rate(data)
    later = run_descent(data, DescentConfig(1.1 * limit, 300, None, "shuffled", (-0.5, 3)), gen())
    assert f"in {later.diverged.step} steps," in later.diverged.message
    assert later.diverged.step > 1


def test_sgd_is_deterministic_per_seed():
    data = make_points("cats_dogs", gen(0))
    config = DescentConfig(0.03, 40, 4, "shuffled", (-2.0, 3.0))
    a, b = run_descent(data, config, gen(5)), run_descent(data, config, gen(5))
    c = run_descent(data, config, gen(6))
    assert torch.equal(a.thetas, b.thetas) and a.batches == b.batches
    assert not torch.equal(a.thetas, c.thetas)


def test_same_seed_same_data_and_different_seed_different_data():
    assert torch.equal(make_points("cats_dogs", gen(4)).x, make_points("cats_dogs", gen(4)).x)
    assert not torch.equal(make_points("cats_dogs", gen(4)).x, make_points("cats_dogs", gen(5)).x)


def test_in_order_visits_the_stored_order_and_each_epoch_covers_every_example():
    data = make_points("cats_dogs", gen(0))
    ordered = run_descent(data, DescentConfig(0.01, 20, 4, "in order", (0, 0)), gen())
    assert ordered.batches[0] == (0, 1, 2, 3) and ordered.batches[10] == (0, 1, 2, 3)
    shuffled = run_descent(data, DescentConfig(0.01, 10, 4, "shuffled", (0, 0)), gen())
    assert sorted(i for b in shuffled.batches for i in b) == list(range(40))


@pytest.mark.parametrize("key", ["cats_dogs", "house_prices_raw"])
def test_shuffled_order_converges_faster_on_correlated_data(key):
    """The notes' remark (end of chapter 13, on ICA), averaged over seeds and the last epoch."""
    spec = SPECS[key]
    shuffled, ordered = [], []
    for seed in range(8):
        data = make_points(key, gen(seed))
        curves = descent.compare_orders(data, spec.default_learning_rate, 4, 10,
                                        spec.default_start, seed)
        for name, out in (("SGD, shuffled", shuffled), ("SGD, in order", ordered)):
            run = curves[name]
            # A run that diverged was stopped: the worst possible result.
            out.append(float(run.losses[run.epochs >= 9].mean()) if run.diverged is None
                       else math.inf)
    assert sum(shuffled) < 0.9 * sum(ordered)
    assert math.isfinite(sum(shuffled))


def test_compare_orders_counts_epochs_on_the_x_axis():
    data = make_points("cats_dogs", gen(0))
    curves = descent.compare_orders(data, 0.03, 4, 3, (-2.0, 3.0), 0)
    assert set(curves) == {"SGD, shuffled", "SGD, in order", "full-batch GD"}
    run = curves["SGD, shuffled"]
    assert len(run.epochs) == len(run.losses) == 3 * 10 + 1
    assert float(run.epochs[-1]) == pytest.approx(3.0) and run.diverged is None
    assert curves["full-batch GD"].epochs.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert run.outcome() == f"final l = {float(run.losses[-1]):.4g}"


def test_compare_orders_says_which_runs_diverged_and_where_they_stopped():
    # House prices with alpha = 1 (the browser review's case): far above 2/L for every run.
    data = make_points("house_prices", gen(0))
    runs = descent.compare_orders(data, 1.0, 4, 10, SPECS["house_prices"].default_start, 0)
    gd, ordered, shuffled = runs["full-batch GD"], runs["SGD, in order"], runs["SGD, shuffled"]
    assert gd.diverged is not None and gd.diverged.step == 1 and gd.last_step == 0
    assert gd.outcome() == "diverged, stopped at step 0"
    assert ordered.outcome() == "diverged, stopped at step 0"
    # SGD takes 8 steps per epoch (30 houses, batches of 4): the epoch is given too.
    assert shuffled.last_step == shuffled.diverged.step - 1 == 1
    assert shuffled.outcome() == "diverged, stopped at step 1 (epoch 0.125)"
    assert all("final" not in run.outcome() for run in runs.values())


def test_loss_grid_is_indexed_theta2_then_theta1():
    data = make_points("house_prices", gen(0))
    t1, t2, grid = descent.loss_grid(data, resolution=7)
    theta = torch.tensor([float(t1[5]), float(t2[2])], dtype=torch.float64)
    assert float(grid[2, 5]) == pytest.approx(float(descent.total_loss(theta, data)))


def test_learning_rate_choices_are_log_spaced_and_snap():
    choices = descent.learning_rate_choices()
    assert choices[0] == pytest.approx(1e-4) and choices[-1] == 1.0
    assert list(choices) == sorted(choices) and len(choices) == 33
    assert descent.snap_learning_rate(0.03) == pytest.approx(0.0316)


@pytest.mark.parametrize("bad", [
    {"learning_rate": float("nan")}, {"learning_rate": float("inf")}, {"learning_rate": -0.1},
    {"learning_rate": 0.0}, {"learning_rate": 1e309}, {"learning_rate": "fast"},
    {"steps": 10**9}, {"steps": -1}, {"steps": 2.5}, {"batch_size": 0}, {"batch_size": 41},
    {"order": "random"}, {"start": (float("inf"), 0.0)}, {"start": (1.0,)},
])
def test_bad_settings_are_refused_with_a_clear_message(bad):
    data = make_points("cats_dogs", gen(0))
    with pytest.raises(SettingError) as info:
        run_descent(data, DescentConfig(**{**DescentConfig().__dict__, **bad}), gen())
    assert isinstance(info.value, ValueError) and len(str(info.value)) > 10


def test_unknown_dataset_names_the_choices():
    with pytest.raises(SettingError, match="cats_dogs"):
        make_points("mnist", gen(0))


@pytest.mark.parametrize("key", list(SPECS))
def test_defaults_show_a_clean_descent_with_the_minimum_in_view(key):
    spec = SPECS[key]
    data = make_points(key, gen(0))
    t1, t2, grid = descent.loss_grid(data)
    low = int(torch.argmin(grid))
    g = grid.shape[1]
    assert 0 < low % g < g - 1 and 0 < low // g < g - 1  # not on the edge of the view
    path = run_descent(data, DescentConfig(spec.default_learning_rate, 50, None, "shuffled",
                                           spec.default_start), gen())
    assert path.diverged is None and path.losses[-1] < 0.5 * path.losses[0]
    assert spec.default_learning_rate < descent.stable_learning_rate(data)


def test_cats_have_the_pointier_ears_and_fur_length_tells_neither():
    """Issue 14: the data gave dogs the pointier ears. Cats' ear scores are the higher; the
    fitted weight of ear pointiness is negative (pointy ears make "dog" less likely)."""
    spec = SPECS["cats_dogs"]
    assert spec.feature_names[0].startswith("ear pointiness")
    for seed in range(5):
        data = make_points("cats_dogs", gen(seed))
        cats, dogs = data.x[data.y < 0], data.x[data.y > 0]
        assert float(cats[:, 0].mean()) > float(dogs[:, 0].mean()) + 0.8
        assert abs(float(cats[:, 1].mean() - dogs[:, 1].mean())) < 0.8  # fur: no tell
    data = make_points("cats_dogs", gen(0))
    path = run_descent(data, DescentConfig(spec.default_learning_rate, 300, None, "shuffled",
                                           spec.default_start), gen())
    assert float(path.thetas[-1, 0]) < -1.0


@pytest.mark.parametrize("key", ["house_prices", "house_prices_raw"])
def test_house_prices_are_positive_and_the_axis_names_its_unit(key):
    spec = SPECS[key]
    assert spec.target_name == "price (100 k€)"
    for seed in range(200):
        assert float(make_points(key, gen(seed)).y.min()) > 0.3
    # The same houses either way: 150 k€ per 100 m²; 50 k€ at size 0, so 350 k€ at the
    # mean size of 200 m² (the centred variant's intercept).
    data = make_points(key, gen(0))
    slope, intercept = torch.linalg.lstsq(data.x, data.y.unsqueeze(1)).solution.squeeze(1)
    assert float(slope) == pytest.approx(1.5, abs=0.15)
    assert float(intercept) == pytest.approx(3.5 if key == "house_prices" else 0.5, abs=0.3)


def test_the_curvature_symbol_is_lambda_max_not_l_which_is_the_loss():
    data = make_points("house_prices", gen(0))
    path = run_descent(data, DescentConfig(1.0, 5, None, "shuffled", (0.0, 0.0)), gen())
    assert "2/λ_max = " in path.diverged.message and "2/L" not in path.diverged.message
    # lambda_max is the Hessian's top eigenvalue: for the squared error, 2 sum_k x_k x_k^T.
    hessian = torch.autograd.functional.hessian(
        lambda t: descent.total_loss(t, data), torch.zeros(2, dtype=torch.float64))
    assert descent.smoothness(data) == pytest.approx(float(torch.linalg.eigvalsh(hessian)[-1]))

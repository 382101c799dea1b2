"""Figures of the gradient-descent lesson: titles, labelled axes, and the numbers they carry."""

import plotly.graph_objects as go
import pytest
import torch

from fmcore import style
from fmcore.foundations import descent, figures
from fmcore.foundations.descent import DescentConfig
from fmcore.foundations.points import SPECS, make_points


def _path(key="cats_dogs", steps=12):
    data = make_points(key, torch.Generator().manual_seed(0))
    spec = SPECS[key]
    config = DescentConfig(spec.default_learning_rate, steps, None, "shuffled", spec.default_start)
    return data, descent.loss_grid(data, 21), descent.run_descent(data, config, torch.Generator())


def _titled(fig: go.Figure):
    layout = fig.layout
    assert layout.title.text and layout.xaxis.title.text and layout.yaxis.title.text


def test_descent_figure_draws_the_path_the_current_point_and_the_update_arrow():
    data, (t1, t2, grid), path = _path()
    shown = path.thetas[:11]
    fig = figures.descent_figure(t1, t2, grid, shown, path.thetas[11].tolist(),
                               theta_names=SPECS["cats_dogs"].theta_names)
    _titled(fig)
    contour, line, current = fig.data[0], fig.data[1], fig.data[2]
    assert contour.type == "contour" and contour.colorscale  # a colour-blind-safe scale
    assert list(line.x) == pytest.approx(shown[:, 0].tolist())
    assert (current.x[0], current.y[0]) == pytest.approx(tuple(shown[-1].tolist()))
    (arrow,) = fig.layout.annotations
    assert (arrow.ax, arrow.ay) == pytest.approx(tuple(shown[-1].tolist()))
    assert (arrow.x, arrow.y) == pytest.approx(tuple(path.thetas[11].tolist()))
    # Replay frames grow the path one step at a time, ending at the current step.
    assert len(fig.frames) == 11
    assert list(fig.frames[-1].data[0].x) == pytest.approx(shown[:, 0].tolist())
    assert fig.layout.updatemenus[0].buttons[0].method == "animate"


def test_descent_figure_caps_its_frames_for_long_paths():
    data, (t1, t2, grid), path = _path(steps=400)
    fig = figures.descent_figure(t1, t2, grid, path.thetas, None)
    assert len(fig.frames) <= style.MAX_FRAMES
    assert fig.frames[-1].name == str(len(path.thetas) - 1)
    assert not fig.layout.annotations  # no next step, no arrow


def test_contour_colours_log_loss_and_hover_shows_the_loss():
    data, (t1, t2, grid), path = _path()
    fig = figures.descent_figure(t1, t2, grid, path.thetas[:1], None)
    assert fig.data[0].z[3][4] == pytest.approx(float(torch.log10(grid[3, 4])))
    assert fig.data[0].customdata[3][4] == pytest.approx(float(grid[3, 4]))


def test_points_figure_boundary_is_where_theta_dot_x_is_zero():
    data = make_points("cats_dogs", torch.Generator().manual_seed(0))
    theta = (1.5, -0.5)
    fig = figures.points_figure(data.x, data.y, theta, kind="classification",
                              feature_names=SPECS["cats_dogs"].feature_names)
    _titled(fig)
    boundary = fig.data[2]
    for bx, by in zip(boundary.x, boundary.y, strict=True):
        assert theta[0] * bx + theta[1] * by == pytest.approx(0.0, abs=1e-9)
    assert {fig.data[0].name, fig.data[1].name} == {"cat", "dog"}


def test_points_figure_regression_line():
    data = make_points("house_prices", torch.Generator().manual_seed(0))
    fig = figures.points_figure(data.x, data.y, (2.0, 1.0), kind="regression",
                              feature_names=SPECS["house_prices"].feature_names)
    line = fig.data[1]
    assert line.y[0] == pytest.approx(2.0 * line.x[0] + 1.0)

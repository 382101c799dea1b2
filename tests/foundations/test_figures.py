"""Figures of the gradient-descent lesson: titles, labelled axes, and the numbers they carry."""

import math

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
    # The arrow θ_10 -> θ_11 is a scatter trace (so that replay frames can move it): a line
    # whose second marker is an arrow head turned along it.
    arrow = fig.data[4]
    assert not fig.layout.annotations
    assert list(zip(arrow.x, arrow.y, strict=True)) == pytest.approx(
        [tuple(shown[-1].tolist()), tuple(path.thetas[11].tolist())])
    assert list(arrow.marker.symbol) == ["circle", "arrow"]
    assert arrow.marker.angleref == "previous" and arrow.showlegend
    # Replay frames grow the path one step at a time, ending at the current step.
    assert len(fig.frames) == 11
    assert list(fig.frames[-1].data[0].x) == pytest.approx(shown[:, 0].tolist())
    assert fig.layout.updatemenus[0].buttons[0].method == "animate"


def test_the_landscape_is_also_a_picture_under_the_contours_with_the_same_bands():
    # Issue 14: Plotly.js erases a contour trace's drawing at every replay frame and paints
    # the chart before drawing it again. The picture under it must show the same bands in
    # the same colours, the right way up, over exactly the axes' ranges.
    import base64
    import io

    from PIL import Image

    data, (t1, t2, grid), path = _path()
    fig = figures.descent_figure(t1, t2, grid, path.thetas[:3], None)
    contour = fig.data[0]
    z = torch.log10(grid)
    levels = figures.contour_levels(float(z.min()), float(z.max()))
    assert (contour.contours.start, contour.contours.end, contour.contours.size) == levels
    assert contour.autocontour is False and contour.contours.showlines is False
    assert 10 <= round((levels.end - levels.start) / levels.size) + 1 <= 30
    assert levels.start > float(z.min()) and levels.end < float(z.max())
    (image,) = fig.layout.images
    assert image.layer == "below" and image.sizing == "stretch"
    assert (image.x, image.y, image.x + image.sizex, image.y - image.sizey) == pytest.approx(
        (float(t1[0]), float(t2[-1]), float(t1[-1]), float(t2[0])))
    assert not fig.layout.xaxis.showgrid and not fig.layout.yaxis.showgrid  # not over it
    picture = Image.open(io.BytesIO(base64.b64decode(image.source.split(",", 1)[1])))
    rgb = picture.convert("RGB")
    w, h = picture.size
    colours = figures.band_colours(levels)
    g = len(t1)
    checked = 0
    for i2 in range(1, g - 1, 3):  # grid nodes away from the edges
        for i1 in range(1, g - 1, 3):
            px = round((i1 / (g - 1)) * w - 0.5)
            py = round((1 - i2 / (g - 1)) * h - 0.5)  # the top row is the largest θ2
            value = float(z[i2, i1])
            band = math.floor((value - levels.start) / levels.size) + 1
            if abs(value - (levels.start + (band - 1) * levels.size)) < 0.2 * levels.size:
                continue  # too near a band's edge to tell
            assert rgb.getpixel((px, py)) == colours[min(max(band, 0), len(colours) - 1)]
            checked += 1
    assert checked > 20
    # The picture is sent once: no frame carries it.
    assert all(not f.layout.images for f in fig.frames)


def test_band_colours_are_plotly_js_fills_for_the_viridis_scale():
    # Plotly.js spreads the scale from half a step below the first level to half a step
    # above the last: the lowest and highest bands take the scale's two ends.
    levels = figures.ContourLevels(1.0, 2.0, 0.25)  # 5 levels, 6 bands
    colours = figures.band_colours(levels)
    assert len(colours) == 6
    assert colours[0] == (0x44, 0x01, 0x54) and colours[-1] == (0xFD, 0xE7, 0x25)
    assert figures.contour_levels(1.2207, 2.2031) == figures.ContourLevels(1.25, 2.2, 0.05)
    assert figures.contour_levels(0.48, 3.61) == figures.ContourLevels(0.6, 3.6, 0.2)


def test_descent_figure_caps_its_frames_for_long_paths():
    data, (t1, t2, grid), path = _path(steps=400)
    fig = figures.descent_figure(t1, t2, grid, path.thetas, None)
    assert len(fig.frames) <= style.MAX_FRAMES
    assert fig.frames[-1].name == str(len(path.thetas) - 1)
    arrow = fig.data[4]  # no next step, no arrow (and no legend entry for one)
    assert list(arrow.x) == [None] and not arrow.showlegend
    assert list(fig.frames[-1].data[2].x) == [None]


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

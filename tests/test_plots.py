"""Figure builders: titles, labelled axes, palette, and the numbers they carry."""

import math

import plotly.graph_objects as go
import pytest
import torch

from fmcore import descent, plots
from fmcore.data.points import SPECS, make_points
from fmcore.descent import DescentConfig


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
    fig = plots.descent_figure(t1, t2, grid, shown, path.thetas[11].tolist(),
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
    fig = plots.descent_figure(t1, t2, grid, path.thetas[:3], None)
    contour = fig.data[0]
    z = torch.log10(grid)
    levels = plots.contour_levels(float(z.min()), float(z.max()))
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
    colours = plots.band_colours(levels)
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
    levels = plots.ContourLevels(1.0, 2.0, 0.25)  # 5 levels, 6 bands
    colours = plots.band_colours(levels)
    assert len(colours) == 6
    assert colours[0] == (0x44, 0x01, 0x54) and colours[-1] == (0xFD, 0xE7, 0x25)
    assert plots.contour_levels(1.2207, 2.2031) == plots.ContourLevels(1.25, 2.2, 0.05)
    assert plots.contour_levels(0.48, 3.61) == plots.ContourLevels(0.6, 3.6, 0.2)


def test_descent_figure_caps_its_frames_for_long_paths():
    data, (t1, t2, grid), path = _path(steps=400)
    fig = plots.descent_figure(t1, t2, grid, path.thetas, None)
    assert len(fig.frames) <= plots.MAX_FRAMES
    assert fig.frames[-1].name == str(len(path.thetas) - 1)
    arrow = fig.data[4]  # no next step, no arrow (and no legend entry for one)
    assert list(arrow.x) == [None] and not arrow.showlegend
    assert list(fig.frames[-1].data[2].x) == [None]


def test_contour_colours_log_loss_and_hover_shows_the_loss():
    data, (t1, t2, grid), path = _path()
    fig = plots.descent_figure(t1, t2, grid, path.thetas[:1], None)
    assert fig.data[0].z[3][4] == pytest.approx(float(torch.log10(grid[3, 4])))
    assert fig.data[0].customdata[3][4] == pytest.approx(float(grid[3, 4]))


def test_loss_curves_use_the_palette_and_a_log_axis():
    fig = plots.loss_curves_figure({"a": ([0, 1], [3, 2]), "b": ([0, 1], [4, 1])},
                                   title="t", x_title="step")
    _titled(fig)
    assert [t.line.color for t in fig.data] == [plots.series_colour(0), plots.series_colour(1)]
    assert fig.layout.yaxis.type == "log" and fig.layout.showlegend


def _log_axes(fig: go.Figure):
    return [axis for name in dir(fig.layout) if name.startswith(("xaxis", "yaxis"))
            for axis in [getattr(fig.layout, name)] if axis is not None and axis.type == "log"]


def test_every_log_axis_labels_its_ticks_with_full_values():
    # Plotly's default labels the ticks between powers of ten with a bare digit ("2" at 20,
    # "5" at 0.5); "complete" makes the browser write the full value at every tick.
    from fmcore.adapt import Summary

    rows = [Summary("SimCLR", "probe", k, 0.5, 0.02, 3) for k in (1, 10, 500)]
    figures = [
        plots.loss_curves_figure({"a": ([0, 1], [100, 2])}, title="t", x_title="step"),
        plots.label_efficiency_figure(rows),
        plots.accuracy_curve_figure({"a": [0.1, 0.5]}, title="t", x_values=[1, 10], log_x=True),
    ]
    for fig in figures:
        axes = _log_axes(fig)
        assert len(axes) == 1
        assert all(axis.minorloglabels == "complete" for axis in axes)
    assert plots.loss_curves_figure({"a": ([0], [1])}, title="t", x_title="x",
                                    log_y=False).layout.yaxis.type != "log"


def test_a_stopped_curve_ends_in_a_labelled_cross_and_the_x_axis_keeps_its_range():
    curves = {"shuffled": ([0, 0.125], [314.5, 2.7e5]), "in order": ([0], [314.5]),
              "GD": ([0], [314.5])}
    fig = plots.loss_curves_figure(curves, title="t", x_title="epochs", x_range=(0, 10),
                                   stopped=["in order", "GD"])
    assert [t.name for t in fig.data[:3]] == list(curves)
    (crosses,) = fig.data[3:]
    assert list(crosses.x) == [0, 0] and list(crosses.y) == [314.5, 314.5]
    assert list(crosses.text) == ["diverged", "diverged"] and crosses.marker.symbol == "x"
    assert list(crosses.customdata) == ["in order", "GD"]  # the hover says which run
    assert "diverged" in crosses.name and tuple(fig.layout.xaxis.range) == (0, 10)
    plain = plots.loss_curves_figure(curves, title="t", x_title="epochs")
    assert len(plain.data) == 3 and plain.layout.xaxis.range is None


def test_points_figure_boundary_is_where_theta_dot_x_is_zero():
    data = make_points("cats_dogs", torch.Generator().manual_seed(0))
    theta = (1.5, -0.5)
    fig = plots.points_figure(data.x, data.y, theta, kind="classification",
                              feature_names=SPECS["cats_dogs"].feature_names)
    _titled(fig)
    boundary = fig.data[2]
    for bx, by in zip(boundary.x, boundary.y, strict=True):
        assert theta[0] * bx + theta[1] * by == pytest.approx(0.0, abs=1e-9)
    assert {fig.data[0].name, fig.data[1].name} == {"cat", "dog"}


def test_points_figure_regression_line():
    data = make_points("house_prices", torch.Generator().manual_seed(0))
    fig = plots.points_figure(data.x, data.y, (2.0, 1.0), kind="regression",
                              feature_names=SPECS["house_prices"].feature_names)
    line = fig.data[1]
    assert line.y[0] == pytest.approx(2.0 * line.x[0] + 1.0)


def test_classroom_mode_enlarges_type():
    small = plots.loss_curves_figure({"a": ([0], [1])}, title="t", x_title="x")
    large = plots.loss_curves_figure({"a": ([0], [1])}, title="t", x_title="x", large=True)
    assert large.layout.font.size > small.layout.font.size


def test_short_curves_get_markers_so_one_evaluation_is_visible():
    fig = plots.loss_curves_figure({"probe": ([0], [0.12])}, title="t", x_title="step",
                                   log_y=False, y_range=(0.0, 1.0))
    assert "markers" in fig.data[0].mode and list(fig.layout.yaxis.range) == [0.0, 1.0]


def test_label_efficiency_figure_lines_error_bars_and_chance():
    from fmcore.adapt import Summary

    rows = [Summary("SimCLR", "probe", k, 0.5 + 0.01 * k, 0.02, 3) for k in (1, 10)]
    rows += [Summary("random", "finetune", k, 0.15, 0.01, 3) for k in (10, 1)]
    fig = plots.label_efficiency_figure(rows)
    names = [t.name for t in fig.data]
    assert names == ["SimCLR, probe", "from scratch"]
    scratch = fig.data[1]
    assert list(scratch.x) == [1, 10]  # sorted by shots
    assert list(fig.data[0].error_y.array) == [0.02, 0.02]
    assert fig.data[0].line.dash == "solid" and scratch.line.dash == "dash"
    assert fig.layout.xaxis.type == "log" and tuple(fig.layout.yaxis.range) == (0, 1)
    assert any("zero-shot" in a.text for a in fig.layout.annotations)
    assert fig.layout.title.text and fig.layout.xaxis.title.text and fig.layout.yaxis.title.text


def test_adaptation_diagram_says_what_moves():
    probe, finetune = plots.adaptation_diagram("probe"), plots.adaptation_diagram("finetune")
    assert "frozen" in probe and "θ = θ̂" in probe
    assert "frozen" not in finetune and "starts at θ̂, trained" in finetune
    assert probe.strip().startswith("digraph") and "head w" in finetune


def test_paradigms_diagram_names_the_three_paradigms_and_the_pseudolabel():
    dot = plots.paradigms_diagram()
    for word in ("Supervised", "Unsupervised", "Self-supervised", "human labels y",
                 "pretext task P", "pseudolabel z"):
        assert word in dot, word


def test_masked_series_figure_splits_seen_and_hidden_values():
    series = torch.arange(8.0).repeat(2, 1)  # (2, 8)
    mask = torch.zeros(2, 8, dtype=torch.bool)
    mask[0, 2:4] = True
    mask[1, 5:7] = True
    fig = plots.masked_series_figure(series, mask, title="t")
    seen, hidden = fig.data[0], fig.data[1]
    assert list(seen.y) == [0, 1, None, None, 4, 5, 6, 7]
    assert list(hidden.y) == [None, None, 2, 3, None, None, None, None]
    assert list(fig.data[2].y)[0] == -3.0  # the second series is shifted down by 3
    assert len(fig.layout.shapes) == 2 and fig.layout.shapes[0].x0 == 1.5
    assert [t.showlegend for t in fig.data] == [True, True, False, False]


def test_figure_rows_give_every_point_and_cell_as_plain_text():
    fig = plots.accuracy_curve_figure({"<b>mine</b>": [0.1, 0.5, 0.9], "fresh": [0.2, 0.3]},
                                      title="t")
    rows = plots.figure_rows(fig)
    assert rows[:3] == [{"series": "<b>mine</b>", "x": i, "y": y}
                        for i, y in enumerate([0.1, 0.5, 0.9])]
    assert len(rows) == 5 and rows[-1] == {"series": "fresh", "x": 1, "y": 0.3}
    heat = go.Figure(go.Heatmap(z=[[1, 2], [3, 4]], x=["a", "b"], y=["r", "s"], name="h"))
    assert plots.figure_rows(heat)[1] == {"series": "h", "row": "r", "column": "b", "value": 2}


def test_prompting_figures_are_labelled_and_safe():
    fig = plots.accuracy_curve_figure({"a": [0.0, 1.0]}, title="Accuracy", marker=1,
                                      marker_label="<i>yours</i>", chance=0.2, large=True)
    assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text == "accuracy (exact answer)"
    assert "&lt;i&gt;" in fig.layout.annotations[-1].text
    from types import SimpleNamespace

    probs = torch.tensor([0.1, 0.7, 0.2])
    steps = [SimpleNamespace(text="7", token=1, probability=0.7, probs=probs),
             SimpleNamespace(text="\n", token=2, probability=0.2, probs=probs)]
    fig = plots.answer_steps_figure(steps, ["a", "7", "\n"], top=2)
    assert len(fig.data) == 2 and list(fig.data[1].x) == ["7", "↵ newline"]
    assert fig.data[0].marker.color[0] == plots.OKABE_ITO["vermillion"]  # the written one


@pytest.mark.parametrize(("b", "in_cells"), [(6, True), (8, False)])
def test_similarity_values_sit_in_the_cells_while_readable_else_a_titled_colour_bar(b, in_cells):
    from fmcore.losses import nt_xent_breakdown

    z = torch.randn(2, b, 4, generator=torch.Generator().manual_seed(0))
    sweep = [nt_xent_breakdown(z[0], z[1], tau) for tau in (0.2, 0.5)]
    heat = plots.similarity_figure(sweep, (0.2, 0.5), start=0).data[0]
    assert (heat.texttemplate is not None) == in_cells
    assert heat.showscale == (not in_cells) and heat.colorbar.title.text == "cos/τ"


def test_pca_markers_match_the_shape_names_and_stay_distinct():
    from fmcore.data.shapes import CLASS_NAMES

    labels = torch.arange(len(CLASS_NAMES))
    fig = plots.scatter_2d_figure(torch.zeros(len(CLASS_NAMES), 2), labels, CLASS_NAMES,
                                  title="PCA")
    symbol = {t.name: t.marker.symbol for t in fig.data}
    assert (symbol["star"], symbol["triangle"], symbol["plus"]) == ("star", "triangle-up", "cross")
    assert symbol["heart"] not in {f"{n}" for n in CLASS_NAMES}  # a marker that names no class
    assert len(set(symbol.values())) == len(CLASS_NAMES)


def test_surprise_letters_stay_readable_on_dark_cells():
    fig = plots.surprise_map_figure(list("abc"), [0.1, 2.0, 4.0], [(0, 0), (0, 1), (0, 2)],
                                    ["", "", ""], title="Surprise")
    assert list(fig.data[0].textfont.color) == ["black", "black", "white"]


def test_the_interface_chart_runs_its_loss_axis_the_usual_way_and_labels_only_its_ends():
    # Issue 14: the x-axis was reversed without a word and every "step N" label overlapped
    fig = plots.interface_figure([4.1, 3.0, 2.95, 2.9], [0.2, 0.3, 0.31, 0.33],
                                 [50, 100, 150, 200], loss_name="NT-Xent loss")
    assert fig.layout.xaxis.autorange in (None, True)  # low loss on the left, as usual
    trace = fig.data[0]
    assert list(trace.text) == ["step 50", "", "", "step 200"]
    assert list(trace.customdata) == [50, 100, 150, 200]  # every step on hover
    assert list(trace.marker.symbol) == ["circle", "arrow", "arrow", "arrow"]
    assert trace.marker.angleref == "previous"  # the arrows point the way training went
    assert fig.layout.xaxis.title.text.startswith("NT-Xent loss")


def test_similarity_charts_state_the_loss_once_per_frame_and_can_share_their_bar_axis():
    from fmcore.losses import simclr_breakdown

    g = torch.Generator().manual_seed(0)
    temps = (0.2, 0.5)
    a = [simclr_breakdown(*torch.randn(2, 4, 3, generator=g) / t) for t in temps]
    b = [simclr_breakdown(*(5 * torch.randn(2, 4, 3, generator=g))) for _ in temps]
    top = plots.row_term_limit(a, b)
    assert top == max(float(bd.row_terms.max()) for bd in a + b)
    fig = plots.similarity_figure(a, temps, start=0, loss_name="L", term_max=top,
                                  chance=math.log(4))
    assert fig.layout.title.text == f"τ = 0.2, L = {a[0].total:.3f}"
    assert [f.layout.title.text for f in fig.frames] == [
        f"τ = {t:.2g}, L = {bd.total:.3f}" for bd, t in zip(a, temps, strict=True)]
    assert fig.layout.xaxis2.range[1] == pytest.approx(1.05 * max(top, math.log(4)))
    assert fig.layout.shapes[-1].x0 == pytest.approx(math.log(4))  # the chance line


def test_language_loss_validation_curve_stands_out_and_is_drawn_last():
    steps = (list(range(100)), [3.0 - 0.01 * i for i in range(100)])
    evals = ([0, 50, 99], [3.0, 2.0, 1.5])
    fig = plots.language_loss_figure(steps, evals, ([0, 50, 99], [3.1, 2.1, 1.6]), floor=0.65,
                                     title="Cross-entropy")
    names = [t.name for t in fig.data]
    assert names[-1] == "validation text"  # on top of the others
    assert set(names) == {"step loss (training batch)", "training text", "validation text",
                          "true entropy rate (the floor)"}
    val = fig.data[-1]
    widths = [t.line.width for t in fig.data[:-1]]
    assert val.line.width > max(widths) and "markers" in val.mode
    assert val.line.color == plots.OKABE_ITO["vermillion"]
    palette = set(plots.OKABE_ITO.values())
    assert all(t.line.color in palette for t in fig.data)
    others = [t.line.color for t in fig.data[:-1]]
    assert val.line.color not in others  # its colour is its own
    ranks = sorted(fig.data, key=lambda t: t.legendrank)  # the legend reads in order
    assert [t.name for t in ranks][:3] == ["step loss (training batch)", "training text",
                                           "validation text"]
    assert list(fig.data[1].y) == [0.65, 0.65]
    no_floor = plots.language_loss_figure(steps, evals, evals, title="t")
    assert len(no_floor.data) == 3 and no_floor.layout.yaxis.title.text == "nats per character"


def test_shots_figure_gives_accuracy_and_probability_each_its_own_labelled_axis():
    fig = plots.shots_figure([0.1, 0.5, 0.9], [(0.2, False), (0.7, True)], label="add",
                             n_prompts=48, marker=1)
    acc, prob = fig.data
    assert list(acc.y) == [0.1, 0.5, 0.9] and list(prob.y) == [0.2, 0.7]
    assert (acc.yaxis, prob.yaxis) == ("y", "y2")
    assert fig.layout.yaxis.title.text == "accuracy (exact answer)"
    assert fig.layout.yaxis2.title.text == "p(right answer)"
    k = "examples in the prompt (k)"
    assert fig.layout.xaxis.title.text == fig.layout.xaxis2.title.text == k
    assert list(prob.marker.symbol) == ["circle-open", "circle"]  # filled: greedy writes it
    assert [s.x0 for s in fig.layout.shapes] == [1, 1]  # the student's k in both panels
    assert fig.layout.title.text.startswith("Accuracy and p(right answer)")
    assert acc.line.color == plots.OKABE_ITO["blue"]
    assert prob.line.color == plots.OKABE_ITO["vermillion"]
    large = plots.shots_figure([0.1], [(0.2, True)], label="add", n_prompts=48, large=True)
    assert all(a.font.size == large.layout.font.size for a in large.layout.annotations)


def test_label_efficiency_ticks_are_the_grids_shots_in_full_and_one_run_has_no_error_bar():
    from fmcore.adapt import Summary

    rows = [Summary("SimCLR (shipped)", "probe", k, 0.5, 0.0, 1) for k in (1, 5, 10, 50, 500)]
    rows += [Summary("random (untrained)", "finetune", k, 0.1, 0.02, 3) for k in (1, 10)]
    fig = plots.label_efficiency_figure(rows, large=True)
    axis = fig.layout.xaxis
    # the ticks read 1, 5, 10, 50, 500: no SI prefix ('500μ', '1k') on a count of images
    assert axis.tickmode == "array" and list(axis.tickvals) == [1, 5, 10, 50, 500]
    assert list(axis.ticktext) == ["1", "5", "10", "50", "500"]
    assert "per class" in axis.title.text and "n_task = 10 × this" in axis.title.text
    probe, scratch = fig.data
    assert probe.error_y.visible is False  # one repeat: a bar of 0 would claim a precision
    assert scratch.error_y.visible is True and list(scratch.error_y.array) == [0.02, 0.02]
    assert scratch.name == "from scratch"  # the page's random encoder is "random (untrained)"


def test_adaptation_diagram_is_narrow_enough_to_read_when_stretched():
    # Streamlit draws Graphviz text at 13.2 px in the drawing's units and stretches the
    # drawing to the column: short lines keep it narrow, so the text is large on screen.
    import re

    for method in ("probe", "finetune"):
        dot = plots.adaptation_diagram(method)
        assert "fontsize=13" in dot
        labels = re.findall(r'label="([^"]*)"', dot)
        lines = [line for label in labels for line in label.split("\\n")]
        assert len(labels) == 4 and max(map(len, lines)) <= 24, lines
        assert sum(max(len(line) for line in label.split("\\n")) for label in labels) <= 55

"""The look every figure shares (fmcore.style): palette, log axes, classroom sizes, and the
training-curve figure every section draws."""

import plotly.graph_objects as go

from fmcore import style
from fmcore.adaptation import figures as adaptation_figures
from fmcore.prompting import figures as prompting_figures


def _titled(fig: go.Figure):
    layout = fig.layout
    assert layout.title.text and layout.xaxis.title.text and layout.yaxis.title.text


def test_loss_curves_use_the_palette_and_a_log_axis():
    fig = style.loss_curves_figure({"a": ([0, 1], [3, 2]), "b": ([0, 1], [4, 1])},
                                   title="t", x_title="step")
    _titled(fig)
    assert [t.line.color for t in fig.data] == [style.series_colour(0), style.series_colour(1)]
    assert fig.layout.yaxis.type == "log" and fig.layout.showlegend


def _log_axes(fig: go.Figure):
    return [axis for name in dir(fig.layout) if name.startswith(("xaxis", "yaxis"))
            for axis in [getattr(fig.layout, name)] if axis is not None and axis.type == "log"]


def test_every_log_axis_labels_its_ticks_with_full_values():
    # Plotly's default labels the ticks between powers of ten with a bare digit ("2" at 20,
    # "5" at 0.5); "complete" makes the browser write the full value at every tick.
    from fmcore.adaptation.adapt import Summary

    rows = [Summary("SimCLR", "probe", k, 0.5, 0.02, 3) for k in (1, 10, 500)]
    figures = [
        style.loss_curves_figure({"a": ([0, 1], [100, 2])}, title="t", x_title="step"),
        adaptation_figures.label_efficiency_figure(rows),
        prompting_figures.accuracy_curve_figure({"a": [0.1, 0.5]}, title="t", x_values=[1, 10],
                                                log_x=True),
    ]
    for fig in figures:
        axes = _log_axes(fig)
        assert len(axes) == 1
        assert all(axis.minorloglabels == "complete" for axis in axes)
    assert style.loss_curves_figure({"a": ([0], [1])}, title="t", x_title="x",
                                    log_y=False).layout.yaxis.type != "log"


def test_a_stopped_curve_ends_in_a_labelled_cross_and_the_x_axis_keeps_its_range():
    curves = {"shuffled": ([0, 0.125], [314.5, 2.7e5]), "in order": ([0], [314.5]),
              "GD": ([0], [314.5])}
    fig = style.loss_curves_figure(curves, title="t", x_title="epochs", x_range=(0, 10),
                                   stopped=["in order", "GD"])
    assert [t.name for t in fig.data[:3]] == list(curves)
    (crosses,) = fig.data[3:]
    assert list(crosses.x) == [0, 0] and list(crosses.y) == [314.5, 314.5]
    assert list(crosses.text) == ["diverged", "diverged"] and crosses.marker.symbol == "x"
    assert list(crosses.customdata) == ["in order", "GD"]  # the hover says which run
    assert "diverged" in crosses.name and tuple(fig.layout.xaxis.range) == (0, 10)
    plain = style.loss_curves_figure(curves, title="t", x_title="epochs")
    assert len(plain.data) == 3 and plain.layout.xaxis.range is None


def test_classroom_mode_enlarges_type():
    small = style.loss_curves_figure({"a": ([0], [1])}, title="t", x_title="x")
    large = style.loss_curves_figure({"a": ([0], [1])}, title="t", x_title="x", large=True)
    assert large.layout.font.size > small.layout.font.size


def test_short_curves_get_markers_so_one_evaluation_is_visible():
    fig = style.loss_curves_figure({"probe": ([0], [0.12])}, title="t", x_title="step",
                                   log_y=False, y_range=(0.0, 1.0))
    assert "markers" in fig.data[0].mode and list(fig.layout.yaxis.range) == [0.0, 1.0]

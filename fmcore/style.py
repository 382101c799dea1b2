"""The look every figure of the lab shares: the Okabe-Ito palette, the slim Plotly template
(the process's default), classroom sizes (``large=True``: bigger type for a projector), the
log-axis labelling, and the training-curve figure every section draws.

Every figure has a title, labelled axes and a legend where there is more than one trace,
uses the Okabe-Ito palette (safe for colour-blind readers) and a colour-blind-safe colour
scale, and takes ``large=True`` for classroom mode. Each section's figures live beside its
core, in ``fmcore/<section>/figures.py``: pure functions, data in, ``go.Figure`` out.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Mapping, Sequence

import plotly.graph_objects as go
import plotly.io as pio

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision
# deficiency. Named so that figures say what they mean.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}


SERIES = ("blue", "vermillion", "green", "orange", "purple", "sky", "black")


SEQUENTIAL_SCALE = "Viridis"  # perceptually uniform and colour-blind safe


MAX_FRAMES = 150  # animation frames per figure: enough to look smooth, small enough to send


def series_colour(i: int) -> str:
    """The i-th colour of the palette, for the i-th line of a chart."""
    return OKABE_ITO[SERIES[i % len(SERIES)]]


# Plotly copies and checks a figure's whole template each time a figure is built and again
# when one is set: the stock "plotly_white" styles some 40 kinds of trace, which cost about
# 15 ms per figure, most of a slider move's work on a page of four charts. The lab's
# template is plotly_white's layout with only the kinds of trace the lab draws, and it is
# the process's default, so no figure pays for the stock one either.
_WHITE = pio.templates["plotly_white"]


pio.templates["fm_lab"] = go.layout.Template(
    layout=_WHITE.layout,
    data={kind: _WHITE.data[kind] for kind in ("bar", "contour", "heatmap", "scatter")},
)


pio.templates.default = "fm_lab"


def _style(fig: go.Figure, title: str, x_title: str, y_title: str, large: bool) -> go.Figure:
    base = 20 if large else 14
    fig.update_layout(
        title={"text": title, "font": {"size": base + 4}, "y": 0.98, "yanchor": "top"},
        font={"size": base},
        xaxis_title=x_title,
        yaxis_title=y_title,
        margin={"l": 70, "r": 30, "t": 150 if large else 95, "b": 60},
        # Legend between the title and the plot, where it never covers data.
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
    )
    return fig


def _log_axis(fig: go.Figure, axis: str) -> None:
    """Make the ``axis`` ("x" or "y") logarithmic, with every tick labelled by its full value.

    By default Plotly labels the ticks between powers of ten with a bare digit ("2" at 20,
    "5" at 0.5), which a student reads as the value; "complete" writes 20 and 0.5. Every
    log axis of the lab is set here, so none is left with the bare digits.
    """
    update = fig.update_xaxes if axis == "x" else fig.update_yaxes
    update(type="log", minorloglabels="complete")


def loss_curves_figure(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    title: str,
    x_title: str,
    y_title: str = "loss l(θ)",
    log_y: bool = True,
    y_range: tuple[float, float] | None = None,
    x_range: tuple[float, float] | None = None,
    stopped: Collection[str] = (),
    large: bool = False,
) -> go.Figure:
    """One line per named curve {name: (x, y)}, in palette order; log y-axis by default.

    Curves of few points (evaluations) get markers, so a single point is still visible.
    The curves named in ``stopped`` were stopped early (a descent that diverged): each ends
    in a cross labelled "diverged", so a run stopped at its first point is neither hidden
    under the other lines nor mistaken for one that stayed there. ``x_range`` fixes the
    x-axis (e.g. to the epochs asked for, which a stopped run never reaches)."""
    fig = go.Figure()
    for i, (name, (x, y)) in enumerate(curves.items()):
        fig.add_trace(
            go.Scatter(
                x=[float(v) for v in x],
                y=[float(v) for v in y],
                mode="lines" if len(x) > 30 else "lines+markers",
                name=name,
                line={"color": series_colour(i), "width": 3,
                      "dash": ("solid", "dash", "dot")[i % 3]},  # not colour alone
            )
        )
    ends = [(name, float(x[-1]), float(y[-1])) for name, (x, y) in curves.items()
            if name in stopped and len(x)]
    if ends:  # one trace: runs stopped at the same point share one label, not a blur of two
        fig.add_trace(go.Scatter(
            x=[e[1] for e in ends], y=[e[2] for e in ends], mode="markers+text",
            text=["diverged"] * len(ends), textposition="top right",
            cliponaxis=False,  # a run stopped at x = 0 sits on the axis: keep its label whole
            name="diverged: the run was stopped here",
            marker={"symbol": "x", "size": 14, "color": OKABE_ITO["black"]},
            customdata=[html.escape(e[0]) for e in ends],
            hovertemplate="%{customdata}: diverged, stopped here<extra></extra>",
        ))
    _style(fig, title, x_title, y_title, large)
    fig.update_layout(height=380, showlegend=True)
    if log_y:
        _log_axis(fig, "y")
    if y_range is not None:
        fig.update_yaxes(range=list(y_range))
    if x_range is not None:
        fig.update_xaxes(range=list(x_range))
    return fig

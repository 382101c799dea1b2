"""Plotly figure builders: pure functions, data in, ``go.Figure`` out.

Every figure has a title, labelled axes and a legend where there is more than one trace,
uses the Okabe-Ito palette (safe for colour-blind readers) and a colour-blind-safe colour
scale, and takes ``large=True`` for classroom mode (bigger type for a projector).
"""

from __future__ import annotations

import base64
import functools
import html
import io
import math
from collections.abc import Collection, Mapping, Sequence
from typing import NamedTuple

import plotly.colors as pcolors
import plotly.graph_objects as go
import plotly.io as pio
import torch
from PIL import Image

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


def _arrow(start: Sequence[float], end: Sequence[float] | None) -> dict:
    """The update arrow from ``start`` to ``end`` in data coordinates, as the x and y of a
    scatter trace: a 2-point line whose second marker is an arrow head pointing along it
    (``angleref="previous"``). No ``end``: an empty trace. A scatter trace, not a layout
    annotation, so that the replay's frames move it like the path (see ``_add_replay``)."""
    if end is None:
        return {"x": [None], "y": [None]}
    return {"x": [start[0], end[0]], "y": [start[1], end[1]]}


LANDSCAPE_PIXELS = (1200, 600)  # the landscape's picture: about the plot's size on a screen


class ContourLevels(NamedTuple):
    """Contour lines at ``start``, ``start + size``, ... up to ``end`` (Plotly's contours)."""

    start: float
    end: float
    size: float


def contour_levels(lo: float, hi: float, most: int = 30) -> ContourLevels:
    """At most ``most`` levels strictly between ``lo`` and ``hi``, a 1-2-2.5-5 step apart
    (what Plotly.js's own ``ncontours`` picks, made explicit)."""
    span = max(hi - lo, 1e-9)
    raw = span / most
    power = 10.0 ** math.floor(math.log10(raw))
    size = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-9))
    start = (math.floor(lo / size + 1e-9) + 1) * size
    end = (math.ceil(hi / size - 1e-9) - 1) * size
    if end < start:  # a flat landscape: one level in the middle
        start = end = (lo + hi) / 2
    return ContourLevels(round(start, 12), round(end, 12), size)


def band_colours(levels: ContourLevels, colorscale: str = SEQUENTIAL_SCALE) -> list[tuple]:
    """The fill of each band of a filled Plotly contour: below ``start`` first, then the band
    from each level up to the next. Plotly.js (contour/make_color_map.js) spreads the colour
    scale from half a step below ``start`` to half a step above the last level, fills the band
    above level L with the colour at L + size/2, and rounds each channel."""
    n = math.floor((levels.end + levels.size / 1e6 - levels.start) / levels.size) + 1
    stops = pcolors.get_colorscale(colorscale)
    domain = [(pos * n - 0.5) * levels.size + levels.start for pos, _ in stops]
    rgb = [pcolors.hex_to_rgb(c) if c.startswith("#") else pcolors.unlabel_rgb(c)
           for _, c in stops]

    def colour(v: float) -> tuple:
        v = min(max(v, domain[0]), domain[-1])
        i = next(i for i in range(1, len(domain)) if v <= domain[i])
        t = (v - domain[i - 1]) / (domain[i] - domain[i - 1])
        return tuple(math.floor(a + (b - a) * t + 0.5) for a, b in zip(rgb[i - 1], rgb[i],
                                                                          strict=True))

    return [colour(levels.start + (k - 0.5) * levels.size) for k in range(n + 1)]


@functools.lru_cache(maxsize=16)
def _landscape_png(z_bytes: bytes, g: tuple[int, int], levels: ContourLevels) -> str:
    z = torch.frombuffer(bytearray(z_bytes), dtype=torch.float64).reshape(g)  # [theta2, theta1]
    w, h = LANDSCAPE_PIXELS
    # each pixel's centre in grid_sample's coordinates: -1 is the first grid node, +1 the
    # last; the picture's top row is the largest theta2
    u = (torch.arange(w, dtype=torch.float64) * 2 + 1) / w - 1
    v = 1 - (torch.arange(h, dtype=torch.float64) * 2 + 1) / h
    where = torch.stack(torch.meshgrid(v, u, indexing="ij")[::-1], dim=-1)  # (h, w, 2)
    at = torch.nn.functional.grid_sample(z[None, None], where[None], mode="bilinear",
                                         align_corners=True)[0, 0]  # (h, w)
    colours = band_colours(levels)
    at = at.nan_to_num(nan=levels.start - levels.size, posinf=levels.end + levels.size,
                       neginf=levels.start - levels.size)
    band = ((at - levels.start) / levels.size).floor().add(1).clamp(0, len(colours) - 1)
    image = Image.fromarray(band.to(torch.uint8).numpy(), mode="P")
    image.putpalette([channel for c in colours for channel in c])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _landscape_image(theta1: torch.Tensor, theta2: torch.Tensor, z: torch.Tensor,
                     levels: ContourLevels) -> dict:
    """The filled contours of ``z`` as a picture under the plot (a layout image): the same
    bands in the same colours as the contour trace drawn over it. Plotly.js erases a contour
    trace's drawing whenever an animation frame moves other traces, and draws it again only
    later, after the browser has painted; the picture underneath is what shows meanwhile, so
    the landscape never flashes off (see ``_add_replay``)."""
    source = _landscape_png(z.double().contiguous().numpy().tobytes(), tuple(z.shape), levels)
    x0, x1, y0, y1 = (float(theta1[0]), float(theta1[-1]), float(theta2[0]), float(theta2[-1]))
    return {"source": source, "xref": "x", "yref": "y", "x": x0, "y": y1,
            "sizex": x1 - x0, "sizey": y1 - y0, "xanchor": "left", "yanchor": "top",
            "sizing": "stretch", "layer": "below"}


def descent_figure(
    theta1: torch.Tensor,
    theta2: torch.Tensor,
    losses: torch.Tensor,
    path: torch.Tensor,
    next_theta: Sequence[float] | None,
    *,
    theta_names: tuple[str, str] = ("theta1", "theta2"),
    title: str = "Gradient descent on the loss l(θ)",
    large: bool = False,
) -> go.Figure:
    """Contours of l(theta) with the descent path theta_0..theta_S and the next update arrow.

    ``losses`` is (G, G) indexed [theta2, theta1] (as ``fmcore.descent.loss_grid`` returns);
    it is drawn on a log10 colour scale because it spans orders of magnitude. ``path`` is
    (S+1, 2). ``next_theta`` is theta_{S+1}: the arrow theta_S -> theta_{S+1} is the update
    -alpha * grad. The figure carries Plotly animation frames, so its Play button replays the
    path in the browser without a round trip to the server.
    """
    z = torch.log10(losses.clamp_min(1e-12))  # (G, G)
    pts = path.tolist()
    finite = z[torch.isfinite(z)]
    levels = contour_levels(*((float(finite.min()), float(finite.max())) if finite.numel()
                              else (0.0, 1.0)))
    fig = go.Figure()
    fig.add_trace(
        go.Contour(
            x=theta1.tolist(),
            y=theta2.tolist(),
            # arrays, not lists: Plotly checks a list cell by cell (40 ms for this grid)
            # and sends an array as packed binary
            z=z.numpy(),
            customdata=losses.numpy(),
            colorscale=SEQUENTIAL_SCALE,
            # levels set here, not by Plotly.js, so that the landscape's picture under the
            # contours (see _landscape_image) has the same bands in the same colours
            autocontour=False,
            contours={"start": levels.start, "end": levels.end, "size": levels.size,
                      "coloring": "fill", "showlines": False},
            colorbar={"title": {"text": "log₁₀ l(θ)"}},
            hovertemplate="θ1 %{x:.2f}, θ2 %{y:.2f}<br>l(θ) = %{customdata:.4g}<extra></extra>",
            name="l(θ)",
            showlegend=False,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[p[0] for p in pts],
            y=[p[1] for p in pts],
            mode="lines+markers",
            line={"color": "white", "width": 2},
            marker={"color": "white", "size": 6, "line": {"color": "black", "width": 1}},
            name="path θ₀ … θₜ",
            hovertemplate="θ = (%{x:.3f}, %{y:.3f})<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[pts[-1][0]],
            y=[pts[-1][1]],
            mode="markers",
            marker={
                "symbol": "star",
                "size": 18,
                "color": OKABE_ITO["orange"],
                "line": {"color": "black", "width": 1.5},
            },
            name="current θ",
            hovertemplate="current θ = (%{x:.3f}, %{y:.3f})<extra></extra>",
        )
    )
    lowest = int(torch.argmin(losses))
    g = losses.shape[1]
    fig.add_trace(
        go.Scatter(
            x=[float(theta1[lowest % g])],
            y=[float(theta2[lowest // g])],
            mode="markers",
            marker={"symbol": "x", "size": 14, "color": OKABE_ITO["sky"],
                    "line": {"color": "black", "width": 1}},
            name="lowest l on the grid",
        )
    )
    fig.add_trace(
        go.Scatter(
            **_arrow(pts[-1], next_theta),
            mode="lines+markers",
            line={"color": OKABE_ITO["vermillion"], "width": 3},
            # no marker where the arrow leaves (the current θ's star is there); an arrow head
            # turned along the segment, its tip pulled back onto θ_{t+1}
            marker={"symbol": ["circle", "arrow"], "size": [0, 22 if large else 18],
                    "angleref": "previous", "standoff": 11 if large else 9,
                    "color": OKABE_ITO["vermillion"], "line": {"width": 0}},
            name="next step −α∇l(θ)",
            showlegend=next_theta is not None,
            hoverinfo="skip",
        )
    )
    _style(fig, title, f"θ1 ({theta_names[0]})", f"θ2 ({theta_names[1]})", large)
    fig.update_layout(
        images=[_landscape_image(theta1, theta2, z, levels)],
        height=560,
        # no grid: the contours hide it, and it would show over the picture beneath them
        xaxis={"range": [float(theta1[0]), float(theta1[-1])], "constrain": "domain",
               "showgrid": False, "zeroline": False},
        yaxis={"range": [float(theta2[0]), float(theta2[-1])], "showgrid": False,
               "zeroline": False},
    )
    if len(pts) > 1:
        _add_replay(fig, pts, next_theta, large)
    return fig


def _add_replay(fig: go.Figure, pts: list[list[float]], next_theta: Sequence[float] | None,
                large: bool = False) -> None:
    """Frames that grow the path one step at a time, a Play button and a step slider.

    Frame k shows the path theta_0..theta_k (trace 1), the current theta_k (trace 2) and the
    arrow theta_k -> theta_{k+1} (trace 4; at the last frame the arrow to ``next_theta``, as
    the still figure draws it). A frame names only these scatter traces and carries no
    layout, so the contour's grid is sent once, not once per frame.

    What Plotly.js (4.2, Streamlit's bundle) does with a frame: it moves the traces the frame
    names and erases the drawing of every trace of a kind it cannot animate (anything but
    scatter here: the contour); with ``redraw: True`` it draws the whole chart again, but
    only in a later browser task, after the browser has painted the chart without its
    contours (the flash at every step that a projector showed). Neither setting keeps a
    contour trace drawn. So the landscape is also a picture under the plot
    (``_landscape_image``: the same bands in the same colours), which shows whenever the
    contour's drawing is erased: the landscape stays on the screen without a flash.
    Play moves only the scatter traces (``redraw: False``, cheap) and redraws at its last
    frame, which brings the contour's drawing (and its hover) back; a slider step redraws.
    """
    n = len(pts)
    shown = sorted({round(i * (n - 1) / (MAX_FRAMES - 1)) for i in range(MAX_FRAMES)} | {n - 1})
    shown = [k for k in shown if k < n]
    frames = []
    for k in shown:
        after = pts[k + 1] if k + 1 < n else next_theta
        frames.append(
            go.Frame(
                name=str(k),
                data=[
                    go.Scatter(x=[p[0] for p in pts[: k + 1]], y=[p[1] for p in pts[: k + 1]]),
                    go.Scatter(x=[pts[k][0]], y=[pts[k][1]]),
                    go.Scatter(**_arrow(pts[k], after)),
                ],
                traces=[1, 2, 4],
            )
        )
    fig.frames = frames
    duration = max(20, min(200, 4000 // len(frames)))  # about four seconds in all
    # one setting per frame (Plotly.animate takes a list): redraw only at the last
    per_frame = [{"duration": duration, "redraw": i == len(frames) - 1}
                 for i in range(len(frames))]
    play = {
        "label": "▶ Play",
        "method": "animate",
        "args": [None, {"frame": per_frame, "fromcurrent": False,
                        "transition": {"duration": 0}, "mode": "immediate"}],
    }
    pause = {
        "label": "❚❚ Pause",
        "method": "animate",
        "args": [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}],
    }
    fig.update_layout(
        updatemenus=[{"type": "buttons", "direction": "left", "x": 0, "y": -0.2,
                      "xanchor": "left", "yanchor": "top", "pad": {"t": 10},
                      "buttons": [play, pause]}],
        sliders=[{
            "active": len(frames) - 1,
            # after the two buttons, which are wider in classroom type
            "x": 0.42 if large else 0.38, "y": -0.2, "len": 0.58 if large else 0.62,
            "xanchor": "left", "yanchor": "top",
            "currentvalue": {"visible": False},  # the tick labels already say the step
            "steps": [
                {"label": f.name, "method": "animate",
                 "args": [[f.name], {"frame": {"duration": 0, "redraw": True},
                                     "mode": "immediate", "transition": {"duration": 0}}]}
                for f in frames
            ],
        }],
        margin={"b": 150},
    )


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


def descent_loss_figure(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    title: str,
    x_title: str,
    x_range: tuple[float, float] | None = None,
    stopped: Collection[str] = (),
    large: bool = False,
) -> go.Figure:
    """``loss_curves_figure`` for the gradient-descent lesson: a log loss axis whose tick
    labels never overlap, and a taller plot in classroom mode.

    Over less than a decade Plotly labels a log axis every 10 (100, 90, 80, ... 20), and the
    labels near the top pile onto each other; in classroom type they overlapped. The ticks
    here are the 1-2-5 values inside the curves' range (20, 50, 100), at least 0.3 of a
    decade apart; over more than about two decades, only the powers of ten."""
    fig = loss_curves_figure(curves, title=title, x_title=x_title, x_range=x_range,
                             stopped=stopped, large=large)
    values = [float(v) for _, y in curves.values() for v in y
              if math.isfinite(float(v)) and float(v) > 0]
    ticks = _log_ticks(min(values), max(values)) if values else []
    if len(ticks) >= 2:
        fig.update_yaxes(tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])
    else:  # a range too narrow for two 1-2-5 values: a few ticks Plotly places
        fig.update_yaxes(nticks=4)
    if large:
        fig.update_layout(height=460)
    return fig


def _log_ticks(low: float, high: float, most: int = 7) -> list[float]:
    """The values 1, 2, 5 x 10^k in [low, high]; only the powers of ten if there are more
    than ``most`` of those."""
    decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    ticks = [m * 10.0**k for k in decades for m in (1, 2, 5) if low <= m * 10.0**k <= high]
    if len(ticks) > most:
        ticks = [t for t in ticks if math.isclose(10 ** round(math.log10(t)), t)]
    return [float(f"{t:.6g}") for t in ticks]


def points_figure(
    x: torch.Tensor,
    y: torch.Tensor,
    theta: Sequence[float],
    *,
    kind: str,
    feature_names: tuple[str, str],
    target_name: str = "price",
    large: bool = False,
) -> go.Figure:
    """The training examples and what the current theta predicts for them.

    Classification: cats and dogs in the feature plane with the boundary theta . x = 0.
    Regression: (size, price) points with the line price = theta1 * size + theta2.
    """
    t1, t2 = float(theta[0]), float(theta[1])
    fig = go.Figure()
    if kind == "classification":
        for label, name, colour, symbol in ((-1, "cat", "orange", "circle"),
                                            (1, "dog", "blue", "square")):
            keep = y == label
            fig.add_trace(go.Scatter(
                x=x[keep, 0].tolist(), y=x[keep, 1].tolist(), mode="markers", name=name,
                marker={"color": OKABE_ITO[colour], "symbol": symbol, "size": 10,
                        "line": {"color": "black", "width": 1}},
            ))
        lo, hi = float(x[:, 0].min()) - 0.5, float(x[:, 0].max()) + 0.5
        if abs(t2) > 1e-9:  # boundary theta1*x1 + theta2*x2 = 0, solved for x2
            bx, by = [lo, hi], [-t1 * lo / t2, -t1 * hi / t2]
        else:  # a vertical boundary x1 = 0
            bx, by = [0.0, 0.0], [float(x[:, 1].min()) - 0.5, float(x[:, 1].max()) + 0.5]
        fig.add_trace(go.Scatter(x=bx, y=by, mode="lines", name="boundary θ·x = 0",
                                 line={"color": OKABE_ITO["black"], "width": 3, "dash": "dash"}))
        fig.update_yaxes(range=[float(x[:, 1].min()) - 0.5, float(x[:, 1].max()) + 0.5])
        title = "The examples and the current boundary"
        x_title, y_title = feature_names
    else:
        size = x[:, 0]
        fig.add_trace(go.Scatter(
            x=size.tolist(), y=y.tolist(), mode="markers", name="house",
            marker={"color": OKABE_ITO["blue"], "size": 9, "line": {"color": "black", "width": 1}},
        ))
        lo, hi = float(size.min()), float(size.max())
        fig.add_trace(go.Scatter(x=[lo, hi], y=[t1 * lo + t2, t1 * hi + t2], mode="lines",
                                 name="prediction θ1·size + θ2",
                                 line={"color": OKABE_ITO["vermillion"], "width": 3}))
        pad = 0.2 * float(y.max() - y.min())
        fig.update_yaxes(range=[float(y.min()) - pad, float(y.max()) + pad])
        title = "The examples and the current prediction"
        x_title, y_title = feature_names[0], target_name
    _style(fig, title, x_title, y_title, large)
    fig.update_layout(height=380, showlegend=True)
    return fig


def row_term_limit(*sweeps: Sequence) -> float:
    """The largest row term -log p/(p+q) over every breakdown of ``sweeps``: one bar axis
    for the charts that stand side by side, so equal bars mean equal terms."""
    return max(float(bd.row_terms.max()) for sweep in sweeps for bd in sweep)


def similarity_figure(
    sweep: Sequence,
    temperatures: Sequence[float],
    *,
    start: int,
    same_class: Sequence[tuple[int, int]] = (),
    title: str = "",
    loss_name: str = "loss",
    chance: float | None = None,
    term_max: float | None = None,
    large: bool = False,
) -> go.Figure:
    """The B x B similarities phi(x_hat_i) . phi(x_tilde_j) as a heatmap, beside each row's
    loss term -log p_i / (p_i + q_i), with a temperature slider computed in the browser.

    ``sweep[k]`` is the ``fmcore.losses.LossBreakdown`` at ``temperatures[k]``; every one is
    sent once as an animation frame, so moving the slider redraws without a server round trip.
    The loss appears once, in the title, which each frame rewrites: "``loss_name`` = value"
    at the slider's tau. Similarities are cosines over tau, so the colour scale spans
    [-1/tau, 1/tau]: the same colour means the same cosine in every chart. Positives (the
    diagonal) are outlined; ``same_class`` pairs (footnote 2 of the notes) are ringed.
    ``chance`` draws a dashed line on the bars at the term of an encoder that cannot tell
    pairs apart (log B for the notes' loss); ``term_max`` fixes the bars' axis (see
    :func:`row_term_limit`) so that charts side by side share it.
    """
    from plotly.subplots import make_subplots

    first = sweep[start]
    b = first.similarity.shape[0]
    rows = [f"x̂({i + 1})" for i in range(b)]
    cols = [f"x̃({j + 1})" for j in range(b)]
    worst = term_max if term_max is not None else row_term_limit(sweep)
    if chance is not None:
        worst = max(worst, chance)
    # values in the cells while they are readable with two charts side by side (B <= 6);
    # beyond, a colour bar titled cos/τ says what the colours are
    text = b <= 6

    def heat(bd, tau):
        return go.Heatmap(
            z=bd.similarity.tolist(), x=cols, y=rows, colorscale=SEQUENTIAL_SCALE,
            zmin=-1.0 / tau, zmax=1.0 / tau, showscale=not text,
            colorbar={"title": {"text": "cos/τ"}, "x": 0.55, "len": 0.8},
            texttemplate="%{z:.1f}" if text else None,
            hovertemplate="%{y} · %{x}<br>cos/τ = %{z:.3f}<extra></extra>",
            name="similarity",
        )

    def bars(bd):
        return go.Bar(
            x=bd.row_terms.tolist(), y=rows, orientation="h", name="−log p/(p+q)",
            marker={"color": OKABE_ITO["vermillion"]}, showlegend=False,
            hovertemplate="%{y}: −log p/(p+q) = %{x:.3f}<extra></extra>",
        )

    def heading(bd, tau):
        return f"{title}τ = {tau:.2g}, {loss_name} = {bd.total:.3f}"

    fig = make_subplots(rows=1, cols=2, column_widths=[0.62, 0.38], horizontal_spacing=0.12)
    fig.add_trace(heat(first, temperatures[start]), row=1, col=1)
    fig.add_trace(bars(first), row=1, col=2)
    if same_class:
        fig.add_trace(go.Scatter(
            x=[cols[j] for _, j in same_class], y=[rows[i] for i, _ in same_class],
            mode="markers", name="same class, yet a negative (footnote 2)",
            marker={"symbol": "circle-open", "size": 26 if text else 14,
                    "line": {"width": 3, "color": OKABE_ITO["orange"]}},
            hovertemplate="%{y} · %{x}: same class, counted as a negative<extra></extra>",
        ), row=1, col=1)
    for i in range(b):  # outline the positives
        fig.add_shape(type="rect", x0=i - 0.5, x1=i + 0.5, y0=i - 0.5, y1=i + 0.5,
                      line={"color": OKABE_ITO["black"], "width": 3}, row=1, col=1)
    if chance is not None:  # what a row costs when every candidate looks alike
        fig.add_shape(type="line", x0=chance, x1=chance, y0=0, y1=1, xref="x2",
                      yref="y2 domain", line={"color": OKABE_ITO["black"], "width": 2,
                                              "dash": "dash"})
        fig.add_annotation(x=chance, y=1.0, xref="x2", yref="y2 domain", text="chance",
                           showarrow=False, yanchor="bottom", font={"size": 12 if not large
                                                                     else 16})
    fig.frames = [
        go.Frame(name=f"{tau:.3g}", data=[heat(bd, tau), bars(bd)], traces=[0, 1],
                 layout={"title": {"text": heading(bd, tau)}})
        for bd, tau in zip(sweep, temperatures, strict=True)
    ]
    _style(fig, heading(first, temperatures[start]), "", "", large)
    fig.update_yaxes(autorange="reversed", title_text="first views x̂(i)", row=1, col=1)
    fig.update_yaxes(autorange="reversed", showticklabels=False, row=1, col=2)
    fig.update_xaxes(title_text="second views x̃(j)", row=1, col=1)
    fig.update_xaxes(title_text="row term −log p/(p+q)", range=[0, 1.05 * worst], row=1, col=2)
    fig.update_layout(
        height=560 if b <= 8 else 680, showlegend=bool(same_class),
        margin={"b": 120, "t": 150 if large else 110},
        sliders=[{
            "active": start, "x": 0.0, "y": -0.16, "yanchor": "top", "len": 1.0,
            "currentvalue": {"prefix": "temperature τ = "},
            "steps": [{"label": f"{t:.2g}", "method": "animate",
                       "args": [[f"{t:.3g}"], {"frame": {"duration": 0, "redraw": True},
                                               "mode": "immediate"}]} for t in temperatures],
        }],
    )
    return fig


# Plotly markers for class names that are shapes it can draw (see scatter_2d_figure)
SHAPE_SYMBOLS = {"circle": "circle", "square": "square", "triangle": "triangle-up",
                 "star": "star", "plus": "cross", "arrow": "arrow-up", "bar": "diamond-wide",
                 "hexagon": "hexagon"}


def scatter_2d_figure(
    points: torch.Tensor,
    labels: torch.Tensor,
    class_names: Sequence[str],
    *,
    title: str,
    hover: Sequence[str] | None = None,
    large: bool = False,
) -> go.Figure:
    """2-D coordinates (e.g. the PCA of a representation), one colour and marker per class.

    Colours repeat the palette and markers differ too, so classes stay apart without colour.
    A class named after a shape Plotly can draw gets that marker (the Shapes dataset: a star
    is a star); the others get markers that name no class (a heart is a diamond).
    """
    neutral = iter(("diamond", "hourglass", "x", "pentagon", "triangle-down", "bowtie"))
    symbols = [SHAPE_SYMBOLS.get(name) or next(neutral, "circle-open")
               for name in class_names]
    fig = go.Figure()
    for k, name in enumerate(class_names):
        keep = (labels == k).nonzero().flatten().tolist()
        if not keep:
            continue
        fig.add_trace(go.Scatter(
            x=[float(points[i, 0]) for i in keep], y=[float(points[i, 1]) for i in keep],
            mode="markers", name=name,
            marker={"color": series_colour(k), "symbol": symbols[k], "size": 8,
                    "line": {"color": "black", "width": 0.5}},
            text=[hover[i] for i in keep] if hover else None,
            hovertemplate="%{text}<extra>" + name + "</extra>" if hover else None,
        ))
    _style(fig, title, "principal component 1", "principal component 2", large)
    fig.update_layout(height=480, showlegend=True)
    return fig


def interface_figure(
    losses: Sequence[float],
    accuracies: Sequence[float],
    steps: Sequence[int],
    *,
    loss_name: str = "pretraining loss L_pre(θ)",
    large: bool = False,
) -> go.Figure:
    """Pretraining loss against the downstream (probe) accuracy at each checkpoint: the
    pretraining-adaptation interface of the course slides' theory figure.

    The loss axis runs the usual way (lower loss to the left), so training usually moves
    left and up. Arrows along the path point the way it went; only the first and last
    checkpoints carry a label (neighbouring ones sit too close to label them all), and
    every point names its step on hover.
    """
    n = len(steps)
    fig = go.Figure(go.Scatter(
        x=[float(v) for v in losses], y=[float(v) for v in accuracies],
        mode="lines+markers+text",
        text=[f"step {s}" if i in (0, n - 1) else "" for i, s in enumerate(steps)],
        # the end labels lean inwards, clear of the axes' tick labels
        textposition=["top right" if i == 0 else "top left" for i in range(n)],
        cliponaxis=False, customdata=[int(s) for s in steps],
        hovertemplate="step %{customdata}: loss %{x:.3f}, accuracy %{y:.2f}<extra></extra>",
        name="checkpoints",
        # each marker after the first is an arrow along the segment that leads to it
        marker={"color": OKABE_ITO["blue"], "size": [10] + [15] * (n - 1),
                "symbol": ["circle"] + ["arrow"] * (n - 1), "angleref": "previous"},
        line={"color": OKABE_ITO["blue"]},
    ))
    _style(fig, "Lower pretraining loss, better downstream accuracy?",
           f"{loss_name} (mean of 10 steps)", "linear-probe accuracy (held out)", large)
    fig.update_layout(height=420, showlegend=False)
    fig.update_xaxes(nticks=6)  # classroom type: long loss values need room
    fig.update_yaxes(range=[0, 1])
    return fig


def label_efficiency_figure(
    rows: Sequence,
    *,
    metric: str = "accuracy",
    chance: float | None = 0.1,
    large: bool = False,
) -> go.Figure:
    """Test metric against labelled examples per class, one line per (initialisation,
    method) with error bars of one standard deviation over repeats.

    ``rows`` are :class:`fmcore.adapt.Summary`-like objects (init, method, shots, mean, sd,
    n). Colour and marker follow the initialisation, the dash the method (probe solid,
    finetune dashed), so lines stay apart without colour. Finetuning an initialisation whose
    name starts with "random" is named "from scratch". Error bars are drawn only where
    there are repeats to measure a spread (n > 1): a bar of 0 would claim a precision that
    one run cannot give. The x-axis is logarithmic, with a tick at each shots value of the
    grid written in full (1, 10, 50, 500: never an SI prefix); zero-shot (n_task = 0)
    cannot sit on it, so ``chance``, what a guess scores without any labelled example, is
    drawn as a dotted line instead.
    """
    symbols = ("circle", "square", "diamond", "triangle-up", "x", "star")
    inits = list(dict.fromkeys(r.init for r in rows))
    fig = go.Figure()
    for key in dict.fromkeys((r.init, r.method) for r in rows):
        init, method = key
        line = sorted((r for r in rows if (r.init, r.method) == key), key=lambda r: r.shots)
        i = inits.index(init)
        scratch = method == "finetune" and init.lower().startswith("random")
        name = "from scratch" if scratch else f"{init}, {method}"
        repeated = [getattr(r, "n", 2) > 1 for r in line]
        fig.add_trace(go.Scatter(
            x=[r.shots for r in line], y=[r.mean for r in line], name=name,
            mode="lines+markers",
            error_y={"type": "data", "array": [r.sd for r in line], "visible": any(repeated),
                     "thickness": 1.5, "width": 4},
            line={"color": series_colour(i), "width": 3,
                  "dash": "solid" if method == "probe" else "dash"},
            marker={"symbol": symbols[i % len(symbols)], "size": 10},
            hovertemplate="%{x} per class: %{y:.3f}<extra>" + html.escape(name) + "</extra>",
        ))
    if chance is not None:
        fig.add_hline(y=chance, line={"color": OKABE_ITO["black"], "dash": "dot", "width": 2},
                      annotation_text=f"zero-shot (n_task = 0): chance, {chance:.0%}",
                      annotation_position="bottom right")
    _style(fig, f"Label efficiency: test {metric} against labelled examples",
           "labelled images per class (log scale; n_task = 10 × this)", f"test {metric}", large)
    fig.update_layout(height=480, showlegend=True)
    _log_axis(fig, "x")
    shots = sorted({r.shots for r in rows})
    fig.update_xaxes(tickmode="array", tickvals=shots, ticktext=[str(k) for k in shots])
    if metric == "accuracy":
        fig.update_yaxes(range=[0, 1])
    return fig


def adaptation_diagram(method: str) -> str:
    """Graphviz source of w^T phi_theta(x): which parameters move in ``method``.

    Linear probe (Eq. 14.1): theta fixed at theta-hat (grey, a lock), w trained. Finetuning
    (Eq. 14.2-14.4): theta starts at theta-hat and is trained too. Trained blocks are
    orange, frozen ones grey; the words say it as well, for readers who cannot tell them
    apart. Streamlit draws the text of a Graphviz chart at its own size (13.2 px in the
    drawing's units, whatever ``fontsize`` says) and scales the drawing to the column's
    width, so the text's size on screen is 13.2 px times the column's width over the
    drawing's: the labels are broken into short lines to keep the drawing narrow (about 440
    units), so that the text reads on a projector (about 20 px in the 700 px column of
    classroom mode at 1280 x 720) instead of shrinking to 8 px. ``fontsize`` matches
    Streamlit's size, so that Graphviz sizes the boxes to the text.
    """
    frozen = method == "probe"
    encoder_fill = "#DDDDDD" if frozen else OKABE_ITO["orange"]
    encoder_text = "θ = θ̂, frozen" if frozen else "θ starts at θ̂, trained"
    return f"""
digraph adaptation {{
  rankdir=LR; bgcolor="transparent"; nodesep=0.2; ranksep=0.2; pad=0.02;
  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=13,
        color="#333333", penwidth=1.2, margin="0.12,0.05"];
  edge [color="#333333", penwidth=1.2, arrowsize=0.7];
  x [label="image\\nx", fillcolor="#FFFFFF"];
  phi [label="encoder φθ\\n{encoder_text}", fillcolor="{encoder_fill}"];
  w [label="head w: new,\\nrandom start,\\ntrained", fillcolor="{OKABE_ITO['orange']}"];
  y [label="prediction\\nwᵀφθ(x)", fillcolor="#FFFFFF"];
  x -> phi -> w -> y;
}}
"""


def paradigms_diagram() -> str:
    """Graphviz source of the course slides' first figure, redrawn: supervised,
    unsupervised and self-supervised learning of a model f from raw data x.

    Supervised: f(x) is compared with a human label y by the loss L. Unsupervised: L looks
    at f(x) and x alone (for example reconstruction or clustering). Self-supervised: a
    pretext task P makes a pseudolabel z (and often a changed input x') from x itself, and f
    is trained to predict z as if it were a label.
    """
    blue, orange, green = OKABE_ITO["sky"], OKABE_ITO["orange"], OKABE_ITO["green"]
    return f"""
digraph paradigms {{
  rankdir=TB; bgcolor="transparent"; nodesep=0.3; ranksep=0.35;
  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=12,
        color="#333333", fillcolor="#FFFFFF", penwidth=1.3];
  edge [color="#333333", penwidth=1.3, fontname="Helvetica", fontsize=11];
  subgraph cluster_sup {{ label="Supervised"; fontname="Helvetica-Bold"; color="{blue}";
    sx [label="data x"]; sy [label="human labels y"]; sf [label="model f", fillcolor="{blue}"];
    sl [label="loss L(f(x), y)"]; sx -> sf -> sl; sy -> sl; }}
  subgraph cluster_uns {{ label="Unsupervised"; fontname="Helvetica-Bold"; color="{green}";
    ux [label="data x"]; uf [label="model f", fillcolor="{green}"];
    ul [label="loss L(f(x), x)"]; ux -> uf -> ul; ux -> ul [style=dashed]; }}
  subgraph cluster_ssl {{ label="Self-supervised"; fontname="Helvetica-Bold"; color="{orange}";
    px [label="data x"]; pp [label="pretext task P", shape=hexagon];
    pf [label="model f", fillcolor="{orange}"]; pl [label="loss L(f(x'), z)"];
    px -> pp; pp -> pf [label="input x'"]; pp -> pl [label="pseudolabel z"]; pf -> pl; }}
}}
"""


def masked_series_figure(
    series: torch.Tensor,
    mask: torch.Tensor,
    *,
    title: str,
    large: bool = False,
) -> go.Figure:
    """Time series x with the span a masked-feature pretext task hides shaded: the model
    sees the solid part and must predict the hidden values (the pseudolabel z).

    series (n, L) and mask (n, L) bool; each series is drawn shifted down by 3 so that
    several fit in one chart.
    """
    fig = go.Figure()
    for i in range(series.shape[0]):
        y = (series[i] - 3.0 * i).tolist()
        hidden = mask[i].tolist()
        steps = list(range(len(y)))
        seen = [v if not h else None for v, h in zip(y, hidden, strict=True)]
        fig.add_trace(go.Scatter(
            x=steps, y=seen, mode="lines", name="x′: what the model sees",
            line={"color": OKABE_ITO["blue"], "width": 3}, showlegend=i == 0,
            legendgroup="seen",
        ))
        fig.add_trace(go.Scatter(
            x=steps, y=[v if h else None for v, h in zip(y, hidden, strict=True)],
            mode="lines+markers", name="z: the hidden values to predict",
            line={"color": OKABE_ITO["vermillion"], "width": 3, "dash": "dot"},
            marker={"size": 5}, showlegend=i == 0, legendgroup="hidden",
        ))
        where = [t for t, h in enumerate(hidden) if h]
        if where:
            fig.add_shape(type="rect", xref="x", yref="y", x0=where[0] - 0.5,
                          x1=where[-1] + 0.5, y0=-3.0 * i - 1.5, y1=-3.0 * i + 1.5,
                          fillcolor=OKABE_ITO["orange"], opacity=0.15, line_width=0)
    _style(fig, title, "time step", "value (series shifted apart)", large)
    fig.update_layout(height=420, showlegend=True)
    fig.update_yaxes(showticklabels=False)
    return fig


# ============================================================================ language models
def _tau_text(tau: float) -> str:
    return "τ = 0 (greedy)" if tau == 0 else f"τ = {tau:.2f}"


def language_loss_figure(
    step_loss: tuple[Sequence[float], Sequence[float]],
    train_loss: tuple[Sequence[float], Sequence[float]],
    val_loss: tuple[Sequence[float], Sequence[float]],
    *,
    floor: float | None = None,
    title: str,
    large: bool = False,
) -> go.Figure:
    """The cross-entropy (Eq. 14.8) of a language model while it trains, each curve an
    (x, y) pair: the loss of each training batch, the loss on the training text and on the
    held-out validation text at each evaluation, and the floor (the corpus' true entropy
    rate) when it is known.

    The validation curve is what a student watches, so it stands apart from the noisy batch
    losses under it: thick vermillion with diamond markers, drawn last (on top), while the
    batch losses are a thin pale line. The training-text evaluations are rings around the
    diamonds, so both stay visible where the two losses agree. Each curve also differs in
    dash or markers, not in colour alone."""
    def points(xy: tuple[Sequence[float], Sequence[float]]) -> tuple[list[float], list[float]]:
        return [float(v) for v in xy[0]], [float(v) for v in xy[1]]

    x, y = points(step_loss)
    traces = [go.Scatter(  # drawn first: under everything else
        x=x, y=y, mode="lines", name="step loss (training batch)", legendrank=1,
        line={"color": OKABE_ITO["sky"], "width": 1.5}, opacity=0.8,
        hovertemplate="step %{x}: batch loss %{y:.3f}<extra></extra>")]
    if floor is not None and x:
        traces.append(go.Scatter(
            x=[0.0, x[-1]], y=[float(floor)] * 2, mode="lines", legendrank=4,
            name="true entropy rate (the floor)",
            line={"color": OKABE_ITO["black"], "width": 2, "dash": "dot"},
            hovertemplate="the floor: %{y:.3f}<extra></extra>"))
    x, y = points(train_loss)
    traces.append(go.Scatter(
        x=x, y=y, mode="lines+markers", name="training text", legendrank=2,
        line={"color": OKABE_ITO["blue"], "width": 2.5, "dash": "dash"},
        # rings larger than the validation diamonds: seen around them where the two agree
        marker={"symbol": "circle-open", "size": 22 if large else 18, "line": {"width": 2.5}},
        hovertemplate="step %{x}: training text %{y:.3f}<extra></extra>"))
    x, y = points(val_loss)
    traces.append(go.Scatter(  # drawn last: on top of the training curves
        x=x, y=y, mode="lines+markers", name="validation text", legendrank=3,
        line={"color": OKABE_ITO["vermillion"], "width": 5},
        marker={"symbol": "diamond", "size": 13 if large else 11,
                "line": {"color": "white", "width": 1.5}},
        hovertemplate="step %{x}: validation text %{y:.3f}<extra></extra>"))
    fig = go.Figure(traces)
    _style(fig, title, "step", "nats per character", large)
    fig.update_layout(height=440 if large else 380, showlegend=True)
    return fig


def _short_labels(sweep, shown: int) -> list[str]:
    """The sweep's bar labels, characters in quotes, the first ``shown`` of them."""
    return [f"“{x}”" for x in sweep.labels[:shown]] + ["others"]


def next_token_figure(sweep, *, start: int, title: str = "", large: bool = False) -> go.Figure:
    """Bars of the next-token distribution with a temperature slider run in the browser.

    ``sweep`` is a :class:`fmcore.lm.explain.TemperatureSweep`: one animation frame per
    temperature, so the bars follow the slider with no server round trip. The model's own
    distribution (tau = 1) stays drawn as outlined bars for comparison; the title of each
    frame gives its entropy. ``start`` is the index of the temperature shown first.

    In classroom mode (``large``) at most :data:`CLASSROOM_BARS` characters get their own
    bar (the rest join "others"), so their quoted labels can be large and upright.
    """
    n = len(sweep.labels) - 1  # characters with a bar; the last column is "others"
    shown = min(n, CLASSROOM_BARS) if large else n
    labels = _short_labels(sweep, shown)
    temps = sweep.temperatures

    def regroup(row: torch.Tensor) -> list[float]:
        return row[:shown].tolist() + [float(row[shown:].sum())]  # (shown + 1,)

    def bars(i: int) -> go.Bar:
        return go.Bar(
            x=labels, y=regroup(sweep.probs[i]), name="at the slider's τ",
            marker={"color": OKABE_ITO["blue"]},
            hovertemplate="%{x}: %{y:.3f}<extra></extra>",
        )

    def heading(i: int) -> str:
        h = max(0.0, float(sweep.entropy[i]))  # never "-0.00"
        return f"{title}{_tau_text(temps[i])}: entropy {h:.2f} nats ({h / 0.693147:.2f} bits)"

    fig = go.Figure([
        bars(start),
        go.Bar(x=labels, y=regroup(sweep.reference), name="τ = 1 (the model's own)",
               marker={"color": "rgba(0,0,0,0)", "line": {"color": OKABE_ITO["vermillion"],
                                                          "width": 2.5}},
               hovertemplate="%{x}: %{y:.3f} at τ = 1<extra></extra>"),
    ])
    fig.frames = [go.Frame(name=f"{t:.2f}", data=[bars(i)], traces=[0],
                           layout={"title": {"text": heading(i)}}) for i, t in enumerate(temps)]
    _style(fig, heading(start), "next character (most probable first; the rest grouped)",
           "probability", large)
    fig.update_layout(
        barmode="overlay", height=520 if large else 460, showlegend=True,
        margin={"b": 150},  # the rotated labels (normal type) and the slider below the axis
        sliders=[{
            "active": start, "x": 0.0, "y": -0.3 if large else -0.28, "yanchor": "top",
            "len": 1.0,
            "currentvalue": {"prefix": "temperature "},
            "steps": [{"label": f"{t:g}", "method": "animate",
                       "args": [[f"{t:.2f}"], {"frame": {"duration": 0, "redraw": True},
                                               "mode": "immediate"}]} for t in temps],
        }],
    )
    fig.update_yaxes(range=[0, 1])
    if large:  # few bars: the quoted characters upright and large enough to read projected
        fig.update_xaxes(tickangle=0, tickfont={"size": 26})
    return fig


CLASSROOM_BARS = 9  # characters with their own bar in classroom mode's next-token chart


def generated_figure(chars: Sequence[str], sampled: Sequence[float], own: Sequence[float],
                     *, sampling: str, large: bool = False) -> go.Figure:
    """How sure the model was of each generated character: the probability the model itself
    gave it (Eq. 14.6, tau = 1) as bars, and the probability in the distribution it was
    actually drawn from (Eq. 14.13 at the page's tau, top-k, top-p) as a mark on each. At
    tau = 0 the mark is always at 1 while the bars still vary. ``sampling`` names that
    distribution (e.g. "τ = 0 (greedy)")."""
    x = list(range(1, len(chars) + 1))
    quoted = [f"“{html.escape(c)}”" for c in chars]  # Plotly reads a few tags
    fig = go.Figure([
        go.Bar(x=x, y=[float(v) for v in own], customdata=quoted,
               name="the model's own probability (τ = 1)", marker={"color": OKABE_ITO["sky"]},
               hovertemplate="%{customdata}: the model gave it %{y:.3f}<extra></extra>"),
        go.Scatter(x=x, y=[float(v) for v in sampled], customdata=quoted, mode="markers",
                   name=f"in the sampling distribution ({sampling})",
                   marker={"color": OKABE_ITO["black"], "symbol": "line-ew-open",
                           "size": 22 if large else 18, "line": {"width": 3}},
                   hovertemplate="%{customdata}: the sampler gave it %{y:.3f}<extra></extra>"),
    ])
    _style(fig, "How sure was the model of each generated character?",
           "generated character", "probability", large)
    fig.update_layout(height=420 if large else 380, showlegend=True, bargap=0.15)
    fig.update_yaxes(range=[0, 1.05])
    if len(chars) <= (20 if large else 50):  # room for each character under its bar
        # unquoted (quotes make 20 labels run together); a space shows as ␣
        fig.update_xaxes(tickmode="array", tickvals=x, tickangle=0,
                         ticktext=[html.escape(c) for c in chars],
                         tickfont={"size": 24 if large else 14, "family": "monospace"})
    else:
        fig.update_xaxes(title={"text": "generated character (hover for each one)"})
    return fig


SURPRISE_COLUMNS = 40  # characters per row of the surprise map ...
SURPRISE_COLUMNS_LARGE = 24  # ... and in classroom type, where cells are larger


def surprise_columns(large: bool = False) -> int:
    """How many characters one row of the surprise map holds (for
    :func:`fmcore.lm.explain.text_grid`): fewer in classroom mode, so its larger cells and
    letters stay apart on a page 1280 pixels wide."""
    return SURPRISE_COLUMNS_LARGE if large else SURPRISE_COLUMNS


def surprise_map_figure(
    chars: Sequence[str],
    nll: Sequence[float],
    places: Sequence[tuple[int, int]],
    hover: Sequence[str],
    *,
    title: str,
    large: bool = False,
) -> go.Figure:
    """Each character of a text in a cell coloured by its surprise -log p(x_t | x_<t), in
    nats, with ``hover`` (e.g. the top alternatives) on each cell. The text is written into
    the figure as data, never as HTML. ``places`` are (row, column) cells, from
    :func:`fmcore.lm.explain.text_grid` with :func:`surprise_columns` columns.

    The axes span the whole grid (every column of a row, even on a short text), so each
    cell has its share of the width and the cells sit a fixed distance apart; the colour bar
    lies under the map, as long as its ticks need."""
    rows = max((r for r, _ in places), default=0) + 1
    columns = max(surprise_columns(large), max((c for _, c in places), default=0) + 1)
    # The reversed scale is dark at the top, past about 55% of its range (as cmax is the
    # largest value): white letters there, dark ones on the light cells
    top = max((float(v) for v in nll), default=0.0)
    ink = ["white" if top > 0 and float(v) / top > 0.55 else "black" for v in nll]
    pitch = 30 if large else 24  # pixels from one row to the next
    fig = go.Figure(go.Scatter(
        x=[c for _, c in places], y=[r for r, _ in places], mode="markers+text",
        text=[html.escape(c) for c in chars],  # Plotly reads a few tags: show them as typed
        textfont={"size": 18 if large else 14, "family": "monospace", "color": ink},
        marker={"symbol": "square", "size": 25 if large else 19, "color": list(nll),
                "colorscale": SEQUENTIAL_SCALE, "reversescale": True, "cmin": 0,
                "colorbar": {"title": {"text": "−log p (nats)", "side": "right"},
                             "orientation": "h", "x": 0.5, "xanchor": "center",
                             "yref": "container", "y": 0, "yanchor": "bottom",
                             "ypad": 10, "len": 0.7, "thickness": 16,
                             "tickfont": {"size": 18 if large else 13}},
                "line": {"color": "#888888", "width": 0.5}},
        customdata=list(hover), hovertemplate="%{customdata}<extra></extra>", name="",
    ))
    _style(fig, title, "", "", large)
    top_margin, bottom_margin = (60, 90) if large else (50, 70)
    height = top_margin + bottom_margin + pitch * rows
    fig.update_layout(height=height, showlegend=False,
                      title={"y": 1 - 8 / height},  # 8 px down, as on the taller charts
                      margin={"t": top_margin, "b": bottom_margin, "l": 10, "r": 10})
    fig.update_xaxes(visible=False, range=[-0.6, columns - 0.4])
    fig.update_yaxes(visible=False, range=[rows - 0.5, -0.5])  # row 0 at the top
    return fig


def running_loss_figure(chars: Sequence[str], nll: Sequence[float], *, large: bool = False
                        ) -> go.Figure:
    """The chain rule as a sum (Eq. 14.5 in logs): bars of each character's -log p and the
    running total, whose last value is -log p(x_1..x_T); the mean is the loss (Eq. 14.8)."""
    total, running = 0.0, []
    for v in nll:
        total += float(v)
        running.append(total)
    x = list(range(1, len(nll) + 1))
    shown = [c if c.strip() else "␣" for c in chars]
    fig = go.Figure([
        go.Bar(x=x, y=[float(v) for v in nll],
               name="−log p(x<sub>t</sub> | x<sub>&lt;t</sub>) of each character",
               marker={"color": OKABE_ITO["sky"]}, customdata=shown,
               hovertemplate="t = %{x} “%{customdata}”: %{y:.2f} nats<extra></extra>"),
        go.Scatter(x=x, y=running, name="running sum = −log p(x₁…xₜ)", yaxis="y2",
                   line={"color": OKABE_ITO["vermillion"], "width": 3}),
    ])
    mean = total / max(1, len(nll))
    heading = f"Chain rule: −log p(text) = {total:.2f} nats"
    loss = f"mean loss {mean:.3f} nats/char"
    # In classroom type one line is wider than the page; a title broken with <br> and
    # anchored at its top is drawn about a line too high (clipped), so the loss goes in a
    # subtitle, which Plotly places under the title.
    _style(fig, heading if large else f"{heading}, {loss}", "position t",
           "−log p per character (nats)", large)
    if large:  # the subtitle takes a line of the top margin: the legend moves down one
        fig.update_layout(title={"subtitle": {"text": loss, "font": {"size": 22}}},
                          margin={"t": 180})
    fig.update_layout(height=430 if large else 380, showlegend=True, yaxis2={
        "title": {"text": "running sum (nats)"}, "overlaying": "y", "side": "right",
        "rangemode": "tozero",
        # its own round ticks (synced to the left axis they read 8.46, 16.92, ...), no grid
        "tickmode": "auto", "showgrid": False})
    return fig


def sample_histogram_figure(sweep, index: int, counts: Sequence[int], *, large: bool = False
                            ) -> go.Figure:
    """How often each shown token was drawn in ``sum(counts)`` samples, against the
    probability the sampler was given (row ``index`` of the sweep): they should agree
    within sampling noise. ``counts`` follow the sweep's labels (the last is "others")."""
    n = max(1, sum(counts))
    labels = _short_labels(sweep, len(sweep.labels) - 1)
    fig = go.Figure([
        go.Bar(x=labels, y=[c / n for c in counts], name=f"drawn ({n} samples)",
               marker={"color": OKABE_ITO["orange"]}),
        go.Scatter(x=labels, y=sweep.probs[index].tolist(), mode="markers",
                   name="predicted probability", marker={"color": OKABE_ITO["black"],
                                                         "symbol": "line-ew-open", "size": 26,
                                                         "line": {"width": 3}}),
    ])
    _style(fig, f"{n} draws at {_tau_text(sweep.temperatures[index])}: frequency vs "
           "probability", "next character", "fraction of draws", large)
    fig.update_layout(height=400, showlegend=True)
    if large:
        fig.update_xaxes(tickfont={"size": 22})
    return fig


# ============================================================================ prompting
def accuracy_curve_figure(
    curves: Mapping[str, Sequence[float]],
    *,
    title: str,
    x_title: str = "number of labelled examples in the prompt (k)",
    x_values: Sequence[float] | None = None,
    marker: int | None = None,
    marker_label: str = "your prompt",
    chance: float | None = None,
    log_x: bool = False,
    large: bool = False,
) -> go.Figure:
    """Accuracy (0..1) against a count: one line per entry of ``curves`` (x = 0, 1, ...
    unless ``x_values``), a dotted vertical line at ``marker`` and a dashed chance level."""
    fig = go.Figure()
    for i, (name, ys) in enumerate(curves.items()):
        xs = list(x_values) if x_values is not None else list(range(len(ys)))
        fig.add_trace(go.Scatter(
            x=xs[: len(ys)], y=[float(y) for y in ys], mode="lines+markers",
            name=html.escape(str(name)),
            line={"color": series_colour(i), "width": 3, "dash": "solid" if i < 7 else "dot"},
            marker={"size": 9}, hovertemplate="%{x}: %{y:.0%}<extra>" + html.escape(str(name))
            + "</extra>"))
    if chance is not None:
        fig.add_hline(y=chance, line={"color": OKABE_ITO["black"], "dash": "dash", "width": 1},
                      annotation_text="a blind guess", annotation_position="top right")
    if marker is not None:
        fig.add_vline(x=marker, line={"color": OKABE_ITO["black"], "dash": "dot", "width": 2},
                      annotation_text=html.escape(marker_label),
                      # accuracy rises with k, so the bottom right of the line is free
                      annotation_position="bottom right")
    _style(fig, title, x_title, "accuracy (exact answer)", large)
    fig.update_layout(height=420, showlegend=True, yaxis={"range": [-0.03, 1.03],
                                                          "tickformat": ".0%"})
    if log_x:
        _log_axis(fig, "x")
    elif x_values is None:
        fig.update_xaxes(dtick=1)
    return fig


def shots_figure(
    fresh: Sequence[float],
    mine: Sequence[tuple[float, bool]],
    *,
    label: str,
    n_prompts: int,
    marker: int | None = None,
    large: bool = False,
) -> go.Figure:
    """Two panels against the number of examples k, each with its own y-axis: left, the
    accuracy of ``n_prompts`` fresh prompts (entry k: exact answers at k examples); right,
    p(right answer) for the student's prompt cut to its first k examples (``mine``: pairs
    (probability, whether greedy decoding writes it), filled markers where it does). A
    dotted line at ``marker`` (the student's k) in both."""
    from plotly.subplots import make_subplots

    titles = (f"{n_prompts} fresh prompts: accuracy", "your prompt, first k: p(right answer)")
    fig = make_subplots(rows=1, cols=2, subplot_titles=titles, horizontal_spacing=0.14)
    fig.add_trace(go.Scatter(
        x=list(range(len(fresh))), y=[float(y) for y in fresh], mode="lines+markers",
        name=html.escape(f"accuracy, {n_prompts} fresh prompts of {label}"),
        line={"color": series_colour(0), "width": 3}, marker={"size": 9},
        hovertemplate="k = %{x}: %{y:.0%} right<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Scatter(
        x=list(range(len(mine))), y=[float(p) for p, _ in mine], mode="lines+markers",
        name="p(right answer), your prompt (filled: greedy writes it)",
        line={"color": series_colour(1), "width": 3},
        marker={"size": 11, "symbol": ["circle" if ok else "circle-open" for _, ok in mine],
                "line": {"width": 2, "color": series_colour(1)}},
        hovertemplate="first %{x} examples: p = %{y:.3f}<extra></extra>"), row=1, col=2)
    if marker is not None:
        for col in (1, 2):
            fig.add_vline(x=marker, line={"color": OKABE_ITO["black"], "dash": "dot", "width": 2},
                          row=1, col=col)
    _style(fig, f"Accuracy and p(right answer) against k: {html.escape(label)}", "", "", large)
    # the legend under the panels: above them it would cover the panel titles
    fig.update_layout(height=520 if large else 460, showlegend=True,
                      margin={"t": 110 if large else 80, "b": 150 if large else 120},
                      legend={"yanchor": "top", "y": -0.25, "x": 0})
    fig.update_xaxes(title_text="examples in the prompt (k)", dtick=1)
    fig.update_yaxes(title_text="accuracy (exact answer)", range=[-0.03, 1.03], tickformat=".0%",
                     row=1, col=1)
    fig.update_yaxes(title_text="p(right answer)", range=[-0.03, 1.03], row=1, col=2)
    fig.update_annotations(font_size=fig.layout.font.size)  # the panel titles (16 px otherwise)
    return fig


def answer_steps_figure(steps, labels: Sequence[str], *, top: int = 6, large: bool = False
                        ) -> go.Figure:
    """The model's next-character distribution at each character of its answer (one panel
    per generated character, the ``top`` most likely characters), the chosen one in
    vermillion. ``steps`` are fmcore.prompts.AnswerStep; ``labels`` the tokenizer's."""
    from plotly.subplots import make_subplots

    n = max(1, len(steps))
    # in classroom type the panel titles fit side by side only on two lines
    gap = "<br>" if large else " "
    titles = [f"char {i + 1}: “{html.escape(_shown_char(s.text))}”{gap}"
              f"p = {s.probability:.2f}" for i, s in enumerate(steps)]
    fig = make_subplots(rows=1, cols=n, subplot_titles=titles or [""], shared_yaxes=True,
                        horizontal_spacing=0.04)
    for i, s in enumerate(steps):
        p, idx = torch.topk(s.probs.float(), min(top, s.probs.shape[0]))
        names = [_shown_char(labels[j]) for j in idx.tolist()]
        colours = [OKABE_ITO["vermillion"] if j == s.token else OKABE_ITO["sky"]
                   for j in idx.tolist()]
        fig.add_trace(go.Bar(x=names, y=p.tolist(), marker={"color": colours}, showlegend=False,
                             hovertemplate="“%{x}”: %{y:.3f}<extra></extra>"), row=1, col=i + 1)
    # short: the chart sits in half a page, where a long title is cut off
    _style(fig, "The next-character distribution (vermillion: written)", "",
           "p(next character)", large)
    fig.update_layout(height=340, yaxis={"range": [0, 1.05]})
    fig.update_xaxes(type="category")
    # make_subplots gives the panel titles (annotations) a fixed 16 px font: the figure's
    # font size, larger in classroom mode, does not reach them
    fig.update_annotations(font_size=fig.layout.font.size)
    return fig


def _shown_char(c: str) -> str:
    return {"\n": "↵ newline", " ": "␣"}.get(c, c)


# ============================================================================ table view
MAX_TABLE_ROWS = 20_000  # rows of one chart's table view (a heatmap of 16 x 16 is 256)


def figure_rows(fig: go.Figure) -> list[dict]:
    """The numbers a figure shows, as table rows (the accessible view under each chart):
    one row per point (series, x, y) of a line, bar or scatter trace, one per cell (series,
    row, column, value) of a heatmap. Names are plain text (html-escaped in the figure)."""
    rows: list[dict] = []
    for trace in fig.data:
        name = html.unescape(str(getattr(trace, "name", None) or trace.type))
        x, y, z = (getattr(trace, a, None) for a in ("x", "y", "z"))
        if z is not None:
            for i, line in enumerate(z):
                for j, value in enumerate(line):
                    rows.append({"series": name, "row": y[i] if y is not None else i,
                                 "column": x[j] if x is not None else j, "value": value})
        elif y is not None:
            for i, value in enumerate(y):
                rows.append({"series": name, "x": x[i] if x is not None and i < len(x) else i,
                             "y": value})
        if len(rows) >= MAX_TABLE_ROWS:
            return rows[:MAX_TABLE_ROWS]
    return rows

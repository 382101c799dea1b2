"""Figures of the gradient-descent lesson: the loss landscape with the descent path and its
replay, the loss curves of GD and SGD, the data with the model's line (style: fmcore.style)."""

from __future__ import annotations

import base64
import functools
import io
import math
from collections.abc import Collection, Mapping, Sequence
from typing import NamedTuple

import plotly.colors as pcolors
import plotly.graph_objects as go
import torch
from PIL import Image

from fmcore.style import MAX_FRAMES, OKABE_ITO, SEQUENTIAL_SCALE, _style, loss_curves_figure


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

    ``losses`` is (G, G) indexed [theta2, theta1] (as ``foundations.descent.loss_grid`` returns);
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

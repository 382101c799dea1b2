"""Figures of the gradient-descent lesson: the loss landscape with the descent path and its
replay, the loss curves of GD and SGD, the data with the model's line (style: fmcore.style)."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence

import plotly.graph_objects as go
import torch

from fmcore.style import MAX_FRAMES, OKABE_ITO, SEQUENTIAL_SCALE, _style, loss_curves_figure


def _arrow(start: Sequence[float], end: Sequence[float]) -> dict:
    """An annotation arrow from ``start`` to ``end`` in data coordinates (no text: a label
    would sit on ``start`` and hide the point the arrow leaves from)."""
    return {
        "x": end[0],
        "y": end[1],
        "ax": start[0],
        "ay": start[1],
        "xref": "x",
        "yref": "y",
        "axref": "x",
        "ayref": "y",
        "showarrow": True,
        "arrowhead": 3,
        "arrowsize": 1.4,
        "arrowwidth": 3,
        "arrowcolor": OKABE_ITO["vermillion"],
        "text": "",
    }


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
            ncontours=24,
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
    arrows = []
    if next_theta is not None:
        arrows = [_arrow(pts[-1], next_theta)]
        # The arrow is an annotation, which has no legend entry: a line trace names it.
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name="next step −α∇l(θ)",
                                 line={"color": OKABE_ITO["vermillion"], "width": 3}))
    _style(fig, title, f"θ1 ({theta_names[0]})", f"θ2 ({theta_names[1]})", large)
    fig.update_layout(
        annotations=arrows,
        height=560,
        xaxis={"range": [float(theta1[0]), float(theta1[-1])], "constrain": "domain"},
        yaxis={"range": [float(theta2[0]), float(theta2[-1])]},
    )
    if len(pts) > 1:
        _add_replay(fig, pts, next_theta, large)
    return fig


def _add_replay(fig: go.Figure, pts: list[list[float]], next_theta: Sequence[float] | None,
                large: bool = False) -> None:
    """Frames that grow the path one step at a time, a Play button and a step slider.

    Frame k shows the path theta_0..theta_k (trace 1), the current theta_k (trace 2) and the
    arrow theta_k -> theta_{k+1} (the layout's one annotation; at the last frame the arrow to
    ``next_theta``, as the still figure draws it). Frames are drawn with ``redraw: True``:
    Plotly.js first moves the traces a frame names (scatter, the one animatable kind) and
    erases the drawing of every other trace, then, with ``redraw``, draws the whole chart
    again; without it the contours, the path's line and the arrow stayed erased while
    ``data`` still held them. A frame names only traces 1 and 2, so the contour's grid is
    sent once, not once per frame, and its layout names the whole list of annotations.
    Between the move and the redraw (one browser task) the contours are briefly absent.
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
                ],
                traces=[1, 2],
                layout={"annotations": [] if after is None else [_arrow(pts[k], after)]},
            )
        )
    fig.frames = frames
    duration = max(20, min(200, 4000 // len(frames)))  # about four seconds in all
    play = {
        "label": "▶ Play",
        "method": "animate",
        "args": [None, {"frame": {"duration": duration, "redraw": True}, "fromcurrent": False,
                        "transition": {"duration": 0}, "mode": "immediate"}],
    }
    pause = {
        "label": "❚❚ Pause",
        "method": "animate",
        "args": [[None], {"frame": {"duration": 0, "redraw": True}, "mode": "immediate"}],
    }
    fig.update_layout(
        updatemenus=[{"type": "buttons", "direction": "left", "x": 0, "y": -0.2,
                      "xanchor": "left", "yanchor": "top", "pad": {"t": 10},
                      "buttons": [play, pause]}],
        sliders=[{
            "active": len(frames) - 1,
            # after the two buttons, which are wider in classroom type
            "x": 0.42 if large else 0.3, "y": -0.2, "len": 0.58 if large else 0.7,
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

"""Plotly figure builders: pure functions, data in, ``go.Figure`` out.

Every figure has a title, labelled axes and a legend where there is more than one trace,
uses the Okabe-Ito palette (safe for colour-blind readers) and a colour-blind-safe colour
scale, and takes ``large=True`` for classroom mode (bigger type for a projector).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
import torch

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


def _style(fig: go.Figure, title: str, x_title: str, y_title: str, large: bool) -> go.Figure:
    base = 20 if large else 14
    fig.update_layout(
        title={"text": title, "font": {"size": base + 4}, "y": 0.98, "yanchor": "top"},
        font={"size": base},
        xaxis_title=x_title,
        yaxis_title=y_title,
        template="plotly_white",
        margin={"l": 70, "r": 30, "t": 150 if large else 95, "b": 60},
        # Legend between the title and the plot, where it never covers data.
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
    )
    return fig


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

    ``losses`` is (G, G) indexed [theta2, theta1] (as ``fmcore.descent.loss_grid`` returns);
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
            z=z.tolist(),
            customdata=losses.tolist(),
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
        _add_replay(fig, pts)
    return fig


def _add_replay(fig: go.Figure, pts: list[list[float]]) -> None:
    """Frames that grow the path one step at a time, a Play button and a step slider."""
    n = len(pts)
    shown = sorted({round(i * (n - 1) / (MAX_FRAMES - 1)) for i in range(MAX_FRAMES)} | {n - 1})
    shown = [k for k in shown if k < n]
    frames = []
    for k in shown:
        frames.append(
            go.Frame(
                name=str(k),
                data=[
                    go.Scatter(x=[p[0] for p in pts[: k + 1]], y=[p[1] for p in pts[: k + 1]]),
                    go.Scatter(x=[pts[k][0]], y=[pts[k][1]]),
                ],
                traces=[1, 2],
            )
        )
    fig.frames = frames
    duration = max(20, min(200, 4000 // len(frames)))  # about four seconds in all
    play = {
        "label": "▶ Play",
        "method": "animate",
        "args": [None, {"frame": {"duration": duration, "redraw": False}, "fromcurrent": False,
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
            "x": 0.3, "y": -0.2, "len": 0.7, "xanchor": "left", "yanchor": "top",
            "currentvalue": {"visible": False},  # the tick labels already say the step
            "steps": [
                {"label": f.name, "method": "animate",
                 "args": [[f.name], {"frame": {"duration": 0, "redraw": False},
                                     "mode": "immediate"}]}
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
    large: bool = False,
) -> go.Figure:
    """One line per named curve {name: (x, y)}, in palette order; log y-axis by default."""
    fig = go.Figure()
    for i, (name, (x, y)) in enumerate(curves.items()):
        fig.add_trace(
            go.Scatter(
                x=[float(v) for v in x],
                y=[float(v) for v in y],
                mode="lines",
                name=name,
                line={"color": series_colour(i), "width": 3,
                      "dash": ("solid", "dash", "dot")[i % 3]},  # not colour alone
            )
        )
    _style(fig, title, x_title, y_title, large)
    fig.update_layout(height=380, showlegend=True)
    if log_y:
        fig.update_yaxes(type="log")
    return fig


def points_figure(
    x: torch.Tensor,
    y: torch.Tensor,
    theta: Sequence[float],
    *,
    kind: str,
    feature_names: tuple[str, str],
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
        x_title, y_title = feature_names[0], "price"
    _style(fig, title, x_title, y_title, large)
    fig.update_layout(height=380, showlegend=True)
    return fig

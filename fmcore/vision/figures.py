"""Figures of the vision lessons: the similarity matrices of the SimCLR loss, the PCA of
embeddings, the alignment/uniformity interface of a pretraining (style: fmcore.style)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
import torch

from fmcore.style import OKABE_ITO, SEQUENTIAL_SCALE, _style, series_colour


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

    ``sweep[k]`` is the ``fmcore.vision.losses.LossBreakdown`` at ``temperatures[k]``; every one is
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

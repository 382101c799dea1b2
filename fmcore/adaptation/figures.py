"""Figures of the adaptation lesson: accuracy against labels per class, and the diagram of
what a linear probe and finetuning train (style: fmcore.style)."""

from __future__ import annotations

import html
from collections.abc import Sequence

import plotly.graph_objects as go

from fmcore.style import OKABE_ITO, _log_axis, _style, series_colour


def label_efficiency_figure(
    rows: Sequence,
    *,
    metric: str = "accuracy",
    chance: float | None = 0.1,
    large: bool = False,
) -> go.Figure:
    """Test metric against labelled examples per class, one line per (initialisation,
    method) with error bars of one standard deviation over repeats.

    ``rows`` are :class:`fmcore.adaptation.adapt.Summary`-like objects (init, method, shots,
    mean, sd, n). Colour and marker follow the initialisation, the dash the method (probe solid,
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

"""Figures of the pretext-task lesson: the three paradigms (Graphviz) and a time series with
its masked values (style: fmcore.style). The home page draws its own paradigm picture
(lessons/home.py), so that it imports neither torch nor plotly."""

from __future__ import annotations

import plotly.graph_objects as go
import torch

from fmcore.style import OKABE_ITO, _style


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

"""Figures of the prompting lesson: accuracy by number of examples, accuracy and p(right
answer) side by side, and the answer written step by step (style: fmcore.style)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
import torch

from fmcore.style import OKABE_ITO, _log_axis, _style, series_colour


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
    vermillion. ``steps`` are fmcore.prompting.prompts.AnswerStep; ``labels`` the tokenizer's."""
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

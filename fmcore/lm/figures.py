"""Figures of the language-model lessons: training curves against the entropy floor, the
next-token distribution by temperature, generated text, the surprise map, the running loss
and the sample histogram (style: fmcore.style)."""

from __future__ import annotations

import html
from collections.abc import Sequence

import plotly.graph_objects as go
import torch

from fmcore.style import OKABE_ITO, SEQUENTIAL_SCALE, _style


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

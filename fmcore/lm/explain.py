"""What the language-model lessons show, computed: the next-token distribution swept over
temperatures, and the characters of a text laid out for a surprise map.

Temperature (notes, Section 14.3, Eq. 14.13-14.16) divides the logits before the softmax:
x_{t+1} ~ softmax(u_{t+1} / tau) instead of softmax(u_{t+1}) (Eq. 14.9). tau = 1 is the model's own
distribution, tau -> 0 puts all the mass on the argmax (greedy decoding; tau = 0 is defined
as exactly that), a large tau flattens it towards uniform. Dividing by tau never changes
which token is more probable than which, so the top-N tokens are the same at every tau > 0:
a chart can keep its bars in place and only change their heights, which is what lets the
page's temperature slider run in the browser from precomputed frames.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import torch

from fmcore.errors import SettingError
from fmcore.lm.sampling import entropy, filtered_probs
from fmcore.lm.tokenizer import CharTokenizer
from fmcore.validate import bounded_int, finite_float

__all__ = ["TEMPERATURES", "TemperatureSweep", "temperature_sweep", "text_grid"]

# The page's slider: 0 (greedy) to 3 in steps of 0.05 (61 frames).
TEMPERATURES: tuple[float, ...] = tuple(round(0.05 * i, 2) for i in range(61))
MAX_TOP_N = 40  # bars drawn; the rest of the vocabulary is one grouped bar


@dataclass(frozen=True, eq=False)
class TemperatureSweep:
    """The next-token distribution at each temperature, as the page draws it.

    ``probs[i, j]`` is the probability of ``labels[j]`` at ``temperatures[i]`` after top-k
    and top-p; the last column is "every other token" grouped (0 when nothing is left out).
    ``reference`` is the row at tau = 1 with no top-k or top-p: the model's own distribution.
    """

    temperatures: tuple[float, ...]
    token_ids: list[int]  # the top-N tokens, most probable first (at tau = 1)
    labels: list[str]  # how each is shown (␣ for a space, ↵ for a newline), then "others"
    probs: torch.Tensor  # (n_tau, N + 1) float64
    reference: torch.Tensor  # (N + 1,) float64
    entropy: torch.Tensor  # (n_tau,) nats, of the whole filtered distribution (not grouped)


def temperature_sweep(
    logits: torch.Tensor,
    tokenizer: CharTokenizer,
    temperatures: tuple[float, ...] = TEMPERATURES,
    top_k: int | None = None,
    top_p: float | None = None,
    top_n: int = 15,
) -> TemperatureSweep:
    """The distribution of the next token (Eq. 14.13: softmax(u_{T+1} / tau)) for each
    temperature, the ``top_n`` most probable tokens shown and the rest grouped.

    logits: (V,), the u_{T+1} of a prompt. Each row is :func:`fmcore.lm.sampling.
    filtered_probs` (temperature, then top-k, then top-p), so the bars are exactly what
    :func:`fmcore.lm.sampling.sample_next` draws from.
    """
    if not isinstance(logits, torch.Tensor) or logits.ndim != 1:
        raise SettingError("logits must be a 1-D tensor of the vocabulary's scores.")
    if logits.shape[0] != tokenizer.vocab_size:
        raise SettingError(
            f"The logits have {logits.shape[0]} entries but the tokenizer has "
            f"{tokenizer.vocab_size} tokens."
        )
    top_n = bounded_int("top_n", top_n, 1, MAX_TOP_N)
    temperatures = tuple(finite_float("temperature", t, 0.0, 100.0) for t in temperatures)
    if not temperatures:
        raise SettingError("Give at least one temperature.")
    u = logits.detach().double()
    order = torch.argsort(u, descending=True, stable=True)  # ties: lowest id first
    shown = order[: min(top_n, u.numel())]  # (N,)
    rows = torch.stack([filtered_probs(u, t, top_k, top_p) for t in temperatures])  # (n, V)
    rest = torch.ones(u.numel(), dtype=torch.bool)
    rest[shown] = False  # (V,) the tokens grouped as "others"
    others = rows[:, rest].sum(1, keepdim=True)  # (n, 1): exactly 0 when nothing is left
    grouped = torch.cat([rows[:, shown], others], dim=1)  # (n, N + 1)
    model = filtered_probs(u, 1.0)  # (V,)
    reference = torch.cat([model[shown], model[rest].sum()[None]])  # (N + 1,)
    ids = shown.tolist()
    return TemperatureSweep(
        temperatures=temperatures,
        token_ids=ids,
        labels=[tokenizer.token_label(i) for i in ids] + ["others"],
        probs=grouped,
        reference=reference,
        entropy=entropy(rows),
    )


def text_grid(text: str, width: int = 40) -> list[tuple[int, int]]:
    """(row, column) of each character of ``text`` in a grid ``width`` characters wide, a
    newline starting a new row: where a surprise map draws each character."""
    width = bounded_int("width", width, 4, 400)
    row = col = 0
    places = []
    for char in text:
        if col >= width:
            row, col = row + 1, 0
        places.append((row, col))
        if char == "\n":
            row, col = row + 1, 0
        else:
            col += 1
    return places


def group_counts(counts: torch.Tensor, sweep: TemperatureSweep) -> list[int]:
    """Draw counts per token (V,) regrouped as the sweep's bars: the shown tokens, then the
    sum of all the others."""
    counts = counts.long()
    shown = counts[sweep.token_ids]
    return [int(c) for c in shown] + [int(counts.sum() - shown.sum())]


def position_notes(score, tokenizer: CharTokenizer, k: int = 5) -> list[str]:
    """One line per scored character for a hover: its probability and surprise, and the
    ``k`` characters the model found most probable there. ``score`` is a
    :class:`fmcore.lm.scoring.TextScore`. Characters are HTML-escaped: Plotly's hover text
    reads a few tags, and a typed "<b>" must show as typed."""
    k = bounded_int("k", k, 1, score.top_ids.shape[1])

    def label(token_id: int) -> str:
        return html.escape(tokenizer.token_label(token_id))

    notes = []
    for t in range(score.length):
        char = label(score.ids[t + 1])
        top = " · ".join(
            f"“{label(int(i))}” {float(p):.2f}"
            for i, p in zip(score.top_ids[t, :k], score.top_probs[t, :k], strict=True)
        )
        notes.append(
            f"x{t + 1} = “{char}”: p = {float(score.probs[t]):.3f}, "
            f"−log p = {float(score.nll[t]):.2f} nats<br>most probable here: {top}"
        )
    return notes

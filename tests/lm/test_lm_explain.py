"""The temperature sweep and the text layout of the language-model lessons, and their figures."""

import math

import pytest
import torch

from fmcore.errors import SettingError
from fmcore.lm import figures
from fmcore.lm.explain import TEMPERATURES, temperature_sweep, text_grid
from fmcore.lm.sampling import filtered_probs
from fmcore.lm.tokenizer import CharTokenizer

TOK = CharTokenizer("abcde ")  # V = 3 specials + 6


def logits() -> torch.Tensor:
    return torch.tensor([-9.0, -9.0, -9.0, 2.0, 1.0, 0.5, 0.0, -1.0, 3.0])


def test_sweep_rows_are_the_sampler_distributions_grouped():
    sweep = temperature_sweep(logits(), TOK, top_n=3)
    assert sweep.token_ids == [8, 3, 4]  # " " then "a", "b": most probable first
    assert sweep.labels == ["␣", "a", "b", "others"]
    i = TEMPERATURES.index(0.5)
    full = filtered_probs(logits().double(), 0.5)
    assert sweep.probs[i, :3].tolist() == pytest.approx(full[[8, 3, 4]].tolist())
    assert float(sweep.probs[i].sum()) == pytest.approx(1.0)
    assert sweep.probs[0].tolist() == [1.0, 0.0, 0.0, 0.0]  # tau = 0: greedy, one-hot
    assert float(sweep.entropy[0]) == 0.0
    # entropy grows with temperature, towards log V at large tau
    assert all(a <= b + 1e-12 for a, b in zip(sweep.entropy, sweep.entropy[1:], strict=False))
    assert float(sweep.entropy[-1]) < math.log(9)
    assert sweep.reference.tolist() == pytest.approx(
        sweep.probs[TEMPERATURES.index(1.0)].tolist())


def test_sweep_with_top_k_leaves_nothing_in_others():
    sweep = temperature_sweep(logits(), TOK, top_k=2, top_n=3)
    assert sweep.probs[:, 2:].abs().max() == 0  # only the top 2 survive
    assert sweep.reference[3] > 0  # the reference is the unfiltered model


def test_sweep_refuses_bad_inputs():
    with pytest.raises(SettingError, match="tokenizer has 9"):
        temperature_sweep(torch.zeros(5), TOK)
    with pytest.raises(SettingError, match="temperature"):
        temperature_sweep(logits(), TOK, temperatures=(float("nan"),))
    with pytest.raises(SettingError, match="1-D"):
        temperature_sweep(torch.zeros(2, 9), TOK)


def test_text_grid_wraps_and_breaks_lines():
    assert text_grid("abcdef", width=4) == [(0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 1)]
    assert text_grid("ab\ncd", width=10) == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)]


def test_next_token_figure_has_one_frame_per_temperature_and_the_reference():
    sweep = temperature_sweep(logits(), TOK, top_n=3)
    fig = figures.next_token_figure(sweep, start=TEMPERATURES.index(1.0))
    assert len(fig.frames) == len(TEMPERATURES)
    assert list(fig.frames[0].data[0].y) == [1.0, 0.0, 0.0, 0.0]
    assert "greedy" in fig.frames[0].layout.title.text
    assert fig.data[1].name == "τ = 1 (the model's own)"
    assert fig.layout.sliders[0].active == 20
    assert "entropy" in fig.layout.title.text and "bits" in fig.layout.title.text


def test_surprise_and_running_loss_figures_carry_the_numbers():
    nll = [0.5, 1.0, 2.0]
    fig = figures.surprise_map_figure(list("ab\n"), nll, text_grid("ab\n"), ["x", "y", "z"],
                                    title="t")
    assert list(fig.data[0].marker.color) == nll and list(fig.data[0].text) == ["a", "b", "\n"]
    run = figures.running_loss_figure(list("ab "), nll)
    assert list(run.data[1].y) == [0.5, 1.5, 3.5]
    assert "3.50 nats" in run.layout.title.text and "1.167" in run.layout.title.text


def test_sample_histogram_figure_normalises_counts():
    sweep = temperature_sweep(logits(), TOK, top_n=3)
    fig = figures.sample_histogram_figure(sweep, 20, [50, 30, 15, 5])
    assert list(fig.data[0].y) == [0.5, 0.3, 0.15, 0.05]
    assert list(fig.data[1].y) == pytest.approx(sweep.probs[20].tolist())


def test_classroom_next_token_bars_are_few_upright_and_large():
    big = CharTokenizer("abcdefghijklmnopqrstu ")  # 22 characters: more than the classroom bars
    u = torch.linspace(3.0, -3.0, big.vocab_size)
    sweep = temperature_sweep(u, big)  # 15 shown and "others"
    normal = figures.next_token_figure(sweep, start=20)
    large = figures.next_token_figure(sweep, start=20, large=True)
    assert len(normal.data[0].x) == 16 and len(large.data[0].x) == figures.CLASSROOM_BARS + 1
    assert large.data[0].x[-1] == "others" and large.data[0].x[0].startswith("“")
    for fig in (normal, large):  # the regrouped "others" keeps each frame a distribution
        assert sum(fig.frames[3].data[0].y) == pytest.approx(1.0)
        assert sum(fig.data[1].y) == pytest.approx(1.0)
    n = figures.CLASSROOM_BARS
    assert large.data[0].y[-1] == pytest.approx(float(sweep.probs[20, n:].sum()))
    assert large.layout.xaxis.tickangle == 0 and large.layout.xaxis.tickfont.size >= 24
    assert normal.layout.xaxis.tickfont.size is None  # normal type: the template's


def test_generated_figure_sets_the_model_beside_the_sampler():
    fig = figures.generated_figure(list("ab<"), [1.0, 1.0, 1.0], [0.4, 0.9, 0.3],
                                 sampling="τ = 0, greedy")
    bars, marks = fig.data
    assert list(bars.y) == [0.4, 0.9, 0.3] and list(marks.y) == [1.0, 1.0, 1.0]
    assert "τ = 1" in bars.name and "τ = 0, greedy" in marks.name
    assert list(fig.layout.xaxis.ticktext) == ["a", "b", "&lt;"]  # shown as typed
    assert list(bars.customdata) == ["“a”", "“b”", "“&lt;”"]  # quoted in the hover
    long = figures.generated_figure(["a"] * 60, [0.5] * 60, [0.5] * 60, sampling="τ = 1")
    assert long.layout.xaxis.ticktext is None  # too many to label: hover instead
    assert fig.layout.yaxis.title.text == "probability" and fig.layout.title.text


def test_surprise_map_spans_its_grid_and_puts_the_colour_bar_below():
    for large in (False, True):
        columns = figures.surprise_columns(large)
        text = "x" * (columns + 3)  # two rows
        fig = figures.surprise_map_figure(list(text), [1.0] * len(text),
                                        text_grid(text, columns), [""] * len(text),
                                        title="t", large=large)
        assert list(fig.layout.xaxis.range) == [-0.6, columns - 0.4]
        assert list(fig.layout.yaxis.range) == [1.5, -0.5]  # row 0 on top
        bar = fig.data[0].marker.colorbar
        assert bar.orientation == "h" and bar.len >= 0.5
    assert figures.surprise_columns(True) < figures.surprise_columns(False)
    # classroom cells: at least the letter size plus a gap, on a chart 660 px wide
    assert 660 / figures.surprise_columns(True) > fig.data[0].marker.size > 1.3 * 18


def test_classroom_running_loss_puts_the_mean_in_a_subtitle():
    run = figures.running_loss_figure(list("ab "), [0.5, 1.0, 2.0], large=True)
    assert "<br>" not in run.layout.title.text and "3.50 nats" in run.layout.title.text
    assert "1.167" in run.layout.title.subtitle.text

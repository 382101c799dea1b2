"""Figures of the prompting lesson: labelled, safe, one axis per quantity."""

import torch

from fmcore import style
from fmcore.prompting import figures


def test_prompting_figures_are_labelled_and_safe():
    fig = figures.accuracy_curve_figure({"a": [0.0, 1.0]}, title="Accuracy", marker=1,
                                      marker_label="<i>yours</i>", chance=0.2, large=True)
    assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text == "accuracy (exact answer)"
    assert "&lt;i&gt;" in fig.layout.annotations[-1].text
    from types import SimpleNamespace

    probs = torch.tensor([0.1, 0.7, 0.2])
    steps = [SimpleNamespace(text="7", token=1, probability=0.7, probs=probs),
             SimpleNamespace(text="\n", token=2, probability=0.2, probs=probs)]
    fig = figures.answer_steps_figure(steps, ["a", "7", "\n"], top=2)
    assert len(fig.data) == 2 and list(fig.data[1].x) == ["7", "↵ newline"]
    assert fig.data[0].marker.color[0] == style.OKABE_ITO["vermillion"]  # the written one


def test_shots_figure_gives_accuracy_and_probability_each_its_own_labelled_axis():
    fig = figures.shots_figure([0.1, 0.5, 0.9], [(0.2, False), (0.7, True)], label="add",
                             n_prompts=48, marker=1)
    acc, prob = fig.data
    assert list(acc.y) == [0.1, 0.5, 0.9] and list(prob.y) == [0.2, 0.7]
    assert (acc.yaxis, prob.yaxis) == ("y", "y2")
    assert fig.layout.yaxis.title.text == "accuracy (exact answer)"
    assert fig.layout.yaxis2.title.text == "p(right answer)"
    k = "examples in the prompt (k)"
    assert fig.layout.xaxis.title.text == fig.layout.xaxis2.title.text == k
    assert list(prob.marker.symbol) == ["circle-open", "circle"]  # filled: greedy writes it
    assert [s.x0 for s in fig.layout.shapes] == [1, 1]  # the student's k in both panels
    assert fig.layout.title.text.startswith("Accuracy and p(right answer)")
    assert acc.line.color == style.OKABE_ITO["blue"]
    assert prob.line.color == style.OKABE_ITO["vermillion"]
    large = figures.shots_figure([0.1], [(0.2, True)], label="add", n_prompts=48, large=True)
    assert all(a.font.size == large.layout.font.size for a in large.layout.annotations)

"""Figures of the pretext-task lesson: the paradigms diagram and the masked series."""

import torch

from fmcore.self_supervision import figures


def test_paradigms_diagram_names_the_three_paradigms_and_the_pseudolabel():
    dot = figures.paradigms_diagram()
    for word in ("Supervised", "Unsupervised", "Self-supervised", "human labels y",
                 "pretext task P", "pseudolabel z"):
        assert word in dot, word


def test_masked_series_figure_splits_seen_and_hidden_values():
    series = torch.arange(8.0).repeat(2, 1)  # (2, 8)
    mask = torch.zeros(2, 8, dtype=torch.bool)
    mask[0, 2:4] = True
    mask[1, 5:7] = True
    fig = figures.masked_series_figure(series, mask, title="t")
    seen, hidden = fig.data[0], fig.data[1]
    assert list(seen.y) == [0, 1, None, None, 4, 5, 6, 7]
    assert list(hidden.y) == [None, None, 2, 3, None, None, None, None]
    assert list(fig.data[2].y)[0] == -3.0  # the second series is shifted down by 3
    assert len(fig.layout.shapes) == 2 and fig.layout.shapes[0].x0 == 1.5
    assert [t.showlegend for t in fig.data] == [True, True, False, False]

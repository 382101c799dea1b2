"""Figures of the language-model lessons: the surprise map and the training curves."""

from fmcore import style
from fmcore.lm import figures


def test_surprise_letters_stay_readable_on_dark_cells():
    fig = figures.surprise_map_figure(list("abc"), [0.1, 2.0, 4.0], [(0, 0), (0, 1), (0, 2)],
                                    ["", "", ""], title="Surprise")
    assert list(fig.data[0].textfont.color) == ["black", "black", "white"]


def test_language_loss_validation_curve_stands_out_and_is_drawn_last():
    steps = (list(range(100)), [3.0 - 0.01 * i for i in range(100)])
    evals = ([0, 50, 99], [3.0, 2.0, 1.5])
    fig = figures.language_loss_figure(steps, evals, ([0, 50, 99], [3.1, 2.1, 1.6]), floor=0.65,
                                     title="Cross-entropy")
    names = [t.name for t in fig.data]
    assert names[-1] == "validation text"  # on top of the others
    assert set(names) == {"step loss (training batch)", "training text", "validation text",
                          "true entropy rate (the floor)"}
    val = fig.data[-1]
    widths = [t.line.width for t in fig.data[:-1]]
    assert val.line.width > max(widths) and "markers" in val.mode
    assert val.line.color == style.OKABE_ITO["vermillion"]
    palette = set(style.OKABE_ITO.values())
    assert all(t.line.color in palette for t in fig.data)
    others = [t.line.color for t in fig.data[:-1]]
    assert val.line.color not in others  # its colour is its own
    ranks = sorted(fig.data, key=lambda t: t.legendrank)  # the legend reads in order
    assert [t.name for t in ranks][:3] == ["step loss (training batch)", "training text",
                                           "validation text"]
    assert list(fig.data[1].y) == [0.65, 0.65]
    no_floor = figures.language_loss_figure(steps, evals, evals, title="t")
    assert len(no_floor.data) == 3 and no_floor.layout.yaxis.title.text == "nats per character"

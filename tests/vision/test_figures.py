"""Figures of the vision lessons: similarity matrices, the PCA markers, the interface chart."""

import math

import pytest
import torch

from fmcore.vision import figures


@pytest.mark.parametrize(("b", "in_cells"), [(6, True), (8, False)])
def test_similarity_values_sit_in_the_cells_while_readable_else_a_titled_colour_bar(b, in_cells):
    from fmcore.vision.losses import nt_xent_breakdown

    z = torch.randn(2, b, 4, generator=torch.Generator().manual_seed(0))
    sweep = [nt_xent_breakdown(z[0], z[1], tau) for tau in (0.2, 0.5)]
    heat = figures.similarity_figure(sweep, (0.2, 0.5), start=0).data[0]
    assert (heat.texttemplate is not None) == in_cells
    assert heat.showscale == (not in_cells) and heat.colorbar.title.text == "cos/τ"


def test_pca_markers_match_the_shape_names_and_stay_distinct():
    from fmcore.data.shapes import CLASS_NAMES

    labels = torch.arange(len(CLASS_NAMES))
    fig = figures.scatter_2d_figure(torch.zeros(len(CLASS_NAMES), 2), labels, CLASS_NAMES,
                                  title="PCA")
    symbol = {t.name: t.marker.symbol for t in fig.data}
    assert (symbol["star"], symbol["triangle"], symbol["plus"]) == ("star", "triangle-up", "cross")
    assert symbol["heart"] not in {f"{n}" for n in CLASS_NAMES}  # a marker that names no class
    assert len(set(symbol.values())) == len(CLASS_NAMES)


def test_the_interface_chart_runs_its_loss_axis_the_usual_way_and_labels_only_its_ends():
    # Issue 14: the x-axis was reversed without a word and every "step N" label overlapped
    fig = figures.interface_figure([4.1, 3.0, 2.95, 2.9], [0.2, 0.3, 0.31, 0.33],
                                 [50, 100, 150, 200], loss_name="NT-Xent loss")
    assert fig.layout.xaxis.autorange in (None, True)  # low loss on the left, as usual
    trace = fig.data[0]
    assert list(trace.text) == ["step 50", "", "", "step 200"]
    assert list(trace.customdata) == [50, 100, 150, 200]  # every step on hover
    assert list(trace.marker.symbol) == ["circle", "arrow", "arrow", "arrow"]
    assert trace.marker.angleref == "previous"  # the arrows point the way training went
    assert fig.layout.xaxis.title.text.startswith("NT-Xent loss")


def test_similarity_charts_state_the_loss_once_per_frame_and_can_share_their_bar_axis():
    from fmcore.vision.losses import simclr_breakdown

    g = torch.Generator().manual_seed(0)
    temps = (0.2, 0.5)
    a = [simclr_breakdown(*torch.randn(2, 4, 3, generator=g) / t) for t in temps]
    b = [simclr_breakdown(*(5 * torch.randn(2, 4, 3, generator=g))) for _ in temps]
    top = figures.row_term_limit(a, b)
    assert top == max(float(bd.row_terms.max()) for bd in a + b)
    fig = figures.similarity_figure(a, temps, start=0, loss_name="L", term_max=top,
                                  chance=math.log(4))
    assert fig.layout.title.text == f"τ = 0.2, L = {a[0].total:.3f}"
    assert [f.layout.title.text for f in fig.frames] == [
        f"τ = {t:.2g}, L = {bd.total:.3f}" for bd, t in zip(a, temps, strict=True)]
    assert fig.layout.xaxis2.range[1] == pytest.approx(1.05 * max(top, math.log(4)))
    assert fig.layout.shapes[-1].x0 == pytest.approx(math.log(4))  # the chance line

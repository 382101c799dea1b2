"""Figures of the adaptation lesson: the label-efficiency chart and the diagram of what moves."""

from fmcore.adaptation import figures


def test_label_efficiency_figure_lines_error_bars_and_chance():
    from fmcore.adaptation.adapt import Summary

    rows = [Summary("SimCLR", "probe", k, 0.5 + 0.01 * k, 0.02, 3) for k in (1, 10)]
    rows += [Summary("random", "finetune", k, 0.15, 0.01, 3) for k in (10, 1)]
    fig = figures.label_efficiency_figure(rows)
    names = [t.name for t in fig.data]
    assert names == ["SimCLR, probe", "from scratch"]
    scratch = fig.data[1]
    assert list(scratch.x) == [1, 10]  # sorted by shots
    assert list(fig.data[0].error_y.array) == [0.02, 0.02]
    assert fig.data[0].line.dash == "solid" and scratch.line.dash == "dash"
    assert fig.layout.xaxis.type == "log" and tuple(fig.layout.yaxis.range) == (0, 1)
    assert any("zero-shot" in a.text for a in fig.layout.annotations)
    assert fig.layout.title.text and fig.layout.xaxis.title.text and fig.layout.yaxis.title.text


def test_adaptation_diagram_says_what_moves():
    probe, finetune = figures.adaptation_diagram("probe"), figures.adaptation_diagram("finetune")
    assert "frozen" in probe and "θ = θ̂" in probe
    assert "frozen" not in finetune and "starts at θ̂, trained" in finetune
    assert probe.strip().startswith("digraph") and "head w" in finetune


def test_label_efficiency_ticks_are_the_grids_shots_in_full_and_one_run_has_no_error_bar():
    from fmcore.adaptation.adapt import Summary

    rows = [Summary("SimCLR (shipped)", "probe", k, 0.5, 0.0, 1) for k in (1, 5, 10, 50, 500)]
    rows += [Summary("random (untrained)", "finetune", k, 0.1, 0.02, 3) for k in (1, 10)]
    fig = figures.label_efficiency_figure(rows, large=True)
    axis = fig.layout.xaxis
    # the ticks read 1, 5, 10, 50, 500: no SI prefix ('500μ', '1k') on a count of images
    assert axis.tickmode == "array" and list(axis.tickvals) == [1, 5, 10, 50, 500]
    assert list(axis.ticktext) == ["1", "5", "10", "50", "500"]
    assert "per class" in axis.title.text and "n_task = 10 × this" in axis.title.text
    probe, scratch = fig.data
    assert probe.error_y.visible is False  # one repeat: a bar of 0 would claim a precision
    assert scratch.error_y.visible is True and list(scratch.error_y.array) == [0.02, 0.02]
    assert scratch.name == "from scratch"  # the page's random encoder is "random (untrained)"


def test_adaptation_diagram_is_narrow_enough_to_read_when_stretched():
    # Streamlit draws Graphviz text at 13.2 px in the drawing's units and stretches the
    # drawing to the column: short lines keep it narrow, so the text is large on screen.
    import re

    for method in ("probe", "finetune"):
        dot = figures.adaptation_diagram(method)
        assert "fontsize=13" in dot
        labels = re.findall(r'label="([^"]*)"', dot)
        lines = [line for label in labels for line in label.split("\\n")]
        assert len(labels) == 4 and max(map(len, lines)) <= 24, lines
        assert sum(max(len(line) for line in label.split("\\n")) for label in labels) <= 55

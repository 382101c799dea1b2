"""The table view under every chart (ui.charts.figure_rows)."""

import plotly.graph_objects as go

from fmcore.prompting import figures as prompting_figures
from ui.charts import figure_rows


def test_figure_rows_give_every_point_and_cell_as_plain_text():
    fig = prompting_figures.accuracy_curve_figure(
        {"<b>mine</b>": [0.1, 0.5, 0.9], "fresh": [0.2, 0.3]}, title="t")
    rows = figure_rows(fig)
    assert rows[:3] == [{"series": "<b>mine</b>", "x": i, "y": y}
                        for i, y in enumerate([0.1, 0.5, 0.9])]
    assert len(rows) == 5 and rows[-1] == {"series": "fresh", "x": 1, "y": 0.3}
    heat = go.Figure(go.Heatmap(z=[[1, 2], [3, 4]], x=["a", "b"], y=["r", "s"], name="h"))
    assert figure_rows(heat)[1] == {"series": "h", "row": "r", "column": "b", "value": 2}

"""The adaptation lesson through AppTest: a short probe, a finetune and a small grid."""

import pytest

from tests.app.helpers import figures, frame

PAGE = "lessons/adaptation/adaptation.py"


@pytest.fixture
def ad(app):
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def test_opens_with_the_equation_the_diagram_and_no_training(ad):
    assert not figures(ad)  # training starts only when asked
    assert any("(14.1)" in latex.value for latex in ad.get("latex"))
    assert any("frozen" in chart.proto.spec for chart in ad.get("graphviz_chart"))
    assert ad.selectbox(key="ad_encoder").value == "SimCLR (shipped)"
    ad.radio(key="ad_method").set_value("finetune").run()
    assert any("(14.4)" in latex.value for latex in ad.get("latex"))
    assert any("trained" in chart.proto.spec for chart in ad.get("graphviz_chart"))


def test_a_probe_of_the_shipped_encoder_beats_chance_and_freezes_theta(ad):
    ad.select_slider(key="ad_steps").set_value(50).run()
    ad.button(key="btn_ad_train").click().run()
    assert not ad.exception and not ad.error
    run = ad.session_state["ad_run"]
    assert run.status == "done"
    shown = figures(ad)
    assert "Downstream loss ℓ<sub>task</sub>" in shown
    # a linear loss axis: a log one crowded its minor labels and wrote tiny losses as '500μ'
    assert shown["Downstream loss ℓ<sub>task</sub>"]["layout"]["yaxis"].get("type") != "log"
    test_curve = shown["Accuracy while adapting"]["data"][1]
    assert test_curve["x"][0] == 0 and test_curve["x"][-1] == 50
    assert test_curve["y"][-1] > 0.4  # 10 labels per class on SimCLR features; chance is 0.1
    assert any("frozen" in c.value and "trained" in c.value for c in ad.caption)


def test_regression_task_reports_r2(ad):
    ad.selectbox(key="ad_task").set_value("size").run()
    ad.select_slider(key="ad_steps").set_value(50).run()
    ad.button(key="btn_ad_train").click().run()
    assert not ad.exception and not ad.error
    assert "R² while adapting" in figures(ad)


def test_a_small_grid_fills_the_chart_and_the_table(ad):
    ad.multiselect(key="ad_grid_inits").set_value(["SimCLR (shipped)"]).run()
    ad.multiselect(key="ad_grid_shots").set_value([1]).run()
    ad.select_slider(key="ad_grid_repeats").set_value(2).run()
    ad.button(key="btn_ad_grid").click().run()
    assert not ad.exception and not ad.error
    grid = ad.session_state["ad_grid"]
    assert grid.status == "done" and len(grid.events) == 4  # probe and finetune, 2 repeats
    assert any(s.value == "Finished 4 runs." for s in ad.success)  # runs of a grid, not steps
    assert not [b for b in ad.button if b.key == "btn_ad_grid_stop"]  # nothing left to stop
    chart = figures(ad)["Label efficiency: test accuracy against labelled examples"]
    assert {t["name"] for t in chart["data"]} == {"SimCLR (shipped), probe",
                                                   "SimCLR (shipped), finetune"}
    for trace in chart["data"]:  # two draws of the labelled images: a real error bar
        assert trace["error_y"]["visible"] and trace["error_y"]["array"][0] > 0
    assert chart["layout"]["xaxis"]["tickvals"] == [1]
    assert chart["layout"]["xaxis"]["ticktext"] == ["1"]
    table = frame(ad, "labels per class")
    assert list(table["labels per class"]) == [1, 1]
    assert list(table["n_task"]) == [10, 10] and list(table["repeats"]) == [2, 2]


def test_the_grid_defaults_repeat_and_the_page_says_what_they_show(ad):
    from fmcore.adaptation.adapt import GRID_REPEATS

    assert ad.select_slider(key="ad_grid_repeats").value == GRID_REPEATS >= 3
    assert ad.multiselect(key="ad_grid_shots").value == [1, 10, 50]
    assert ad.button(key="btn_ad_grid").label == "Run the grid (36 runs)"
    assert not any("curves meet" in i.value for i in ad.info)
    (look,) = [e for e in ad.expander if e.label.startswith("What to look for")]
    text = " ".join(m.value for m in look.markdown)
    for claim in ("random encoder stays at chance", "0.27", "0.70", "0.86",
                  "lie together, then part", "0.89", "3 repeats", "= 10, 100, 500"):
        assert claim in text, claim
    # the page names both numbers: per class (the widgets) and n_task (the notes' total)
    help_text = ad.select_slider(key="ad_shots").help
    for words in ("Per class", "n_task = 10", "n_task = 500", "1 to 5 per class"):
        assert words in help_text, words
    assert "10 (n_task 100)" in ad.multiselect(key="ad_grid_shots").options


def test_a_model_of_the_wrong_shape_gets_a_message_not_a_traceback(ad):
    import torch

    from fmcore.vision.encoders import EncoderConfig, make_encoder

    small = make_encoder(EncoderConfig(image_size=16, width=4), torch.Generator())
    ad.session_state["trained_models"] = {"tiny 16px": {"model": small, "description": "16px"}}
    ad.run()
    ad.selectbox(key="ad_encoder").set_value("tiny 16px").run()
    ad.button(key="btn_ad_train").click().run()
    assert not ad.exception
    assert any("does not take 32x32" in e.value for e in ad.error)
    assert ad.session_state["ad_run"].status == "failed"


def test_a_stopped_grid_keeps_its_finished_cells(ad):
    from fmcore.adaptation.adapt import CellEvent
    from ui.runner import Run

    cell = CellEvent("SimCLR (shipped)", "probe", 1, 0, 0.3, 0.1, 1, 4)
    ad.session_state["ad_grid"] = Run(total_steps=4, unit="run", status="running",
                                      events=[cell])
    ad.run()  # the rerun after a Stop click
    assert not ad.exception
    assert ad.session_state["ad_grid"].status == "stopped"
    assert any("Stopped at run 1 of 4" in i.value for i in ad.info)
    assert list(frame(ad, "test accuracy")["test accuracy"]) == [0.3]

"""The live-pretraining lesson through AppTest (a short run with the page's own controls)."""

import pytest

from tests.app.helpers import figures

PAGE = "lessons/pretraining.py"


@pytest.fixture
def pt(app):
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def test_opens_without_training_and_says_what_labels_are_for(pt):
    assert not figures(pt)  # training starts only when asked
    assert any("used only to monitor" in c.value for c in pt.caption)
    # the defaults that make the point within a minute (see the comment in the lesson)
    assert (pt.session_state["pt_preset"], pt.session_state["pt_steps"]) == ("clean", 500)
    assert any("2B" in e.value and r"= \;?" in e.value for e in pt.latex)


def test_the_formula_carries_the_loss_of_the_last_steps(pt):
    pt.select_slider(key="pt_steps").set_value(50).run()
    pt.select_slider(key="pt_batch").set_value(32).run()
    pt.radio(key="pt_loss").set_value("notes").run()
    pt.button(key="btn_pt_train").click().run()
    losses = [e.loss for e in pt.session_state["pt_run"].events if hasattr(e, "loss")][-10:]
    (formula,) = [e.value for e in pt.latex if r"L_{\text{pre}}(\theta) =" in e.value]
    shown = float(formula.rsplit("=", 1)[1].strip("$\n "))
    assert shown == pytest.approx(sum(losses) / 10, abs=1e-3)


def test_a_short_training_fills_the_charts_keeps_the_model_and_offers_it(pt):
    pt.select_slider(key="pt_steps").set_value(50).run()
    pt.select_slider(key="pt_batch").set_value(32).run()
    pt.button(key="btn_pt_train").click().run()
    assert not pt.exception and not pt.error
    assert any("Finished 50 steps" in s.value for s in pt.success)
    shown = figures(pt)
    loss = shown["Pretraining loss"]["data"][0]
    assert len(loss["x"]) == 50 and all(v == v for v in loss["y"])
    accuracy = shown["Monitored accuracy (held-out labels)"]["data"][0]
    assert accuracy["x"] == [0, 50] and all(0 <= a <= 1 for a in accuracy["y"])
    assert any(t.startswith("φ(x) of held-out images") for t in shown)
    run = pt.session_state["pt_run"]
    assert run.status == "done" and run.result is not None
    assert "SimCLR, trained in this session" in pt.session_state["trained_models"]
    # the sidebar's box, drawn before the page, already offers it (offer reruns the script)
    assert [b for b in pt.sidebar.get("download_button") if "SimCLR" in b.proto.label]
    pt.run()  # the next rerun redraws the finished run from the session
    assert "Pretraining loss" in figures(pt) and not pt.exception
    pt.slider(key="pt_tau").set_value(0.5).run()  # and later ones: the scatter's selection
    pt.run()  # state was written back and then refused ("read-only"), an exception
    assert not pt.exception and "Pretraining loss" in figures(pt)

"""The live-pretraining lesson through AppTest (a short run with the page's own controls)."""

import pytest

from fmcore.vision.pretrain import StepEvent
from tests.app.helpers import figure, figures

PAGE = "lessons/vision/pretraining.py"


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
    # the notes' loss, as in the SimCLR-loss lesson before (issue 14: the two lessons had
    # different defaults without saying why); no value before a run
    assert pt.session_state["pt_loss"] == "notes"
    (formula,) = [e.value for e in pt.latex]
    assert r"L_{\text{pre}}(\theta)" in formula and r"= \;?" in formula
    assert r"\phi_\theta" in formula and "z_" not in formula


def test_the_formula_carries_the_loss_of_the_last_steps(pt):
    pt.select_slider(key="pt_steps").set_value(50).run()
    pt.select_slider(key="pt_batch").set_value(32).run()
    pt.radio(key="pt_loss").set_value("notes").run()
    pt.button(key="btn_pt_train").click().run()
    # the steps' losses (the DoneEvent carries a loss too, the mean of the last 20: not one)
    losses = [e.loss for e in pt.session_state["pt_run"].of_type(StepEvent)][-10:]
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
    loss = figure(pt, "Pretraining loss (the notes' loss, τ = 0.2)")["data"][0]
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
    assert figure(pt, "Pretraining loss") and not pt.exception
    pt.slider(key="pt_tau").set_value(0.5).run()  # and later ones: the scatter's selection
    pt.run()  # state was written back and then refused ("read-only"), an exception
    assert not pt.exception and figure(pt, "Pretraining loss")


def test_a_kept_run_is_labelled_with_its_settings_and_lends_no_number_to_another_loss(pt):
    # Issue 14: after an NT-Xent run, switching Loss showed the notes' formula with the
    # NT-Xent run's value, and the charts with nothing saying they were the old settings'.
    pt.select_slider(key="pt_steps").set_value(50).run()
    pt.select_slider(key="pt_batch").set_value(32).run()
    pt.radio(key="pt_loss").set_value("nt_xent").run()
    pt.button(key="btn_pt_train").click().run()
    (formula,) = [e.value for e in pt.latex]
    assert r"\text{NT-Xent}" in formula and r"\;?" not in formula  # its own value
    assert any("This run: NT-Xent, τ = 0.2, B = 32, 50 steps" in c.value
               for c in pt.caption)
    pt.radio(key="pt_loss").set_value("notes").run()
    (formula,) = [e.value for e in pt.latex]
    assert r"L_{\text{pre}}" in formula  # the selected loss, with no borrowed number:
    assert formula.strip("$\n ").endswith(r"= \;?")
    (warning,) = [w.value for w in pt.warning]
    assert "trained with: NT-Xent, τ = 0.2, B = 32, 50 steps" in warning
    assert figure(pt, "Pretraining loss (NT-Xent, τ = 0.2)")  # the run's own loss
    pt.select_slider(key="pt_steps").set_value(100).run()  # any other setting: the same
    pt.radio(key="pt_loss").set_value("nt_xent").run()
    assert pt.warning and all(r"\;?" in e.value for e in pt.latex)
    pt.select_slider(key="pt_steps").set_value(50).run()  # back to the run's settings
    assert not pt.warning and not any(r"\;?" in e.value for e in pt.latex)


def test_classroom_mode_puts_train_beside_the_main_settings_and_folds_the_rest(pt):
    pt.toggle(key="classroom").set_value(True).run()
    assert not pt.exception
    (more,) = [e for e in pt.expander if e.label.startswith("More settings")]
    keys = {getattr(w, "key", None) for kind in ("slider", "select_slider", "selectbox")
            for w in more.get(kind)}
    assert keys == {"pt_preset", "pt_batch", "pt_lr", "pt_tau"}
    order = [getattr(e, "key", None) for e in pt.main]  # nothing between the row and Train
    assert order.index("btn_pt_train") < order.index("pt_preset")

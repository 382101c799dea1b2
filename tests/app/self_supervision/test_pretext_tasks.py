"""The paradigms and pretext-tasks lesson through AppTest: gallery in every domain, a short run."""

import pytest

from tests.app.helpers import figures, frame

PAGE = "lessons/self_supervision/pretext_tasks.py"


@pytest.fixture
def pp(app):
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def test_opens_with_the_paradigms_and_rotation_examples(pp):
    specs = [chart.proto.spec for chart in pp.get("graphviz_chart")]
    assert any("Self-supervised" in s and "pseudolabel z" in s for s in specs)
    images = pp.get("image")
    assert len(images) == 2  # originals, then x' with their pseudolabels
    assert any("turned 90° ↺" in caption for caption in str(images[1].proto).split("caption"))
    assert not figures(pp)  # training starts only when asked


@pytest.mark.parametrize("domain", ["text", "timeseries"])
def test_every_domain_shows_pseudolabels(pp, domain):
    pp.selectbox(key="pp_domain").set_value(domain).run()
    assert not pp.exception and not pp.error
    if domain == "text":
        rows = frame(pp, "x′ → z")
        assert "_" in rows["x′ → z"][0] and "hidden" in rows["x′ → z"][0]
    else:
        chart = figures(pp)["Masked time steps: predict the hidden values"]
        assert {t["name"] for t in chart["data"]} >= {"z: the hidden values to predict"}


def test_new_examples_change_the_gallery(pp):
    pp.selectbox(key="pp_domain").set_value("text").run()
    before = list(frame(pp, "x′ → z")["x"])
    pp.button(key="btn_pp_new").click().run()
    assert list(frame(pp, "x′ → z")["x"]) != before


def test_a_short_run_transfers_and_offers_h(pp):
    pp.select_slider(key="pp_steps").set_value(100).run()
    pp.button(key="btn_pp_train").click().run()
    assert not pp.exception and not pp.error
    run = pp.session_state["pp_run"]
    assert run.status == "done"
    shown = figures(pp)
    transfer = shown["Transfer: h<sub>θ</sub> + a new head g<sub>φ</sub>"]
    names = [t["name"] for t in transfer["data"]]
    assert names == ["h<sub>θ*</sub> (pretrained)", "random h<sub>θ</sub>"]
    pretext_accuracy = shown["Pretext accuracy: predicting z"]["data"]
    assert pretext_accuracy[0]["x"] == [0, 100] and 0 <= pretext_accuracy[0]["y"][-1] <= 1
    assert "Pretext loss" in shown
    assert any(m.value.startswith("**Rotation prediction: transfers.**") for m in pp.markdown)
    assert "Rotation prediction, trained in this session" in pp.session_state["trained_models"]
    # the adaptation lesson now offers it
    pp.switch_page("lessons/adaptation/adaptation.py").run()
    options = pp.selectbox(key="ad_encoder").options
    assert "Rotation prediction, trained in this session" in options


def test_the_transfer_caption_names_its_chart_in_classroom_mode(pp):
    pp.toggle(key="classroom").set_value(True).run()  # the charts stack: no "right-hand"
    assert not pp.exception
    (caption,) = [c.value for c in pp.caption if c.value.startswith("Train first")]
    assert "right" not in caption and "**Transfer: $h_\\theta$ + a new head $g_\\phi$**" in caption


@pytest.mark.parametrize(("domain", "task", "verdict"), [
    ("images", "rotation", "Rotation prediction: transfers."),
    ("images", "jigsaw", "Jigsaw (2×2 tiles): transfers little."),
    ("text", "masked_char", "Masked characters: does not transfer."),
    ("text", "next_char", "Next character: does not transfer."),
    ("timeseries", "masked_feature", "Masked time steps: transfers little, if at all."),
])
def test_section_3_says_why_the_task_transfers_or_not(pp, domain, task, verdict):
    pp.selectbox(key="pp_domain").set_value(domain).run()
    pp.selectbox(key="pp_task").set_value(task).run()
    assert not pp.exception
    (why,) = [m.value for m in pp.markdown if m.value.startswith(f"**{verdict}**")]
    assert "meaning of the" in why

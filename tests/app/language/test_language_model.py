"""The what-a-language-model-computes lesson through AppTest."""

import math

import pytest

from tests.app.helpers import figure, figures

PAGE = "lessons/language/language_model.py"


@pytest.fixture
def lm(app):
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def test_the_chain_rule_numbers_agree_with_the_charts(lm):
    running = figure(lm, "Chain rule: −log p(text)")
    per_char, total = running["data"][0]["y"], running["data"][1]["y"]
    assert total[-1] == pytest.approx(sum(per_char))
    text = lm.session_state["lm_text"]
    assert len(per_char) == len(text)
    surprise = figure(lm, "Surprise of each character")["data"][0]
    assert surprise["marker"]["color"] == pytest.approx(per_char)
    assert "most probable here" in surprise["customdata"][0]
    latex = [x.value for x in lm.get("latex")]
    assert any("(14.5)" in x for x in latex) and any("(14.8)" in x for x in latex)
    assert not figures(lm).get("Cross-entropy (Eq. 14.8) while training")  # not trained yet
    assert not any("\\\\&=" in x for x in latex)  # one line each: they fit the page
    lm.toggle(key="classroom").set_value(True).run()  # classroom type: the value on line two
    assert sum("\\\\&=" in x.value for x in lm.get("latex")) == 2


def test_classroom_surprise_map_has_fewer_wider_cells(lm):
    text = "anna sees my fox. the king swims today and the baker sees anna."
    lm.text_area(key="lm_text").set_value(text).run()
    normal = figure(lm, "Surprise of each character")
    lm.toggle(key="classroom").set_value(True).run()
    large = figure(lm, "Surprise of each character")
    assert max(normal["data"][0]["x"]) == 39 and max(large["data"][0]["x"]) == 23
    assert max(large["data"][0]["y"]) == 2  # 63 characters: three rows of 24
    assert large["layout"]["xaxis"]["range"] == [-0.6, 23.6]
    assert large["data"][0]["marker"]["colorbar"]["orientation"] == "h"
    running = figure(lm, "Chain rule: −log p(text)")
    assert "mean loss" in running["layout"]["title"]["subtitle"]["text"]


def test_a_less_likely_text_costs_more_per_character(lm):
    lm.text_area(key="lm_text").set_value("the cat sees a dog.").run()
    likely = figure(lm, "Chain rule")["data"][1]["y"][-1] / 19
    lm.text_area(key="lm_text").set_value("dog. the sees cat a").run()
    unlikely = figure(lm, "Chain rule")["data"][1]["y"][-1] / 19
    assert math.isfinite(likely) and unlikely > likely + 0.5  # nats per character


def test_html_in_the_text_is_shown_as_typed(lm):
    lm.text_area(key="lm_text").set_value("<b>bold</b>").run()
    assert not lm.exception
    surprise = figure(lm, "Surprise of each character")["data"][0]
    assert surprise["text"][0] == "&lt;"


def test_a_short_training_run_draws_the_floor_and_offers_the_model(lm):
    lm.select_slider(key="lm_steps").set_value(100).run()
    lm.button(key="btn_lm_train").click().run()
    assert not lm.exception and not lm.error
    assert lm.session_state["lm_run"].status == "done"
    loss = figure(lm, "Cross-entropy (Eq. 14.8) while training")
    names = [t["name"] for t in loss["data"]]
    assert "true entropy rate (the floor)" in names and "validation text" in names
    validation = loss["data"][-1]  # drawn last: on top of the training curves
    assert validation["name"] == "validation text" and "markers" in validation["mode"]
    assert validation["line"]["width"] > max(t["line"]["width"] for t in loss["data"][:-1])
    assert any("thick line with diamonds" in i.value for i in lm.info)  # as the page says
    assert lm.get("code")  # a sample of the model
    assert any("from ⊥ alone: how the model thinks a document begins" in c.value
               for c in lm.caption)
    assert any("this session" in name for name in lm.session_state["trained_models"])
    lm.switch_page("lessons/language/temperature.py").run()
    assert any("this session" in o for o in lm.selectbox(key="tp_model").options)


def _windows_caption(lm) -> str:
    return next(c.value for c in lm.caption if "reads ⊥ first" in c.value)


def test_the_page_says_which_training_windows_read_the_begin_token(lm):
    """⊥ marks a document's beginning: only windows that start where a document (a toy
    sentence, a help topic, a pasted text) starts read it; the page says which they are."""
    caption = _windows_caption(lm)
    assert "where a sentence starts" in caption and "(23,861 in the training part)" in caption
    assert "cut anywhere and read no ⊥" in caption
    lm.selectbox(key="lm_corpus").set_value("english").run()
    assert "where a help topic starts" in _windows_caption(lm)
    lm.selectbox(key="lm_corpus").set_value("your text (paste below)").run()
    lm.text_area(key="lm_user_text").set_value("One pasted text, read as one document. " * 10).run()
    caption = _windows_caption(lm)
    assert "your text is one" in caption and "(1 in the training part)" in caption


def test_your_own_text_that_is_too_short_gets_a_message(lm):
    lm.selectbox(key="lm_corpus").set_value("your text (paste below)").run()
    assert not lm.error and any("Paste some text" in i.value for i in lm.info)  # a hint first
    lm.text_area(key="lm_user_text").set_value("far too short").run()
    assert not lm.exception
    assert lm.error and "characters" in lm.error[0].value

"""The sampling-and-temperature lesson through AppTest."""

import pytest

from tests.app.helpers import figure, no_nan

PAGE = "lessons/temperature.py"


@pytest.fixture
def tp(app):
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def bars(at):
    return figure(at, "Next character, ")


def test_opens_with_the_distribution_its_frames_and_the_equation(tp):
    fig = bars(tp)
    assert len(fig["frames"]) == 61 and fig["layout"]["sliders"][0]["active"] == 20
    assert "τ = 1.00" in fig["layout"]["title"]["text"]
    greedy = fig["frames"][0]["data"][0]["y"]
    assert sorted(greedy, reverse=True)[:2] == [1.0, 0.0]  # τ = 0: one-hot
    assert "greedy" in fig["frames"][0]["layout"]["title"]["text"]
    assert sum(fig["data"][0]["y"]) == pytest.approx(1.0)
    assert no_nan(fig)
    assert any("(14.13)" in latex.value for latex in tp.get("latex"))


def test_the_generation_temperature_sets_the_charts_starting_frame(tp):
    tp.slider(key="tp_tau").set_value(0.0).run()
    assert bars(tp)["layout"]["sliders"][0]["active"] == 0
    tp.slider(key="tp_tau").set_value(2.5).run()
    assert bars(tp)["layout"]["sliders"][0]["active"] == 50


def test_top_k_one_leaves_a_single_bar(tp):
    tp.number_input(key="tp_top_k").set_value(1).run()
    heights = bars(tp)["frames"][40]["data"][0]["y"]
    assert sorted(heights, reverse=True)[:2] == [1.0, 0.0]


def test_next_character_and_generate_n_and_greedy_is_reproducible(tp):
    tp.slider(key="tp_tau").set_value(0.0).run()
    before = bars(tp)["data"][1]["y"]  # the model's own distribution (τ = 1)
    tp.button(key="btn_tp_next").click().run()
    assert len(tp.session_state["tp_generated"]) == 1
    shown = tp.main.code[-1].value
    assert shown == tp.session_state["tp_prompt"] + tp.session_state["tp_generated"]
    assert bars(tp)["data"][1]["y"] != before  # the bars are now for the next position
    tp.button(key="btn_tp_many").click().run()
    first = tp.session_state["tp_generated"]
    assert len(first) == 21 and not tp.exception
    tp.button(key="btn_tp_clear").click().run()
    tp.button(key="btn_tp_next").click().run()
    tp.button(key="btn_tp_many").click().run()
    assert tp.session_state["tp_generated"] == first  # greedy: no randomness
    assert any("had probability" in c.value for c in tp.caption)


def test_drawing_many_samples_matches_the_prediction(tp):
    tp.button(key="btn_tp_draw").click().run()
    hist = figure(tp, "1000 draws at τ = 1.00")
    drawn, predicted = hist["data"][0]["y"], hist["data"][1]["y"]
    assert sum(drawn) == pytest.approx(1.0)
    assert max(abs(a - b) for a, b in zip(drawn, predicted, strict=True)) < 0.06
    tp.button(key="btn_tp_draw").click().run()  # drawing again draws anew
    assert figure(tp, "1000 draws at τ = 1.00")["data"][0]["y"] != drawn


@pytest.mark.parametrize("prompt", ["", "x" * 500, "the 🐱 cat\x00"])
def test_odd_prompts_get_words_not_tracebacks(tp, prompt):
    tp.text_input(key="tp_prompt").set_value(prompt).run()
    assert not tp.exception and not tp.error
    assert no_nan(bars(tp))
    if len(prompt) > 100:
        assert any("longer than the model's context" in i.value for i in tp.info)
    if "🐱" in prompt:
        assert any("not in this model's alphabet" in w.value for w in tp.warning)

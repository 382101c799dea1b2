"""The sampling-and-temperature lesson through AppTest."""

import pytest
import torch

from fmcore.checkpoints import LM_ASSETS, load_language_model
from fmcore.lm.generate import next_distribution
from tests.app.helpers import figure, figures, no_nan

PAGE = "lessons/language/temperature.py"


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
    assert any("had probability" in m.value for m in tp.markdown)


def own_probability(model, tokenizer, context: str, char: str) -> float:
    """softmax(u)[char] after ``context``: the model's own probability (Eq. 14.6, τ = 1)."""
    logits, _ = next_distribution(model, tokenizer, context)
    token = tokenizer.encode(char, add_begin=False)[0]
    return float(torch.softmax(logits.double(), dim=-1)[token])


def test_greedy_characters_report_the_models_own_probability_too(tp):
    model, tokenizer, _ = load_language_model(LM_ASSETS["toy"])
    prompt = tp.session_state["tp_prompt"]
    tp.slider(key="tp_tau").set_value(0.0).run()
    tp.button(key="btn_tp_next").click().run()
    char = tp.session_state["tp_generated"]
    label, sampled, entropy, own, own_entropy = tp.session_state["tp_last"]["steps"][-1]
    assert (sampled, entropy) == (1.0, 0.0)  # greedy: the sampler is sure
    assert own < 1.0 and own_entropy > 0.0  # the model is not
    # the page reads through the packed Decoder, the reference through the model: float32 apart
    assert own == pytest.approx(own_probability(model, tokenizer, prompt, char), abs=1e-6)
    report = next(m.value for m in tp.markdown if "had probability" in m.value)
    assert "**1.000**" in report and f"**{own:.3f}**" in report and "τ = 1" in report
    assert "τ = 0, greedy" in report
    assert not figures(tp).get("How sure was the model of each generated character?")
    # Generate N: each character gets both numbers, in a chart
    tp.button(key="btn_tp_many").click().run()
    text = tp.session_state["tp_generated"]
    chart = figure(tp, "How sure was the model of each generated character?")
    bars, marks = chart["data"][0]["y"], chart["data"][1]["y"]
    assert len(bars) == len(marks) == 20 == len(text) - 1
    assert marks == [1.0] * 20 and max(bars) < 1.0
    assert "τ = 0, greedy" in chart["data"][1]["name"] and "τ = 1" in chart["data"][0]["name"]
    for i, p in enumerate(bars):  # each is softmax(u)[x] of the text before it
        before = prompt + text[: i + 1]
        assert p == pytest.approx(own_probability(model, tokenizer, before, text[i + 1]),
                                  abs=1e-6)


def test_sampled_characters_report_both_distributions(tp):
    tp.slider(key="tp_tau").set_value(1.5).run()
    tp.number_input(key="tp_top_k").set_value(3).run()
    tp.button(key="btn_tp_many").click().run()
    steps = tp.session_state["tp_last"]["steps"]
    assert tp.session_state["tp_last"]["sampling"] == "τ = 1.5, top-k 3"
    assert all(0 < s[1] <= 1 and 0 < s[3] <= 1 for s in steps)
    assert any(abs(s[1] - s[3]) > 1e-3 for s in steps)  # τ and top-k change the numbers


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

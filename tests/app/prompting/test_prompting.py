"""The few-shot prompting lesson through AppTest."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fmcore.prompting.icl import describe_wrong_curve
from lessons.prompting.sections import METHODS
from lessons.prompting.table import apply_edits, wrong_labels
from tests.app.helpers import figure, no_nan

PAGE = "lessons/prompting/prompting.py"
FILE = str(Path(__file__).parents[3] / PAGE)


@pytest.fixture
def pr(app):
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def alone(**params):
    """The page run on its own, opened from a link with these query parameters."""
    at = AppTest.from_file(FILE, default_timeout=90)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def prompt_of(at):
    return at.code[0].value


def curve(at):
    return figure(at, "Accuracy and p(right answer) against k")


def test_opens_with_a_prompt_the_answer_and_the_curve(pr):
    text = prompt_of(pr)
    assert text.startswith("⊥Q: ") and text.endswith("Q: 15 ~ 2 = ? A: ")
    assert text.count("\n") == 3  # three examples, then the query
    assert [m.value for m in pr.metric][0] == "17"  # 15 + 2, learnt from the examples
    assert any("Right" in s.value for s in pr.success)
    latex = " ".join(x.value for x in pr.get("latex"))
    assert "(14.13" in latex and "(14.5)" in latex and "(14.1)" in latex
    top = pr.get("latex")[0].value
    # the notes' example, its operator as \sim (a bare ~ or \~{} is a space or an accent),
    # on two lines so that the equation number stays on the page in classroom mode
    assert r"\text{Q: 2}\sim\text{3 = ? A: 5}" in top and r"\~" not in top
    assert r"\begin{aligned}" in top and top.count("\\\\") == 1
    assert top.index("\\\\") < top.index("(14.13")
    assert any("notes' example" in c.value for c in pr.caption)
    assert any(h.value == "6. Three ways to adapt: prompt, probe, finetune" for h in pr.header)
    fig = curve(pr)
    fresh, mine = fig["data"][0]["y"], fig["data"][1]["y"]
    assert len(fresh) == 9 and len(mine) == 4 and no_nan(fig)
    # accuracy and p(right answer) are different quantities: two panels, each its own axis
    layout = fig["layout"]
    assert fig["data"][0]["yaxis"] == "y" and fig["data"][1]["yaxis"] == "y2"
    assert layout["yaxis"]["title"]["text"] == "accuracy (exact answer)"
    assert layout["yaxis2"]["title"]["text"] == "p(right answer)"
    assert "accuracy" in fig["data"][0]["name"] and "p(right answer)" in fig["data"][1]["name"]
    assert fresh[0] < 0.5 < 0.9 <= min(fresh[4:])  # examples are what make it right
    assert mine[-1] > mine[0]
    steps = figure(pr, "The next-character distribution")
    assert len(steps["data"]) == 3  # "1", "7" and the newline


def test_a_temperature_above_zero_samples_the_answer_reproducibly(pr):
    # no examples: the model can only guess the operation, so a hot temperature spreads
    # its answers, and "Draw again" draws another
    pr.number_input(key="ic_k").set_value(0).run()
    pr.button(key="btn_ic_fresh").click().run()
    greedy = pr.metric[0].value
    pr.slider(key="ic_tau").set_value(2.0).run()
    assert not pr.exception
    drawn = [pr.metric[0].value]
    for _ in range(6):
        pr.button(key="btn_ic_draw").click().run()
        drawn.append(pr.metric[0].value)
    assert len(set(drawn)) > 1  # sampling, not the argmax
    assert "Sampled at τ = 2" in pr.metric[0].help
    again = pr.session_state["ic_draw"]
    pr.run()  # the same seed and the same number of draws: the same answer
    assert pr.metric[0].value == drawn[-1] and pr.session_state["ic_draw"] == again
    pr.slider(key="ic_tau").set_value(0.0).run()
    assert pr.metric[0].value == greedy


def test_more_examples_change_the_prompt_and_the_curve(pr):
    before, marker = prompt_of(pr), curve(pr)["layout"]["shapes"]
    pr.number_input(key="ic_k").set_value(5).run()
    pr.button(key="btn_ic_fresh").click().run()
    after = prompt_of(pr)
    assert after != before and after.count("\n") == 5
    assert len(curve(pr)["data"][1]["y"]) == 6
    assert curve(pr)["layout"]["shapes"] != marker
    assert pr.query_params["ex"].count(";") == 4  # the link holds the five examples


def test_table_edits_are_applied_and_read_in_their_order():
    rows = [{"order": 1, "a": "1", "b": "2", "answer": "3"},
            {"order": 2, "a": "4", "b": "4", "answer": "8"},
            {"order": 3, "a": "7", "b": "1", "answer": "8"}]
    edited = {"edited_rows": {0: {"order": 10}, "2": {"answer": "9"}}, "deleted_rows": [1],
              "added_rows": [{"order": 5, "a": "4", "b": "5", "answer": "9"},
                             {"a": "6", "b": "6", "answer": "12"}]}
    out = apply_edits(rows, edited)
    assert [(r["a"], r["answer"]) for r in out] == [("7", "9"), ("4", "9"), ("1", "3"),
                                                     ("6", "12")]
    assert apply_edits(rows, None) == rows and rows[0]["order"] == 1  # the input is kept


def test_surprise_me_hides_the_operation_until_revealed(pr):
    pr.selectbox(key="ic_op").set_value("surprise me").run()
    secret = pr.session_state["ic_secret"]
    page = " ".join(m.value for m in pr.markdown) + " ".join(s.value for s in pr.success)
    assert secret not in " ".join(s.value for s in pr.success)
    assert "the hidden operation" in curve(pr)["layout"]["title"]["text"]
    pr.button(key="btn_ic_reveal").click().run()
    assert any(secret in s.value for s in pr.success)
    assert secret in curve(pr)["layout"]["title"]["text"]
    assert page


def test_wrong_labels_are_named_in_a_sentence():
    assert wrong_labels([1], "add") == ("Example 1's answer disagrees with add (a + b): it is "
                                        "wrongly labelled.")
    assert wrong_labels([1, 3], "max").startswith("Examples 1 and 3 have answers that "
                                                  "disagree with max (the larger of a and b)")
    assert wrong_labels([2, 4, 5], "add").startswith("Examples 2, 4 and 5 have answers")


def test_a_mislabelled_example_is_flagged_and_told_apart_from_the_curve_of_8(pr):
    pr.button(key="btn_ic_mislabel").click().run()
    pr.button(key="btn_ic_wrong").click().run()
    assert [w.value for w in pr.warning] == [wrong_labels([1], "add")]
    wrong = figure(pr, "Does the model follow wrong labels?")
    ys = wrong["data"][0]["y"]
    assert len(ys) == 9 and ys[0] > ys[-1]
    assert all(abs(y * 16 - round(y * 16)) < 1e-9 for y in ys)  # 16 prompts per point
    # 1 wrong of 3 is not a point of the axis "wrong among 8": said in words, not marked
    assert not wrong["layout"].get("shapes")
    assert any("Wrong labels in your prompt: 1 of 3." in c.value for c in pr.caption)
    # the caption says what this curve shows: with add the model keeps adding (its prior)
    said = next(c.value for c in pr.caption if "Each point is 16 prompts" in c.value)
    assert said.startswith(describe_wrong_curve(ys, "add")) and "outvoted" not in said


def test_a_prompt_of_8_examples_is_marked_on_the_curve_of_8(pr):
    pr.number_input(key="ic_k").set_value(8).run()
    pr.button(key="btn_ic_fresh").click().run()
    pr.button(key="btn_ic_mislabel").click().run()
    pr.button(key="btn_ic_mislabel").click().run()
    pr.button(key="btn_ic_wrong").click().run()
    assert [w.value for w in pr.warning] == [wrong_labels([1, 2], "add")]
    layout = figure(pr, "Does the model follow wrong labels?")["layout"]
    assert [s["x0"] for s in layout["shapes"]] == [2]
    assert any(a["text"] == "your prompt: 2 wrong of 8" for a in layout["annotations"])
    assert not any("Wrong labels in your prompt" in c.value for c in pr.caption)


def test_classroom_mode_scales_the_panel_titles_of_the_answer_chart(pr):
    small = figure(pr, "The next-character distribution")["layout"]
    pr.session_state["classroom"] = True
    pr.run()
    large = figure(pr, "The next-character distribution")["layout"]
    titles = large["annotations"]
    assert len(titles) == 3 and all(t["font"]["size"] == large["font"]["size"] for t in titles)
    assert large["font"]["size"] > small["font"]["size"]
    assert all("<br>p = " in t["text"] for t in titles)  # two lines: side by side they fit


def test_zero_shot_box_answers_an_explicit_question(pr):
    pr.selectbox(key="ic_z_op").set_value("max").run()
    pr.text_input(key="ic_z_a").input("23").run()
    pr.text_input(key="ic_z_b").input("71").run()
    codes = [c.value for c in pr.code]
    assert any(c == "⊥Q: 23 max 71 = ? A: 71" for c in codes), codes
    assert any("explicit: **71**" in m.value and "right" in m.value for m in pr.markdown)


def test_finetuning_the_probe_and_the_prompt_answer_the_same_questions(pr):
    # Section 14.3.1's first option is finetuning (w and theta, Eq. 14.2-14.4), not a probe
    pr.select_slider(key="ic_ft_n").set_value(8).run()
    pr.select_slider(key="ic_ft_steps").set_value(20).run()
    pr.button(key="btn_ic_compare").click().run()
    assert not pr.exception
    table = pr.table[0].value
    methods = list(table.index)
    assert methods == list(METHODS.values())
    assert methods[1].startswith("linear probe (Eq. 14.1): θ frozen")
    assert methods[2].startswith("finetuning (Eq. 14.2-14.4): w and θ trained")
    exact = [float(v.rstrip("%")) / 100 for v in table["exact answers"]]
    assert exact[0] >= 0.9 > max(exact[1:])  # the prompt's 3 examples beat 8 labelled ones
    assert list(table["labelled examples"]) == ["3 in the prompt", "8", "8, 20 steps"]
    assert any("Finetuning moved θ by" in c.value for c in pr.caption)
    assert figure(pr, "Finetuning: squared error")["data"][0]["x"] == list(range(1, 21))
    same = pr.table[1].value  # the same questions, answer by answer
    assert list(same.columns) == ["right answer", "in-context", "probe", "finetuned"]
    assert (same["in-context"] == same["right answer"]).mean() >= 0.75
    pr.run()  # a rerun shows the kept result
    assert list(pr.table[0].value["exact answers"]) == list(table["exact answers"])
    pr.select_slider(key="ic_ft_steps").set_value(40).run()  # new settings: not the old result
    assert any("press the button to compare again" in c.value for c in pr.caption)


def test_a_shared_link_opens_with_its_examples():
    at = alone(op="max", ex="2,3,3;9,4,9;50,51,51", q="15,2")
    assert not at.exception
    assert prompt_of(at) == ("⊥Q: 2 ~ 3 = ? A: 3\nQ: 9 ~ 4 = ? A: 9\nQ: 50 ~ 51 = ? A: 51\n"
                             "Q: 15 ~ 2 = ? A: ")
    assert at.session_state["ic_op"] == "max"
    assert [m.value for m in at.metric][0] == "15"


@pytest.mark.parametrize("params, message", [
    ({"op": "max", "ex": "2,x,3"}, "not"),
    ({"op": "times", "ex": "2,3,6"}, "unknown operation"),
    ({"op": "add", "ex": "2,300,302"}, "between 0 and 99"),
    ({"op": "add", "q": "1"}, "two numbers"),
])
def test_a_bad_link_is_reported_and_the_default_prompt_kept(params, message):
    at = alone(**params)
    assert not at.exception
    assert any(message in w.value for w in at.warning), [w.value for w in at.warning]
    assert prompt_of(at).endswith("Q: 15 ~ 2 = ? A: ")


def test_bad_cells_and_a_bad_query_get_messages_and_the_table_is_kept(pr):
    rows = [dict(r) for r in pr.session_state["ic_rows"]]
    rows[0]["a"], rows[1]["b"] = "1€", "123"
    pr.session_state["ic_rows"] = rows
    pr.text_input(key="ic_qa").input("").run()
    errors = [e.value for e in pr.error]
    assert any("Example 1: a" in e and "'€'" in e for e in errors), errors
    assert any("Example 2: b is 123" in e for e in errors)
    assert any("test question's a is empty" in e for e in errors)
    assert pr.session_state["ic_rows"] == rows and not pr.exception


def test_too_many_examples_for_the_context_are_refused_with_advice():
    ex = ";".join(f"{10 + i},{20 + i},{30 + 2 * i}" for i in range(16))
    at = alone(op="add", ex=ex)
    assert not at.exception
    assert any("keep at most" in e.value for e in at.error), [e.value for e in at.error]
    assert at.session_state["ic_rows"][15]["a"] == "25"  # the prompt built is kept


def test_a_template_with_unknown_characters_is_refused(pr):
    pr.text_input(key="ic_template").input("Frage: {a} {op} {b} = ? A: ").run()
    assert any("does not know" in e.value and "'F'" in e.value for e in pr.error)
    pr.text_input(key="ic_template").input("Q: {a} {op} {b} = ? A: {").run()
    assert any("unmatched braces" in e.value for e in pr.error)
    assert not pr.exception


def test_all_operations_are_scored_on_request(pr):
    pr.button(key="btn_ic_all").click().run()
    fig = figure(pr, "Accuracy against k, every operation")
    assert len(fig["data"]) == 12 and no_nan(fig)


def test_try_this_holds_for_the_default_prompt_deleting_examples_lowers_the_probability(pr):
    said = pr.info[0].value
    assert "one example is enough for the model to be sure" in said
    assert "with none left its confidence falls" in said
    shown = [pr.metric[1].value]
    for _ in range(3):  # delete the first row (what the editor's bin does to the rows)
        pr.session_state["ic_rows"] = pr.session_state["ic_rows"][1:]
        pr.run()
        shown.append(pr.metric[1].value)
    probabilities = [float(v.rstrip("%")) for v in shown]
    assert min(probabilities[:3]) >= 90 > 50 > probabilities[3], shown
    assert prompt_of(pr).count("\n") == 0  # no example left


def test_classroom_mode_puts_the_later_sections_in_tabs_and_zooms_the_table(pr):
    assert not pr.tabs and len(pr.header) >= 6
    pr.session_state["classroom"] = True
    pr.run()
    assert [t.label for t in pr.tabs][-1] == "6. Prompt, probe, finetune"
    assert len(pr.tabs) == 4 and not any(h.value.startswith("3.") for h in pr.header)
    styles = " ".join(h.proto.body for h in pr.get("html"))
    # the sidebar's fixed classroom CSS zooms every version of the table (editor_ic_<n>)
    assert '[class*="st-key-editor_ic_"] { zoom: 1.6;' in styles

"""Lesson links: every page's main settings round-trip through the URL (validated)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP
from ui import links

# page -> (a link's parameters, the settings they must give)
GOOD = {
    "lessons/foundations/gradient_descent.py": ({"gd_dataset": "house_prices", "gd_sgd": "true",
                                     "gd_steps": "25", "gd_theta1": "-1.5"},
                                    {"gd_dataset": "house_prices", "gd_sgd": True,
                                     "gd_steps": 25, "gd_theta1": -1.5}),
    "lessons/self_supervision/pretext_tasks.py": ({"pp_domain": "timeseries", "pp_steps": "300"},
                                 {"pp_domain": "timeseries", "pp_steps": 300}),
    "lessons/vision/simclr_loss.py": ({"cl_b": "4", "cl_method": "nt_xent", "cl_models": "random"},
                               {"cl_b": 4, "cl_method": "nt_xent", "cl_models": "random"}),
    "lessons/vision/pretraining.py": ({"pt_steps": "50", "pt_tau": "0.5", "pt_loss": "notes"},
                               {"pt_steps": 50, "pt_tau": 0.5, "pt_loss": "notes"}),
    "lessons/adaptation/adaptation.py": ({"ad_shots": "50", "ad_method": "finetune"},
                              {"ad_shots": 50, "ad_method": "finetune"}),
    "lessons/language/language_model.py": ({"lm_text": "anna sees my fox.", "lm_steps": "300"},
                                  {"lm_text": "anna sees my fox.", "lm_steps": 300}),
    "lessons/language/temperature.py": ({"tp_tau": "0.5", "tp_top_k": "3", "tp_prompt": "the "},
                               {"tp_tau": 0.5, "tp_top_k": 3, "tp_prompt": "the "}),
}


def opened(page, params):
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("page", list(GOOD))
def test_a_link_opens_the_lesson_with_its_settings_and_the_url_follows(page):
    params, expected = GOOD[page]
    at = opened(page, params)
    for key, value in expected.items():
        assert at.session_state[key] == value
    for key, value in params.items():  # the address bar holds them, as the link wrote them
        assert at.query_params[key] == value
    assert not [w for w in at.warning if "link" in w.value]
    box = [c.value for c in at.sidebar.code]
    assert box and all(f"{k}=" in box[0] for k in params)  # the share box's link


@pytest.mark.parametrize("page, params, message", [
    ("lessons/foundations/gradient_descent.py", {"gd_steps": "1e309"}, "not a whole number"),
    ("lessons/foundations/gradient_descent.py", {"gd_alpha": "nan"}, "is not one of"),
    ("lessons/vision/pretraining.py", {"pt_tau": "inf"}, "finite"),
    ("lessons/vision/pretraining.py", {"pt_strength": "-1"}, "between"),
    ("lessons/vision/simclr_loss.py", {"cl_b": "100000"}, "between 2 and"),
    ("lessons/language/language_model.py", {"lm_steps": "-5"}, "is not one of"),
    ("lessons/language/temperature.py", {"tp_top_p": "NaN"}, "finite"),
    ("lessons/language/temperature.py", {"tp_prompt": "x" * 3000}, "too long"),
])
def test_a_bad_value_in_a_link_is_refused_with_a_message(page, params, message):
    at = opened(page, params)
    warnings = [w.value for w in at.warning if "From the link" in w.value]
    assert len(warnings) == 1 and message in warnings[0], warnings
    key = next(iter(params))
    assert at.query_params[key] != params[key]  # the URL now shows the value in use


def test_a_link_can_hide_controls_and_their_values_still_apply():
    at = opened("lessons/language/temperature.py", {"tp_tau": "0", "hide": "tp_tau,tp_top_p,nope"})
    assert at.session_state["tp_tau"] == 0.0
    assert at.query_params["hide"] == "tp_tau,tp_top_p"  # unknown keys dropped
    css = " ".join(h.proto.body for h in at.get("html"))
    assert ".st-key-tp_tau, .st-key-tp_top_p {display: none}" in css


def test_seed_and_classroom_mode_travel_with_a_lesson_link():
    at = opened("lessons/language/temperature.py",
                {"seed": "7", "classroom": "true", "tp_tau": "0.5"})
    assert at.session_state["seed"] == 7 and at.session_state["classroom"] is True
    assert at.sidebar.toggle(key="classroom").value is True  # presenter mode after a reload
    assert (at.query_params["seed"], at.query_params["classroom"]) == ("7", "true")
    assert "seed=7" in at.sidebar.code[0].value and "classroom=true" in at.sidebar.code[0].value
    at.sidebar.toggle(key="classroom").set_value(False).run()  # defaults stay out of the URL
    assert "classroom" not in at.query_params and at.query_params["seed"] == "7"


def test_a_bad_seed_in_a_link_is_refused_with_a_message():
    at = opened("lessons/language/temperature.py", {"seed": "1e309"})
    assert at.session_state["seed"] == 0
    assert any("From the link" in w.value and "whole number" in w.value for w in at.warning)


def test_the_link_is_applied_once_so_the_widgets_win_afterwards():
    at = opened("lessons/foundations/gradient_descent.py", {"gd_steps": "25"})
    at.button(key="btn_gd_step").click().run()
    assert at.session_state["gd_steps"] == 26
    assert at.query_params["gd_steps"] == "26"


@pytest.mark.parametrize("raw, kind, expected", [
    ("3", "int", 3), ("3.0", "int", 3), ("true", "bool", True), ("0", "bool", False),
    ("0.25", "float", 0.25), ("abc", "text", "abc"),
])
def test_parse_reads_each_kind(raw, kind, expected):
    setting = links.Setting("k", "K", kind, low=0, high=10)
    assert links.parse(setting, raw) == expected


@pytest.mark.parametrize("raw, kind", [
    ("3.5", "int"), ("11", "int"), ("-inf", "float"), ("1e309", "float"), ("maybe", "bool"),
    ("x" * 11, "text"), ("", "int"),
])
def test_parse_refuses_bad_values(raw, kind):
    from fmcore.errors import FMError

    with pytest.raises(FMError):
        links.parse(links.Setting("k", "K", kind, low=0, high=10), raw)


@pytest.mark.parametrize("raw, expected", [("1", 1.0), ("1.0", 1.0), ("1e-2", 0.01),
                                           ("0.0100", 0.01)])
def test_a_numeric_choice_may_be_written_any_way(raw, expected):
    setting = links.Setting("k", "K", "choice", (0.001, 0.01, 1.0))
    assert links.parse(setting, raw) == expected


@pytest.mark.parametrize("raw", ["0.5", "nan", "inf", "abc", "1e309"])
def test_a_numeric_choice_still_refuses_what_is_not_one(raw):
    from fmcore.errors import FMError

    with pytest.raises(FMError, match="is not one of"):
        links.parse(links.Setting("k", "K", "choice", (0.001, 0.01, 1.0)), raw)


def test_a_start_outside_the_view_is_brought_to_its_edge():
    at = opened("lessons/foundations/gradient_descent.py", {"gd_theta1": "999"})
    assert at.session_state["gd_theta1"] == at.slider(key="gd_theta1").max


def test_a_teacher_may_write_alpha_1_in_a_link():
    at = opened("lessons/foundations/gradient_descent.py",
                {"gd_dataset": "house_prices", "gd_alpha": "1"})
    assert at.session_state["gd_alpha"] == 1.0
    assert not [w for w in at.warning if "From the link" in w.value]


# A page's URL is its file's stem, wherever the file lives (the lessons moved into section
# folders in issue 15): links shared before the move still open their lesson.
OLD_ADDRESSES = {
    "gradient_descent": "lessons/foundations/gradient_descent.py",
    "pretext_tasks": "lessons/self_supervision/pretext_tasks.py",
    "simclr_loss": "lessons/vision/simclr_loss.py",
    "pretraining": "lessons/vision/pretraining.py",
    "adaptation": "lessons/adaptation/adaptation.py",
    "language_model": "lessons/language/language_model.py",
    "temperature": "lessons/language/temperature.py",
    "prompting": "lessons/prompting/prompting.py",
}


def test_old_lesson_addresses_still_name_their_lesson(app):
    root = Path(APP).parent
    # AppTest keeps what st.navigation registered: {hash: {url_pathname, script_path, ...}}
    registered = {info["url_pathname"]: Path(info["script_path"]).relative_to(root).as_posix()
                  for info in app._registered_pages.values()}
    assert {url: registered.get(url) for url in OLD_ADDRESSES} == OLD_ADDRESSES

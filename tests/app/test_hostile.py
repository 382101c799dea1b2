"""Hostile text from a browser: every text box of the language lessons takes it with a
message, never a traceback, and keeps what the student typed."""

import pytest

HOSTILE = {
    "empty": "",
    "1 MB paste": "the cat sees a dog. " * 52_429,
    "emoji": "the cat 🐈‍⬛ sees 👀 a dog",
    "right-to-left": "the cat \u202e god a sees \u05e9\u05dc\u05d5\u05dd مرحبا",
    "NUL bytes": "the\x00cat\x00\x00sees",
    "markup": "<script>alert(1)</script> **bold** <b>x</b>",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_the_language_model_page_takes_hostile_text(app, name):
    app.switch_page("lessons/language/language_model.py").run()
    app.session_state["lm_text"] = HOSTILE[name][:5000]  # the text area's own limit
    app.run()
    assert not app.exception, app.exception
    if name == "empty":  # an empty box gets an example sentence to start from
        assert app.session_state["lm_text"]
    else:
        assert app.session_state["lm_text"] == HOSTILE[name][:5000]  # nothing lost
        assert app.get("plotly_chart")


@pytest.mark.parametrize("name", list(HOSTILE))
def test_the_temperature_page_takes_hostile_prompts(app, name):
    app.switch_page("lessons/language/temperature.py").run()
    app.session_state["tp_prompt"] = HOSTILE[name][:2000]
    app.run()
    assert not app.exception, app.exception
    assert app.session_state["tp_prompt"] == HOSTILE[name][:2000]


@pytest.mark.parametrize("name", list(HOSTILE))
def test_the_prompting_page_takes_hostile_cells(app, name):
    app.switch_page("lessons/prompting/prompting.py").run()
    rows = [dict(r) for r in app.session_state["ic_rows"]]
    rows[0]["a"] = HOSTILE[name][:8]
    app.session_state["ic_rows"] = rows
    app.session_state["ic_template"] = HOSTILE[name][:200]
    app.run()
    assert not app.exception, app.exception
    assert app.error  # the cell (or the template) is named in a message
    assert app.session_state["ic_rows"][0]["a"] == HOSTILE[name][:8]

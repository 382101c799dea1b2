"""Every page registered in the navigation runs under AppTest without an exception."""

import pytest

from ui.pages import all_pages


@pytest.mark.parametrize("info", all_pages(), ids=lambda p: p.path)
def test_page_runs_without_exception(app, info):
    app.switch_page(info.path).run()
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    assert app.title[0].value  # every page opens with its title


@pytest.mark.parametrize("info", all_pages(), ids=lambda p: p.path)
def test_page_survives_reruns_and_a_visit_elsewhere(app, info):
    """Every rerun writes the widgets' state back (ui.widgets.keep_widget_state); a widget
    that refuses it raises only when drawn again, on a later rerun."""
    app.switch_page(info.path).run()
    app.run()
    app.switch_page("lessons/home.py").run()
    app.switch_page(info.path).run()
    app.run()
    assert not app.exception, app.exception


@pytest.mark.parametrize("info", all_pages(), ids=lambda p: p.path)
def test_page_runs_in_classroom_mode(app, info):
    app.toggle(key="classroom").set_value(True).run()
    app.switch_page(info.path).run()
    assert not app.exception, app.exception


def test_sidebar_controls_persist_across_pages(app):
    app.number_input(key="seed").set_value(42).run()
    for info in all_pages():
        app.switch_page(info.path).run()
        assert app.number_input(key="seed").value == 42


def test_home_links_each_stage_to_its_lesson(app):
    links = [e.proto.page for e in app.get("page_link")]
    assert "gradient_descent" in links  # the page link carries the URL path
    assert app.get("graphviz_chart")

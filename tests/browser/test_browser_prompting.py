"""The few-shot prompting page in a real browser: finetuning, the linear probe and in-context
answers compared on the same questions, and the page as a class and a student see it."""

from __future__ import annotations

from tests.browser.conftest import SCREENSHOTS, settle

HEIGHT_JS = "document.querySelector('[data-testid=stMain]').scrollHeight"


def _whole_page(page, name: str) -> int:
    """Screenshot the whole page (Streamlit scrolls inside stMain, so a full-page shot of
    the document is one viewport): grow the viewport to the page, shoot, and restore."""
    size = page.viewport_size
    height = page.evaluate(HEIGHT_JS)
    page.set_viewport_size({"width": size["width"], "height": height})
    page.wait_for_timeout(800)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    page.set_viewport_size(size)
    return height

METHODS = ("in-context: θ̂ as shipped, the examples in the prompt",
           "linear probe (Eq. 14.1): θ frozen at θ̂, only w fitted",
           "finetuning (Eq. 14.2-14.4): w and θ trained from θ̂")


def _smallest(tab, name: str) -> None:
    slider = tab.get_by_role("slider", name=name)
    slider.focus()
    slider.press("Home")
    settle(tab)


def test_finetuning_the_probe_and_the_prompt_are_compared(tab, server_url):
    tab.goto(f"{server_url}/prompting")
    settle(tab)
    assert tab.get_by_text("Can a model learn a task from a few examples").is_visible()
    assert tab.get_by_text("Try this:").is_visible()
    _smallest(tab, "Labelled examples n (probe and finetuning)")
    _smallest(tab, "Finetuning steps (Adam, all n each step)")
    tab.get_by_role("button", name="Compare the three on 32 fresh questions").click()
    tab.get_by_text("Finished 20 steps.").wait_for(timeout=180_000)
    settle(tab)
    table = tab.get_by_test_id("stTable").first
    for method in METHODS:
        assert table.get_by_text(method, exact=True).is_visible()
    assert table.get_by_text("8, 20 steps").is_visible()
    assert tab.get_by_text("Finetuning moved θ by").is_visible()
    assert tab.get_by_test_id("stException").count() == 0
    _whole_page(tab, "prompting_1400")


def test_classroom_mode_at_1280x720(projector, server_url):
    projector.goto(f"{server_url}/prompting?classroom=true")
    settle(projector)
    tabs = projector.get_by_role("tab")
    assert tabs.count() == 4
    projector.screenshot(path=str(SCREENSHOTS / "prompting_classroom_1280_top.png"))
    height = _whole_page(projector, "prompting_classroom_1280")
    tabs.nth(3).click()
    settle(projector)
    _whole_page(projector, "prompting_classroom_1280_tab6")
    print(f"classroom page height at 1280 px: {height} px")
    assert height < 5000, height  # it was 6,350 px with every section open
    editor = projector.locator("[class*='st-key-editor_ic_']")
    assert editor.bounding_box()["height"] > 200  # zoomed: rows a class can read

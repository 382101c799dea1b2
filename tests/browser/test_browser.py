"""A student's visit in a real browser: navigate, use each lesson's main control, look."""

import re
from pathlib import Path

import pytest

from tests.browser.conftest import screenshot, settle
from ui.pages import HOME, LESSONS, all_pages


def test_navigation_lists_every_page(tab, server_url):
    tab.goto(server_url)
    settle(tab)
    nav = tab.get_by_test_id("stSidebarNav")
    for info in all_pages():
        assert nav.get_by_role("link", name=info.title).is_visible()
    for section in {p.section for p in LESSONS}:
        assert nav.get_by_text(section, exact=True).is_visible()


@pytest.mark.parametrize("info", all_pages(), ids=lambda p: p.path)
def test_each_page_opens_from_the_navigation(tab, server_url, info):
    outside = []  # the lab runs offline: nothing may be fetched from anywhere else
    tab.on("request", lambda r: outside.append(r.url)
           if not r.url.startswith((server_url, "data:", "blob:")) else None)
    tab.goto(server_url)
    settle(tab)
    tab.get_by_test_id("stSidebarNav").get_by_role("link", name=info.title).click()
    settle(tab)
    if info is not HOME:
        tab.wait_for_url(re.compile(re.escape(Path(info.path).stem) + r"(\?.*)?$"))
    assert tab.get_by_test_id("stException").count() == 0
    assert outside == []  # e.g. a Material-icon favicon from fonts.gstatic.com
    assert screenshot(tab, Path(info.path).stem).stat().st_size > 10_000


def test_home_stage_link_opens_the_lesson(tab, server_url):
    tab.goto(server_url)
    settle(tab)
    tab.locator("[data-testid='stGraphVizChart'] svg").wait_for()  # the paradigm figure
    tab.get_by_test_id("stPageLink").get_by_text("Gradient descent").click()
    settle(tab)
    assert tab.get_by_role("heading", name="Gradient descent", level=1).is_visible()


def test_gradient_descent_slider_and_step(tab, server_url):
    tab.goto(f"{server_url}/gradient_descent")
    settle(tab)
    tab.get_by_test_id("stPlotlyChart").nth(3).wait_for()  # all four charts drawn
    caption = tab.get_by_text(re.compile(r"^Step-size limit: α = 0\.0316,"))
    assert caption.is_visible()
    slider = tab.get_by_role("slider", name="Learning rate α")
    slider.focus()
    slider.press("ArrowRight")
    tab.get_by_text(re.compile(r"^Step-size limit: α = 0\.0422,")).wait_for()
    tab.get_by_role("button", name="Step", exact=True).click()
    tab.get_by_role("heading", name="Step 11: the update").wait_for()
    settle(tab)
    screenshot(tab, "gradient_descent_after_step")


def test_a_table_view_opens_under_a_chart(tab, server_url):
    tab.goto(f"{server_url}/gradient_descent")
    settle(tab)
    view = tab.get_by_test_id("stExpander").filter(has_text="Table view of this chart").first
    assert view.get_by_test_id("stDataFrame").count() == 0  # built only when opened
    view.get_by_text("Table view of this chart").click()
    view.get_by_test_id("stDataFrame").wait_for()
    view.get_by_role("button", name="Download CSV").wait_for()
    settle(tab)
    assert tab.get_by_test_id("stException").count() == 0


def test_gradient_descent_divergence_reads_as_a_message(tab, server_url):
    tab.goto(f"{server_url}/gradient_descent")
    settle(tab)
    tab.get_by_test_id("stSelectbox").first.click()
    tab.get_by_role("option", name=re.compile("^House prices \\(squared")).click()
    settle(tab)
    slider = tab.get_by_role("slider", name="Learning rate α")
    slider.focus()
    for _ in range(8):  # from 0.0075 to 0.0422, past 2/λ_max = 0.033
        slider.press("ArrowRight")
    tab.get_by_text(re.compile("^Diverged: with α")).wait_for()
    settle(tab)
    assert "NaN" not in tab.inner_text("body")
    screenshot(tab, "gradient_descent_diverged")


def test_simclr_loss_temperature_moves_in_the_browser(tab, server_url):
    tab.goto(f"{server_url}/simclr_loss")
    settle(tab)
    tab.get_by_test_id("stPlotlyChart").nth(1).wait_for()  # pretrained and random side by side
    title = tab.locator(".gtitle").first
    before = title.text_content()
    assert "τ = 0.2" in before  # where the shipped encoder was trained
    # The τ slider is Plotly's own: clicking its rail animates to a precomputed frame, with
    # no round trip to the server.
    box = tab.locator("g.slider-group rect.slider-rail-rect").first.bounding_box()
    tab.mouse.click(box["x"] + 2, box["y"] + box["height"] / 2)  # the far left: τ = 0.05
    tab.wait_for_function(
        "(b) => { const t = document.querySelector('.gtitle'); return t && t.textContent !== b; }",
        arg=before,
    )
    assert "τ = 0.05" in title.text_content()
    screenshot(tab, "simclr_loss_small_temperature")


def test_pretraining_trains_and_stops_keeping_what_was_learned(tab, server_url):
    tab.goto(f"{server_url}/pretraining")
    settle(tab)
    tab.get_by_role("button", name="Train").click()
    tab.get_by_text(re.compile(r"^Pretraining: step [1-9]\d* of 500")).wait_for(timeout=120_000)
    tab.get_by_role("button", name="Stop").click()
    tab.get_by_text(re.compile(r"^Stopped at step \d+ of 500")).wait_for(timeout=60_000)
    settle(tab)
    tab.get_by_text("This encoder is now offered to the adaptation lesson.").wait_for()
    screenshot(tab, "pretraining_stopped")


def test_adaptation_probe_runs_and_draws_its_curves(tab, server_url):
    tab.goto(f"{server_url}/adaptation")
    settle(tab)
    tab.locator("[data-testid='stGraphVizChart'] svg").wait_for()  # which parameters move
    tab.get_by_role("button", name="Adapt").click()
    tab.get_by_text("Finished 150 steps.").wait_for(timeout=120_000)
    settle(tab)
    assert tab.get_by_text(re.compile(r"parameters trained, [\d,]+ frozen")).is_visible()
    assert tab.get_by_test_id("stException").count() == 0
    screenshot(tab, "adaptation_probe_done")


def test_pretext_gallery_and_a_short_rotation_run(tab, server_url):
    tab.goto(f"{server_url}/pretext_tasks")
    settle(tab)
    # the gallery's captions
    tab.get_by_text(re.compile(r"^z = \d: (turned|upright)")).first.wait_for()
    screenshot(tab, "pretext_gallery")
    tab.get_by_role("button", name="Train").click()
    tab.get_by_text(re.compile(r"^Pretext pretraining: step [1-9]\d* of 1500")).wait_for(
        timeout=120_000
    )
    tab.get_by_role("button", name="Stop").click()
    tab.get_by_text(re.compile(r"^Stopped at step \d+ of 1500")).wait_for(timeout=60_000)
    settle(tab)
    assert tab.get_by_test_id("stException").count() == 0
    screenshot(tab, "pretext_stopped")


def test_temperature_slider_moves_the_bars_in_the_browser(tab, server_url):
    tab.goto(f"{server_url}/temperature")
    settle(tab)
    title = tab.locator(".gtitle").first
    before = title.text_content()
    assert "τ = 1.00" in before and "entropy" in before
    # Plotly's own slider: the far left of its rail is τ = 0, greedy; no server round trip.
    box = tab.locator("g.slider-group rect.slider-rail-rect").first.bounding_box()
    tab.mouse.click(box["x"] + 2, box["y"] + box["height"] / 2)
    tab.wait_for_function(
        "(b) => { const t = document.querySelector('.gtitle'); return t && t.textContent !== b; }",
        arg=before,
    )
    assert "greedy" in title.text_content() and "entropy 0.00" in title.text_content()
    screenshot(tab, "temperature_greedy")
    tab.get_by_role("button", name="Next character", exact=True).click()
    tab.get_by_text(re.compile(r"had probability \d\.\d{3}")).wait_for()
    settle(tab)
    screenshot(tab, "temperature_generated")


def test_language_model_surprise_map(tab, server_url):
    tab.goto(f"{server_url}/language_model")
    settle(tab)
    tab.get_by_text(re.compile(r"^Chain rule: −log p\(text\) = ")).wait_for()
    assert tab.get_by_test_id("stException").count() == 0
    screenshot(tab, "language_model")


def test_prompting_builds_a_prompt_in_the_browser(tab, server_url):
    tab.goto(f"{server_url}/prompting")
    settle(tab)
    prompt = tab.get_by_test_id("stCode").first
    assert prompt.inner_text().rstrip().endswith("Q: 15 ~ 2 = ? A:")
    # Type a new test question, then edit the first example's a in the table.
    box = tab.get_by_label("Test question: a")
    box.fill("40")
    box.press("Enter")
    tab.get_by_text(re.compile(r"Q: 40 ~ 2 = \? A:")).first.wait_for()
    settle(tab)
    grid = tab.get_by_test_id("stDataFrameResizable").first.bounding_box()
    # Column "a" is the second of four; row 1 sits under the header row (35 px each).
    # Select the cell, press Enter to open its editor (a textarea over the canvas grid),
    # type into it and press Enter to commit.
    tab.mouse.click(grid["x"] + grid["width"] * 3 / 8, grid["y"] + 35 + 17)
    editor = tab.locator("textarea.gdg-input")
    for _ in range(3):  # a click that lands while the grid redraws only focuses it
        tab.keyboard.press("Enter")
        try:
            editor.wait_for(timeout=3_000)
            break
        except Exception:
            tab.mouse.click(grid["x"] + grid["width"] * 3 / 8, grid["y"] + 35 + 17)
    editor.fill("12")
    editor.press("Enter")
    tab.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stCode]')]"
        ".some(e => e.innerText.startsWith('⊥Q: 12 ~'))")
    settle(tab)
    assert tab.get_by_test_id("stException").count() == 0
    assert "ex=12" in tab.url  # the link now shares the edited prompt
    screenshot(tab, "prompting")

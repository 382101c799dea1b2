"""The two contrastive lessons in a real browser: the loss follows τ in one place, a kept
run says what it was trained with, and Train sits on the first screen in classroom mode."""

import re

from tests.browser.conftest import screenshot, settle


def test_simclr_loss_is_one_number_in_the_title_that_follows_tau(tab, server_url):
    tab.goto(f"{server_url}/simclr_loss")
    settle(tab)
    tab.get_by_test_id("stPlotlyChart").nth(1).wait_for()
    assert tab.get_by_test_id("stMetric").count() == 0  # no second, frozen loss below
    title = tab.locator(".gtitle").first
    before = title.text_content().replace("\u200b", "")  # Plotly wraps <sub> in them
    assert re.search(r"τ = 0\.2, Lpre = \d+\.\d{3}$", before)
    box = tab.locator("g.slider-group rect.slider-rail-rect").first.bounding_box()
    tab.mouse.click(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)  # τ = 3
    tab.wait_for_function(  # the frame for τ = 3, drawn in the browser
        "() => { const t = document.querySelector('.gtitle');"
        " return t && t.textContent.includes('τ = 3,'); }")
    after = title.text_content().replace("\u200b", "")
    assert re.search(r"τ = 3, Lpre = \d+\.\d{3}$", after)
    assert after.rsplit("=", 1)[1] != before.rsplit("=", 1)[1]  # the loss followed τ
    screenshot(tab, "contrastive_simclr_tau_3")


def test_pretraining_train_is_on_the_first_screen_in_classroom_mode(projector, server_url):
    projector.goto(f"{server_url}/pretraining?classroom=true")
    settle(projector)
    train = projector.get_by_role("button", name="Train").bounding_box()
    assert train["y"] + train["height"] <= 720
    screenshot(projector, "contrastive_pretraining_classroom_first_screen")


def test_pretraining_labels_a_kept_run_once_the_loss_is_switched(tab, server_url):
    tab.goto(f"{server_url}/pretraining?pt_steps=50&pt_batch=32&pt_loss=nt_xent")
    settle(tab)
    tab.get_by_role("button", name="Train").click()
    tab.get_by_text("Finished 50 steps.").wait_for(timeout=180_000)
    settle(tab)
    tab.get_by_text(re.compile(r"^This run: NT-Xent, τ = 0\.2, B = 32, 50 steps")).wait_for()
    tab.get_by_text("The notes' loss", exact=True).click()
    tab.get_by_text(re.compile("^The charts below show the run trained with: NT-Xent")).wait_for()
    settle(tab)
    assert tab.get_by_text("its value appears once you train with these settings").count() == 1
    screenshot(tab, "contrastive_pretraining_switched_loss")

"""The real server (``streamlit run app.py``) driven by Playwright in headless Chromium.

Without Chromium or Playwright these tests skip with the reason; under ``CI=true`` they fail
instead, so a CI run can never pass without having driven a real browser.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    browser_missing,
    free_port,
    settle,
    start_server,
    stop_server,
)

__all__ = ["settle"]  # the tests import it from here

SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.path):
            item.add_marker(pytest.mark.browser)


def _need_browser() -> None:
    reason = browser_missing()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"Browser tests cannot run under CI=true: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def server_url():
    _need_browser()
    port = free_port()
    process = start_server(port)
    yield f"http://127.0.0.1:{port}"
    stop_server(process)


@pytest.fixture(scope="session")
def chromium():
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def tab(chromium, server_url):
    """A fresh browser tab (its own Streamlit session); tall, so screenshots show the page."""
    context = chromium.new_context(viewport={"width": 1400, "height": 2200})
    page = context.new_page()
    page.set_default_timeout(60_000)  # the first lesson in a process imports torch
    yield page
    context.close()


@pytest.fixture
def projector(chromium, server_url):
    """A tab the size of a classroom projector (1280x720), in a fresh browser context."""
    context = chromium.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path

"""Links shared before the lessons moved into section folders (issue 15) still open their
lesson in a real browser, with their settings: a page's URL is its file's stem."""

import pytest

from tests.browser.conftest import settle

# (address as shared before the move, the lesson's title, a text the link's settings show)
OLD_LINKS = [
    ("/gradient_descent?gd_alpha=0.0562", "Gradient descent", "0.0562"),  # default 0.0316
    ("/temperature", "Sampling and temperature", None),
    ("/prompting?op=max&ex=2,3,3;9,4,9&q=15,2", "Few-shot prompting", None),
]


@pytest.mark.parametrize("address, title, shown", OLD_LINKS)
def test_an_old_link_opens_its_lesson(tab, server_url, address, title, shown):
    tab.goto(f"{server_url}{address}")
    settle(tab)
    assert tab.locator("h1").first.inner_text().startswith(title)
    assert tab.url.split("?")[0].endswith(address.split("?")[0])
    assert "Page not found" not in tab.inner_text("body")
    text = tab.inner_text('[data-testid="stMain"]')
    assert "could not be opened" not in text
    if shown:
        assert shown in text

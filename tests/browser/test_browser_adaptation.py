"""The adaptation diagram read on a projector: classroom mode at 1280 x 720 in Chromium."""

from __future__ import annotations

from tests.browser.conftest import screenshot, settle

# Streamlit draws a Graphviz chart's text at 13.2 px in the drawing's own units and scales
# the drawing to its column; the text's size on screen is 13.2 px times that scale.
TEXT_PX_JS = """() => {
  const svg = document.querySelector('[data-testid="stGraphVizChart"] svg');
  const text = svg.querySelector('text');
  const units = parseFloat(getComputedStyle(text).fontSize);
  return units * svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
}"""


def test_the_adaptation_diagram_text_reads_in_classroom_mode(projector, server_url):
    projector.goto(f"{server_url}/adaptation?classroom=true")
    settle(projector)
    sizes = {"probe": projector.evaluate(TEXT_PX_JS)}
    projector.get_by_test_id("stRadioGroup").get_by_text("finetuning", exact=True).click()
    projector.get_by_text("θ starts at θ̂, trained").wait_for()
    settle(projector)
    sizes["finetune"] = projector.evaluate(TEXT_PX_JS)
    screenshot(projector, "adaptation_classroom_1280")
    # body text in classroom mode is about 20 px; the old diagram's was about 8 px
    assert all(px >= 18 for px in sizes.values()), sizes

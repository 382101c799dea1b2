"""The language lessons in classroom mode on a 1280 x 720 projector, in the real browser:
every chart title inside its chart, colour-bar ticks and tick labels apart, surprise-map
letters apart, and at τ = 0 the model's own probability beside the sampler's."""

from __future__ import annotations

import re

from tests.browser.conftest import screenshot, settle

TEXT = "anna sees my fox. fox my sees anna. the king swims today and the baker sees anna."

# Per chart: the title's box and the svg's, and the boxes of the texts that must not touch
# (x tick labels, colour-bar tick labels, the letters of a markers+text trace).
LAYOUT_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(p => {
  const box = e => { const r = e.getBoundingClientRect();
                     return {l: r.left, r: r.right, t: r.top, b: r.bottom, text: e.textContent,
                             size: parseFloat(getComputedStyle(e).fontSize)}; };
  const all = sel => [...p.querySelectorAll(sel)].map(box).filter(b => b.r > b.l);
  const title = p.querySelector('.gtitle');
  return {svg: box(p.querySelector('svg.main-svg')), title: title ? box(title) : null,
          xticks: all('.xtick text'), cbticks: all('.cbaxis text, .colorbar .tick text'),
          letters: all('.scatterlayer .textpoint text')};
})"""


def apart(boxes: list[dict], gap: float = 1.0) -> bool:
    """No two boxes overlap (horizontally they keep ``gap`` pixels between them)."""
    return not any(
        a["l"] < b["r"] + gap and b["l"] < a["r"] + gap and a["t"] < b["b"] and b["t"] < a["b"]
        for i, a in enumerate(boxes) for b in boxes[i + 1:]
    )


def check_charts(page) -> list[dict]:
    charts = page.evaluate(LAYOUT_JS)
    assert charts
    for chart in charts:
        svg, title = chart["svg"], chart["title"]
        assert title and svg["t"] <= title["t"] and title["b"] <= svg["b"], title  # not clipped
        assert apart(chart["xticks"]), [b["text"] for b in chart["xticks"]]
        assert apart(chart["cbticks"]), [b["text"] for b in chart["cbticks"]]
    return charts


def test_language_model_charts_read_on_a_projector(projector, server_url):
    projector.goto(f"{server_url}/language_model?classroom=true&lm_text={TEXT}")
    settle(projector)
    projector.get_by_text(re.compile(r"^Chain rule: −log p\(text\) = ")).wait_for()
    charts = check_charts(projector)
    surprise = next(c for c in charts if c["title"]["text"].startswith("Surprise"))
    assert len(surprise["letters"]) == 63 and len(surprise["cbticks"]) >= 3
    assert apart(surprise["letters"], gap=8)  # each letter clear of its neighbours
    assert min(b["size"] for b in surprise["letters"]) >= 18
    screenshot(projector, "language_model_classroom")


def test_temperature_greedy_reports_the_models_own_probability(projector, server_url):
    projector.goto(f"{server_url}/temperature?classroom=true&tp_tau=0")
    settle(projector)
    projector.get_by_role("button", name="Next character", exact=True).click()
    report = projector.get_by_text(re.compile(r"The model's own probability for it"))
    report.wait_for()
    settle(projector)
    text = report.text_content()
    own = float(re.search(r"\(τ = 1, Eq\. 14\.6\) was (\d\.\d{3})", text).group(1))
    assert "had probability 1.000" in text and "τ = 0, greedy" in text and own <= 1.0
    charts = check_charts(projector)
    bars = next(c for c in charts if c["title"]["text"].startswith("Next character"))
    assert min(b["size"] for b in bars["xticks"]) >= 24  # quoted characters, large
    projector.get_by_role("button", name=re.compile(r"^Generate \d+")).click()
    projector.get_by_text("How sure was the model of each generated character?").wait_for()
    settle(projector)
    check_charts(projector)
    screenshot(projector, "temperature_classroom_generated")

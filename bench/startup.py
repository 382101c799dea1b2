"""Cold start and control-to-redraw in a real browser (issue: the ground; goal: 3 s start).

Measures, each against a baseline taken in the same run:
- cold start: from ``streamlit run app.py`` to the home page interactive (title drawn, seed
  control usable), against a fresh server opened straight on a page that imports torch;
- the gradient-descent lesson's main control: a keypress on the alpha slider until the
  descent figure in the browser shows the new path, against the plainest Streamlit round
  trip (``bench/baseline_app.py``: a slider and a title).

Run: python bench/startup.py [--repeats N]. Prints a table, then one JSON line of figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    browser_missing,
    free_port,
    settle,
    start_server,
    stop_server,
    wait_healthy,
)


def cold_start(browser, path: str, ready: str) -> float:
    """Seconds from spawning the server to ``ready`` visible at ``path`` in a new tab."""
    port = free_port()
    context = browser.new_context()
    page = context.new_page()
    start = time.perf_counter()
    process = start_server(port, wait=False)
    try:
        wait_healthy(port, process)
        page.goto(f"http://127.0.0.1:{port}/{path}")
        page.wait_for_selector(ready, state="visible", timeout=120_000)
        return time.perf_counter() - start
    finally:
        context.close()
        stop_server(process)


def round_trips(browser, app: str, path: str, slider: str, changed_js: str, n: int) -> list[float]:
    """Milliseconds from a slider keypress to ``changed_js(before)`` being true, n times."""
    port = free_port()
    process = start_server(port, app)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"http://127.0.0.1:{port}/{path}")
        settle(page)
        page.wait_for_function(f"() => ({changed_js})(null)", timeout=60_000)
        control = page.get_by_role("slider", name=slider)
        times = []
        for i in range(n + 2):  # the first two warm the page up
            before = page.evaluate(f"() => ({changed_js})('__value__')")
            control.focus()
            t0 = time.perf_counter()
            control.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
            page.wait_for_function(f"(b) => ({changed_js})(b)", arg=before, timeout=30_000)
            if i >= 2:
                times.append((time.perf_counter() - t0) * 1e3)
            page.wait_for_function(
                "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
            )
            page.wait_for_timeout(150)
        return times
    finally:
        context.close()
        stop_server(process)


# JS predicates: called with '__value__' they return the current value; otherwise whether the
# value differs from the one given.
DESCENT_CHANGED = (  # the first chart's path (trace 1), as the browser holds it
    "(b) => { const el = document.querySelector("
    "'[data-testid=\"stPlotlyChart\"] .js-plotly-plot');"
    " const v = el && el.data && el.data[1] ? JSON.stringify(el.data[1].x) : null;"
    " return b === '__value__' ? v : (b === null ? v !== null : v !== null && v !== b); }"
)
TITLE_CHANGED = (
    "(b) => { const h = document.querySelector('h1'); const v = h ? h.innerText : null;"
    " return b === '__value__' ? v : (b === null ? v !== null : v !== null && v !== b); }"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="cold starts of each kind")
    parser.add_argument("--presses", type=int, default=15, help="slider presses measured")
    args = parser.parse_args()
    missing = browser_missing()
    if missing:
        sys.exit(f"bench/startup.py needs a browser: {missing}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        seed_box = "[data-testid='stNumberInput'] input"
        cold_start(browser, "", seed_box)  # warm-up: Chromium's own first navigation
        home = [cold_start(browser, "", seed_box) for _ in range(args.repeats)]
        lesson = [cold_start(browser, "gradient_descent", "[data-testid='stPlotlyChart']")
                  for _ in range(args.repeats)]
        descent = round_trips(browser, "app.py", "gradient_descent", "Learning rate α",
                              DESCENT_CHANGED, args.presses)
        baseline = round_trips(browser, "bench/baseline_app.py", "", "Value", TITLE_CHANGED,
                               args.presses)
        browser.close()

    figures = {
        "bench": "startup",
        "home_cold_start_s": round(statistics.median(home), 2),
        "torch_page_cold_start_s": round(statistics.median(lesson), 2),
        "descent_redraw_ms_p50": round(statistics.median(descent)),
        "descent_redraw_ms_p90": round(statistics.quantiles(descent, n=10)[-1]),
        "baseline_round_trip_ms_p50": round(statistics.median(baseline)),
    }
    figures["home_vs_torch_page"] = round(figures["home_cold_start_s"]
                                          / figures["torch_page_cold_start_s"], 2)
    figures["descent_vs_baseline"] = round(figures["descent_redraw_ms_p50"]
                                           / figures["baseline_round_trip_ms_p50"], 2)
    print(f"{'measure':<48}{'median':>10}{'baseline':>10}{'ratio':>8}")
    print(f"{'cold start to home page interactive (s)':<48}{figures['home_cold_start_s']:>10}"
          f"{figures['torch_page_cold_start_s']:>10}{figures['home_vs_torch_page']:>8}")
    print(f"{'  baseline: cold start of the torch lesson (s)':<48}")
    print(f"{'alpha keypress to descent redrawn (ms)':<48}{figures['descent_redraw_ms_p50']:>10}"
          f"{figures['baseline_round_trip_ms_p50']:>10}{figures['descent_vs_baseline']:>8}")
    print(f"{'  baseline: plain slider round trip (ms)':<48}")
    print(f"  repeats: {args.repeats} cold starts each, {args.presses} presses each; "
          f"p90 of the descent redraw {figures['descent_redraw_ms_p90']} ms")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

"""The temperature slider in a real browser: from moving it to the bars redrawn.

The lesson (lessons/language/temperature.py) sends the next-token distribution at all 61
temperatures once, as Plotly animation frames; its slider then redraws in the browser with
no server round trip. The baseline, measured in the same run, is the naive page
(bench/temperature_baseline_app.py): a Streamlit slider whose every move reruns the script
and redraws the bars on the server. Goal (issue 5): median at most 100 ms.

Each measure is the time from the input (a click on the Plotly slider's rail, alternating
between two temperatures; a key press on the Streamlit slider) until the bars' heights the
browser holds have changed, timed from Python through Playwright (so it includes a few
milliseconds of Playwright's own round trip).

Run: python bench/temperature.py [--presses N]. Prints a table, then one JSON line.
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
)
from bench.startup import round_trips  # noqa: E402

# The bar heights of the first chart's first trace, as the browser holds them.
BARS = (
    "(b) => { const el = document.querySelector("
    "'[data-testid=\"stPlotlyChart\"] .js-plotly-plot');"
    " const v = el && el.data && el.data[0] ? JSON.stringify(el.data[0].y) : null;"
    " return b === '__value__' ? v : (b === null ? v !== null : v !== null && v !== b); }"
)


def slider_clicks(browser, n: int) -> list[float]:
    """Milliseconds from a click on the lesson's Plotly temperature slider to new bars."""
    port = free_port()
    process = start_server(port, "app.py")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"http://127.0.0.1:{port}/temperature")
        settle(page)
        page.wait_for_function(f"() => ({BARS})(null)", timeout=60_000)
        rail = page.locator("g.slider-group rect.slider-rail-rect").first
        box = rail.bounding_box()
        times = []
        for i in range(n + 2):  # the first two warm the page up
            before = page.evaluate(f"() => ({BARS})('__value__')")
            x = box["x"] + box["width"] * (0.2 if i % 2 == 0 else 0.7)
            t0 = time.perf_counter()
            page.mouse.click(x, box["y"] + box["height"] / 2)
            page.wait_for_function(f"(b) => ({BARS})(b)", arg=before, timeout=30_000)
            if i >= 2:
                times.append((time.perf_counter() - t0) * 1e3)
            page.wait_for_timeout(100)
        return times
    finally:
        context.close()
        stop_server(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presses", type=int, default=20, help="moves measured per method")
    args = parser.parse_args()
    missing = browser_missing()
    if missing:
        sys.exit(f"bench/temperature.py needs a browser: {missing}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        lesson = slider_clicks(browser, args.presses)
        naive = round_trips(browser, "bench/temperature_baseline_app.py", "", "Temperature",
                            BARS, args.presses)
        browser.close()
    figures = {
        "bench": "temperature",
        "lesson_ms_p50": round(statistics.median(lesson), 1),
        "lesson_ms_p90": round(statistics.quantiles(lesson, n=10)[-1], 1),
        "naive_rerun_ms_p50": round(statistics.median(naive), 1),
        "naive_rerun_ms_p90": round(statistics.quantiles(naive, n=10)[-1], 1),
    }
    figures["speedup"] = round(figures["naive_rerun_ms_p50"] / figures["lesson_ms_p50"], 1)
    figures["goal_met"] = figures["lesson_ms_p50"] <= 100
    print(f"{'temperature slider to bars redrawn':<44}{'p50 ms':>9}{'p90 ms':>9}")
    print(f"{'lesson: Plotly frames, in the browser':<44}{figures['lesson_ms_p50']:>9}"
          f"{figures['lesson_ms_p90']:>9}")
    print(f"{'baseline: Streamlit slider, rerun':<44}{figures['naive_rerun_ms_p50']:>9}"
          f"{figures['naive_rerun_ms_p90']:>9}")
    print(f"speedup {figures['speedup']}x; goal p50 <= 100 ms: "
          f"{'met' if figures['goal_met'] else 'NOT met'} ({args.presses} moves each)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

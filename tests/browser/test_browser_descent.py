"""Gradient descent and Home in a real browser: the replay keeps the landscape, and classroom
mode at a projector's 1280x720 gives the lesson the screen with readable type (issue 14)."""

import pytest

from tests.browser.conftest import screenshot, settle

# What the descent chart holds and what the browser drew of it: Plotly keeps the figure in
# the plot div's data and layout; the drawing is SVG (contour paths, the path's line, the
# annotation's arrow).
CHART_STATE = """() => {
  const gd = document.querySelectorAll('.js-plotly-plot')[0];
  const line = gd.querySelector('.scatterlayer .trace .js-line');
  const a = (gd.layout.annotations || [])[0];
  return {
    types: gd.data.map(t => t.type),
    path: gd.data[1].x.map((x, i) => [x, gd.data[1].y[i]]),
    arrow: a ? {from: [a.ax, a.ay], to: [a.x, a.y]} : null,
    active: gd._fullLayout.sliders[0].active,
    contourPaths: gd.querySelectorAll('g.contour path').length,
    lineDrawn: !!line && (line.getAttribute('d') || '').length > 10,
    arrowsDrawn: [...gd.querySelectorAll('.annotation-arrow-g')]
      .filter(g => (g.querySelector('path')?.getAttribute('d') || '').length > 5).length,
    // an arrow long enough on screen gets its head drawn (at step 10 the step is 3 px)
    arrowHeads: gd.querySelectorAll('.annotation-arrow-g path:nth-child(2)').length,
  };
}"""

# Sample the chart every 20 ms while Play runs: the path's lengths it went through. (A
# sample can fall between a frame's move of the path, which erases the contours, and the
# redraw that follows it; see fmcore.foundations.figures._add_replay.)
WATCH = """() => {
  const gd = document.querySelectorAll('.js-plotly-plot')[0];
  window.gdLog = [];
  const tick = () => {
    window.gdLog.push([gd.data[1].x.length, gd.querySelectorAll('g.contour path').length,
                       gd.querySelectorAll('.annotation-arrow-g').length]);
    if (window.gdLog.length < 400) setTimeout(tick, 20);
  };
  tick();
}"""


def open_descent(tab, server_url, query=""):
    tab.goto(f"{server_url}/gradient_descent{query}")
    settle(tab)
    tab.locator(".js-plotly-plot").first.wait_for()
    return tab.evaluate(CHART_STATE)


def test_play_and_scrub_keep_the_contours_the_path_and_the_arrow(tab, server_url):
    before = open_descent(tab, server_url)
    full = before["path"]
    assert len(full) == 11 and before["types"][0] == "contour"
    assert before["contourPaths"] > 20 and before["lineDrawn"] and before["arrowsDrawn"] == 1
    next_theta = before["arrow"]["to"]

    tab.evaluate(WATCH)
    tab.locator(".js-plotly-plot .updatemenu-button").filter(has_text="Play").click()
    tab.wait_for_function("() => window.gdLog.some(s => s[0] < 11)")  # it started
    tab.wait_for_function(  # ... and ran to the last step
        "() => { const gd = document.querySelectorAll('.js-plotly-plot')[0];"
        " return gd.data[1].x.length === 11 && gd._fullLayout.sliders[0].active === 10; }")
    tab.wait_for_timeout(500)
    log = tab.evaluate("window.gdLog")
    grown = sorted({n for n, _, _ in log})
    assert grown[0] < 5 and grown[-1] == 11 and len(grown) >= 4  # the path grew step by step
    after = tab.evaluate(CHART_STATE)
    assert after["types"] == before["types"]
    assert after["contourPaths"] == before["contourPaths"]  # was 0: the landscape wiped
    assert after["lineDrawn"] and after["arrowsDrawn"] == 1
    assert after["path"] == full and after["arrow"] == {"from": full[-1], "to": next_theta}
    screenshot(tab, "descent_after_play")

    # Scrub: click the step slider's rail about a third of the way along.
    rail = tab.locator(".js-plotly-plot .slider-rail-rect").first.bounding_box()
    tab.mouse.click(rail["x"] + 0.32 * rail["width"], rail["y"] + rail["height"] / 2)
    tab.wait_for_function(
        "() => document.querySelectorAll('.js-plotly-plot')[0].data[1].x.length < 11")
    tab.wait_for_timeout(300)
    scrubbed = tab.evaluate(CHART_STATE)
    k = scrubbed["active"]
    assert 1 <= k <= 6
    assert scrubbed["path"] == full[: k + 1]  # the path up to step k
    assert scrubbed["arrow"] == {"from": full[k], "to": full[k + 1]}  # and its next step
    assert scrubbed["contourPaths"] == before["contourPaths"]
    assert scrubbed["lineDrawn"] and scrubbed["arrowsDrawn"] == 1
    assert scrubbed["arrowHeads"] == 1  # early steps are long: the whole arrow shows
    screenshot(tab, "descent_after_scrub")


@pytest.fixture
def projector(chromium, server_url):
    """A tab the size of a classroom projector (1280x720), in a fresh browser context."""
    context = chromium.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


SIDEBAR = """() => { const s = document.querySelector('[data-testid="stSidebar"]');
  const m = document.querySelector('[data-testid="stMain"]').getBoundingClientRect();
  return {collapsed: s.getAttribute('data-collapsed'),
          right: s.getBoundingClientRect().right, mainLeft: m.left, mainWidth: m.width}; }"""


def test_classroom_mode_collapses_the_sidebar_and_the_teacher_can_open_it(projector,
                                                                           server_url):
    tab = projector
    tab.goto(f"{server_url}/?classroom=true")
    settle(tab)
    side = tab.evaluate(SIDEBAR)
    assert side["collapsed"] == "true" and side["right"] <= 0  # no strip of it left
    assert side["mainLeft"] == 0 and side["mainWidth"] == 1280
    tab.get_by_test_id("stExpandSidebarButton").click()
    tab.get_by_test_id("stSidebar").get_by_text("Classroom mode").wait_for()
    assert tab.evaluate(SIDEBAR)["collapsed"] == "false"
    # Turning classroom mode off from the sidebar keeps it open; on again collapses it.
    tab.get_by_test_id("stSidebar").get_by_text("Classroom mode").click()
    settle(tab)
    assert tab.evaluate(SIDEBAR)["collapsed"] == "false"


def test_normal_mode_keeps_the_sidebar_and_turning_classroom_on_collapses_it(projector,
                                                                             server_url):
    tab = projector
    tab.goto(server_url)
    settle(tab)
    assert tab.evaluate(SIDEBAR)["collapsed"] == "false"
    tab.get_by_test_id("stSidebar").get_by_text("Classroom mode").click()
    settle(tab)
    tab.wait_for_function("() => document.querySelector('[data-testid=\"stSidebar\"]')"
                          ".getAttribute('data-collapsed') === 'true'")
    assert tab.evaluate(SIDEBAR)["mainWidth"] == 1280


def test_home_in_classroom_mode_draws_the_paradigm_in_readable_type(projector, server_url):
    tab = projector
    tab.goto(f"{server_url}/?classroom=true")
    settle(tab)
    svg = tab.locator("[data-testid='stGraphVizChart'] svg")
    svg.wait_for()
    # The height of each label as drawn on the screen (it was about 8 px).
    heights = svg.evaluate("s => [...s.querySelectorAll('text')].map(t => "
                           "parseFloat(getComputedStyle(t).fontSize) * "
                           "s.getBoundingClientRect().width / s.viewBox.baseVal.width)")
    assert len(heights) > 10 and min(heights) >= 16
    screenshot(tab, "classroom_1280x720_home")


def test_descent_in_classroom_mode_opens_with_its_question_and_try_this(projector,
                                                                        server_url):
    tab = projector
    open_descent(tab, server_url, "?classroom=true")
    question = tab.get_by_text("How does a model learn?")
    try_this = tab.get_by_text("Try this: press")
    for element in (question, try_this):
        box = element.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 720  # on the first screen
    screenshot(tab, "classroom_1280x720_gradient_descent")


def test_descent_loss_axes_ticks_do_not_overlap_in_classroom_mode(projector, server_url):
    tab = projector
    open_descent(tab, server_url, "?classroom=true")
    charts = tab.locator(".js-plotly-plot")
    for i in (1, 3):  # "Loss along the path" and the orders' comparison
        chart = charts.nth(i)
        chart.scroll_into_view_if_needed()
        boxes = chart.evaluate("d => [...d.querySelectorAll('.ytick text')].map(t => {"
                               " const r = t.getBoundingClientRect(); return [r.top, r.bottom]; })")
        boxes.sort()
        assert len(boxes) >= 2
        assert all(a[1] <= b[0] for a, b in zip(boxes, boxes[1:], strict=False)), boxes

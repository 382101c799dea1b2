"""Gradient descent and Home in a real browser: the replay keeps the landscape, and classroom
mode at a projector's 1280x720 gives the lesson the screen with readable type (issue 14)."""


from tests.browser.conftest import screenshot, settle

# What the descent chart holds and what the browser drew of it: Plotly keeps the figure in
# the plot div's data and layout; the drawing is SVG (contour paths, the path's line, the
# arrow: trace 4, a line with an arrow-head marker) over the landscape's picture.
CHART_STATE = """() => {
  const gd = document.querySelectorAll('.js-plotly-plot')[0];
  const line = gd.querySelector('.scatterlayer .trace .js-line');
  const arrow = gd.querySelector('.scatterlayer .trace' + gd._fullData[4].uid);
  const a = gd.data[4];
  return {
    types: gd.data.map(t => t.type),
    path: gd.data[1].x.map((x, i) => [x, gd.data[1].y[i]]),
    arrow: a.x[0] === null ? null : {from: [a.x[0], a.y[0]], to: [a.x[1], a.y[1]]},
    active: gd._fullLayout.sliders[0].active,
    contourPaths: gd.querySelectorAll('g.contour path').length,
    lineDrawn: !!line && (line.getAttribute('d') || '').length > 10,
    arrowsDrawn: arrow && (arrow.querySelector('.js-line')?.getAttribute('d') || '').length > 5
      ? 1 : 0,
    // the arrow head: the second of the arrow's two markers, drawn at any length of step
    arrowHeads: arrow ? [...arrow.querySelectorAll('.points path')]
      .filter((p, i) => i === 1 && (p.getAttribute('d') || '').length > 10).length : 0,
    picture: [...gd.querySelectorAll('.imagelayer image')]
      .filter(i => (i.getAttribute('href') || '').startsWith('data:image/png')).length,
  };
}"""

# Sample the chart at every animation frame while Play runs, as the browser is about to
# paint it: the sampler starts once Plotly's animation loop has asked for its next frame,
# so that within each frame it runs after Plotly's step. Each sample: the path's length,
# the contour's drawn paths, whether the landscape's picture is there, the arrows drawn.
WATCH = """() => {
  const gd = document.querySelectorAll('.js-plotly-plot')[0];
  window.gdLog = [];
  const picture = () => [...gd.querySelectorAll('.imagelayer image')]
    .filter(i => (i.getAttribute('href') || '').startsWith('data:image/png')).length;
  const tick = () => {
    const arrow = gd.querySelector('.scatterlayer .trace' + gd._fullData[4].uid + ' .js-line');
    window.gdLog.push([gd.data[1].x.length, gd.querySelectorAll('g.contour path').length,
                       picture(), arrow ? 1 : 0]);
    if (window.gdLog.length < 600) requestAnimationFrame(tick);
  };
  gd.once('plotly_animating', () => queueMicrotask(() => requestAnimationFrame(tick)));
}"""
PLAYING = ("() => { const gd = document.querySelectorAll('.js-plotly-plot')[0];"
           " return gd.data[1].x.length > 1 && gd.data[1].x.length < 11; }")
DONE = ("() => { const gd = document.querySelectorAll('.js-plotly-plot')[0];"
        " return gd.data[1].x.length === 11 && gd._fullLayout.sliders[0].active === 10; }")


def open_descent(tab, server_url, query=""):
    tab.goto(f"{server_url}/gradient_descent{query}")
    settle(tab)
    tab.locator(".js-plotly-plot").first.wait_for()
    return tab.evaluate(CHART_STATE)


def play_and_watch(tab):
    """Press Play, sample every animation frame until it has run to the last step."""
    tab.evaluate(WATCH)
    tab.locator(".js-plotly-plot .updatemenu-button").filter(has_text="Play").click()
    tab.wait_for_function(DONE)
    tab.wait_for_timeout(500)
    return tab.evaluate("window.gdLog")


def test_play_and_scrub_keep_the_contours_the_path_and_the_arrow(tab, server_url):
    before = open_descent(tab, server_url)
    full = before["path"]
    assert len(full) == 11 and before["types"][0] == "contour"
    assert before["contourPaths"] > 20 and before["lineDrawn"] and before["arrowsDrawn"] == 1
    assert before["picture"] == 1
    next_theta = before["arrow"]["to"]

    log = play_and_watch(tab)
    grown = sorted({n for n, _, _, _ in log})
    assert grown[0] < 5 and grown[-1] == 11 and len(grown) >= 4  # the path grew step by step
    # No flash: at every frame the browser painted, the landscape was drawn, as contour
    # paths or as the picture under them (Plotly.js erases the contour's drawing during a
    # replay; before the picture, 12 of 123 frames painted no landscape at all).
    assert len(log) > 30
    assert [s for s in log if s[1] == 0 and s[2] == 0] == []
    assert all(s[3] == 1 for s in log)  # and the arrow at every frame
    after = tab.evaluate(CHART_STATE)
    assert after["types"] == before["types"]
    assert after["contourPaths"] == before["contourPaths"]  # was 0: the landscape wiped
    assert after["lineDrawn"] and after["arrowsDrawn"] == 1 and after["picture"] == 1
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
    assert scrubbed["arrowHeads"] == 1
    screenshot(tab, "descent_after_scrub")


PLOT_AREA = """() => { const r = document.querySelectorAll('.js-plotly-plot')[0]
  .querySelector('.nsewdrag').getBoundingClientRect();
  return {x: r.x, y: r.y, width: r.width, height: r.height}; }"""


def test_the_picture_under_the_contours_looks_like_the_contours(tab, server_url):
    # What a student sees when Plotly.js erases the contour's drawing is the picture: it
    # must look the same, or the swap itself would flicker.
    import io

    import numpy as np
    from PIL import Image

    open_descent(tab, server_url)
    tab.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    tab.add_style_tag(content=".js-plotly-plot .scatterlayer { visibility: hidden; }")
    area = tab.evaluate(PLOT_AREA)
    shot = lambda: np.asarray(  # noqa: E731
        Image.open(io.BytesIO(tab.screenshot(clip=area))).convert("RGB")).astype(int)
    contours = shot()
    tab.add_style_tag(content=".js-plotly-plot .contourlayer { visibility: hidden; }")
    picture = shot()
    diff = np.abs(contours - picture).max(axis=2)
    assert contours.std() > 20  # there is a landscape to compare
    assert diff.mean() < 1.0 and (diff > 24).mean() < 0.002, (diff.mean(), (diff > 24).mean())


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


def test_descent_replay_in_classroom_mode_at_a_projectors_size(projector, server_url):
    tab = projector
    open_descent(tab, server_url, "?classroom=true")
    tab.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    tab.evaluate(WATCH)
    tab.locator(".js-plotly-plot .updatemenu-button").filter(has_text="Play").click()
    tab.wait_for_function(PLAYING)
    tab.wait_for_timeout(500)
    screenshot(tab, "classroom_1280x720_descent_mid_play")
    tab.wait_for_function(DONE)
    tab.wait_for_timeout(500)
    log = tab.evaluate("window.gdLog")
    assert len(log) > 30 and [s for s in log if s[1] == 0 and s[2] == 0] == []
    assert tab.evaluate(CHART_STATE)["contourPaths"] > 20
    screenshot(tab, "classroom_1280x720_descent_after_play")


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

"""The gradient-descent lesson through AppTest: controls change the figures' numbers."""

import pytest

from fmcore.foundations.descent import learning_rate_choices
from tests.app.helpers import figure, no_nan
from ui.charts import table_key

PAGE = "lessons/foundations/gradient_descent.py"


@pytest.fixture
def gd(app):
    app.switch_page(PAGE).run()
    assert not app.exception
    return app


def path_of(at):
    trace = figure(at, "Gradient descent on the loss")["data"][1]
    return list(zip(trace["x"], trace["y"], strict=True))


def test_opens_with_a_visible_path_and_the_update_in_numbers(gd):
    assert len(path_of(gd)) == 11  # theta_0 .. theta_10
    latex = [e.value for e in gd.latex]
    assert any(r"\theta_{t+1} = \theta_t - \alpha" in x for x in latex)
    assert any("bmatrix" in x for x in latex)
    assert gd.subheader[0].value == "Step 10: the update"


def test_step_buttons_add_steps_and_reset_returns_to_the_start(gd):
    gd.button(key="btn_gd_step").click().run()
    assert len(path_of(gd)) == 12
    gd.number_input(key="gd_n").set_value(25).run()
    gd.button(key="btn_gd_n").click().run()
    assert len(path_of(gd)) == 37
    assert gd.subheader[0].value == "Step 36: the update"
    gd.button(key="btn_gd_reset").click().run()
    assert len(path_of(gd)) == 1


def test_learning_rate_changes_the_path(gd):
    before = path_of(gd)
    alphas = learning_rate_choices()
    gd.select_slider(key="gd_alpha").set_value(alphas[alphas.index(0.0316) - 3]).run()
    after = path_of(gd)
    assert before[0] == after[0] and before[-1] != after[-1]
    # A smaller alpha travels a shorter way in the same number of steps.
    dist = lambda p: sum((a - b) ** 2 for a, b in zip(p[0], p[-1], strict=True))  # noqa: E731
    assert dist(after) < dist(before)


def test_start_point_moves_theta_zero(gd):
    gd.slider(key="gd_theta1").set_value(1.0).run()
    gd.slider(key="gd_theta2").set_value(-2.0).run()
    assert path_of(gd)[0] == pytest.approx((1.0, -2.0))


def test_too_large_alpha_diverges_with_a_message_and_no_nan(gd):
    gd.selectbox(key="gd_dataset").set_value("house_prices").run()
    gd.select_slider(key="gd_alpha").set_value(0.562).run()
    assert any("Diverged" in e.value for e in gd.error)
    fig = figure(gd, "Gradient descent on the loss")
    assert no_nan(fig["data"][1]) and no_nan(fig["data"][2])
    assert all("nan" not in e.value.lower() for e in gd.latex)


def test_divergence_message_says_alpha_as_the_symbol_and_one_step_in_the_singular(gd):
    gd.selectbox(key="gd_dataset").set_value("house_prices").run()
    gd.select_slider(key="gd_alpha").set_value(1.0).run()
    (message,) = [e.value for e in gd.error if "Diverged" in e.value]
    assert message.startswith("Diverged: with α = 1 the loss grew from")
    assert "in 1 step," in message and "Try α below 2/λ_max" in message
    assert "alpha" not in message


def test_order_comparison_says_which_runs_diverged_instead_of_a_final_loss(gd):
    # The browser review's case: House prices, α = 1, 10 epochs. Full-batch GD and in-order
    # SGD blow up at their first update, shuffled SGD at its second.
    gd.selectbox(key="gd_dataset").set_value("house_prices").run()
    gd.select_slider(key="gd_alpha").set_value(1.0).run()
    caption = next(c.value for c in gd.caption if "full-batch GD:" in c.value)
    assert "SGD, in order: diverged, stopped at step 0" in caption
    assert "full-batch GD: diverged, stopped at step 0" in caption
    assert "SGD, shuffled: diverged, stopped at step 1 (epoch 0.125)" in caption
    assert "final l" not in caption and "try a smaller α" in caption
    fig = figure(gd, "Same α")
    crosses = fig["data"][3]
    assert crosses["text"] == ["diverged"] * 3 and crosses["marker"]["symbol"] == "x"
    assert set(crosses["customdata"]) == {"SGD, shuffled", "SGD, in order", "full-batch GD"}
    low, high = fig["layout"]["xaxis"]["range"]
    assert low <= 0 and high >= 10  # the 10 epochs asked for, though every run stopped early
    # Runs that finish still report their final loss.
    gd.selectbox(key="gd_dataset").set_value("cats_dogs").run()
    caption = next(c.value for c in gd.caption if "full-batch GD:" in c.value)
    assert caption.count("final l = ") == 3 and "diverged" not in caption
    assert len(figure(gd, "Same α")["data"]) == 3


def test_shuffling_note_cites_the_remark_of_the_lecture_notes_it_means(gd):
    note = next(m.value for m in gd.markdown if "correlated order" in m.value)
    assert "end of chapter 13 (on ICA, just before chapter 14)" in note
    assert "ICA section" not in note


def test_log_axes_label_every_tick_with_its_full_value(gd):
    # Not "9, 8, ... 2" between 100 and 10: the browser writes 90, 80, ... 20.
    assert figure(gd, "Loss along the path")["layout"]["yaxis"]["minorloglabels"] == "complete"
    assert figure(gd, "Same α")["layout"]["yaxis"]["minorloglabels"] == "complete"


def test_changing_dataset_resets_alpha_and_start_to_its_defaults(gd):
    gd.selectbox(key="gd_dataset").set_value("house_prices_raw").run()
    assert gd.select_slider(key="gd_alpha").value == pytest.approx(0.00422)
    assert path_of(gd)[0] == pytest.approx((-0.5, 6.0))  # prices and views moved up by 3
    assert figure(gd, "The examples and the current prediction")


def test_sgd_mode_and_order_toggle(gd):
    full = path_of(gd)
    gd.toggle(key="gd_sgd").set_value(True).run()
    shuffled = path_of(gd)
    gd.toggle(key="gd_shuffle").set_value(False).run()
    ordered = path_of(gd)
    assert full != shuffled != ordered
    assert any(r"\sum_{k\in B}" in e.value for e in gd.latex)


def test_order_comparison_shows_all_three_curves(gd):
    fig = figure(gd, "Same α")
    assert {t["name"] for t in fig["data"]} == {"SGD, shuffled", "SGD, in order",
                                                 "full-batch GD"}
    gd.slider(key="gd_cmp_epochs").set_value(3).run()
    assert figure(gd, "Same α")["data"][2]["x"] == [0, 1, 2, 3]


def test_seed_changes_the_data(gd):
    before = figure(gd, "The examples")["data"][0]["x"]
    gd.number_input(key="seed").set_value(7).run()
    assert figure(gd, "The examples")["data"][0]["x"] != before


def test_classroom_mode_hides_detail_and_enlarges_type(gd):
    assert gd.main.expander
    small = figure(gd, "Loss along the path")["layout"]["font"]["size"]
    gd.toggle(key="classroom").set_value(True).run()
    assert not gd.main.expander
    assert figure(gd, "Loss along the path")["layout"]["font"]["size"] > small


def test_absurd_session_values_are_refused_in_the_core_not_by_a_traceback(gd):
    gd.session_state["gd_steps"] = 10**9
    gd.run()
    assert not gd.exception
    assert any("number of steps" in e.value for e in gd.error)


def test_a_chart_table_view_is_built_only_when_opened(gd):
    # Closed (the default), the table view costs a slider move nothing: no table is sent.
    assert not [d for d in gd.dataframe if "value" in d.value.columns]
    gd.session_state[table_key("gd_landscape")] = True  # what opening the expander sets
    gd.run()
    table = next(d.value for d in gd.dataframe if "value" in d.value.columns)
    assert {"series", "row", "column", "value", "x", "y"} <= set(table.columns)
    assert table["value"].notna().sum() > 1000  # the contour's grid of l(θ), then the path
    assert [b for b in gd.get("download_button") if b.label == "Download CSV"]


def test_replay_frames_keep_the_landscape_and_draw_the_path_and_arrow_to_each_step(gd):
    # Issue 14: Play wiped the contours, the path's line and the arrow; then, redrawn at
    # every frame, the contours flashed off at every step. Each frame names only the scatter
    # traces (the path, the current θ and the arrow θ_k -> θ_{k+1}, trace 4) and carries no
    # layout, so the contour's grid is sent once; Play moves them without a redraw and
    # redraws at its last frame; a slider step redraws. The landscape is also a picture
    # under the plot, which shows while Plotly.js has the contour's drawing erased.
    fig = figure(gd, "Gradient descent on the loss")
    path = path_of(gd)
    arrow = fig["data"][4]
    assert list(zip(arrow["x"], arrow["y"], strict=True))[0] == path[-1]
    final_next = (arrow["x"][1], arrow["y"][1])
    assert [f["name"] for f in fig["frames"]] == [str(k) for k in range(11)]
    for k, frame in enumerate(fig["frames"]):
        assert frame["traces"] == [1, 2, 4] and "layout" not in frame
        grown, current, shown = frame["data"]
        assert list(zip(grown["x"], grown["y"], strict=True)) == path[: k + 1]
        assert (current["x"][0], current["y"][0]) == path[k]
        assert (shown["x"][0], shown["y"][0]) == path[k]
        assert (shown["x"][1], shown["y"][1]) == (path[k + 1] if k < 10 else final_next)
    play = fig["layout"]["updatemenus"][0]["buttons"][0]
    assert play["label"] == "▶ Play"
    assert [f["redraw"] for f in play["args"][1]["frame"]] == [False] * 10 + [True]
    steps = fig["layout"]["sliders"][0]["steps"]
    assert all(s["args"][1]["frame"]["redraw"] is True for s in steps)
    assert fig["data"][0]["type"] == "contour"
    (picture,) = fig["layout"]["images"]
    assert picture["source"].startswith("data:image/png;base64,") and picture["layer"] == "below"


def test_the_step_size_limit_is_explained_as_lambda_max_of_the_hessian(gd):
    text = next(m.value for m in gd.markdown if "Step-size limit" in m.value)
    assert r"$2/\lambda_{\max}$ = 0.0754" in text and "Hessian" in text
    assert r"(1-\alpha\lambda_{\max})" in text
    assert not [m.value for m in [*gd.markdown, *gd.caption, *gd.info] if "2/L" in m.value]
    gd.selectbox(key="gd_dataset").set_value("house_prices").run()
    text = next(m.value for m in gd.markdown if "Step-size limit" in m.value)
    assert "GD diverges" in text and r"2\sum_k x_k x_k^\top" in text


def test_house_prices_axis_says_price_and_its_unit(gd):
    gd.selectbox(key="gd_dataset").set_value("house_prices").run()
    fig = figure(gd, "The examples and the current prediction")
    assert fig["layout"]["yaxis"]["title"]["text"] == "price (100 k€)"
    assert min(fig["data"][0]["y"]) > 0


def test_loss_axes_label_only_spaced_1_2_5_ticks(gd):
    # Issue 14: over less than a decade Plotly labelled every 10 (100, 90, 80, ...), and the
    # labels piled up, overlapping in classroom type.
    for title in ("Loss along the path", "Same α"):
        axis = figure(gd, title)["layout"]["yaxis"]
        assert axis["tickvals"] == [20, 50, 100] and axis["ticktext"] == ["20", "50", "100"]
    gd.toggle(key="classroom").set_value(True).run()
    assert figure(gd, "Loss along the path")["layout"]["height"] == 460
    gd.button(key="btn_gd_reset").click().run()  # one point: Plotly places a few ticks
    axis = figure(gd, "Loss along the path")["layout"]["yaxis"]
    assert "tickvals" not in axis and axis["nticks"] == 4

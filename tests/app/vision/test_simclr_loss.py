"""The augmentations-and-SimCLR-loss lesson through AppTest."""

import io
import math

import pytest
from PIL import Image

from tests.app.helpers import figures, no_nan

PAGE = "lessons/vision/simclr_loss.py"


@pytest.fixture
def cl(app):
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def heatmaps(at):
    """{title: heatmap trace} of the similarity charts on the page."""
    return {t: f["data"][0] for t, f in figures(at).items() if "encoder" in t}


def png(colour=(200, 30, 30), size=(40, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def test_opens_with_views_and_both_encoders_side_by_side(cl):
    assert not cl.error, [e.value for e in cl.error]
    maps = heatmaps(cl)
    assert {t.split(":")[0] for t in maps} == {"Pretrained encoder", "Random encoder"}
    for trace in maps.values():
        assert len(trace["z"]) == 6 and len(trace["z"][0]) == 6 and no_nan(trace["z"])
    assert any("\\sum_{j\\neq i}" in e.value for e in cl.latex)
    cl.toggle(key="classroom").set_value(True).run()  # narrower: p and q on lines of their own
    (formula,) = [e.value for e in cl.latex if "L_{\\text{pre}}" in e.value]
    assert "aligned" in formula and "q_i&=" in formula


def title_loss(title):
    """The loss a chart's title states: "... τ = 0.2, L<sub>pre</sub> = 1.734" -> 1.734."""
    return float(title.rsplit("=", 1)[1])


def test_pretrained_encoder_scores_positives_above_negatives_and_beats_random(cl):
    maps = heatmaps(cl)
    pre = next(v for t, v in maps.items() if t.startswith("Pretrained"))["z"]
    diagonal = sum(pre[i][i] for i in range(6)) / 6
    off = sum(pre[i][j] for i in range(6) for j in range(6) if i != j) / 30
    assert diagonal > off + 0.5
    losses = {t.split(":")[0]: title_loss(t) for t in maps}  # the loss lives in the titles
    assert losses["Pretrained encoder"] < losses["Random encoder"]


def test_the_loss_is_one_number_in_the_title_and_follows_tau(cl):
    # Issue 14: a metric below the chart said "loss at τ = 0.2" while the title followed
    # the slider. Now the loss is stated once, in the title, which every frame rewrites.
    assert not cl.metric
    for title, fig in figures(cl).items():
        assert "τ = 0.2, L<sub>pre</sub> = " in title
        frames = {f["name"]: f["layout"]["title"]["text"] for f in fig["frames"]}
        assert frames["0.2"] == title  # the frame the slider opens on is the title shown
        assert "τ = 1.5, L<sub>pre</sub> = " in frames["1.5"]
        assert len({title_loss(t) for t in frames.values()}) > 1  # the number follows τ


def test_the_row_term_bars_share_one_axis(cl):
    figs = figures(cl)
    ranges = {tuple(f["layout"]["xaxis2"]["range"]) for f in figs.values()}
    assert len(ranges) == 1  # one scale for the pretrained and the random bars
    (top,) = ranges
    longest = max(x for f in figs.values() for fr in f["frames"] for x in fr["data"][1]["x"])
    assert longest <= top[1] <= 1.06 * longest


def test_the_random_encoder_is_a_fresh_network_whose_similarities_vary(cl):
    # Issue 14: every cell of the random encoder read 4.9-5.0 (BatchNorm in eval mode with
    # its initial statistics centred nothing). A freshly initialised network's cos/τ vary,
    # with no diagonal standing out, and its loss stays near B log B.
    random = next(f for t, f in figures(cl).items() if t.startswith("Random"))
    z = random["data"][0]["z"]  # (6, 6) cos/τ at τ = 0.2, so within [-5, 5]
    cells = [v for row in z for v in row]
    assert max(cells) - min(cells) > 2.0  # was 0.1
    diagonal = sum(z[i][i] for i in range(6)) / 6
    off = sum(z[i][j] for i in range(6) for j in range(6) if i != j) / 30
    assert abs(diagonal - off) < 0.5
    chance = 6 * math.log(6)
    assert chance <= title_loss(random["layout"]["title"]["text"]) < 1.5 * chance
    assert any("B·log B = 10.75" in c.value for c in cl.caption)
    assert random["layout"]["shapes"][-1]["x0"] == pytest.approx(math.log(6))  # chance line


def test_the_temperature_slider_lives_in_the_figure(cl):
    fig = next(f for t, f in figures(cl).items() if t.startswith("Pretrained"))
    assert len(fig["frames"]) == len(fig["layout"]["sliders"][0]["steps"]) == 13
    small_tau, large_tau = fig["frames"][0]["data"][0]["z"], fig["frames"][-1]["data"][0]["z"]
    assert abs(small_tau[0][0]) > abs(large_tau[0][0])  # cos/tau: sharper at small tau


def test_batch_size_and_new_views_change_the_matrix(cl):
    cl.slider(key="cl_b").set_value(9).run()
    trace = next(iter(heatmaps(cl).values()))
    assert len(trace["z"]) == 9
    before = trace["z"]
    cl.button(key="btn_cl_new").click().run()
    assert next(iter(heatmaps(cl).values()))["z"] != before


def test_nt_xent_switch(cl):
    cl.radio(key="cl_method").set_value("nt_xent").run()
    assert not cl.exception and any("2B" in e.value for e in cl.latex)
    maps = heatmaps(cl)
    assert maps and all("NT-Xent = " in t for t in maps)
    assert any("log(2B−1) = 2.40" in c.value for c in cl.caption)


def test_formulas_write_phi_theta_of_the_views_never_z(cl):
    # Issue 14: z is the pseudolabel of the pretext lesson; both losses use the notes' φθ
    for method in ("notes", "nt_xent"):
        cl.radio(key="cl_method").set_value(method).run()
        (formula,) = cl.latex
        assert r"\phi_\theta" in formula.value and "z_" not in formula.value


def test_same_class_negatives_are_pointed_out(cl):
    cl.slider(key="cl_b").set_value(16).run()  # 16 images of 10 classes: a repeat is certain
    assert any("footnote 2" in w.value for w in cl.warning)


def test_a_batch_larger_than_the_photos_uses_them_all_and_says_so(cl):
    cl.radio(key="cl_source").set_value("photos").run()
    assert not cl.error and heatmaps(cl)
    cl.slider(key="cl_b").set_value(12).run()
    assert any("There are 7 images here, so B = 7" in w.value for w in cl.warning)
    assert not cl.exception and not cl.error
    assert all(len(h["z"]) == 7 for h in heatmaps(cl).values())  # the lesson stays, B = 7


def test_uploads_bad_files_get_a_message_and_good_ones_are_used(cl):
    cl.radio(key="cl_source").set_value("uploads").run()
    assert any("at least two images" in e.value for e in cl.error)
    cl.slider(key="cl_b").set_value(2).run()
    uploader = cl.get("file_uploader")[0]
    uploader.set_value([("red.png", png(), "image/png"),
                        ("notes.png", b"this is text, not a picture", "image/png"),
                        ("blue.png", png((20, 40, 220)), "image/png")]).run()
    assert not cl.exception
    messages = [e.value for e in cl.error]
    assert any("notes.png" in m for m in messages)
    maps = heatmaps(cl)
    assert maps and all(len(t["z"]) == 2 for t in maps.values())


def test_strengths_follow_the_preset(cl):
    cl.selectbox(key="cl_preset").set_value("None").run()
    assert cl.slider(key="cl_crop").value == 0.0 and cl.slider(key="cl_blur").value == 0.0
    assert not cl.exception


def _encoded(image, fmt, **kwargs):
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def test_odd_but_valid_uploads_are_converted_and_used(cl):
    frames = [Image.new("RGB", (20, 20), c) for c in ((255, 0, 0), (0, 255, 0))]
    odd = [
        ("tiny.png", _encoded(Image.new("RGB", (1, 1), (9, 9, 9)), "PNG")),
        ("grey16.png", _encoded(Image.new("I;16", (30, 20), 30000), "PNG")),
        ("cmyk.jpg", _encoded(Image.new("CMYK", (30, 20), (0, 200, 200, 0)), "JPEG")),
        ("alpha.png", _encoded(Image.new("RGBA", (30, 20), (0, 0, 255, 90)), "PNG")),
        ("moving.gif", _encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])),
    ]
    cl.radio(key="cl_source").set_value("uploads").run()
    cl.slider(key="cl_b").set_value(5).run()
    cl.get("file_uploader")[0].set_value([(n, d, "image/png") for n, d in odd]).run()
    assert not cl.exception and not cl.error, [e.value for e in cl.error]
    assert all(len(t["z"]) == 5 for t in heatmaps(cl).values())

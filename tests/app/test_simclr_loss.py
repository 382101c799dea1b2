"""The augmentations-and-SimCLR-loss lesson through AppTest."""

import io

import pytest
from PIL import Image

from tests.app.helpers import figures, no_nan

PAGE = "lessons/simclr_loss.py"


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


def test_pretrained_encoder_scores_positives_above_negatives_and_beats_random(cl):
    maps = heatmaps(cl)
    pre = next(v for t, v in maps.items() if t.startswith("Pretrained"))["z"]
    diagonal = sum(pre[i][i] for i in range(6)) / 6
    off = sum(pre[i][j] for i in range(6) for j in range(6) if i != j) / 30
    assert diagonal > off + 0.5
    metrics = {m.label.split(",")[0]: float(m.value) for m in cl.metric}
    assert metrics["Pretrained encoder"] < metrics["Random encoder"]


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
    assert heatmaps(cl)


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

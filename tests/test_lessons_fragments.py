"""The lesson demos answer without rerunning the page (issue 24): a demo's own controls rerun its
fragment only, and what a demo computes on a network and a photo is computed once for everyone
(app.lessons.common.DEMOS, the spiral's error curve in the library). The numbers stay the
library's. No timings here: benchmarks/bench_browser.py measures them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest
from test_browser import browser, idle, metric, record_frames, server, wait  # noqa: F401 - the browser fixtures

import mobilenet_core as mc
from app import figures
from app.figures import FigureCache
from app.lessons import PAGE_FILES
from app.lessons.common import DEMOS
from drawn import drawn_charts
from mobilenet_core import lessons as L
from mobilenet_core import predict
from mobilenet_core.lessons import bottleneck

MAIN = str(Path(__file__).resolve().parent.parent / "app" / "main.py")


def page(path: str, model: str, lang: str = "en") -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=180)
    at.query_params["model"], at.query_params["lang"] = model, lang
    at.run()
    at.switch_page(PAGE_FILES[path]).run()
    assert not at.exception and not at.error
    return at


def counting(monkeypatch, owner, name: str) -> list:
    calls = []
    original = getattr(owner, name)

    def counted(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


def shown(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_next_step_does_not_run_the_network_again_and_a_second_student_reuses_the_demo(monkeypatch):
    DEMOS.clear()
    calls = counting(monkeypatch, L, "separable_demo")
    at = page("lesson-separable", "v2")
    assert len(calls) == 1
    first = shown(at, "MACs, depthwise")
    at.button(key="sep_next").click().run()
    assert not at.exception
    # the step advanced (one more output position: twice the depthwise MACs) on the same demo
    assert int(shown(at, "MACs, depthwise").replace(",", "")) == 2 * int(first.replace(",", ""))
    assert len(calls) == 1  # the old page ran the block on the photo again for every step
    page("lesson-separable", "v2", lang="zh")  # another session, the same photo and block
    assert len(calls) == 1


def test_a_step_draws_the_figure_built_whole_for_that_step_without_building_one(monkeypatch):
    """ "Next step" puts the step's window, outputs and cell into a copy of step 0's shared figure
    instead of building the Plotly figure again: the JSON sent is the whole build's, to the byte,
    at any step and channel; and neither steps nor a second student build a figure."""
    import plotly.io as pio
    import torch

    from app.common import style_figure
    from app.lessons import separable
    from app.lessons.common import CHART_LAYOUT

    report = mc.count("v2")
    block = L.separable_pairs(report)[1][0]
    demo = L.separable_demo(mc.build("v2").eval(), torch.rand(1, 3, 224, 224), report, block)
    monkeypatch.setattr(separable, "WINDOWS", FigureCache(8))
    last = demo.positions - 1
    # step 0 again last: the later steps left the shared figure they were made from as it was
    for channel, out_channel, step in ((0, 0, 0), (0, 0, 1), (3, 5, 17), (0, 0, last), (0, 0, 0)):
        whole = separable._window_figure(demo, channel, out_channel, step)
        style_figure(whole, separable.WINDOW_HEIGHT, **CHART_LAYOUT)
        fast = separable.window_figure(demo, ("test",), channel, out_channel, step)
        assert pio.to_json(fast.to_dict(), validate=False) == pio.to_json(whole.to_dict(), validate=False)
    # in the app: steps after the first draw and a second student build none
    monkeypatch.setattr(separable, "WINDOWS", FigureCache(8))
    at = page("lesson-separable", "v2")
    builds = counting(monkeypatch, separable, "_window_figure")
    for _ in range(3):
        at.button(key="sep_next").click().run()
        assert not at.exception
    assert builds == []
    spec = json.loads(drawn_charts(at)[0].spec)
    assert spec["data"][4]["x"] == [3]  # the marked cell moved three steps
    page("lesson-separable", "v2")
    assert builds == []


def test_moving_the_spirals_n_recomputes_its_panel_only_and_once_for_the_class(monkeypatch):
    monkeypatch.setattr(figures, "FIGURES", FigureCache(16))  # no figure from an earlier test
    at = page("lesson-bottleneck", "v2")
    paper = drawn_charts(at)[0].spec
    embeddings = counting(monkeypatch, bottleneck, "spiral_relu")
    shown = counting(monkeypatch, L, "spiral_relu")
    at.select_slider(key="spiral_n").set_value(8).run()
    assert not at.exception
    # the chosen n's panel and its formula: 2 embeddings; the paper's panels (n = 2, 3, 5, 15, 30)
    # are not built again, and the error curve (29 values of n x 8 seeds = 232 embeddings,
    # independent of n) is computed once
    assert [n for n, _ in shown] == [8, 8] and len(embeddings) == 0
    expected = L.spiral_relu(8, 0, readout="linear").error
    assert any(f"{expected:.3f}" in x.value for x in at.latex)
    charts = [c.spec for c in drawn_charts(at)][:3]
    # the paper's figure is the same message as before the move: the browser does not draw it again
    assert charts[0] == paper
    assert "n = 8" in json.loads(charts[1])["layout"]["title"]["text"]
    # a second student moves to the same n: the panels and the curve are the first one's figures
    shown.clear()
    other = page("lesson-bottleneck", "v2")
    other.select_slider(key="spiral_n").set_value(8).run()
    assert [n for n, _ in shown] == [5, 8]  # the formula's, on opening and after the move: no panel
    assert [c.spec for c in drawn_charts(other)][:3] == charts
    # the panels' text alternatives (their "Data" tables): each n and its error, not the points
    tables = [h.proto.body for h in other.get("html") if "figure-data" in h.proto.body]
    assert len(tables) >= 3  # the paper's panels, the chosen n's, the error curve's (then the page's)
    for table, ns in zip(tables[:2], [(2, 3, 5, 15, 30), (8,)], strict=True):
        cells = re.findall(r"<td>([^<]*)</td>", table)
        assert cells[0::2] == [str(k) for k in ns]
        errors = [L.spiral_relu(k, 0, readout="linear").error for k in ns]
        assert [float(c) for c in cells[1::2]] == pytest.approx(errors, rel=1e-5)


def test_each_spiral_panel_shows_its_error_inside_the_figure():
    """Every panel but the input says its error, placed inside its own panel: drawn below the
    axis, the labels fell outside the figure (the lesson's 10-px margin) and no one saw them."""
    from app.i18n import STRINGS, speaking
    from app.lessons.bottleneck import chosen_figure, spiral_figure

    word = STRINGS["en"]["ls_error"]
    with speaking("en"):
        figs = [(spiral_figure(0).to_dict(), (2, 3, 5, 15, 30)), (chosen_figure(8, 0).to_dict(), (8,))]
    for fig, ns in figs:
        labels = [a for a in fig["layout"]["annotations"] if a["text"].startswith(word)]
        errors = [L.spiral_relu(k, 0, readout="linear").error for k in ns]
        assert [a["text"] for a in labels] == [f"{word} {e:.2f}" for e in errors]
        assert all(a["yref"].endswith(" domain") and 0 <= a["y"] <= 1 for a in labels)


def test_se_gates_are_computed_once_per_photo_and_block(monkeypatch):
    DEMOS.clear()
    calls = counting(monkeypatch, L, "se_gates")
    at = page("lesson-se", "v3_small")
    assert len(calls) == 2  # the two photos
    blocks = at.selectbox(key="se_block").options
    at.selectbox(key="se_block").set_value(blocks[1]).run()
    at.selectbox(key="se_block").set_value(blocks[0]).run()
    assert not at.exception and len(calls) == 4  # the second block's two; the first's from the cache


def test_a_class_on_the_sample_photos_decodes_and_prepares_each_once(monkeypatch):
    """Lessons read the bundled photos from a shared cache: a second student, a rerun and another
    language decode and resize nothing again, and every caller gets a copy of the input."""
    import app.lessons.common as common

    with common._SAMPLE_LOCK:
        common._SAMPLE_IMAGES.clear()
    common._sample_input.cache_clear()
    DEMOS.clear()
    decoded = counting(monkeypatch, common, "load_image")
    prepared = counting(monkeypatch, common, "preprocess_image")
    at = page("lesson-se", "v3_small")
    assert len(decoded) == 2 and len(prepared) == 2  # the two photos the SE lesson compares
    at.selectbox(key="se_block").set_value(at.selectbox(key="se_block").options[1]).run()
    page("lesson-se", "v3_small", lang="zh")
    page("lesson-separable", "v3_small")
    assert not at.exception and len(decoded) == 2 and len(prepared) == 2
    path = next(iter(common.sample_photos().values()))
    recipe = mc.registry.default_preprocess(224)
    first, crop = common.to_tensor(common.sample_image(path), recipe)
    first.zero_()  # a caller that changes its copy changes no one else's
    again, _ = common.to_tensor(common.sample_image(path), recipe)
    fresh, fresh_crop = predict.preprocess_image(predict.load_image(path), recipe)
    assert torch.equal(again, fresh) and again.abs().sum() > 0
    assert np.array_equal(np.asarray(crop), np.asarray(fresh_crop))
    own = predict.load_image(path)  # a photo of the learner's own (not the shared object): prepared
    assert torch.equal(common.to_tensor(own, recipe)[0], fresh) and len(prepared) == 3


def test_a_learners_own_photo_is_decoded_and_prepared_once_per_file(monkeypatch):
    """A lesson decoded and resized the learner's own photo on every rerun (a phone's photo: about
    0.1 s of the server each time, whatever widget moved). Now once per file; another file is
    decoded in its turn, and removing it brings back the sample and lets the image go."""
    import app.lessons.common as common

    samples = common.sample_photos()
    cat, rocket = (("cat.png", samples["chelsea_cat.png"].read_bytes(), "image/png"),
                   ("rocket.jpg", samples["rocket.jpg"].read_bytes(), "image/jpeg"))  # fmt: skip
    decoded = counting(monkeypatch, common, "load_image")
    prepared = counting(monkeypatch, common, "preprocess_image")
    at = page("lesson-separable", "v3_small")
    decoded.clear(), prepared.clear()  # the sample shown first (decoded once for everyone)
    at.file_uploader(key="lesson_photo_file").set_value(rocket).run()
    assert not at.exception and len(decoded) == 1 and len(prepared) == 1
    assert at.session_state["lesson_photo_image"][0] == "rocket.jpg"
    assert at.selectbox(key="lesson_photo_sample").disabled  # the bundled photo is not the one in use
    blocks = at.selectbox(key="sep_block").options
    at.selectbox(key="sep_block").set_value(blocks[0]).run()
    at.selectbox(key="model").set_value("v4_conv_medium").run()  # another preprocessing: 256 px
    at.selectbox(key="model").set_value("v3_small").run()
    assert not at.exception and len(decoded) == 1  # three reruns, two models: decoded once
    assert len(prepared) == len({recipe for _, recipe in prepared}) == 2  # once per preprocessing
    at.file_uploader(key="lesson_photo_file").set_value(cat).run()
    assert not at.exception and len(decoded) == 2 and at.session_state["lesson_photo_image"][0] == "cat.png"
    kept = at.session_state["lesson_inputs"]
    assert all(image is at.session_state["lesson_photo_image"][1] for image, _, _ in kept.values())
    at.file_uploader(key="lesson_photo_file").set_value([]).run()
    assert not at.exception and "lesson_photo_image" not in at.session_state
    assert "lesson_inputs" not in at.session_state  # nor the network inputs made from it
    assert not at.selectbox(key="lesson_photo_sample").disabled


def test_a_photo_taken_with_the_camera_is_the_only_one_kept(monkeypatch):
    """With a photo in the drop zone and one taken with the camera, the lesson uses the camera's:
    that one only is decoded and kept (the session kept both, 36 MB each for a phone's photo); the
    dropped photo comes back, decoded then, when the camera's is gone."""
    import app.lessons.common as common

    samples = common.sample_photos()
    rocket = ("rocket.jpg", samples["rocket.jpg"].read_bytes(), "image/jpeg")
    shot = [None]
    monkeypatch.setattr(common, "camera_photo", lambda key: shot[0])
    decoded = counting(monkeypatch, common, "load_image")
    at = page("lesson-separable", "v3_small")
    at.file_uploader(key="lesson_photo_file").set_value(rocket).run()
    assert at.session_state["lesson_photo_image"][0] == "rocket.jpg"
    decoded.clear()
    shot[0] = ("camera photo.jpg", samples["chelsea_cat.png"].read_bytes())
    at.selectbox(key="sep_block").set_value(at.selectbox(key="sep_block").options[0]).run()
    assert not at.exception and len(decoded) == 1
    assert at.session_state["lesson_photo_shot"][0] == "camera photo.jpg"
    assert "lesson_photo_image" not in at.session_state  # the dropped photo is not kept beside it
    shot[0] = None  # the camera closed: the dropped photo again
    at.selectbox(key="sep_block").set_value(at.selectbox(key="sep_block").options[1]).run()
    assert not at.exception and len(decoded) == 2 and "lesson_photo_shot" not in at.session_state
    assert at.session_state["lesson_photo_image"][0] == "rocket.jpg"


@pytest.mark.parametrize(
    ("path", "model", "charts"),
    [
        ("lesson-se", "v3_small", 1),
        ("lesson-activations", "v3_large", 2),
        ("lesson-inverted-residual", "v2", 3),
        ("lesson-attention", "v4_hybrid_medium", 1),
        ("lesson-multipliers", "v1", 2),
        ("lesson-roofline", "v4_conv_small", 3),
        ("lesson-bottleneck", "v2", 4),
        ("lesson-fused-ib", "v4_conv_small", 1),
        ("lessons", "v2", 1),
    ],
)
def test_a_lessons_charts_are_built_once_for_the_class(monkeypatch, path, model, charts):
    """A second student on the same configuration (and photos) is drawn the same charts, styled
    once; another language is styled for itself."""
    import app.lessons.attention as attention_page
    import app.lessons.roofline as roofline_page

    # every cache a lesson's chart may come from (earlier tests in the run filled them)
    for cache in (figures.FIGURES, attention_page.QUERY_FIGURES, roofline_page.RIDGE_FIGURES):
        cache.clear()
    styled = counting(monkeypatch, figures, "style_figure")
    first = page(path, model)
    assert len(styled) == charts
    second = page(path, model)
    assert len(styled) == charts
    specs = [c.spec for c in drawn_charts(first)]
    assert len(specs) == charts and specs == [c.spec for c in drawn_charts(second)]
    page(path, model, lang="zh")
    assert len(styled) == 2 * charts


def test_moving_the_query_runs_no_network_and_a_second_student_none_either(monkeypatch):
    DEMOS.clear()
    calls = counting(monkeypatch, L, "attention_maps")
    at = page("lesson-attention", "v4_hybrid_medium")
    assert len(calls) == 1
    before = drawn_charts(at)[0].spec
    row = next(s for s in at.slider if s.key.startswith("attn_row_"))
    row.set_value(0).run()
    assert not at.exception and len(calls) == 1  # the query's map is read from every query's maps
    assert drawn_charts(at)[0].spec != before  # and the map drawn is the new query's
    page("lesson-attention", "v4_hybrid_medium", lang="zh")
    assert len(calls) == 1


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_shared_demos_are_read_only(lang):
    at = page("lesson-separable", "v1", lang=lang)
    assert not at.exception
    demos = [v for k, v in DEMOS._entries.items() if k[0] == "separable"]
    assert demos
    for demo in demos:
        with pytest.raises(ValueError):
            demo.depthwise[0, 0, 0] = 1.0  # another session draws this array: it cannot change
    assert mc.count("v1").macs  # the library is untouched


@pytest.mark.browser
def test_next_step_in_a_browser_reruns_the_step_through_only(server, browser):  # noqa: F811 - fixtures
    """In a real browser, "Next step" asks the server for a fragment rerun and gets back the
    step-through alone: nothing outside it (the lesson's title, the whole-network table) is sent
    again, and the step advances."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from test_browser_lecture import LAPTOP, MAIN, WORDS, open_page, url

    page = browser.new_page(**LAPTOP)
    sent, received = record_frames(page)
    open_page(page, url(server, "lesson-separable", present=False, model="v2"), "lesson-separable")
    title = WORDS["en"]["ls_whole_net"].encode()
    assert any(title in p for p in received)  # the first run sent the whole page
    label = WORDS["en"]["ls_macs_depthwise"]
    before = metric(page, label)
    sent.clear(), received.clear()
    page.locator(f"{MAIN} .st-key-sep_next button").click()
    after = wait(lambda: (v := metric(page, label)) != before and v, timeout=60)
    assert int(after.replace(",", "")) == 2 * int(before.replace(",", ""))
    reruns = [m for m in (BackMsg.FromString(p) for p in sent) if m.WhichOneof("type") == "rerun_script"]
    assert reruns and all(m.rerun_script.fragment_id for m in reruns)  # a fragment rerun, not the page
    assert not any(title in p for p in received)  # the rest of the page was not sent again
    page.close()


@pytest.mark.browser
def test_the_spirals_n_in_a_browser_reruns_the_spiral_only(server, browser):  # noqa: F811 - fixtures
    """In a real browser, moving the spiral's n asks for a fragment rerun and gets back the spiral
    experiment alone, with the new n in its formula: the rest of the lesson (the zeroed-channel
    chart below, built on the network and the photo) is not sent again."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from test_browser_lecture import LAPTOP, MAIN, WORDS, open_page, url

    page = browser.new_page(**LAPTOP)
    sent, received = record_frames(page)

    def finished() -> bool:
        page.wait_for_timeout(50)  # a Playwright call: the frames come in during it (record_frames)
        return any(ForwardMsg.FromString(p).WhichOneof("type") == "script_finished" for p in list(received))

    open_page(page, url(server, "lesson-bottleneck", present=False, model="v2"), "lesson-bottleneck")
    below = WORDS["en"]["ls_zero_bottleneck"].encode()
    wait(finished, timeout=180)
    idle(page)
    assert any(below in p for p in received)  # the first run sent the whole lesson
    sent.clear(), received.clear()
    page.locator(f'{MAIN} .st-key-spiral_n input[type="range"]').first.press("ArrowRight")  # n: 5 -> 8
    shown = page.locator(f'{MAIN} .st-key-spiral_n [data-testid="stSliderThumbValue"]').first
    wait(lambda: shown.inner_text() == "8", timeout=60)
    wait(finished, timeout=120)
    reruns = [m for m in (BackMsg.FromString(p) for p in sent) if m.WhichOneof("type") == "rerun_script"]
    assert reruns and all(m.rerun_script.fragment_id for m in reruns)  # a fragment rerun, not the page
    assert any(rb"{8\times 2}" in p for p in received)  # the formula for the new n
    assert not any(below in p for p in received)  # the rest of the lesson was not sent again
    page.close()

"""What a Classify rerun costs and what a session keeps (issue 21, items 3 and 4): the largest
published networks stay in the shared model cache, a photo's top-5 / Grad-CAM / feature maps are
computed once per (photo, weights), and a user's own checkpoint is bounded and dies with the
session. Every test waits on the state AppTest returns after a run, never on time."""

from __future__ import annotations

import gc
import io
import weakref
from pathlib import Path

import pytest
import streamlit as st
import torch
from safetensors.torch import save_file
from streamlit.testing.v1 import AppTest

import app.screens.classify as classify_screen
from app.models import MODEL_CACHE
from drawn import drawn_charts
from mobilenet_core.cache import SHARED_MODELS_ITEMS, SHARED_MODELS_MIB, RecentResults, budget_from_env
from mobilenet_core.registry import get_weights
from mobilenet_core.weights import cached_file
from reference import deterministic_state_dict, manifest

MAIN = str(Path(__file__).resolve().parent.parent / "app" / "main.py")
DATA = Path(__file__).parent / "data"
CAT = ("cat.png", (DATA / "chelsea_cat.png").read_bytes(), "image/png")
ROCKET = ("rocket.jpg", (DATA / "rocket.jpg").read_bytes(), "image/jpeg")
V3S050 = "timm/mobilenetv3_small_050.lamb_in1k"  # a published checkpoint that is quick to build


@pytest.fixture(autouse=True)
def no_class_results():
    """Each test counts its own computations: nothing from the class's shared results of another."""
    classify_screen.CLASSIFIED.clear()
    yield
    classify_screen.CLASSIFIED.clear()


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """An empty weights cache: whatever this machine downloaded before does not count."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    return tmp_path / "torch_home"


def classify_app(**query) -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=300)
    for key, value in query.items():
        at.query_params[key] = str(value)
    at.run()
    at.switch_page("views/classify.py").run()
    assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    """No exception, and no error but the untrained network's own red label."""
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error if not e.value.startswith("UNTRAINED network")]
    assert not errors, errors


def v3s050_checkpoint() -> bytes:
    """V3-Small 0.5's published timm checkpoint, made of deterministic tensors with its keys."""
    buffer = io.BytesIO()
    torch.save(deterministic_state_dict(manifest("timm_mobilenetv3_small_050")["keys"]), buffer)
    return buffer.getvalue()


def counting(monkeypatch, *names: str) -> dict[str, int]:
    """Count the calls Classify makes to its library functions (`classify`, `grad_cam`, ...)."""
    calls = dict.fromkeys(names, 0)
    for name in names:
        original = getattr(classify_screen, name)

        def counted(*args, _name=name, _original=original, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(classify_screen, name, counted)
    return calls


# --- item 3: the shared model cache keeps the largest published networks -------------------------


def test_the_large_v4_networks_are_built_once_and_kept_side_by_side(torch_home):
    """Conv-L (434 MiB with its runner) and Hybrid-L (504 MiB) were over the old 384 MiB budget:
    every rerun built, folded and exported them again. Fails with MOBILENET_EXPLORER_MODEL_CACHE_MB=384."""
    keys = [("untrained", model, 1.0, 384) for model in ("v4_conv_large", "v4_hybrid_large")]
    builds = MODEL_CACHE.builds + sum(key not in MODEL_CACHE.keys() for key in keys)
    at = classify_app(model="v4_conv_large", resolution=384)
    at.toggle(key="use_untrained").set_value(True)
    at.file_uploader(key="images").set_value([CAT]).run()
    assert_clean(at)
    for model in ("v4_conv_large", "v4_hybrid_large"):
        if model != "v4_conv_large":
            at.selectbox(key="model").set_value(model).run()  # both at 384 px, their base
        assert at.session_state["selection"].model == model and drawn_charts(at)
        blocks = at.selectbox(key="fmap_block").options
        at.selectbox(key="fmap_block").set_value(blocks[1]).run()  # three reruns, three widgets
        at.toggle(key="use_samples").set_value(not at.toggle(key="use_samples").value).run()
        at.selectbox(key="fmap_image").set_value(at.selectbox(key="fmap_image").options[-1]).run()
        assert_clean(at)
    at.selectbox(key="model").set_value("v4_conv_large").run()  # back: still there, not rebuilt
    assert_clean(at)
    assert MODEL_CACHE.builds == builds  # one build per network, whatever the reruns
    assert set(keys) <= set(MODEL_CACHE.keys())


def test_the_budget_is_a_setting(monkeypatch, caplog):
    monkeypatch.delenv("MOBILENET_EXPLORER_MODEL_CACHE_MB", raising=False)
    assert budget_from_env("MOBILENET_EXPLORER_MODEL_CACHE_MB", 1024) == 1024 * 2**20
    monkeypatch.setenv("MOBILENET_EXPLORER_MODEL_CACHE_MB", " 2048 ")
    assert budget_from_env("MOBILENET_EXPLORER_MODEL_CACHE_MB", 1024) == 2048 * 2**20
    for wrong in ("1.5", "-1", "a lot"):
        monkeypatch.setenv("MOBILENET_EXPLORER_MODEL_CACHE_MB", wrong)
        assert budget_from_env("MOBILENET_EXPLORER_MODEL_CACHE_MB", 1024) == 1024 * 2**20
        assert "MOBILENET_EXPLORER_MODEL_CACHE_MB" in caplog.text  # said in the server log
    # the default keeps the largest published network, V4 Hybrid-L with its runner (504 MiB measured),
    # next to its INT8 runner (104 MiB) or to V4 Conv-L (434 MiB)
    assert SHARED_MODELS_MIB >= 504 + 434 and SHARED_MODELS_ITEMS >= 4


def test_the_shared_figures_bound_is_a_setting(monkeypatch, caplog):
    from app.figures import FIGURE_ENTRIES, _entries_from_env

    for raw, expected in (("", FIGURE_ENTRIES), (" 12 ", 12), ("0", 0)):  # 0: nothing shared
        monkeypatch.setenv("MOBILENET_EXPLORER_FIGURE_CACHE", raw)
        assert _entries_from_env() == expected
    assert not caplog.text
    for wrong in ("-1", "1e3", "lots"):
        monkeypatch.setenv("MOBILENET_EXPLORER_FIGURE_CACHE", wrong)
        assert _entries_from_env() == FIGURE_ENTRIES
        assert "MOBILENET_EXPLORER_FIGURE_CACHE" in caplog.text  # said in the server log


def test_a_classification_runs_on_one_thread_unless_the_server_is_told_otherwise(monkeypatch, caplog):
    """A class shares the server's cores: ONNX Runtime's second thread would spin on its core
    between the class's runs (benchmarks/bench_serving_cpu.py)."""
    from app import models

    _, runner = models.untrained_model("v3_small", 0.5, 128)
    assert runner.session.get_session_options().intra_op_num_threads == 1
    monkeypatch.setenv("MOBILENET_EXPLORER_RUN_THREADS", " 2 ")
    assert models._run_threads() == 2
    for wrong in ("0", "1.5", "all"):
        monkeypatch.setenv("MOBILENET_EXPLORER_RUN_THREADS", wrong)
        assert models._run_threads() == 1
        assert "MOBILENET_EXPLORER_RUN_THREADS" in caplog.text  # said in the server log


# --- item 4: explanations once per (photo, weights) -------------------------------------------------


def test_explanations_are_computed_once_per_photo_and_weights(torch_home, monkeypatch):
    path = cached_file(get_weights(V3S050))
    path.parent.mkdir(parents=True)
    state = deterministic_state_dict(manifest("timm_mobilenetv3_small_050")["keys"])
    save_file({k: v.contiguous() for k, v in state.items()}, path)  # the file timm publishes
    calls = counting(monkeypatch, "classify", "grad_cam", "feature_maps")
    at = classify_app(model="v3_small", alpha=0.5, resolution=224)
    assert any(V3S050 in s.value for s in at.success)  # the published checkpoint, from the cache
    at.file_uploader(key="images").set_value([CAT]).run()
    assert_clean(at)
    # the shown block's feature maps came with the classifying pass (one ONNX Runtime run)
    assert calls == {"classify": 1, "grad_cam": 1, "feature_maps": 0}
    assert at.selectbox(key="fmap_block").value in at.get("image")[-1].captions[0]  # and drawn

    at.radio(key="figure_format").set_value("svg").run()  # unrelated widgets: nothing again
    at.radio(key="lang").set_value("zh").run()
    # the recipe's interpolation in the page's words too (it said "bicubic" on the Chinese page)
    assert any("缩放到 256（双三次）" in c.value for c in at.caption), [c.value for c in at.caption]
    at.radio(key="lang").set_value("en").run()
    assert any("resize 256 (bicubic)" in c.value for c in at.caption)
    assert calls == {"classify": 1, "grad_cam": 1, "feature_maps": 0}

    cam = at.selectbox(key="cam_cat.png")
    first = cam.value
    cam.set_value(cam.options[1]).run()  # another class: its Grad-CAM, once
    at.selectbox(key="cam_cat.png").set_value(first).run()
    blocks = at.selectbox(key="fmap_block")
    block = blocks.value
    blocks.set_value(blocks.options[0]).run()  # another block: its feature maps, once
    at.selectbox(key="fmap_block").set_value(block).run()
    assert calls == {"classify": 1, "grad_cam": 2, "feature_maps": 1}

    at.file_uploader(key="images").set_value([CAT, ROCKET]).run()  # a new photo: its own results
    assert_clean(at)
    assert calls == {"classify": 2, "grad_cam": 3, "feature_maps": 1}
    at.selectbox(key="fmap_image").set_value("rocket.jpg").run()  # its maps came with its top-5
    assert calls == {"classify": 2, "grad_cam": 3, "feature_maps": 1}
    at.selectbox(key="fmap_block").set_value(blocks.options[0]).run()  # another block: a pass
    assert calls == {"classify": 2, "grad_cam": 3, "feature_maps": 2}

    at.toggle(key="use_int8").set_value(True).run()  # another runner: the top-5 again, not Grad-CAM
    assert_clean(at)
    assert calls == {"classify": 4, "grad_cam": 3, "feature_maps": 2}
    at.toggle(key="use_int8").set_value(False).run()  # the float results are still kept
    assert calls == {"classify": 4, "grad_cam": 3, "feature_maps": 2}


def test_a_phone_photo_is_encoded_once_and_sent_as_wide_as_streamlit_sends(monkeypatch):
    """st.image encoded a PIL image again on every run (a 12-megapixel photo: 345 ms a run); the
    page now keeps each picture's bytes with the photo's results and sends the same as before.
    The photo is decoded once, and the session keeps no decoded photo (36 MB at 12 megapixels)."""
    from PIL import Image
    from streamlit.elements.lib.image_utils import MAXIMUM_CONTENT_WIDTH, _pil_to_bytes

    cat = Image.open(DATA / "chelsea_cat.png").convert("RGB")
    assert classify_screen.shown(cat) == _pil_to_bytes(cat, "JPEG")  # the bytes st.image made
    assert Image.open(io.BytesIO(classify_screen.shown(cat.convert("RGBA")))).format == "PNG"
    phone = io.BytesIO()
    cat.resize((4000, 3000)).save(phone, "JPEG", quality=90)
    calls = counting(monkeypatch, "shown", "load_image")
    at = classify_app(model="v3_small", alpha=0.5, resolution=224)
    at.toggle(key="use_untrained").set_value(True)
    at.file_uploader(key="images").set_value([("phone.jpg", phone.getvalue(), "image/jpeg")]).run()
    assert_clean(at)
    assert calls == {"shown": 3, "load_image": 1}  # the photo, the network's crop, the feature maps
    urls = [i.url for image in at.get("image") for i in image.proto.imgs]
    at.radio(key="figure_format").set_value("svg").run()  # unrelated reruns encode nothing again
    at.radio(key="lang").set_value("zh").run()
    at.radio(key="lang").set_value("en").run()
    assert_clean(at)
    assert calls == {"shown": 3, "load_image": 1}
    kept = [v for results in at.session_state["classify_results"]._results.values() for v in results.values()]
    assert len(kept) >= 4 and not any(isinstance(v, Image.Image) and v.width >= 4000 for v in kept)
    assert [i.url for image in at.get("image") for i in image.proto.imgs] == urls  # the same files
    assert MAXIMUM_CONTENT_WIDTH == classify_screen.SHOWN_WIDTH  # Streamlit shrinks wider ones
    sent = Image.open(io.BytesIO(classify_screen.shown(Image.open(phone))))
    assert sent.size == (MAXIMUM_CONTENT_WIDTH, 3000 * MAXIMUM_CONTENT_WIDTH // 4000)


def test_a_photo_the_whole_class_drops_is_classified_once(monkeypatch):
    """Thirty students on the bundled samples, or on the photo the teacher shared, each paid for
    its decoding, classification and pictures. The second session gets the first one's results;
    another photo, or another network, is computed in its turn."""
    calls = counting(monkeypatch, "classify", "load_image", "shown")
    sessions = []
    for _ in range(2):
        at = classify_app(model="v3_small", alpha=0.5, resolution=224)
        at.toggle(key="use_untrained").set_value(True)
        at.file_uploader(key="images").set_value([CAT]).run()
        assert_clean(at)
        sessions.append(at)
    assert calls == {"classify": 1, "load_image": 1, "shown": 3}  # photo, crop, feature maps: once
    kept = [v for r in sessions[1].session_state["classify_results"]._results.values() for v in r.values()]
    prediction = next(v for v in kept if isinstance(v, classify_screen.Prediction))
    assert classify_screen.result_bytes(prediction) >= 3 * 224 * 224 * 4  # the input tensor, counted
    first, second = ([i.url for image in at.get("image") for i in image.proto.imgs] for at in sessions)
    assert first == second and len(first) == 3  # the same pictures
    charts = [[c.spec for c in drawn_charts(at)] for at in sessions]
    assert charts[0] == charts[1] and len(charts[0]) == 1  # the same top-5
    sessions[1].file_uploader(key="images").set_value([CAT, ROCKET]).run()
    assert_clean(sessions[1])
    assert calls["classify"] == 2 and calls["load_image"] == 2  # the rocket, new to the class
    sessions[0].selectbox(key="model").set_value("v2").run()  # another network: its own results
    assert_clean(sessions[0])
    assert calls["classify"] == 3


def test_the_session_keeps_the_results_of_a_bounded_number_of_photos():
    store = RecentResults(max_keys=2, per_key=2)
    computed = []

    def compute(value):
        return lambda: computed.append(value) or value

    assert store.get("cat", "top5", compute(1)) == 1
    assert store.get("cat", "top5", compute(99)) == 1  # kept
    store.get("rocket", "top5", compute(2))
    store.get("cat", ("cam", 3), compute(3))  # the cat is the most recent photo now
    store.get("cat", ("cam", 4), compute(4))  # two per photo: its oldest result (top5) goes
    store.get("coffee", "top5", compute(5))  # two photos: the rocket, least recently used, goes
    assert "rocket" not in store and "cat" in store and len(store) == 2
    assert store.get("cat", "top5", compute(6)) == 6 and computed == [1, 2, 3, 4, 5, 6]


# --- item 3: a user's own checkpoint --------------------------------------------------------------


def upload_checkpoint(at: AppTest, data: bytes) -> None:
    at.file_uploader(key="checkpoint_upload").set_value(("mine.pth", data, "application/octet-stream"))
    at.run()


def test_an_uploaded_checkpoint_is_one_per_session_bounded_and_dies_with_the_session(torch_home, monkeypatch):
    monkeypatch.delenv("MOBILENET_EXPLORER_SESSION_MODEL_MB", raising=False)
    calls = counting(monkeypatch, "Int8Model")
    # a server's MediaFileManager keeps a download button's callable after its session ends, until
    # some session's next run ends (AppTest's runtime does not): keep them, as it would
    kept_by_streamlit, download_button = [], st.download_button
    monkeypatch.setattr(st, "download_button", lambda label, data, *args, **kwargs: (
        kept_by_streamlit.append(data), download_button(label, data, *args, **kwargs))[1])  # fmt: skip
    data = v3s050_checkpoint()
    at = classify_app(model="v3_small", alpha=0.5, resolution=224)
    at.file_uploader(key="images").set_value([CAT])
    upload_checkpoint(at, data)
    assert not at.exception
    assert any("Weights from your upload: mine.pth" in s.value for s in at.success)
    uploaded = at.session_state["uploaded_checkpoint"]
    module = weakref.ref(uploaded.module)
    budget = classify_screen.session_model_budget()
    assert uploaded.int8 is None and 0 < uploaded.nbytes <= budget

    at.toggle(key="use_int8").set_value(True).run()  # the session's own INT8 runner ...
    int8 = weakref.ref(at.session_state["uploaded_checkpoint"].int8)
    assert int8() is not None and uploaded.nbytes <= budget
    at.toggle(key="use_int8").set_value(False).run()  # ... only while the switch is on
    gc.collect()
    assert at.session_state["uploaded_checkpoint"].int8 is None and int8() is None

    # over the per-session budget with the INT8 runner: refused, said, the float network runs
    monkeypatch.setenv("MOBILENET_EXPLORER_SESSION_MODEL_MB", str(-(-uploaded.nbytes // 2**20)))
    at.toggle(key="use_int8").set_value(True).run()
    assert any("An INT8 copy of your checkpoint would bring this session" in w.value for w in at.warning)
    assert at.session_state["uploaded_checkpoint"].int8 is None and not at.exception
    assert any("Fast path: onnxruntime ·" in c.value for c in at.caption)  # the float runner
    at.radio(key="figure_format").set_value("svg").run()  # said again, not quantized again
    assert any("An INT8 copy" in w.value for w in at.warning) and calls["Int8Model"] == 2
    monkeypatch.delenv("MOBILENET_EXPLORER_SESSION_MODEL_MB")
    at.toggle(key="use_int8").set_value(False).run()

    del uploaded
    at.slider(key="alpha").set_value(0.75).run()  # another configuration: the upload is dropped
    assert "uploaded_checkpoint" not in at.session_state
    assert any("Checkpoint refused" in e.value for e in at.error)  # the file does not fit 0.75
    gc.collect()
    assert module() is None
    at.slider(key="alpha").set_value(0.5).run()  # back: loaded again from the file still there
    assert any("Weights from your upload" in s.value for s in at.success)
    module = weakref.ref(at.session_state["uploaded_checkpoint"].module)
    assert kept_by_streamlit[-1]()[:2] == b"\x08\x08"  # the ONNX export works while the session lives

    del at  # the session ends: nothing else (model cache, download button) keeps its model
    gc.collect()
    assert module() is None


def test_an_uploaded_checkpoint_at_another_resolution_classifies_the_photo_again(torch_home, monkeypatch):
    """The session's results were kept per file only: the same checkpoint at 256 px showed the
    top-5 and the crop of 224 px."""
    calls = counting(monkeypatch, "classify")
    at = classify_app(model="v3_small", alpha=0.5, resolution=224)
    at.file_uploader(key="images").set_value([CAT])
    upload_checkpoint(at, v3s050_checkpoint())
    assert any("Weights from your upload" in s.value for s in at.success) and calls == {"classify": 1}
    at.slider(key="resolution").set_value(256).run()
    assert any("Weights from your upload" in s.value for s in at.success) and not at.exception
    assert calls == {"classify": 2}
    assert "(256×256)" in at.get("image")[1].proto.imgs[0].caption  # the crop the network saw
    assert len(classify_screen.CLASSIFIED) == 0  # one session's checkpoint: nothing shared


def test_an_uploaded_checkpoint_over_the_session_budget_is_refused_once(torch_home, monkeypatch):
    monkeypatch.setenv("MOBILENET_EXPLORER_SESSION_MODEL_MB", "5")  # V3-Small 0.5: 6 MiB of weights
    calls = counting(monkeypatch, "load_checkpoint", "FastModel")
    at = classify_app(model="v3_small", alpha=0.5, resolution=224)
    upload_checkpoint(at, v3s050_checkpoint())
    refusal = [e.value for e in at.error]
    assert len(refusal) == 1 and "over the 5 MiB this server keeps per session" in refusal[0], refusal
    assert "uploaded_checkpoint" not in at.session_state and not at.exception
    assert calls == {"load_checkpoint": 1, "FastModel": 0}  # refused before its runner was exported
    at.radio(key="figure_format").set_value("svg").run()  # a rerun says it again, builds nothing
    assert [e.value for e in at.error] == refusal and calls["load_checkpoint"] == 1
    monkeypatch.setenv("MOBILENET_EXPLORER_SESSION_MODEL_MB", "12")  # the module fits, not its runner
    upload_checkpoint(at, v3s050_checkpoint())
    assert calls == {"load_checkpoint": 2, "FastModel": 1}
    assert any("over the 12 MiB" in e.value for e in at.error)
    assert "uploaded_checkpoint" not in at.session_state
    at.file_uploader(key="checkpoint_upload").set_value(None).run()  # the file removed: no message
    assert not at.error and not at.exception

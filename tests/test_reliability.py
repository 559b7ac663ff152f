"""Bad input, hostile files, many users: fuzzing, the bounded model cache, concurrency, memory."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from streamlit.testing.v1 import AppTest

import mobilenet_core as mc
from drawn import drawn_charts
from mobilenet_core import cache as heap
from mobilenet_core.cache import TRIM_ABOVE, ModelCache, module_bytes, release_memory
from mobilenet_core.fast import FastModel
from mobilenet_core.predict import ImageError, classify, load_image
from mobilenet_core.registry import default_preprocess

ROOT = Path(__file__).resolve().parent.parent
MAIN = str(ROOT / "app" / "main.py")
DATA = Path(__file__).parent / "data"


def _valid_images() -> list[bytes]:
    out = []
    for fmt in ("JPEG", "PNG", "GIF", "BMP", "WEBP", "TIFF"):
        buffer = io.BytesIO()
        Image.new("RGB", (24, 16), (10, 200, 30)).save(buffer, fmt)
        out.append(buffer.getvalue())
    return out


VALID = _valid_images()


@st.composite
def mutated_images(draw):
    data = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(0, 8))):
        position = draw(st.integers(0, len(data) - 1))
        data[position] = draw(st.integers(0, 255))
    cut = draw(st.integers(1, len(data)))
    return bytes(data[:cut])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=2048), mutated_images()))
def test_fuzzed_image_bytes_give_an_image_or_one_message(data):
    try:
        image = load_image(data, name="fuzz.bin")
    except ImageError as exc:
        assert str(exc).startswith("fuzz.bin") and exc.code
        return
    assert image.mode == "RGB" and min(image.size) >= 2


SPECIAL = ["v2", "v4_hybrid_large", "0", "-1", "nan", "inf", "1e9", "0.35", "2.0", "224", "768", "32", "31",
           "English", "中文", "", " ", "[]"]  # fmt: skip
QUERY_VALUES = st.one_of(st.text(max_size=12), st.sampled_from(SPECIAL))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(["model", "alpha", "resolution", "lang", "other"]), QUERY_VALUES, max_size=5
    )
)
def test_random_query_strings_never_crash_the_app(query):
    at = AppTest.from_file(MAIN, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, (query, [e.value for e in at.exception])
    selection = at.session_state["selection"]
    report = mc.count(selection.model, selection.alpha, selection.resolution)  # always a valid configuration
    assert any(m.value == f"{report.params:,}" for m in at.metric)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_images())
def test_fuzzed_uploads_keep_the_classify_view_working(data):
    at = AppTest.from_file(MAIN, default_timeout=60)
    at.query_params["model"] = "v3_small"
    at.query_params["alpha"] = "0.6"
    at.run()
    at.switch_page("views/classify.py").run()
    at.toggle(key="use_untrained").set_value(True).run()
    good = (DATA / "chelsea_cat.png").read_bytes()
    at.file_uploader(key="images").set_value(
        [("good.png", good, "image/png"), ("fuzz.png", data, "image/png")]
    ).run()
    assert not at.exception
    assert len(drawn_charts(at)) >= 1  # the good photo's result stays on screen


def test_cache_is_lru_by_count_and_by_memory():
    cache = ModelCache(max_items=2, max_bytes=10, size=lambda value: value)
    assert cache.get("a", lambda: 4) == 4
    cache.get("b", lambda: 4)
    cache.get("a", lambda: 99)  # a is fresh again, no rebuild
    cache.get("c", lambda: 1)  # over two items: b, the least recently used, goes
    assert cache.keys() == ["a", "c"] and cache.builds == 3
    cache.get("d", lambda: 9)  # 4 + 1 + 9 > 10 bytes: a, the oldest, goes; 1 + 9 fits
    assert cache.keys() == ["c", "d"] and cache.nbytes == 10
    assert cache.get("huge", lambda: 50) == 50 and "huge" not in cache.keys()  # returned, not kept


def test_cache_builds_once_under_concurrency():
    cache = ModelCache(max_items=4, max_bytes=1 << 30)
    results = []

    def work():
        results.append(cache.get(("v3_small", 0.5), lambda: mc.build("v3_small", 0.5, 96)))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.builds == 1 and all(r is results[0] for r in results)
    assert module_bytes(results[0]) == 4 * sum(
        t.numel()
        for t in list(results[0].parameters()) + [b for b in results[0].buffers() if b.dtype == torch.float32]
    ) + 8 * sum(b.numel() for b in results[0].buffers() if b.dtype == torch.int64)


def test_heap_is_trimmed_once_the_process_has_grown_or_a_while_after(monkeypatch):
    """A trim after every photo made the next inference fault its pages in again: the heap goes back
    to the OS once the process has grown by TRIM_ABOVE since the last trim, or TRIM_EVERY_S after
    it (what was freed without the process growing), and at once on demand."""
    resident, clock, trims = [500 << 20], [100.0], []

    def malloc_trim(pad):
        trims.append(resident[0])
        resident[0] = 400 << 20  # what a trim gives back
        return 1

    monkeypatch.setattr(heap, "_libc", lambda: malloc_trim)
    monkeypatch.setattr(heap, "resident_bytes", lambda: resident[0])
    monkeypatch.setattr(heap.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(heap, "_last_trim", [0, -heap.TRIM_EVERY_S])
    release_memory()  # nothing trimmed yet
    assert trims == [500 << 20]
    for grown in (10 << 20, TRIM_ABOVE):  # photos through a small model, a second apart
        clock[0] += 1
        resident[0] = (400 << 20) + grown
        release_memory()
    assert len(trims) == 1
    clock[0] += 1
    resident[0] = (400 << 20) + TRIM_ABOVE + (1 << 20)  # a large model's pass
    release_memory()
    assert len(trims) == 2
    resident[0] = 300 << 20  # the process shrank (a model dropped): growth counts from there
    clock[0] += 1
    release_memory()
    resident[0] = (300 << 20) + TRIM_ABOVE + (1 << 20)
    release_memory()
    assert len(trims) == 3
    clock[0] += heap.TRIM_EVERY_S - 0.5  # memory freed without growing (a session gone): not yet...
    resident[0] = 420 << 20
    release_memory()
    assert len(trims) == 3
    clock[0] += 1  # ... and once TRIM_EVERY_S have passed
    release_memory()
    assert len(trims) == 4
    release_memory(at_least=0)  # a network built or dropped: at once
    assert len(trims) == 5


def test_release_memory_gives_back_what_was_freed():
    """On this machine's glibc: 200 MB of small blocks freed below a block still in use stay with
    the process until release_memory hands them back."""
    if heap._libc() is None:
        pytest.skip("no glibc")
    release_memory(at_least=0)
    before = heap.resident_bytes()
    blocks = [b"%05d" % i * 10_000 for i in range(4000)]  # 50 kB each: from the heap, not mmap
    fence = b"f" * 100_000  # above them, larger than any hole: keeps the heap's top in use
    grown = heap.resident_bytes() - before
    del blocks
    kept = heap.resident_bytes() - before  # glibc gives nothing back on its own below the fence
    release_memory()
    assert grown > 150 << 20 and kept > grown / 2, (grown >> 20, kept >> 20)
    assert heap.resident_bytes() - before < grown / 4, (grown >> 20, (heap.resident_bytes() - before) >> 20)
    del fence


def test_concurrent_classifications_equal_serial_ones():
    module = mc.build("v4_conv_small", 0.5, 160)
    runner = FastModel(module)
    recipe = default_preprocess(160)
    images = [load_image(p) for p in sorted(DATA.glob("*.png")) + sorted(DATA.glob("*.jpg"))]
    serial = [classify(runner, image, recipe).logits for image in images]
    outputs: dict[int, list] = {}

    def work(worker: int):
        outputs[worker] = [classify(runner, image, recipe).logits for image in images for _ in range(3)][::3]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for worker in range(8):
        for got, expected in zip(outputs[worker], serial):
            assert torch.equal(got, expected)


def test_server_hardening_settings():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["enableXsrfProtection"] is True
    # static serving is on for the charts' Plotly bundle (app/chart.py): the folder served holds
    # that bundle and its licence, nothing else (no upload, cache or setting lands there)
    assert config["server"]["enableStaticServing"] is True
    served = sorted(p.name for p in (ROOT / "app" / "static").iterdir())
    assert served == ["plotly-mobilenet.licenses.txt", "plotly-mobilenet.min.js"]
    assert 1 <= config["server"]["maxUploadSize"] <= 200
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["showErrorDetails"] == "none"  # details go to the server log only

"""Figures built once for everyone (app.figures): the shared cache gives one figure per key and
another for another language or configuration, stays within its bound, builds a key once however
many sessions ask at once, and a page drawn from it shows exactly what a page built without it
shows. Behaviour only: the timings are benchmarks/bench_browser.py's and load_protocol.py's."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
import pytest
from streamlit.testing.v1 import AppTest

from app import figures
from app.common import FIGURE_STYLE, FIGURE_TEMPLATE, TRACE_TYPES, style_figure
from app.figures import FigureCache
from drawn import drawn_charts

ROOT = Path(__file__).resolve().parent.parent
MAIN = str(ROOT / "app" / "main.py")


def test_same_key_same_figure_another_key_another():
    cache = FigureCache(8)
    built = []

    def build(label):
        def make():
            built.append(label)
            return go.Figure(go.Bar(x=["a"], y=[1], name=label))

        return make

    en = cache.get(("en", "charts", "params", "v2", 1.0, 224), build("en"))
    assert cache.get(("en", "charts", "params", "v2", 1.0, 224), build("again")) is en
    zh = cache.get(("zh", "charts", "params", "v2", 1.0, 224), build("zh"))
    other = cache.get(("en", "charts", "params", "v3_large", 1.0, 224), build("v3"))
    assert zh is not en and other is not en and other is not zh
    assert built == ["en", "zh", "v3"]


def test_bounded_least_recently_used_out_first():
    cache = FigureCache(3)
    for k in range(3):
        cache.get(k, lambda k=k: k)
    cache.get(0, lambda: "rebuilt")  # 0 is now the most recently used
    cache.get(3, lambda: 3)
    assert len(cache) == 3
    assert cache.get(1, lambda: "rebuilt 1") == "rebuilt 1"  # 1 went first
    assert cache.get(0, lambda: "rebuilt") == 0


def test_bounded_by_bytes_when_given_a_size():
    """The class's shared photo results: at most `max_bytes`, least recently used out first; an
    entry larger than that on its own is handed out and not kept."""
    cache = FigureCache(10, 100, size=len)
    for k in range(4):
        cache.get(k, lambda: b"x" * 30)
    assert len(cache) == 3  # 120 bytes would be over 100: the first went
    assert cache.get(0, lambda: b"rebuilt") == b"rebuilt"
    big = cache.get("big", lambda: b"x" * 101)
    assert len(big) == 101 and cache.get("big", lambda: b"again") == b"again"


def test_zero_entries_keeps_nothing():
    cache = FigureCache(0)
    assert [cache.get("k", lambda: object()) for _ in range(2)][0] is not cache.get("k", lambda: object())
    assert len(cache) == 0 and cache.builds == 3


def test_eight_threads_ask_at_once_one_build():
    cache = FigureCache(8)
    calls = []
    start = threading.Barrier(8)

    def slow_build():
        calls.append(1)
        time.sleep(0.2)  # long enough for every thread to be waiting on the same key
        return go.Figure()

    got = []

    def ask():
        start.wait()
        got.append(cache.get(("en", "charts", "macs", "v2", 1.0, 224), slow_build))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(calls) == 1 and len(got) == 8
    assert all(fig is got[0] for fig in got)


def test_a_failed_build_is_not_kept_and_the_next_ask_builds():
    cache = FigureCache(4)

    def broken():
        raise ValueError("no")

    with pytest.raises(ValueError):
        cache.get("k", broken)
    assert cache.get("k", lambda: "ok") == "ok"


def test_style_from_the_default_template_equals_the_assigned_one():
    """show_figure no longer assigns the template to a figure that carries it from construction;
    the drawn figure is the same as when it was assigned."""
    fig = go.Figure(go.Bar(x=["a", "b"], y=[1, 2]))
    style_figure(fig, 400)
    old = go.Figure(go.Bar(x=["a", "b"], y=[1, 2]))
    old.update_layout(template=FIGURE_TEMPLATE, **FIGURE_STYLE)
    old.update_layout(height=400)
    assert fig.to_dict() == old.to_dict()
    foreign = go.Figure(layout=dict(template="ggplot2"))  # a figure with another template gets ours
    style_figure(foreign)
    assert foreign.to_dict()["layout"]["template"] == old.to_dict()["layout"]["template"]


def test_the_trimmed_template_styles_every_trace_type_the_app_draws_as_plotly_white_does():
    """The figures carry a template cut from plotly_white (7.2 KB -> about 2.4 KB a figure): every
    trace type drawn in app/ and the 2-D axes keep plotly_white's style, so no chart changes look."""
    from plotly.basedatatypes import BaseTraceType

    kinds = [getattr(go, name) for name in dir(go) if name[:1].isupper()]  # go loads its names lazily
    traces = {k.__name__.lower() for k in kinds if isinstance(k, type) and issubclass(k, BaseTraceType)}
    drawn = set()
    for path in (ROOT / "app").rglob("*.py"):
        code = path.read_text(encoding="utf-8")
        drawn |= {name.lower() for name in re.findall(r"\bgo\.([A-Z][a-z]+)\(", code)}
        drawn |= set(re.findall(r"\.add_([a-z]+)\(", code))  # fig.add_bar(...), fig.add_image(...)
    drawn &= traces  # not go.Figure, fig.add_annotation, mimetypes.add_type, ...
    assert drawn and drawn <= set(TRACE_TYPES), drawn - set(TRACE_TYPES)
    ours, white = pio.templates[FIGURE_TEMPLATE], pio.templates["plotly_white"]
    for kind in drawn:
        assert getattr(ours.data, kind) == getattr(white.data, kind), kind
    for key in (
        "xaxis",
        "yaxis",
        "colorway",
        "colorscale",
        "font",
        "hoverlabel",
        "paper_bgcolor",
        "plot_bgcolor",
    ):
        assert ours.layout[key] == white.layout[key], key
    assert len(ours.to_plotly_json().__str__()) < 0.4 * len(white.to_plotly_json().__str__())


def _charts(lang: str, model: str) -> list[dict]:
    at = AppTest.from_file(MAIN, default_timeout=180)
    at.query_params["model"] = model
    at.query_params["lang"] = lang
    at.run()
    at.switch_page("views/charts.py").run()
    assert not at.exception
    return [json.loads(chart.spec) for chart in drawn_charts(at)]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_charts_from_the_cache_show_exactly_what_a_fresh_build_shows(monkeypatch, lang):
    monkeypatch.setattr(figures, "FIGURES", FigureCache(0))  # every figure built by the page
    fresh = _charts(lang, "v3_large")
    monkeypatch.setattr(figures, "FIGURES", FigureCache(64))
    first = _charts(lang, "v3_large")  # builds and keeps
    cached = figures.FIGURES
    builds = cached.builds
    again = _charts(lang, "v3_large")  # another session: drawn from the cache
    assert len(fresh) == 5 and cached.builds == builds == 5 + 2  # and the Overview's two tables
    assert fresh == first == again
    # what st.plotly_chart serialises from a frozen figure is what the figure itself holds
    kept = [fig for fig in cached._entries.values() if isinstance(fig, go.Figure)]
    assert len(kept) == 5 and all(isinstance(fig, figures.FrozenFigure) for fig in kept)
    assert all(fig.to_dict() == go.Figure.to_dict(fig) for fig in kept)
    assert [json.loads(pio.to_json(fig.to_dict(), validate=False)) for fig in kept] == again
    # the numbers are the library's: the MACs bars are the blocks' MACs
    import mobilenet_core as mc

    blocks = mc.count("v3_large").blocks
    macs = again[1]["data"]
    shown = {x: y for trace in macs for x, y in zip(trace["x"], trace["y"])}
    assert shown == {b.name: b.macs for b in blocks}


def test_another_language_or_configuration_is_another_figure(monkeypatch):
    monkeypatch.setattr(figures, "FIGURES", FigureCache(64))
    en = _charts("en", "v2")
    zh = _charts("zh", "v2")
    v3 = _charts("en", "v3_large")
    assert figures.FIGURES.builds == 3 * (5 + 2)  # five charts, and the Overview's two tables
    assert en[0]["layout"]["title"] != zh[0]["layout"]["title"]
    assert en[0]["data"][0]["y"] == zh[0]["data"][0]["y"]  # same numbers, other words
    assert en[0]["data"] != v3[0]["data"]


def test_warm_up_is_off_under_tests():
    import torch

    threads = torch.get_num_threads()
    assert figures.warm_up() is None
    assert torch.get_num_threads() == threads  # nor does a test process get the server's threads


def test_the_warm_up_leaves_the_spiral_error_curve_ready(monkeypatch):
    """The bottleneck lesson's error curve (seconds to compute) is in the library's cache once the
    warm-up has run: its first student pays nothing for it."""
    from app.lessons import bottleneck
    from mobilenet_core.lessons import bottleneck as spirals

    monkeypatch.setattr(figures, "WARM_DELAY_S", 0.0)
    monkeypatch.setattr(figures, "WARM_NETWORKS", ())  # the networks: test_untrained, test_lessons
    spirals._spiral_errors.cache_clear()
    warming = threading.Thread(target=figures._warm)  # as served: its own thread, which it lowers
    warming.start()
    warming.join()
    before = spirals._spiral_errors.cache_info()
    assert before.currsize == 1
    bottleneck.error_figure(5)  # what the lesson draws
    after = spirals._spiral_errors.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)


def test_the_warm_up_builds_every_spiral_figure_a_class_moves_to_in_both_languages(monkeypatch):
    """The paper's spiral panels, and the chosen n's panel and the error curve for every n of the
    slider, at the seed a page opens with, in each language, built by the warm-up (a thread
    outside any session): a student who moves n builds no figure, and sees the figure in the
    page's language."""
    from app.i18n import STRINGS
    from app.lessons import PAGE_FILES
    from app.lessons.bottleneck import SPIRAL_DIMS

    monkeypatch.setattr(figures, "WARM_DELAY_S", 0.0)
    monkeypatch.setattr(figures, "WARM_NETWORKS", ())
    monkeypatch.setattr(figures, "FIGURES", FigureCache(256))
    warming = threading.Thread(target=figures._warm)
    warming.start()
    warming.join()
    kept = {key: fig for key, fig in figures.FIGURES._entries.items() if "lesson" in key}
    # the paper's panels, and for each n its panel and the error curve, in two languages
    assert len(kept) == 2 * (1 + 2 * len(SPIRAL_DIMS))
    for lang in ("en", "zh"):  # the keys the page asks for (the paper's figure only on opening)
        assert (lang, "lesson", "spiral", 0) in kept
        assert all((lang, "lesson", "spiral_chosen", n, 0) in kept for n in SPIRAL_DIMS)
    for lang in ("en", "zh"):
        title = kept[(lang, "lesson", "spiral_error", 5)].layout.title.text
        assert title == STRINGS[lang]["ls_error_vs_n"]
    for lang in ("zh", "en"):
        at = AppTest.from_file(MAIN, default_timeout=180)
        at.query_params["model"], at.query_params["lang"] = "v2", lang
        at.run()
        at.switch_page(PAGE_FILES["lesson-bottleneck"]).run()
        builds = figures.FIGURES.builds
        for n in (8, 30, 2):
            at.select_slider(key="spiral_n").set_value(n).run()
            assert not at.exception and not at.error
        assert figures.FIGURES.builds == builds  # every move drawn from the warm-up's figures
        shown = [json.loads(c.spec) for c in drawn_charts(at)]
        assert any(f["layout"].get("title", {}).get("text") == STRINGS[lang]["ls_error_vs_n"] for f in shown)


def test_a_served_app_runs_each_network_pass_on_one_thread(monkeypatch):
    """On a busy server a pass's second thread spin-waits for a core other sessions hold, so the
    served app sets torch (and the ONNX runners built after it) to one thread, once per process;
    MOBILENET_EXPLORER_TORCH_THREADS changes it, 0 keeps torch's own."""
    import torch

    before = torch.get_num_threads()
    try:
        for raw, expected in (("", 1), ("0", before), ("3", 3), ("many", 1)):  # a typo: the default
            torch.set_num_threads(before)
            monkeypatch.setattr(figures, "_threads_set", False)
            monkeypatch.setenv("MOBILENET_EXPLORER_TORCH_THREADS", raw)
            figures.server_threads()
            assert torch.get_num_threads() == expected
            torch.set_num_threads(before)
            figures.server_threads()  # set once: a later run leaves it alone
            assert torch.get_num_threads() == before
    finally:
        torch.set_num_threads(before)


def _tables(lang: str, page: str | None) -> list:
    at = AppTest.from_file(MAIN, default_timeout=180)
    at.query_params["model"] = "v3_large"
    at.query_params["lang"] = lang
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception
    return [element.proto for element in (*at.table, *at.dataframe)]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_tables_drawn_from_shared_arrow_are_the_tables_a_fresh_frame_draws(monkeypatch, lang):
    """Overview's tool and block tables and Compare's table are converted to Arrow once for
    everyone; the browser gets the same message as when each run converted its own frame."""
    from app.screens import compare, overview

    monkeypatch.setattr(figures, "FIGURES", FigureCache(64))
    pages = (None, "views/compare.py")
    shared = [_tables(lang, page) for page in pages]
    builds = figures.FIGURES.builds
    again = [_tables(lang, page) for page in pages]  # another session: nothing converted again
    assert figures.FIGURES.builds == builds
    for module in (overview, compare):  # as before: the frame itself, converted by Streamlit
        monkeypatch.setattr(module, "shared_table", lambda key, build: build())
    fresh = [_tables(lang, page) for page in pages]
    assert [len(tables) for tables in fresh] == [2, 1]
    assert shared == again == fresh


def test_a_classify_rerun_neither_decodes_the_photo_nor_builds_its_chart_again(monkeypatch):
    """Another widget's rerun on Classify draws the photo and its top-5 chart kept from the first
    run (the same chart, with the sidebar's camera format); another language builds the chart
    once more, in that language, with the same numbers."""
    import app.screens.classify as classify_screen

    classify_screen.CLASSIFIED.clear()  # this session computes its own (not another test's)
    calls = dict.fromkeys(("load_image", "_top5_figure"), 0)
    for name in calls:
        original = getattr(classify_screen, name)

        def counted(*args, _name=name, _original=original, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(classify_screen, name, counted)
    cat = ("cat.png", (Path(__file__).parent / "data" / "chelsea_cat.png").read_bytes(), "image/png")
    at = AppTest.from_file(MAIN, default_timeout=300)
    at.query_params["model"] = "v2"
    at.run()
    at.switch_page("views/classify.py").run()
    at.toggle(key="use_untrained").set_value(True)
    at.file_uploader(key="images").set_value([cat]).run()
    assert not at.exception
    first = drawn_charts(at)[0]
    at.radio(key="figure_format").set_value("svg").run()
    again = drawn_charts(at)[0]
    assert calls == {"load_image": 1, "_top5_figure": 1}
    assert again.spec == first.spec and again.config["toImageButtonOptions"]["format"] == "svg"
    at.radio(key="lang").set_value("zh").run()
    zh = json.loads(drawn_charts(at)[0].spec)
    assert calls == {"load_image": 1, "_top5_figure": 2}
    en = json.loads(first.spec)
    assert zh["data"][0]["x"] == en["data"][0]["x"] and zh["layout"]["title"] != en["layout"]["title"]


def test_a_copy_of_a_frozen_figure_is_a_figure_of_its_own():
    """A page that wants to change a shared figure copies it: the copy serialises its own state,
    the shared figure stays as it was."""
    import copy
    import pickle

    fig = figures.frozen(go.Figure(go.Bar(x=["a"], y=[1])))
    for copied in (copy.deepcopy(fig), pickle.loads(pickle.dumps(fig))):
        assert copied.to_dict() == fig.to_dict()
        copied.update_layout(title="mine")
        assert copied.to_dict()["layout"]["title"]["text"] == "mine"
        assert "title" not in fig.to_dict()["layout"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_top5_chart_put_into_the_shared_one_is_the_chart_plotly_builds_for_the_photo(lang):
    """Classify's top-5 chart is the shared, styled top-5 figure with the photo's numbers put into
    a copy of its dict: what reaches the browser, and the chart's data table, are exactly those of
    the figure Plotly builds and styles from the same numbers; the shared figure keeps no photo."""
    from PIL import Image

    from app.common import figure_table
    from app.i18n import speaking, t
    from app.models import untrained_model
    from app.screens import classify as screen
    from mobilenet_core.predict import classify
    from mobilenet_core.registry import default_preprocess

    _, runner = untrained_model("v2", 1.0, 224)
    photo = Image.open(ROOT / "assets" / "samples" / "chelsea_cat.png").convert("RGB")
    prediction = classify(runner, photo, default_preprocess(224), name="cat", k=5)
    top = prediction.top[::-1]
    with speaking(lang):
        fig = go.Figure(go.Bar(x=[c.probability for c in top], y=[c.label_in(lang) for c in top],
                               orientation="h", marker_color="#1f77b4", textposition="auto",
                               text=[f"{c.probability:.1%}" for c in top],
                               customdata=[f"{screen._both(c)} (#{c.index})" for c in top],
                               hovertemplate="%{customdata}<br>%{x:.2%}<extra></extra>"))  # fmt: skip
        fig.update_layout(title=t("top5_untrained", ms=prediction.latency_ms),
                          xaxis=dict(range=[0, 1], tickformat=".0%"))  # fmt: skip
        style_figure(fig, 300, margin=dict(l=10, r=10, t=40, b=10))
        built = screen._top5_figure(prediction, True, lang)
        other = screen._top5_figure(prediction, False, lang)

        def sent(figure):
            spec = json.loads(pio.to_json(figure.to_dict()))
            for trace in spec["data"]:
                trace.pop("uid", None)
            return spec

        assert sent(built) == sent(fig)
        assert figure_table(built) == figure_table(fig) and top[-1].label_in(lang) in figure_table(built)
        assert sent(other)["layout"]["title"]["text"] == t("top5", ms=prediction.latency_ms)
        shared = screen.shared_figure(("top5",), screen._top5_template).to_dict()
        assert list(shared["data"][0]["x"]) == [] and "title" not in shared["layout"]


def test_the_charts_plotly_is_the_version_python_writes_for_and_the_prefetch_readies_it():
    """app.chart's bundle is the Plotly.js the `plotly` package writes figures for, with the trace
    types the app draws, and app.prefetch imports it by the charts' own URL (the same URL is the
    same module in the browser: prefetched, it runs once)."""
    import plotly

    from app.chart import BUNDLE, bundle_path
    from app.prefetch import prefetch_data

    python_writes_for = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text()[:200]
    header = BUNDLE.read_text(encoding="utf-8")[:300]
    version = re.search(r"plotly\.js v([\d.]+)", header).group(1)
    assert f"plotly.js v{version}\n" in python_writes_for
    assert sorted(re.search(r"\(([a-z, ]+)\)", header).group(1).split(", ")) == sorted(TRACE_TYPES)
    assert prefetch_data()["bundle"] == bundle_path()
    assert bundle_path().startswith(f"../../app/static/{BUNDLE.name}?v=")
    # the entry script the page's JavaScript resolves the bundle's URL against (app/chart.py)
    import streamlit

    index = (Path(streamlit.__file__).parent / "static" / "index.html").read_text()
    assert re.search(r'<script type="module"[^>]* src="\./static/js/index\.[\w-]+\.js"', index)

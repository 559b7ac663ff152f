"""Figures built once for everyone: a bounded cache of styled Plotly figures shared by every
session of the server, and the warm-up that builds what every first page needs.

A chart used to be built and styled again on every run of every session: on Charts, five figures
took about 90 % of the server's time of a rerun (Plotly validating every trace and deep-copying
the template, py-spy, issue 24). A figure depends only on what its key names (the configuration,
the language, the figure's options), so the first session to ask builds it and every other one
draws the same object.

Why sharing the figures between sessions is safe:
- A figure is built and styled by one thread, before it is in the table; the table (an
  OrderedDict) is read and changed only under `FigureCache._lock`.
- Sessions only read a shared figure: its dict and its JSON are written when it is frozen, before
  it is in the table, and app.common.draw_figure hands the JSON to app.chart; nothing writes to
  the figure after it is built. A page that wants to change a figure builds its own
  (app.common.show_figure).
- The key carries everything the figure shows: `shared_figure` puts the session's language in it,
  and callers name the view, the chart and the selection (model, alpha, resolution) and any
  option the figure depends on. Per-session settings that are not in the figure (the camera
  button's format) stay in the chart's config, which is not shared.

Setting: MOBILENET_EXPLORER_FIGURE_CACHE (entries, default 256; 0 turns the sharing off, every
run builds its figures as before, which the benchmarks use as their baseline).
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

import plotly.graph_objects as go

from app.chart import written
from app.common import style_figure
from app.i18n import current_language
from mobilenet_core.cache import whole_number_from_env

_LOG = logging.getLogger(__name__)

# A legend under a chart, whatever its width: measured from the foot of the figure ("container"),
# where Plotly makes room for it below the axis' labels. A legend placed in the plot's own units
# (y=-0.25) lands a fixed share of the plot's height below it: on a phone the slanted block names
# are longer than that, and the legend's white box cut them to "blo" (issue 26).
LEGEND_BELOW = dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0, xanchor="left")

# A figure of V3-Large's Charts is about 3 KiB pickled and 3-5 KiB of JSON (kept with it, for
# app.chart): 256 entries, the five charts of 25 configurations in both languages, are a few MiB.
FIGURE_ENTRIES = 256


def _entries_from_env(variable: str = "MOBILENET_EXPLORER_FIGURE_CACHE") -> int:
    return whole_number_from_env(variable, FIGURE_ENTRIES)


class FigureCache:
    """At most `max_entries` built objects (and, with `size`, at most `max_bytes` of them as `size`
    counts), least recently used out first; 0 keeps nothing (each request builds). Concurrent
    requests for one key build it once: the others wait for that build (a per-key lock) while
    other keys are served and built in parallel."""

    def __init__(
        self,
        max_entries: int = FIGURE_ENTRIES,
        max_bytes: int = 0,
        size: Callable[[object], int] | None = None,
    ):
        self.max_entries, self.max_bytes, self.size = max_entries, max_bytes, size
        self._entries: OrderedDict[Hashable, object] = OrderedDict()
        self._bytes: dict[Hashable, int] = {}  # with `size`: each entry's
        self._lock = threading.Lock()  # the table and the per-key locks
        self._building: dict[Hashable, threading.Lock] = {}
        self.builds = 0

    def get(self, key: Hashable, build: Callable[[], object]) -> object:
        if self.max_entries <= 0:
            with self._lock:
                self.builds += 1
            return build()
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
            key_lock = self._building.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:  # built while we waited for the key's lock
                if key in self._entries:
                    self._entries.move_to_end(key)
                    return self._entries[key]
            try:
                value = build()
                nbytes = self.size(value) if self.size is not None else 0
            except BaseException:
                with self._lock:
                    self._building.pop(key, None)
                raise
            with self._lock:  # in the table before the key's lock goes: no second build
                self.builds += 1
                self._entries[key], self._bytes[key] = value, nbytes
                self._building.pop(key, None)
                while len(self._entries) > self.max_entries or (
                    self.size is not None and sum(self._bytes.values()) > self.max_bytes
                ):  # an entry over max_bytes on its own is handed out, not kept
                    self._bytes.pop(self._entries.popitem(last=False)[0], None)
            return value

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes.clear()


FIGURES = FigureCache(_entries_from_env())


class FrozenFigure(go.Figure):
    """A figure that no one changes any more: its dict is made once, when it is frozen, instead of
    on every draw (`to_dict` is a deep copy of the whole figure, about 1 ms a chart: 5.8 of a
    Charts rerun's 6.4 ms of serialising with st.plotly_chart, issue 24), and so is the JSON that
    app.chart sends; the JSON sent is the figure's (test_instant)."""

    def to_dict(self) -> dict:
        spec = self.__dict__.get("_frozen_spec")
        if spec is None:  # a copy (copy.deepcopy, pickle) being made: a figure of its own
            return super().to_dict()
        # new top-level dicts: plotly.io.to_json pops each trace's "uid" from what it is given.
        # What lies below (layout, markers, arrays) is shared by every caller: plotly.io.to_json
        # only reads it, and test_instant checks that after three sessions' draws the spec still
        # equals the figure.
        return {**spec, "data": [dict(trace) for trace in spec["data"]]}


def frozen(fig: go.Figure) -> FrozenFigure:
    """`fig`, from now on read only (never change it after this): its dict is taken now."""
    spec = go.Figure.to_dict(fig)
    fig.__class__ = FrozenFigure
    fig._frozen_spec = spec
    fig._frozen_json = written(fig)
    return fig


def frozen_spec(spec: dict) -> FrozenFigure:
    """A read-only figure drawn from `spec`, a figure's dict (a frozen figure's, with some parts
    put in: a lesson's step), without building and validating a Plotly figure from it."""
    fig = FrozenFigure()
    fig._frozen_spec = spec
    fig._frozen_json = written(fig)
    return fig


def shared_figure(
    key: tuple, build: Callable[[], go.Figure], height: int = 480, cache: FigureCache | None = None, **layout
) -> go.Figure:
    """The figure `build()` makes, in the app's one style (app.common.style_figure with `height`
    and `layout`), built once per (language, *key) for every session. Draw it with
    app.common.draw_figure and never change it: other sessions are drawing the same object.
    `cache`: a bounded cache of the caller's own (default FIGURES), for figures indexed by a
    slider's value, so that a class exploring a slider does not push the pages' figures out."""

    def styled() -> go.Figure:
        fig = build()
        style_figure(fig, height, **layout)
        return frozen(fig)

    return (FIGURES if cache is None else cache).get((current_language(), *key), styled)


def shared_table(key: tuple, build: Callable[[], object]):
    """The table `build()` makes (a pandas DataFrame or a dict of columns), converted to Arrow once
    per (language, *key) for every session. st.table and st.dataframe send an Arrow table as they
    send the frame it came from (the same message, test_instant), but without converting the
    frame again on every run: a quarter of an Overview rerun was that conversion (py-spy, issue
    24). An Arrow table is immutable, so sessions can only read it. Falls back to the frame when
    Arrow cannot take it (Streamlit then converts it as before, reading the frame: st.table and
    st.dataframe never change the data they are given, and no caller changes a shared table)."""

    def arrow():
        import pandas as pd
        import pyarrow as pa

        table = build()
        frame = pd.DataFrame(table) if isinstance(table, dict) else table
        try:
            return pa.Table.from_pandas(frame)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            return frame

    return FIGURES.get((current_language(), "table", *key), arrow)


# --- the warm-up ------------------------------------------------------------------------------------

# What a class opens first: the default selection (V2) and the V3 lessons' network (the SE lesson
# falls back to V3-Large). Building one takes seconds (build, calibration, ONNX export): the first
# student to open a lesson paid it (6.1 s for the SE lesson, issue 24). Together about 120 MiB of
# the shared model cache (app.models), which keeps them like any other entry.
WARM_NETWORKS = ("v2", "v3_large")
_warming = threading.Lock()
_warm_thread: threading.Thread | None = None


def _served() -> bool:
    """Run by `streamlit run` (a server for people), not by a test's AppTest in the same process."""
    import sys

    return "streamlit.web.bootstrap" in sys.modules


# One intra-op thread per network pass in a served app (MOBILENET_EXPLORER_TORCH_THREADS, default 1;
# 0 keeps torch's default of one per core). A class's sessions are the parallelism: with two
# threads per pass on a busy 2-core server, the idle thread of each pass spin-waits (OpenMP, ONNX
# Runtime) for a core other sessions hold. A Classify upload's feature maps (V2, eager PyTorch)
# took 277 core-ms with two threads and 28 with one, at a load average of 12 (issue 24); the
# ONNX runners take their thread count from torch's when they are built.
TORCH_THREADS = 1
_threads_set = False


def server_threads() -> None:
    """Once per process, before the first page's network pass (the first run calls warm_up).
    torch's setting is process-wide: it is written here only, at the start and under `_warming`,
    never by a page; script threads started later take it up on their first parallel operation."""
    global _threads_set
    if _threads_set:
        return
    _threads_set = True
    threads = whole_number_from_env("MOBILENET_EXPLORER_TORCH_THREADS", TORCH_THREADS)
    if threads > 0:  # 0: torch's own default
        import torch

        torch.set_num_threads(threads)


def warm_up() -> threading.Thread | None:
    """Once per process, in a background thread: what the first pages of a class pay once, done
    before they ask (the thread is started by the first session's run; it never blocks a page).
    Off under tests and with MOBILENET_EXPLORER_WARM_UP=0. Returns the thread (None when off).
    A served app also sets torch's threads (server_threads), warm-up or not."""
    global _warm_thread
    if not _served():
        return None
    with _warming:
        server_threads()
    if os.environ.get("MOBILENET_EXPLORER_WARM_UP", "1") == "0":
        return None
    with _warming:
        if _warm_thread is None:
            _warm_thread = threading.Thread(target=_warm, name="mobilenet-explorer-warm-up", daemon=True)
            _warm_thread.start()
    return _warm_thread


WARM_DELAY_S = 3.0  # the first session's own first page goes first (2 cores, one GIL)


def _warm() -> None:
    try:
        import time

        try:  # behind the sessions: a lower priority for this thread (Linux: per-thread nice)
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        except (AttributeError, OSError):
            pass
        time.sleep(WARM_DELAY_S)
        import importlib

        import pandas as pd
        import pyarrow as pa

        import mobilenet_core as mc

        # the page modules (their imports: Plotly's subplots, graphviz, the lessons) and Plotly's
        # validators for every trace type the pages draw, which load on a figure's first use
        for name in (
            "app.screens.charts",
            "app.screens.compare",
            "app.screens.anatomy",
            "app.lessons.common",
        ):
            importlib.import_module(name)
        fig = go.Figure([go.Bar(x=[1], y=[1]), go.Scatter(x=[1], y=[1]), go.Heatmap(z=[[1]])])
        style_figure(fig)
        fig.to_json()
        pa.Table.from_pandas(pd.DataFrame({"a": [1]}))  # st.dataframe's Arrow conversion
        for model in mc.list_models():  # every model's default configuration, counted once
            mc.count(model)
        for model in WARM_NETWORKS:
            _warm_network(model)
        importlib.import_module("app.lessons.bottleneck").warm()  # the spiral's error curve
    except Exception:  # noqa: BLE001 - a warm-up that fails leaves the work to the first page
        _LOG.exception("warm-up failed")


def _warm_network(model: str) -> None:
    """The network a lesson runs for `model` at alpha 1 and its base resolution, as
    app.lessons.common.network chooses it: the published weights when they are in the cache, else the
    seeded untrained network."""
    import mobilenet_core as mc
    from app.models import pretrained_model, untrained_model
    from mobilenet_core.registry import weights_for
    from mobilenet_core.weights import cached_file

    resolution = mc.get_generation(model).base_resolution
    for entry in weights_for(model, 1.0, resolution):
        if cached_file(entry).exists():
            try:
                pretrained_model(entry.name)
                return
            except mc.CheckpointError:
                continue
    untrained_model(model, 1.0, resolution)

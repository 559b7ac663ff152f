"""Built models for the Classify view, shared read-only by every session of the server.

A module-level singleton (imported modules live for the whole server process) rather than
st.cache_resource, so that there is provably one bounded cache however the pages are run.

Why sharing these objects between sessions is safe:
- ModelCache takes its own lock for every change and builds a key once (mobilenet_core.cache).
- The eager module is only read after it is built: predictions go through the FastModel, and
  the explanations (predict.grad_cam, predict.feature_maps) ask the module for intermediate
  tensors with `forward_features` / `block_outputs` instead of hooks, and take gradients with
  respect to activations only, so no parameter, buffer, hook or .grad is ever written
  (tests/test_concurrency.py runs 16 sessions at once and compares bit for bit with serial).
- FastModel holds an ONNX Runtime session, whose run() may be called from several threads at
  once; it keeps no per-call state of its own.
- A session's own uploaded checkpoint lives in its session_state, never here."""

from __future__ import annotations

import mobilenet_core as mc
from mobilenet_core.cache import (
    SHARED_MODELS_ITEMS,
    SHARED_MODELS_MIB,
    ModelCache,
    budget_from_env,
    whole_number_from_env,
)
from mobilenet_core.fast import FastModel
from mobilenet_core.registry import get_weights
from mobilenet_core.weights import ensure_weights, load_checkpoint

# LRU by count and memory: visiting every configuration does not grow memory without limit.
# The budget is a setting, MOBILENET_EXPLORER_MODEL_CACHE_MB (default 1024 MiB: every published
# configuration fits, the largest, V4 Hybrid-L at 504 MiB, included; the measured sizes are in
# mobilenet_core/cache.py and the README).
_BUDGET = budget_from_env("MOBILENET_EXPLORER_MODEL_CACHE_MB", SHARED_MODELS_MIB)
MODEL_CACHE = ModelCache(max_items=SHARED_MODELS_ITEMS, max_bytes=_BUDGET)


THREADS_VARIABLE = "MOBILENET_EXPLORER_RUN_THREADS"


def _run_threads() -> int:
    """Threads one classification runs on: MOBILENET_EXPLORER_RUN_THREADS, default 1.

    One, because a server's cores are shared by a class: ONNX Runtime's pool threads spin on their
    cores between runs, waiting for work. `benchmarks/bench_serving_cpu.py` (a pass every 10 ms,
    2 cores): a pass on one thread costs 1.45-1.86x less CPU than on two (V2: 17 against 27 core-ms;
    V4 Conv-M at 256 px: 36 against 53) and, alone on the machine, takes 1.3-1.6x longer (V2: 14
    against 9 ms; V4 Conv-M: 33 against 22 ms). On a laptop used by one person, 2 answers sooner."""
    return whole_number_from_env(THREADS_VARIABLE, 1, minimum=1)


RUN_THREADS = _run_threads()


def _with_fast(module):
    # Classify's feature maps from the fast pass; exported in the worker process, so that the other
    # sessions go on meanwhile (mobilenet_core.isolate: a process's first export stopped them for 0.9 s)
    return module, FastModel(module, threads=RUN_THREADS, block_taps=True, isolated=True)


def untrained_model(model: str, alpha: float, resolution: int):
    """(eager module, fast runner) of the seeded, untrained network."""
    return MODEL_CACHE.get(("untrained", model, alpha, resolution),
                           lambda: _with_fast(mc.build(model, alpha, resolution)))  # fmt: skip


def int8_runner(source: tuple, module):
    """The INT8 runner (mobilenet_core.quantize.Int8Model, calibrated on the bundled photos) of a
    shared model: `source` is ("pretrained", name) or ("untrained", model, alpha, resolution).
    Quantizing takes a second or two; the runner is cached and shared like the float one."""
    from mobilenet_core.quantize import Int8Model

    return MODEL_CACHE.get(("int8", *source), lambda: Int8Model(module, threads=RUN_THREADS, isolated=True))


def pretrained_model(name: str):
    """(eager module, fast runner) with a published checkpoint already in the cache."""

    def load():
        entry = get_weights(name)
        module = mc.build(entry.model, entry.alpha, entry.resolution)
        return _with_fast(load_checkpoint(module, ensure_weights(entry, allow_download=False)))

    return MODEL_CACHE.get(("pretrained", name), load)


# Callbacks and deferred downloads live here, not in the page script: Streamlit keeps them for
# the session, and a function defined in a page keeps that page's whole namespace (models,
# images) alive through its __globals__.


def switch_to_weights(entry_name: str) -> None:
    import streamlit as st

    entry = get_weights(entry_name)
    st.session_state["model"] = entry.model
    st.session_state["alpha"] = entry.alpha
    st.session_state["resolution"] = entry.resolution
    st.session_state["_previous_model"] = entry.model


def open_checkpoint_upload() -> None:
    import streamlit as st

    st.session_state["show_checkpoint_upload"] = True


def weights_label(name: str) -> str:
    return get_weights(name).label


def onnx_for(source: tuple, uploaded_module=None) -> bytes:
    """ONNX bytes of the model Classify is using: ("untrained", model, alpha, resolution),
    ("pretrained", name) or ("uploaded",) with the session's own module."""
    if source[0] == "uploaded":
        return _export_bytes(uploaded_module)
    if source[0] == "untrained":
        return _export_bytes(untrained_model(*source[1:])[0])
    return _export_bytes(pretrained_model(source[1])[0])


def _export_bytes(module) -> bytes:
    """The module's ONNX export, made in the worker process (the class goes on meanwhile), or here
    when the worker cannot."""
    from mobilenet_core import isolate
    from mobilenet_core.export import export_onnx

    return isolate.run_or_here(export_onnx, module)

"""Latency sweeps measured in the background, shared by every session of the server.

A measured latency is a fact about this machine, not about a session: results go into one
process-wide table, so a point measured for one user is not measured again for the next. Jobs
run one at a time (LatencyJob's lock), in a daemon thread; pages only read their progress.

Why the module-level state here is safe with many sessions at once:
- LATENCY is a SQLite table (mobilenet_core.store) that every replica of `scripts/serve.sh`
  shares (MOBILENET_EXPLORER_SHARED_DIR): each call opens its own connection, writes are single
  upserts, and SQLite's WAL mode lets processes read while one writes.
- _JOBS is changed only under _LOCK; readers `get` one key. Job ids come from a counter that
  never repeats (id() of a finished job could be handed to a new one, and a session still
  holding the old id would then see, or cancel, another session's job).
- A LatencyJob mutates only its own progress counters; pages read them."""

from __future__ import annotations

import itertools
import logging
import threading

import streamlit as st

from app.i18n import t
from mobilenet_core.store import LatencyTable
from mobilenet_core.sweep import LatencyJob, SweepPoint

_log = logging.getLogger(__name__)

LATENCY = LatencyTable()
_JOBS: dict[int, LatencyJob] = {}
_LOCK = threading.Lock()
_IDS = itertools.count(1)


def _key(p: SweepPoint) -> tuple[str, float, int]:
    return (p.model, p.alpha, p.resolution)


def _record(point: SweepPoint) -> None:
    LATENCY[_key(point)] = point.latency_ms


def unmeasured(points: list[SweepPoint]) -> list[SweepPoint]:
    return [p for p in points if _key(p) not in LATENCY]


def with_known_latency(points: list[SweepPoint]) -> list[SweepPoint]:
    return [SweepPoint(**{**p.__dict__, "latency_ms": LATENCY.get(_key(p))}) for p in points]


def start(points: list[SweepPoint], runs: int = 15, warmup: int = 3) -> int:
    """Start measuring the points not measured yet; returns the job's id."""
    job = LatencyJob(unmeasured(points), runs=runs, warmup=warmup, on_point=_record)
    with _LOCK:
        for old in [k for k, j in _JOBS.items() if j.finished]:
            del _JOBS[old]
        job_id = next(_IDS)
        _JOBS[job_id] = job
    job.start()
    return job_id


def get(job_id: int | None) -> LatencyJob | None:
    return _JOBS.get(job_id) if job_id is not None else None


def cancel(job_id: int) -> None:
    job = get(job_id)
    if job is not None:
        job.cancel()


@st.fragment(run_every=1.0)
def progress(state_key: str) -> None:
    """Progress of the session's job, redrawn every second; when it ends, the whole page reruns
    so that charts and tables show the new latencies."""
    job = get(st.session_state.get(state_key))
    if job is None:
        return
    if job.finished:
        st.session_state.pop(state_key, None)
        if job.error:  # the detail is for the server's log, the page says it in the user's words
            _log.warning("latency measurement stopped: %s", job.error)
            st.session_state["sweep_job_error"] = True
        st.rerun(scope="app")
    text = t("measuring_progress", done=job.done, total=job.total) if job.state == "running" else t("queued")
    st.progress(job.done / max(job.total, 1), text=text)
    st.button(t("cancel"), key="sweep_cancel", on_click=cancel, args=(st.session_state[state_key],))

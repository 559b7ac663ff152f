"""What Streamlit itself charges per run and per element, next to what a student's α move on
Overview costs this app (issue 24: the server CPU per action). A bare Streamlit app, served with
this repository's `.streamlit/config.toml`, draws ten elements of one kind per run; the baseline,
measured in the same run, is that app drawing nothing. Then this tree's server (warm-up off) is
measured moving α on Overview, with the messages one run sends.

    .venv/bin/python benchmarks/bench_floor.py [--reruns 40]

CPU is the server's /proc/<pid>/stat (10 ms ticks: the mean over `--reruns` reruns). Students
speak Streamlit's protocol (load_protocol.Student: no browser)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load_protocol as lp  # noqa: E402
from appdriver import ROOT  # noqa: E402
from bench_browser import TreeServer  # noqa: E402
from bench_rerun import Counting  # noqa: E402

COUNT = 10  # elements of one kind per run
# the bare app: ?kind=<name> draws COUNT elements of that kind (the sidebar's and Overview's kinds)
BARE_APP = f"""
import streamlit as st

# declared once per session, as the app declares its components once per process
if "component" not in st.session_state:
    st.session_state["component"] = st.components.v2.component(
        "bench_floor", html="<span></span>", js="export default function (component) {{}}"
    )
COMPONENT = st.session_state["component"]
MODELS = [f"model {{i}}" for i in range(13)]
kind = st.query_params.get("kind", "nothing")
for i in range({COUNT}):
    if kind == "markdown":
        st.markdown(f"element {{i}}")
    elif kind == "caption":
        st.caption(f"element {{i}}")
    elif kind == "html (a style)":
        st.html(f"<style>.x{{i}} {{{{ color: red }}}}</style>")
    elif kind == "metric":
        st.metric(f"metric {{i}}", "1,234,567", "+3 %", delta_color="off", help="help")
    elif kind == "slider":
        st.slider(f"slider {{i}}", 0.25, 1.5, 1.0, 0.05, key=f"s{{i}}")
    elif kind == "selectbox (13 options)":
        st.selectbox(f"select {{i}}", MODELS, key=f"b{{i}}", format_func=str.upper)
    elif kind == "pills (5 options)":
        st.pills(f"pills {{i}}", [0.25, 0.5, 0.75, 1.0, 1.4], key=f"p{{i}}", format_func=lambda a: f"{{a:g}}")
    elif kind == "radio (2 options)":
        st.radio(f"radio {{i}}", ["a", "b"], key=f"r{{i}}", horizontal=True)
    elif kind == "checkbox":
        st.checkbox(f"checkbox {{i}}", key=f"c{{i}}")
    elif kind == "number_input":
        st.number_input(f"number {{i}}", 0.25, 1.5, step=0.05, key=f"n{{i}}", format="%.2f")
    elif kind == "components-v2 element":
        COMPONENT(data={{"i": i}}, key=f"k{{i}}")
    elif kind == "columns(2)":
        st.columns(2)
    elif kind == "horizontal container":
        st.container(horizontal=True)
"""
KINDS = ["markdown", "caption", "html (a style)", "metric", "slider", "selectbox (13 options)",
         "pills (5 options)", "radio (2 options)", "checkbox", "number_input", "components-v2 element",
         "columns(2)", "horizontal container"]  # fmt: skip


def per_run(server: TreeServer, student: lp.Student, queries: list[str], reruns: int) -> float:
    """Server core-ms of one rerun, the mean over `reruns` reruns taking the `queries` in turn
    (after a round of them, at least three reruns, not counted)."""
    for i in range(max(3, len(queries))):
        student.rerun(queries[i % len(queries)])
    time.sleep(0.3)
    cpu = lp.cpu_seconds(server.proc.pid)
    for i in range(reruns):
        student.rerun(queries[i % len(queries)])
    time.sleep(0.3)  # the last run's messages leave the event loop
    return (lp.cpu_seconds(server.proc.pid) - cpu) / reruns * 1000


def bare(reruns: int) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="bench_floor_"))
    try:
        (work / "app").mkdir()
        (work / "app" / "main.py").write_text(BARE_APP)
        shutil.copytree(ROOT / ".streamlit", work / ".streamlit")
        server = TreeServer(work)
        try:
            student = lp.Student(server.url)
            student.connect()
            costs = {"nothing": per_run(server, student, ["kind=nothing"], reruns)}
            for kind in KINDS:
                costs[kind] = per_run(server, student, [f"kind={kind}"], reruns)
            costs["nothing, again"] = per_run(server, student, ["kind=nothing"], reruns)
            student.close()
            return costs
        finally:
            server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def app_alpha(reruns: int) -> tuple[float, Counter, int]:
    """This tree: (core-ms, element kinds, messages) of an α move on Overview, V3-Large."""
    server = TreeServer(ROOT, {"MOBILENET_EXPLORER_OFFLINE": "1", "MOBILENET_EXPLORER_WARM_UP": "0"})
    try:
        student = Counting(server.url)
        student.connect()
        student.rerun("model=v3_large&lang=en")
        moves = [f"model=v3_large&lang=en&alpha={alpha}" for alpha in ("0.5", "0.75", "1.0", "1.25")]
        ms = per_run(server, student, moves, reruns)
        before = student.received
        student.rerun("model=v3_large&lang=en&alpha=0.5")
        messages = student.received - before
        kinds = Counter(kind for kind, _ in student.elements)
        student.close()
        return ms, kinds, messages
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reruns", type=int, default=40)
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)\n")
    costs = bare(args.reruns)
    empty = (costs["nothing"] + costs["nothing, again"]) / 2
    print(f"A bare Streamlit app, {COUNT} elements of one kind per run; baseline: the same app drawing "
          f"nothing, {empty:.1f} core-ms a run (measured first and last: {costs['nothing']:.1f}, "
          f"{costs['nothing, again']:.1f})\n")  # fmt: skip
    print("| kind | core-ms per run | ratio to the empty run | core-ms per element |")
    print("|---|---|---|---|")
    for kind in KINDS:
        cost = costs[kind]
        print(f"| {kind} | {cost:.1f} | {cost / empty:.1f}x | {(cost - empty) / COUNT:.2f} |")
    ms, kinds, messages = app_alpha(args.reruns)
    elements = f"{sum(kinds.values())} elements ({', '.join(f'{k} {n}' for k, n in kinds.most_common())})"
    print(f"\nThis app, an α move on Overview (V3-Large): {ms:.1f} core-ms a run, {ms / empty:.1f}x "
          f"the empty run; {elements}; {messages} messages (elements, blocks, session)")  # fmt: skip
    load = os.getloadavg()
    print(f"load average after {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()

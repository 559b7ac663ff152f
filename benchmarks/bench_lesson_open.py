"""Server CPU time of a student opening each lesson (a new session's first run of the page), a
baseline checkout and this tree, in alternation so that both see the same load. Students speak
Streamlit's protocol (load_protocol.Student: no browser), CPU read from each server's
/proc/<pid>/stat (core-ms, 10 ms ticks: the mean of a few visits), after two visits per page that
are not counted (the class's first builds happen once per server).

    git worktree add --detach /tmp/base <rev>
    .venv/bin/python benchmarks/bench_lesson_open.py /tmp/base [--visits 4]

What a class of 30 pays when the teacher says "open the SE lesson" is 30 of these; the server's
warm-up thread is off on both servers (MOBILENET_EXPLORER_WARM_UP=0), so nothing else runs."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load_protocol as lp  # noqa: E402
from appdriver import ROOT  # noqa: E402
from bench_browser import TreeServer  # noqa: E402

# (page, model): each lesson on a model it is about
PAGES = [
    ("lessons", "v2"),
    ("lesson-separable", "v2"),
    ("lesson-multipliers", "v2"),
    ("lesson-bottleneck", "v2"),
    ("lesson-inverted-residual", "v2"),
    ("lesson-se", "v3_large"),
    ("lesson-activations", "v3_large"),
    ("lesson-uib", "v4_conv_small"),
    ("lesson-attention", "v4_hybrid_medium"),
    ("lesson-roofline", "v4_conv_small"),
    ("lesson-fused-ib", "v4_conv_small"),
    ("", "v2"),  # Overview, for scale: Streamlit's own cost of a page
]


def open_page(server: TreeServer, page: str, model: str) -> tuple[float, float]:
    """A new student opens the app, then the page: (wall s, server core-s) of the page's run."""
    student = lp.Student(server.url)
    student.connect()
    student.rerun(f"model={model}&lang=en")
    if page and page not in student.pages:  # an unknown name would open the Overview instead
        raise SystemExit(f"{server.url} has no page {page!r}")
    cpu, start = lp.cpu_seconds(server.proc.pid), time.perf_counter()
    student.rerun(f"model={model}&lang=en", page)
    wall, used = time.perf_counter() - start, lp.cpu_seconds(server.proc.pid) - cpu
    student.close()
    return wall, used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("baseline", type=Path, help="another checkout of the app (a git worktree)")
    parser.add_argument("--visits", type=int, default=4)
    args = parser.parse_args()
    env = {"MOBILENET_EXPLORER_OFFLINE": "1", "MOBILENET_EXPLORER_WARM_UP": "0"}
    servers = {"baseline": TreeServer(args.baseline, env), "now": TreeServer(ROOT, env)}
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)")
    rows = []
    try:
        for page, model in PAGES:
            got: dict[str, list[tuple[float, float]]] = {name: [] for name in servers}
            for server in servers.values():  # the first builds and draws: not counted
                open_page(server, page, model)
                open_page(server, page, model)
            for _ in range(args.visits):
                for name, server in servers.items():
                    got[name].append(open_page(server, page, model))
            cpu = {n: 1000 * statistics.mean(c for _, c in v) for n, v in got.items()}
            wall = {n: 1000 * statistics.median(w for w, _ in v) for n, v in got.items()}
            rows.append((page or "Overview", model, cpu, wall))
    finally:
        for server in servers.values():
            server.stop()
    print(f"\na new session opens the page: server core-ms (mean of {args.visits}), wall ms (median);")
    print(f"baseline = {args.baseline}, now = this tree, in alternation\n")
    print("| page | model | core-ms baseline | core-ms now | ratio | wall ms baseline | wall ms now |")
    print("|---|---|---|---|---|---|---|")
    for page, model, cpu, wall in rows:
        ratio = cpu["baseline"] / max(cpu["now"], 1e-9)
        print(f"| {page} | {model} | {cpu['baseline']:.0f} | {cpu['now']:.0f} | {ratio:.1f}x | "
              f"{wall['baseline']:.0f} | {wall['now']:.0f} |")  # fmt: skip
    lessons = [r for r in rows if r[0] != "Overview"]
    before = statistics.mean(r[2]["baseline"] for r in lessons)
    after = statistics.mean(r[2]["now"] for r in lessons)
    print(f"\nlessons, mean core-ms: {before:.0f} -> {after:.0f} ({before / after:.1f}x)")
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()

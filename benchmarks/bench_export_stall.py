"""How long a server stands still while a network is exported to ONNX: the export in the server's
process (the baseline) against the export in the worker process (mobilenet_core.isolate).

    .venv/bin/python benchmarks/bench_export_stall.py [--models v2 v3_large ...] [--served BASELINE_DIR]

Part 1, the library: in a fresh process per mode, a thread wakes every millisecond while another
builds each runner in turn, as the app does: FastModel(block_taps=True) (lessons, Classify),
FastModel without block outputs ("lab:", the design lab's timing) and Int8Model ("int8:"). The
table gives each build's time and the longest the waking thread waited (the interpreter lock
held). The first row also pays what a process's first export pays (importing onnx, or starting
the worker).

Part 2, with --served DIR (another checkout of the app, e.g. a git worktree of the baseline
commit): a just-started server of DIR, then of this tree; a student opens Overview and moves α
every 0.2 s for 15 s while the server's warm-up builds the lessons' networks; the table gives
the longest and the 95th-percentile answer, and how many answers took over 0.25 s. The servers run
one after the other.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

CHILD = r"""
import json, sys, threading, time
sys.path.insert(0, {root!r})
import mobilenet_core as mc
from mobilenet_core.fast import FastModel
isolated, models = {isolated!r}, {models!r}
rows, current, done, worst = [], [None], [False], {{}}
def build():
    from mobilenet_core.quantize import Int8Model
    for row in models:
        kind, _, model = row.rpartition(":")
        module = mc.build(model).eval()
        current[0] = row
        start = time.perf_counter()
        if kind == "int8":
            Int8Model(module, isolated=isolated)
        else:  # the app's runner has the block outputs; the lab's has none
            FastModel(module, block_taps=kind != "lab", isolated=isolated)
        rows.append((row, time.perf_counter() - start))
        current[0] = None
    done[0] = True
thread = threading.Thread(target=build)
thread.start()
while not done[0]:
    t = time.perf_counter(); time.sleep(0.001); late = time.perf_counter() - t - 0.001
    if current[0] is not None:
        worst[current[0]] = max(worst.get(current[0], 0.0), late)
thread.join()
print(json.dumps([[m, s, worst.get(m, 0.0)] for m, s in rows]))
"""


def library(models: list[str], isolated: bool) -> dict[str, tuple[float, float]]:
    code = CHILD.format(root=str(ROOT), isolated=isolated, models=models)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return {m: (s, w) for m, s, w in json.loads(out.stdout.strip().splitlines()[-1])}


def served(root: Path, seconds: float = 15.0) -> list[float]:
    import load_protocol as lp
    from bench_browser import TreeServer

    server = TreeServer(root, {"MOBILENET_EXPLORER_OFFLINE": "1"})
    try:
        student = lp.Student(server.url)
        student.connect()
        student.rerun("model=v3_large&lang=en")  # the first page: the warm-up starts 3 s after
        answers, start, i = [], time.perf_counter(), 0
        while time.perf_counter() - start < seconds:
            alpha = ("0.5", "0.75", "1.0", "1.25")[i % 4]
            i += 1
            t = time.perf_counter()
            student.rerun(f"model=v3_large&lang=en&alpha={alpha}")
            answers.append(time.perf_counter() - t)
            time.sleep(0.2)
        student.close()
        return answers
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", help="MODEL, lab:MODEL (no block outputs) or int8:MODEL",
                        default=["v2", "v3_large", "v4_conv_large", "v4_hybrid_large", "lab:v4_hybrid_large",
                                 "int8:v2", "int8:v4_conv_large"])  # fmt: skip
    parser.add_argument("--served", type=Path, help="another checkout of the app: part 2 against it")
    args = parser.parse_args()
    here, there = library(args.models, False), library(args.models, True)
    print("\nEach runner built beside a thread that wakes every millisecond")
    print("(a fresh process per mode; the first model pays the process's first export)\n")
    print("| runner | build, export here | longest wait, here | build, export in the worker"
          " | longest wait, worker | wait ratio |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for model in args.models:
        (s0, w0), (s1, w1) = here[model], there[model]
        print(f"| {model} | {s0:.2f} s | {1000 * w0:.0f} ms | {s1:.2f} s | {1000 * w1:.0f} ms"
              f" | {w0 / max(w1, 1e-4):.1f}x |")  # fmt: skip
    if args.served:
        rows = [("baseline", served(args.served)), ("this tree", served(ROOT))]
        print("\nA student moving α every 0.2 s on a just-started server, during its warm-up (15 s)\n")
        print("| server | answers | longest | p95 | median | over 0.25 s |")
        print("|---|---|---|---|---|---|")
        for name, answers in rows:
            ordered = sorted(answers)
            p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
            slow = sum(a > 0.25 for a in answers)
            print(f"| {name} | {len(answers)} | {max(answers):.2f} s | {p95:.2f} s |"
                  f" {statistics.median(answers) * 1000:.0f} ms | {slow} |")  # fmt: skip


if __name__ == "__main__":
    main()

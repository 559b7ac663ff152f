"""Time from a slider change to the updated page, against the first full render; or, with
--profile-actions, where the server's CPU goes in each action of a student's visit.

Run: .venv/bin/python benchmarks/bench_app.py [--runs N]
     .venv/bin/python benchmarks/bench_app.py --profile-actions [--visits 4] [--root DIR]
Starts `streamlit run app/main.py` on 127.0.0.1, drives Debian's chromium with Playwright:
the baseline is a fresh page load until the totals show; then each run presses the alpha
slider's arrow key once and waits until the MACs metric shows the new exact value (so the
timing covers the rerun, the network round trip and the browser's redraw). Per model and view.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from appdriver import ALPHA_SHOWN, ALPHA_THUMB, CHROMIUM, FLAGS, ROOT, Server, idle

# --profile-actions: py-spy (a measuring tool only: `.venv/bin/pip install py-spy`) samples the
# server around each action of load_protocol's student script, one student alone on a server
# without the warm-up; each action's samples are sorted into the parts below (first rule that
# matches a stack), and each part is shown as its share of the action's measured CPU time.
IDLE = ("time_sleep", "PyThread_acquire_lock_timed", "epoll_wait", "_queue_SimpleQueue_get",
        "Condition.wait", "pthread_cond", "sem_wait", "select_epoll_poll", "PollingPathWatcher",
        "EpollSelector.select")  # fmt: skip
SCRIPT = "ScriptRunner._run_script"
SENT = re.compile("(?i)websocket|serializ")
PARTS = [
    ("feature maps (eager PyTorch)", lambda s: "feature_maps (" in s or "feature_map_grid" in s),
    ("classification (ONNX Runtime)", lambda s: "classify (mobilenet_core/predict" in s),
    ("photo decode", lambda s: "load_image" in s),
    ("st.image", lambda s: "ImageMixin.image" in s),
    ("figures: the chart element", lambda s: "PlotlyMixin.plotly_chart" in s or "app/chart.py" in s),
    ("figures: build and style", lambda s: SCRIPT in s and ("plotly/" in s or "_figure" in s)),
    ("tables: st.table, st.dataframe", lambda s: "TableMixin.table" in s or "ArrowMixin.dataframe" in s),
    ("deltas handed to the event loop", lambda s: SCRIPT in s and "_enqueue_forward_msg" in s),
    ("sidebar (app/state.py)", lambda s: SCRIPT in s and ("sidebar_selection" in s or "_picker" in s)),
    ("main.py: pages, navigation", lambda s: SCRIPT in s and "Page.run" not in s),
    ("the page's code and elements", lambda s: SCRIPT in s),
    ("event loop: serialise, websocket", lambda s: "run_forever" in s and bool(SENT.search(s))),
    ("event loop: session messages, HTTP", lambda s: "run_forever" in s),
    ("other threads", lambda s: True),
]


def profile_actions(root: Path, visits: int) -> None:
    """One student's visits (load_protocol's script), py-spy recording each action on its own."""
    import load_protocol as lp
    from bench_browser import TreeServer

    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy (for measuring only)")
    env = {"MOBILENET_EXPLORER_OFFLINE": "1", "MOBILENET_EXPLORER_WARM_UP": "0"}
    os.environ.update(env)
    expected = lp.expected_top5()
    out = Path(tempfile.mkdtemp(prefix="mne_profile_"))
    server = TreeServer(root, env)
    pid, cpu = server.proc.pid, collections.defaultdict(list)
    parts = collections.defaultdict(collections.Counter)

    def record(action: str, fn) -> None:
        trace = out / f"{len(cpu[action])}_{action}.txt"
        command = [str(spy), "record", "-p", str(pid), "-f", "raw", "-r", "250", "-n", "-o", str(trace)]
        recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.8)  # py-spy attached
        before = lp.cpu_seconds(pid)
        fn()
        time.sleep(0.3)  # the run's last messages leave the event loop
        cpu[action].append(lp.cpu_seconds(pid) - before)
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=60)
        for line in trace.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not any(word in stack for word in IDLE):
                parts[action][next(name for name, rule in PARTS if rule(stack))] += int(count)

    results = lp.Results()
    try:
        lp.run_level(server.url, [pid], 2, (0.2, 0.5), expected)  # first builds and draws, not counted
        for seed in range(visits):
            lp.visit(server.url, results, expected, (0.2, 0.3), seed, time.time() + lp.RUN_LIMIT_S,
                     around=record)  # fmt: skip
    finally:
        server.stop()
    if results.errors:
        print("errors:", results.errors)
    actions = list(cpu)
    print(f"server {root}, {visits} visits, load average {os.getloadavg()[0]:.1f}; core-ms, py-spy attached")
    print("| part | " + " | ".join(actions) + " |\n|---|" + "---|" * len(actions))
    mean = {a: statistics.mean(cpu[a]) * 1000 for a in actions}
    for name, _ in PARTS:
        shares = [mean[a] * parts[a][name] / max(sum(parts[a].values()), 1) for a in actions]
        if any(v >= 0.5 for v in shares):
            print(f"| {name} | " + " | ".join(f"{v:.0f}" for v in shares) + " |")
    print("| **total** | " + " | ".join(f"{mean[a]:.0f}" for a in actions) + " |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--profile-actions", action="store_true", help="py-spy per action of a visit")
    parser.add_argument("--visits", type=int, default=4)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout the profiled server runs")
    args = parser.parse_args()
    if args.profile_actions:
        return profile_actions(args.root.resolve(), args.visits)
    from playwright.sync_api import sync_playwright

    server = Server()
    url = server.url
    try:
        print(
            f"{'model':<18} {'view':<9} {'first render ms':>16} {'slider→page ms (median)':>24} {'ratio':>7}"
        )
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            for model in ("v2", "v4_hybrid_large"):
                for view in ("", "graph", "charts"):
                    page = browser.new_page(viewport={"width": 1500, "height": 1000})
                    start = time.perf_counter()
                    page.goto(f"{url}/{view}?model={model}&alpha=0.5")
                    if view:
                        page.locator(".js-plotly-plot, [data-testid=stImage] img").first.wait_for()
                    else:
                        page.locator('[data-testid="stMetric"]').first.wait_for()
                    idle(page)
                    first = time.perf_counter() - start
                    times = []
                    thumb = page.locator(ALPHA_THUMB)
                    for _ in range(args.runs):
                        marker = page.locator(ALPHA_SHOWN).first
                        old = marker.inner_text()
                        thumb.focus()
                        start = time.perf_counter()
                        thumb.press("ArrowRight")
                        # every view's heading carries alpha: wait until it shows the new value
                        new = f"α = {float(old) + 0.05:g} ·"
                        page.wait_for_function(
                            "t => document.querySelector('[data-testid=stMain]').innerText.includes(t)",
                            arg=new,
                            timeout=60000,
                        )
                        idle(page)
                        times.append(time.perf_counter() - start)
                    median = statistics.median(times)
                    print(
                        f"{model:<18} {view or 'overview':<9} {first * 1e3:>16.0f} {median * 1e3:>24.0f} "
                        f"{median / first:>7.2f}"
                    )
                    page.close()
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()

"""Time from a slider change to the updated page, against the first full render.

Run: .venv/bin/python benchmarks/bench_app.py [--runs N]
Starts `streamlit run app/main.py` on 127.0.0.1, drives Debian's chromium with Playwright:
the baseline is a fresh page load until the totals show; then each run presses the alpha
slider's arrow key once and waits until the MACs metric shows the new exact value (so the
timing covers the rerun, the network round trip and the browser's redraw). Per model and view.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


def metric(page, label):
    return (
        page.locator('[data-testid="stMetric"]')
        .filter(has_text=label)
        .first.locator('[data-testid="stMetricValue"]')
        .inner_text()
    )


def wait_metric_change(page, label, old, timeout=60):
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        try:
            value = metric(page, label)
            if value and value != old:
                return value
        except Exception:  # noqa: BLE001 - re-rendering
            pass
        time.sleep(0.005)
    raise TimeoutError(label)


def wait_status_idle(page):
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60000)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app/main.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        print(
            f"{'model':<18} {'view':<9} {'first render ms':>16} {'slider→page ms (median)':>24} {'ratio':>7}"
        )
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            for model in ("v2", "v4_hybrid_large"):
                for view in ("", "graph", "charts"):
                    page = browser.new_page(viewport={"width": 1500, "height": 1000})
                    start = time.perf_counter()
                    page.goto(f"{url}/{view}?model={model}&alpha=0.5")
                    if view:
                        page.locator(".js-plotly-plot, [data-testid=stImage] img").first.wait_for()
                    else:
                        page.locator('[data-testid="stMetric"]').first.wait_for()
                    wait_status_idle(page)
                    first = time.perf_counter() - start
                    times = []
                    thumb = page.locator('[data-testid="stSidebar"] input[type="range"]').first
                    for _ in range(args.runs):
                        marker = page.locator(
                            '[data-testid="stSidebar"] [data-testid="stSliderThumbValue"]'
                        ).first
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
                        wait_status_idle(page)
                        times.append(time.perf_counter() - start)
                    median = statistics.median(times)
                    print(
                        f"{model:<18} {view or 'overview':<9} {first * 1e3:>16.0f} {median * 1e3:>24.0f} "
                        f"{median / first:>7.2f}"
                    )
                    page.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()

"""Time from a slider change to the updated page, against the first full render.

Run: .venv/bin/python benchmarks/bench_app.py [--runs N]
Starts `streamlit run app/main.py` on 127.0.0.1, drives Debian's chromium with Playwright:
the baseline is a fresh page load until the totals show; then each run presses the alpha
slider's arrow key once and waits until the MACs metric shows the new exact value (so the
timing covers the rerun, the network round trip and the browser's redraw). Per model and view.
"""

from __future__ import annotations

import argparse
import statistics
import time

from appdriver import CHROMIUM, FLAGS, Server, idle
from playwright.sync_api import sync_playwright


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
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

"""Server CPU time per lesson interaction ("Next step" of the separable lesson, the spiral's n of the
bottleneck lesson): a baseline checkout and this tree, driven in alternation in headless Chromium so
that both see the same load, CPU read from each server's /proc/<pid>/stat (core-ms, Linux).

    git worktree add --detach /tmp/base <rev>
    .venv/bin/python benchmarks/bench_lesson_cpu.py /tmp/base --rounds 6

Wall times on a loaded machine say little (bench_browser.py runs its two servers one after the
other); the server's CPU per action is what a class shares."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from appdriver import CHROMIUM, FLAGS, ROOT  # noqa: E402
from bench_browser import IDLE, VIEWPORT, Probe, TreeServer, timed  # noqa: E402

TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")
PAGES = {"next_step": "lesson-separable", "spiral": "lesson-bottleneck"}


def cpu_ms(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_MS  # utime + stime of every thread


def open_lesson(browser, url: str, path: str):
    page = browser.new_page(viewport=VIEWPORT)
    probe = Probe(page)
    page.goto(f"{url}/{path}?model=v2&lang=en")
    page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=180000)
    page.wait_for_function(IDLE, timeout=180000)
    return page, probe


def act(page, probe, pid: int, kind: str, i: int) -> tuple[float, float]:
    """(server core-ms, wall s) of one interaction; the spiral goes up four steps, then down."""
    if kind == "next_step":
        action = page.get_by_role("button", name="Next step").click
    else:
        thumb = page.locator('.st-key-spiral_n input[type="range"]').first
        thumb.focus()
        key = "ArrowRight" if i % 8 < 4 else "ArrowLeft"

        def action():
            thumb.press(key)

    before = cpu_ms(pid)
    wall = timed(page, probe, action)["total"]
    time.sleep(0.3)  # the tail of the server's run (session state, caches)
    return cpu_ms(pid) - before, wall


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("baseline", type=Path, help="another checkout of the app (a git worktree)")
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    servers = {"baseline": TreeServer(args.baseline), "now": TreeServer(ROOT)}
    out: dict = {(k, kind): [] for k in servers for kind in PAGES}
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            for kind, path in PAGES.items():
                pages = {k: open_lesson(browser, s.url, path) for k, s in servers.items()}
                for k, s in servers.items():  # one warm-up interaction each
                    act(*pages[k], s.proc.pid, kind, 0)
                for i in range(1, args.rounds + 1):
                    for k, s in servers.items():
                        out[(k, kind)].append(act(*pages[k], s.proc.pid, kind, i))
            browser.close()
    finally:
        for s in servers.values():
            s.stop()
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    print(f"medians of {args.rounds} rounds")
    print("| interaction | baseline core-ms | now core-ms | ratio | baseline wall s | now wall s |")
    print("|---|---|---|---|---|---|")
    for kind in PAGES:
        base, now = out[("baseline", kind)], out[("now", kind)]
        bc, nc = statistics.median(c for c, _ in base), statistics.median(c for c, _ in now)
        bw, nw = statistics.median(w for _, w in base), statistics.median(w for _, w in now)
        print(f"| {kind} | {bc:.0f} | {nc:.0f} | {bc / max(nc, 1):.1f}x | {bw:.2f} | {nw:.2f} |")


if __name__ == "__main__":
    main()

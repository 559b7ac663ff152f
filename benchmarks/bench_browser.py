"""Time from an action to the page being idle again, in headless Chromium (1440x900) against a real
server: the interactions of issue 24, three runs each, median and max, the goal beside each, and a
baseline server measured in the same run.

    .venv/bin/python benchmarks/bench_browser.py [--runs 3] [--baseline-rev REV] [--only NAME ...]

The baseline is the same tree with the shared figure cache off (MOBILENET_EXPLORER_FIGURE_CACHE=0),
or, with --baseline-rev, the app as it was at a git revision (run from a temporary worktree with
this venv). The servers run one after the other, never at once.

A click is timed from the mouse press on an element already found, visible and still (Playwright's
checks before a click, tens of ms each, are not the app's time); switching model is two
interactions, the list opening (the browser alone) and a model chosen in it.

Each time is split by the websocket frames: until the browser sent its rerun request ("client"),
until the server's script-finished message arrived ("server": the run and its messages), and until
the page is drawn and idle ("render": Streamlit's status widget gone, the page's own sign of the
new state shown, two animation frames painted).

Under the table, the first lesson's loads seen from the page (from its navigation's start): its first
content, the last placeholder Streamlit's frontend showed for an element whose code was loading, the
moment every widget was shown, and the chart drawn (REVEAL_WATCH; README, issue 24).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from appdriver import ALPHA, ALPHA_THUMB, CHROMIUM, FLAGS, ROOT, Server, wait_healthy  # noqa: E402

VIEWPORT = {"width": 1440, "height": 900}
TITLES = {"v3_large": "MobileNetV3-Large", "v2": "MobileNetV2"}
HEADINGS = {"en": "MobileNet Explorer", "zh": "MobileNet 探索器"}
PAINTED = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"
IDLE = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"


class TreeServer(Server):
    """appdriver.Server, run from another checkout of the app (`root`) with this venv."""

    def __init__(self, root: Path, env: dict | None = None):  # noqa: D107 - Server's, with cwd=root
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app/main.py", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **(env or {})},
        )  # fmt: skip
        self.url = f"http://127.0.0.1:{self.port}"
        wait_healthy(self.url)


class Probe:
    """The page's websocket, seen from Python: when the browser sent a rerun request and when the
    server's script-finished message came back (tiny frames only are parsed)."""

    def __init__(self, page):
        self.sent: list[float] = []
        self.finished: list[float] = []
        page.on("websocket", self._attach)

    def _attach(self, ws) -> None:
        ws.on("framesent", self._sent)
        ws.on("framereceived", self._received)

    def _sent(self, payload) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        if isinstance(payload, bytes):
            msg = BackMsg()
            msg.ParseFromString(payload)
            if msg.WhichOneof("type") == "rerun_script":
                self.sent.append(time.perf_counter())

    def _received(self, payload) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        if isinstance(payload, bytes) and len(payload) < 200:
            msg = ForwardMsg()
            msg.ParseFromString(payload)
            if (
                msg.WhichOneof("type") == "script_finished"
                and msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN
            ):
                self.finished.append(time.perf_counter())

    def mark(self) -> tuple[int, int]:
        return len(self.sent), len(self.finished)


def timed(page, probe: Probe, action, shown: str | None = None, arg=None) -> dict:
    """Run `action`, wait until the server finished the run it caused, the page shows `shown` (a JS
    predicate) and is idle and painted; returns the total and its parts in seconds."""
    sent0, finished0 = probe.mark()
    start = time.perf_counter()
    action()
    deadline = time.time() + 120
    while len(probe.finished) <= finished0:
        if time.time() > deadline:
            raise TimeoutError("no script-finished message")
        page.wait_for_timeout(5)
    if shown:
        page.wait_for_function(shown, arg=arg, timeout=120000)
    page.wait_for_function(IDLE, timeout=120000)
    page.evaluate(PAINTED)
    end = time.perf_counter()
    sent = probe.sent[sent0] if len(probe.sent) > sent0 else start
    finished = probe.finished[-1]
    return {"total": end - start, "client": sent - start, "server": finished - sent, "render": end - finished}


def timed_here(page, action, shown: str, arg=None) -> dict:
    """Run `action`, an interaction the browser answers alone (no run on the server), until the page
    shows `shown` and has painted it; the total (all of it the browser's) in seconds."""
    start = time.perf_counter()
    action()
    page.wait_for_function(shown, arg=arg, timeout=120000, polling="raf")
    page.evaluate(PAINTED)
    total = time.perf_counter() - start
    return {"total": total, "client": total, "server": 0.0, "render": 0.0}


def click_of(locator):
    """A click on `locator` as the user makes it: the element is found, visible and still (Playwright's
    checks, before the clock starts), then the returned function presses the mouse at its centre.
    A timed locator.click() would count those checks (tens of ms a click) as the app's time."""
    from playwright.sync_api import Error

    box, deadline = None, time.time() + 120
    while True:  # the same box twice, 50 ms apart: past any animation or redraw of the element
        try:
            locator.scroll_into_view_if_needed(timeout=120000)  # on screen, where the user sees it
            locator.page.wait_for_timeout(50)
            previous, box = box, locator.bounding_box()
        except Error:  # redrawn meanwhile (detached): found again
            box = None
        if box is not None and box == previous:
            break
        if time.time() > deadline:
            raise TimeoutError(f"{locator} did not stand still")
    return lambda: locator.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


MAIN_HAS = "t => document.querySelector('[data-testid=stMain]').innerText.includes(t)"
LISTED = "name => [...document.querySelectorAll('[role=option]')].some(o => o.innerText.trim() === name)"


# the page's title: an h1 since issue 26, a subheader (h3) before (a --baseline-rev from then)
TITLE_HAS = (
    "t => [...document.querySelectorAll('[data-testid=stMain] :is(h1, h3)')]"
    ".some((h) => h.innerText.includes(t))"
)
# the sidebar's links: the app's navigation component (app/navigation.py), before it one
# st.page_link per page (a --baseline-rev from then), before that Streamlit's own navigation
NAV_LINK = '.mn-nav a, [data-testid="stPageLink-NavLink"]'
OLD_NAV_LINK = '[data-testid="stSidebarNavLink"]'


PLOTS_DRAWN = "n => document.querySelectorAll('[data-testid=stMain] .js-plotly-plot .main-svg').length >= n"


def thumb_value(page, scope: str) -> str:
    return page.locator(f'{scope} [data-testid="stSliderThumbValue"]').first.inner_text()


# --- the interactions ---------------------------------------------------------------------------------


# In the page, from its navigation's start (ms): the first content of the page (its title), each
# placeholder Streamlit's frontend shows for an element whose code is still loading (a skeleton),
# the moment none is left (every widget shown) and the chart drawn
REVEAL_WATCH = r"""
(() => {
  const seen = window.mneReveal = { content: null, placeholders: [], revealed: null, drawn: null };
  const SKELETON = '[data-testid=stSkeleton]', PLOT = '[data-testid=stMain] .js-plotly-plot .main-svg';
  new MutationObserver((mutations) => {
    const now = performance.now();
    if (seen.content === null && document.querySelector('[data-testid=stMain] h1')) seen.content = now;
    if (seen.content === null) return;
    for (const m of mutations) for (const n of m.addedNodes) {
      if (n.nodeType === 1 && (n.matches(SKELETON) || n.querySelector(SKELETON))) {
        seen.placeholders.push(now);
      }
    }
    if (seen.placeholders.length && seen.revealed === null && !document.querySelector(SKELETON)) {
      seen.revealed = now;
    }
    if (seen.drawn === null && document.querySelector(PLOT)) seen.drawn = now;
  }).observe(document, { subtree: true, childList: true });
})();
"""


def first_lesson_load(browser, url: str, runs: int, tab_of=None) -> list[dict]:
    """The SE lesson on V3-Large in a fresh session until its figure is drawn: in a new browser
    context (nothing cached), or with `tab_of` a context, in a new tab of it (its HTTP cache warm).
    Each result also has the page's own times (REVEAL_WATCH, in s) under "page"."""
    times = []
    for _ in range(runs):
        context = tab_of or browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        page.add_init_script(REVEAL_WATCH)
        probe = Probe(page)
        times.append(
            timed(
                page, probe, lambda p=page: p.goto(f"{url}/lesson-se?model=v3_large&lang=en"), PLOTS_DRAWN, 1
            )
        )
        seen = page.evaluate("window.mneReveal")
        if all(seen[k] is not None for k in ("content", "revealed", "drawn")):
            last = max(t for t in seen["placeholders"] if t <= seen["revealed"])
            times[-1]["page"] = {"content": seen["content"] / 1000, "last_placeholder": last / 1000,
                                 "revealed": seen["revealed"] / 1000,
                                 "drawn": seen["drawn"] / 1000}  # fmt: skip
        page.close()
        if tab_of is None:
            context.close()
    return times


def first_chart_page(browser, url: str, runs: int, reading_ms: int = 3000) -> list[dict]:
    """A student's first chart page: Overview (no chart) in a new browser context, a few seconds
    of reading, then Compare until its three charts are drawn (Plotly's chunk is run by then,
    by the app's prefetch while the student read, or with the first chart)."""
    times = []
    for _ in range(runs):
        context, page, probe = overview_in_new_context(browser, url)
        page.wait_for_timeout(reading_ms)
        link = click_of(page.locator(f'[data-testid="stSidebar"] {COMPARE_LINK}'))
        times.append(timed(page, probe, link, PLOTS_DRAWN, 3))
        context.close()
    return times


# the app's own page links since issue 26 (relative hrefs), Streamlit's navigation before
COMPARE_LINK = f":is(:is({NAV_LINK})[href='compare'], {OLD_NAV_LINK}[href$='/compare'])"


def overview_in_new_context(browser, url: str):
    """A new browser context on Overview (V3-Large), drawn and idle: (context, page, its Probe)."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    probe = Probe(page)
    page.goto(f"{url}/?model=v3_large&lang=en")
    page.locator('[data-testid="stMetric"]').first.wait_for(timeout=120000)
    page.wait_for_function(IDLE, timeout=120000)
    return context, page, probe


def overview_actions(browser, url: str, runs: int) -> dict[str, list[dict]]:
    """Move alpha, switch model, switch language, open Compare: one session, on Overview."""
    context, page, probe = overview_in_new_context(browser, url)
    out: dict[str, list[dict]] = {"alpha": [], "model_list": [], "model": [], "language": [], "compare": []}
    sidebar = '[data-testid="stSidebar"]'
    for _ in range(runs):
        thumb = page.locator(ALPHA_THUMB)
        old = float(thumb_value(page, ALPHA))
        thumb.focus()
        new = f"α = {old + 0.05:g} ·"
        out["alpha"].append(timed(page, probe, lambda t=thumb: t.press("ArrowRight"), MAIN_HAS, new))
    models = ["v2", "v3_large"] * runs
    for model in models[:runs]:  # two interactions: the list opens (the browser's), a model is chosen
        opener = click_of(page.locator(f'{sidebar} [data-testid="stSelectbox"]').first)
        out["model_list"].append(timed_here(page, opener, LISTED, TITLES[model]))
        choose = click_of(page.get_by_role("option", name=TITLES[model], exact=True))
        out["model"].append(timed(page, probe, choose, MAIN_HAS, f"{TITLES[model]} ·"))
    languages = ["zh", "en"] * runs
    for lang in languages[:runs]:
        label = "中文" if lang == "zh" else "English"
        choose = click_of(page.locator(f"{sidebar} label").filter(has_text=label).first)
        out["language"].append(timed(page, probe, choose, TITLE_HAS, HEADINGS[lang]))
    if languages[runs - 1] == "zh":  # back to English for the page links
        page.locator(f"{sidebar} label").filter(has_text="English").first.click()
        page.wait_for_function(IDLE, timeout=120000)
    for _ in range(runs):
        link = click_of(page.locator(f"{sidebar} {COMPARE_LINK}"))
        out["compare"].append(timed(page, probe, link, PLOTS_DRAWN, 3))
        back = page.locator(f"{sidebar} :is({NAV_LINK}, {OLD_NAV_LINK})").first  # Overview
        back.click()
        page.locator('[data-testid="stMetric"]').first.wait_for(timeout=120000)
        page.wait_for_function(IDLE, timeout=120000)
    context.close()
    return out


def lesson_steps(browser, url: str, runs: int) -> dict[str, list[dict]]:
    """ "Next step" on the separable lesson and the spiral's n on the bottleneck lesson."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    probe = Probe(page)
    out: dict[str, list[dict]] = {"next_step": [], "spiral": []}
    page.goto(f"{url}/lesson-separable?model=v2&lang=en")
    page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=120000)
    page.wait_for_function(IDLE, timeout=120000)
    for _ in range(runs):
        button = click_of(page.get_by_role("button", name="Next step"))
        out["next_step"].append(timed(page, probe, button))
    page.goto(f"{url}/lesson-bottleneck?model=v2&lang=en")
    page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=120000)
    page.wait_for_function(IDLE, timeout=120000)
    for _ in range(runs):
        thumb = page.locator('.st-key-spiral_n input[type="range"]').first
        thumb.focus()
        out["spiral"].append(timed(page, probe, lambda t=thumb: t.press("ArrowRight")))
    context.close()
    return out


def floor_load(browser, url: str, runs: int) -> list[dict]:
    """A bare Streamlit app (FLOOR_APP) in a new browser context until its line shows: what any
    Streamlit page pays before its own elements (the frontend's 1.9 MB of scripts, the websocket,
    a run)."""
    times = []
    for _ in range(runs):
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        times.append(timed(page, Probe(page), lambda p=page: p.goto(url), MAIN_HAS, FLOOR_LINE))
        context.close()
    return times


FLOOR_LINE = "a bare Streamlit app"
FLOOR_APP = f'import streamlit as st\n\nst.title("Floor")\nst.write("{FLOOR_LINE}")\n'


class FloorServer(TreeServer):
    """FLOOR_APP served with this tree's .streamlit/config.toml, from a temporary directory."""

    def __init__(self):  # noqa: D107
        self.tree = Path(tempfile.mkdtemp(prefix="mne_floor_"))
        (self.tree / "app").mkdir()
        (self.tree / "app" / "main.py").write_text(FLOOR_APP, encoding="utf-8")
        shutil.copytree(ROOT / ".streamlit", self.tree / ".streamlit")
        super().__init__(self.tree)

    def stop(self):  # noqa: D102
        try:
            return super().stop()
        finally:
            shutil.rmtree(self.tree, ignore_errors=True)


ROWS = [  # key, what the table says, goal in seconds (None: a reference, no goal)
    ("floor", "a bare Streamlit app (a title, a line), new browser: the floor any page pays", None),
    ("first_lesson", "first load of a lesson page (SE, V3-Large), fresh session, new browser", 2.0),
    ("first_lesson_tab", "the same in a new tab (browser cache warm)", 2.0),
    ("alpha", "move α one step (Overview, V3-Large)", 0.25),
    ("model_list", "open the sidebar's model list (the browser alone)", 0.3),
    ("model", "switch model in the sidebar (a model chosen in the open list)", 0.3),
    ("language", "switch language", 0.3),
    ("compare", "open Compare", 0.5),
    ("first_chart", "first chart page: Compare after 3 s of reading Overview, new browser", 0.5),
    ("next_step", 'lesson "Next step" (separable)', 0.3),
    ("spiral", "spiral n slider (bottleneck lesson)", 0.3),
]


def measure(url: str, runs: int, only: set[str], floor_url: str | None = None) -> dict[str, list[dict]]:
    from playwright.sync_api import sync_playwright

    results: dict[str, list[dict]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        # the teacher opens the app first: a session has run once on this server
        student = browser.new_context(viewport=VIEWPORT)
        warm = student.new_page()
        warm.goto(url)
        warm.locator('[data-testid="stMetric"]').first.wait_for(timeout=180000)
        warm.close()
        if "first_lesson" in only:
            if floor_url:
                results["floor"] = floor_load(browser, floor_url, runs)
            results["first_lesson"] = first_lesson_load(browser, url, runs)
            results["first_lesson_tab"] = first_lesson_load(browser, url, runs, tab_of=student)
        student.close()
        if "first_chart" in only:
            results["first_chart"] = first_chart_page(browser, url, runs)
        if only & {"alpha", "model", "language", "compare"}:
            results.update(overview_actions(browser, url, runs))
        if only & {"next_step", "spiral"}:
            results.update(lesson_steps(browser, url, runs))
        browser.close()
    return results


def first_page(url: str) -> float:
    """A just-started server: the first session's Overview until its metrics show (imports, the first
    count, the first render)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport=VIEWPORT)
        start = time.perf_counter()
        page.goto(f"{url}/?model=v3_large")
        page.locator('[data-testid="stMetric"]').first.wait_for(timeout=180000)
        page.wait_for_function(IDLE, timeout=180000)
        seconds = time.perf_counter() - start
        browser.close()
    return seconds


def run_server(root: Path, env: dict, runs: int, only: set[str], floor_url: str | None) -> tuple[float, dict]:
    server = TreeServer(root, env)
    try:
        time.sleep(3)  # what a server does in its first seconds (the warm-up), before anyone comes
        cold = first_page(server.url)
        return cold, measure(server.url, runs, only, floor_url)
    finally:
        server.stop()


def fmt(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s ({max(values):.2f})"


def reveal_lines(results: dict) -> None:
    """The first lesson's loads (this tree), seen from the page: where the wait after the first
    content goes. Streamlit's frontend loads each widget's code when it first draws one, behind a
    placeholder per element, and React 18 shows what was waiting no sooner than 500 ms after the
    last placeholder appeared (its FALLBACK_THROTTLE_MS)."""
    for key, label in (("first_lesson", "new browser"), ("first_lesson_tab", "new tab")):
        pages = [r["page"] for r in results.get(key, []) if "page" in r]
        if not pages:
            continue

        def med(name: str, pages=pages) -> float:
            return statistics.median(p[name] for p in pages)

        waits = [p["revealed"] - p["last_placeholder"] for p in pages]
        print(f"\nfirst lesson, {label}, in the page (median of {len(pages)}, from its navigation's start): "
              f"first content {med('content'):.2f} s, last placeholder {med('last_placeholder'):.2f} s, "
              f"every widget shown {med('revealed'):.2f} s ({statistics.median(waits) * 1000:.0f} ms after "
              f"the last placeholder, {min(waits) * 1000:.0f}-{max(waits) * 1000:.0f}), chart drawn "
              f"{med('drawn'):.2f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline-rev", help="git revision the baseline server runs (a temporary worktree)")
    choices = [k for k, _, _ in ROWS if k not in ("floor", "first_lesson_tab", "model_list")]
    parser.add_argument("--only", nargs="+", choices=choices, help="these interactions only")
    args = parser.parse_args()
    only = set(args.only or choices)
    env = {"MOBILENET_EXPLORER_OFFLINE": "1"}
    worktree = None
    if args.baseline_rev:
        worktree = Path(tempfile.mkdtemp(prefix="mne_baseline_")) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", str(worktree), args.baseline_rev], cwd=ROOT,
                       check=True, capture_output=True)  # fmt: skip
        baseline_name, baseline = f"baseline ({args.baseline_rev})", (worktree, env)
    else:
        baseline_name = "baseline (figure cache off)"
        baseline = (ROOT, {**env, "MOBILENET_EXPLORER_FIGURE_CACHE": "0"})
    floor = FloorServer() if "first_lesson" in only else None
    try:
        load = os.getloadavg()
        print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)")
        floor_url = floor.url if floor else None
        base_cold, base = run_server(*baseline, args.runs, only, floor_url)
        now_cold, now = run_server(ROOT, env, args.runs, only, floor_url)
    finally:
        if floor is not None:
            floor.stop()
        if worktree is not None:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT, capture_output=True
            )
            shutil.rmtree(worktree.parent, ignore_errors=True)  # the temporary folder it was in
    print(f"\nmedian of {args.runs} runs (max), from the action until the page is idle and painted;")
    print(f"now = this tree; {baseline_name} measured in the same run\n")
    print(f"| interaction | goal | now | {baseline_name} | ratio | client / server / render (median): now"
          " | baseline |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    cold = f"{now_cold:.2f} s | {base_cold:.2f} s | {base_cold / now_cold:.1f}x"
    print(f"| first page on a just-started server (Overview, 1 run) | | {cold} | | |")
    for key, label, goal in ROWS:
        if key not in now:
            continue
        totals = [r["total"] for r in now[key]]
        before = [r["total"] for r in base[key]]
        parts = [
            " / ".join(
                f"{statistics.median(r[p] for r in runs[key]):.2f}" for p in ("client", "server", "render")
            )
            for runs in (now, base)
        ]
        mark = "" if goal is None else " ✓" if statistics.median(totals) < goal else " ✗"
        wanted = "" if goal is None else f"< {goal:g} s"
        ratio = statistics.median(before) / statistics.median(totals)
        print(f"| {label} | {wanted} | {fmt(totals)}{mark} | {fmt(before)} | "
              f"{ratio:.1f}x | {parts[0]} | {parts[1]} |")  # fmt: skip
    reveal_lines(now)
    load = os.getloadavg()
    print(f"\nload average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()

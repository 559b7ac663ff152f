"""Many users against one real `streamlit run` server on 127.0.0.1, driven by Debian's chromium.

Run: .venv/bin/python benchmarks/load.py [--sessions 8] [--steps 4] [--memory]
Each session (its own browser context) moves the alpha slider `steps` times, checking the exact
MACs shown after each move, then classifies a photo with the untrained network of its own
configuration and reads the top-5. Results must equal the library's serial computation.
--memory also visits every model that classifies at three alphas, classifies once with each, reports
the server's resident memory. Bounded: a fixed number of steps, every wait has a timeout.
Used by tests/test_load.py with smaller numbers.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from appdriver import ALPHA_THUMB, CHROMIUM, FLAGS, Server, idle, metric, wait  # noqa: E402

import mobilenet_core as mc  # noqa: E402

PHOTO = ROOT / "tests" / "data" / "chelsea_cat.png"
SHOTS = ROOT / "tests" / "artifacts" / "screenshots"
# every wait is bounded, and long enough for a loaded 2-core machine running eight browsers and the
# server: waits end on the state they wait for, and the bound only stops a run that is stuck
PATIENCE_S = 300
PATIENCE_MS = PATIENCE_S * 1000  # Playwright's unit
CONFIGS = [("v2", 0.35), ("v3_small", 0.6), ("v3_large", 0.85), ("v4_conv_small", 0.45), ("v1", 0.3),
           ("v4_hybrid_medium", 0.3), ("v2", 0.6), ("v3_small", 0.9)]  # fmt: skip


def classify_in_page(page, url: str, model: str, alpha: float) -> list[str]:
    """Open Classify for a configuration, run the untrained network on the photo, read the top-5."""
    open_classify(page, url, model, alpha)
    return classify_opened(page, model, alpha)


def open_classify(page, url: str, model: str, alpha: float) -> None:
    """Open Classify for a configuration and wait until the page is idle."""
    page.goto(f"{url}/classify?model={model}&alpha={alpha}", timeout=PATIENCE_MS)
    page.locator(".st-key-use_untrained label").wait_for(timeout=PATIENCE_MS)
    idle(page, PATIENCE_S)


def classify_opened(page, model: str, alpha: float) -> list[str]:
    """On an open Classify page: pick the untrained network, drop the photo, read the top-5."""
    with watching(page) as seen:
        page.locator(".st-key-use_untrained label").click(timeout=PATIENCE_MS)
        # dropped at once, while the click's run redraws the page, as an impatient user does: the
        # answer to the upload request used to be lost when that run started (app/upload_race.py)
        seen.append("the photo dropped")  # what the browser saw before this came with the click
        return dropped(page, model, alpha, seen)


def drop_photo(page, model: str, alpha: float) -> list[str]:
    """On a Classify page whose network is chosen: drop the photo (again), read the top-5."""
    with watching(page) as seen:
        # the file input keeps the file chosen last, and choosing the same one again changes
        # nothing: emptied first (a user's drag and drop does not go through it)
        page.locator('.st-key-images input[type="file"]').set_input_files([], timeout=PATIENCE_MS)
        seen.append("the photo dropped")
        return dropped(page, model, alpha, seen)


def dropped(page, model: str, alpha: float, seen: list[str]) -> list[str]:
    """The photo put into Classify's drop zone; its top-5 once the page shows it."""
    page.locator('.st-key-images input[type="file"]').set_input_files(str(PHOTO), timeout=PATIENCE_MS)
    try:
        page.locator(".st-key-images").get_by_text(PHOTO.name).first.wait_for(timeout=PATIENCE_MS)
    except Exception as exc:
        failed(page, f"load_noupload_{model}_{alpha}", f"the photo never came ({model} {alpha})", seen, exc)
    try:
        top5_or_refused(page, seen)
    except Exception as exc:
        failed(page, f"load_failure_{model}_{alpha}", f"no top-5 for {model} {alpha}", seen, exc)
    idle(page, PATIENCE_S)
    labels = page.eval_on_selector_all(".js-plotly-plot .ytick text", "els => els.map(e => e.textContent)")
    return labels[::-1]  # the chart lists the best class at the top


def top5_or_refused(page, seen: list[str]) -> None:
    """Until the top-5 chart shows; a refused upload (its PUT answered 4xx or 5xx) never brings
    one, and says so at once instead of after PATIENCE_S."""
    deadline = time.time() + PATIENCE_S
    while not page.locator(".js-plotly-plot").count():
        if any(s.startswith(("PUT upload: HTTP 4", "PUT upload: HTTP 5")) for s in seen):
            raise RuntimeError("the server refused the upload")
        if time.time() > deadline:
            raise TimeoutError(f"no top-5 chart after {PATIENCE_S} s")
        page.wait_for_timeout(200)  # the page's events (the PUT's answer) are handled meanwhile


@contextlib.contextmanager
def watching(page):
    """What the browser sees while in the block, kept for a failure's message: the answers to an
    upload's PUT, failed requests, console errors, the websocket closing (a reconnection
    gives the session a new id, and an upload to the old one is refused). The listeners go at the
    end: one page classifies thirty times in the memory tour."""
    seen: list[str] = []

    def answered(response):
        if "/_stcore/upload_file/" in response.url:
            seen.append(f"{response.request.method} upload: HTTP {response.status}")

    def said(message):
        if message.type == "error" and "404" not in message.text:  # 404: the favicon and the like
            seen.append(f"console: {message.text[:300]}")

    listeners = {
        "response": answered,
        "requestfailed": lambda r: seen.append(f"{r.method} {r.url[-40:]} failed: {r.failure}"),
        "console": said,
        "websocket": lambda ws: ws.on("close", lambda _: seen.append("websocket closed")),
    }
    for event, listener in listeners.items():
        page.on(event, listener)
    try:
        yield seen
    finally:
        for event, listener in listeners.items():
            page.remove_listener(event, listener)


def failed(page, shot: str, what: str, seen: list[str], exc: Exception):
    """Raise with what the browser saw, after a screenshot when one can be taken."""
    detail = "; ".join(seen) or "nothing seen"
    why = (str(exc).splitlines() or [type(exc).__name__])[0]
    print(f"{what}: {detail}; {why}", file=sys.stderr)
    try:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True, timeout=10000)
    except Exception as shot_failed:  # noqa: BLE001 - a hung page: the message matters more
        print(f"no screenshot: {type(shot_failed).__name__}", file=sys.stderr)
    raise RuntimeError(f"{what}; the browser saw: {detail}; {why}") from exc


def expected_top5(model: str, alpha: float) -> list[str]:
    """The library's answer for the same photo (serial, no server)."""
    from mobilenet_core.fast import FastModel
    from mobilenet_core.predict import classify, load_image
    from mobilenet_core.registry import default_preprocess

    torch_module = mc.build(model, alpha)
    prediction = classify(
        FastModel(torch_module), load_image(PHOTO), default_preprocess(torch_module.resolution)
    )
    return [c.label for c in prediction.top]


def moved(page, url: str, model: str, alpha: float, steps: int) -> float:
    """Open Overview on a configuration and move α `steps` times, each time until the exact MACs
    show; the α reached. A page that never shows them fails with what the browser saw (the
    websocket closing, failed requests, console errors), the metric's last text and a screenshot."""
    current, shown = alpha, []
    with watching(page) as seen:
        try:
            page.goto(f"{url}/?model={model}&alpha={alpha}", timeout=PATIENCE_MS)
            for step in range(steps + 1):
                if step:
                    thumb = page.locator(ALPHA_THUMB)
                    thumb.focus()
                    thumb.press("ArrowRight")
                    current = round(current + 0.05, 2)
                expected = f"{mc.count(model, current).macs:,}"
                wait(lambda expected=expected: shows(page, expected, shown), PATIENCE_S)
        except Exception as exc:
            seen.append(f"MACs shown last: {shown[-1] if shown else 'none'}, wanted at α {current}")
            failed(page, f"load_nomacs_{model}_{alpha}", f"no exact MACs ({model} {alpha})", seen, exc)
    return current


def shows(page, expected: str, shown: list[str]) -> bool:
    """Whether the MACs metric reads `expected`; what it read (or that there was none) is kept
    in `shown` for a failure's message."""
    try:
        shown[:] = [metric(page, "MACs")]
    except Exception as exc:  # noqa: BLE001 - not drawn yet: Playwright's wait ran out
        shown[:] = [f"no metric ({type(exc).__name__})"]
    return shown[0] == expected


def session(browser, url: str, model: str, alpha: float, steps: int) -> dict:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    # every call without its own bound (focus, press, ...) waits as long as the others: Playwright's
    # 30 s ran out on a focus while eight browsers and the server shared a loaded CI machine
    context.set_default_timeout(PATIENCE_MS)
    page = context.new_page()
    errors, start = [], time.time()
    try:
        current = moved(page, url, model, alpha, steps)
        top5 = classify_in_page(page, url, model, current)
        if page.locator('[data-testid="stException"]').count():
            errors.append("exception shown")
        return {
            "model": model,
            "alpha": current,
            "top5": top5,
            "errors": errors,
            "seconds": time.time() - start,
        }
    except Exception as exc:  # noqa: BLE001 - reported, counted as an error
        return {"model": model, "alpha": alpha, "top5": [], "errors": [repr(exc)[:1000]],
                "seconds": time.time() - start}  # fmt: skip
    finally:
        context.close()


def run(sessions: int = 8, steps: int = 4, memory: bool = False, env: dict | None = None) -> dict:
    from playwright.sync_api import sync_playwright

    server = Server(env)
    report = {"sessions": []}
    try:
        with sync_playwright() as p:
            # one browser per worker thread: Playwright's sync API is not shared across threads
            def worker(index: int) -> dict:
                with sync_playwright() as own:
                    browser = own.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                    try:
                        model, alpha = CONFIGS[index % len(CONFIGS)]
                        return session(browser, server.url, model, alpha, steps)
                    finally:
                        browser.close()

            del p
        start = time.time()
        with concurrent.futures.ThreadPoolExecutor(max_workers=sessions) as pool:
            report["sessions"] = list(pool.map(worker, range(sessions)))
        report["wall_seconds"] = time.time() - start
        report["rss_after_load_mib"], report["peak_rss_mib"] = server.memory_mib()
        if memory:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.set_default_timeout(PATIENCE_MS)
                visited = 0
                # every model that classifies (V5-300M is an encoder: no classes)
                for model in (m for m in mc.list_models() if mc.get_generation(m).head.num_classes):
                    for alpha in (0.5, 1.0, 1.4):
                        classify_in_page(page, server.url, model, alpha)
                        visited += 1
                browser.close()
            report["visited"] = visited
            report["rss_after_visits_mib"], report["peak_rss_mib"] = server.memory_mib()
    finally:
        report["server_stderr"] = server.stop()
    for entry in report["sessions"]:
        if entry["top5"]:
            entry["serial_top5"] = expected_top5(entry["model"], entry["alpha"])
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--memory", action="store_true")
    args = parser.parse_args()
    report = run(args.sessions, args.steps, args.memory)
    errors = sum(len(s["errors"]) for s in report["sessions"])
    same = sum(s.get("serial_top5") == s["top5"] for s in report["sessions"])
    print(f"{'session':<8} {'model':<17} {'alpha':>5} {'seconds':>8}  result")
    for i, s in enumerate(report["sessions"]):
        state = (
            "same as serial"
            if s.get("serial_top5") == s["top5"]
            else (f"DIFFERENT: page {s['top5']} serial {s.get('serial_top5')} errors {s['errors']}")
        )
        print(f"{i:<8} {s['model']:<17} {s['alpha']:>5} {s['seconds']:8.1f}  {state}")
    wall = report["wall_seconds"]
    print(
        f"{args.sessions} concurrent sessions x {args.steps} slider moves + 1 classification: "
        f"{errors} errors, {same}/{args.sessions} results identical to serial, wall {wall:.1f} s"
    )
    rss, peak = report["rss_after_load_mib"], report["peak_rss_mib"]
    print(f"server RSS after the load {rss:.0f} MiB, peak {peak:.0f} MiB")
    if args.memory:
        print(
            f"server RSS after visiting {report['visited']} configurations and classifying once with each: "
            f"{report['rss_after_visits_mib']:.0f} MiB (peak {report['peak_rss_mib']:.0f} MiB)"
        )


if __name__ == "__main__":
    main()

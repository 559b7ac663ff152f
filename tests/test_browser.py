"""A real browser (Debian's chromium through Playwright) against a real `streamlit run`.

Drives the sidebar, checks that the totals and the URL follow, and saves screenshots of every
view in English and Chinese under tests/artifacts/screenshots (or $SCREENSHOT_DIR).
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import pytest

import mobilenet_core as mc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from appdriver import CHROMIUM, FLAGS, ROOT, Server, idle, metric  # noqa: E402

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "tests" / "artifacts" / "screenshots"))
VIEWS = {
    "overview": "",
    "graph": "graph",
    "charts": "charts",
    "anatomy": "anatomy",
    "compare": "compare",
    "lab": "lab",
    "roofline": "roofline",
    "tradeoffs": "tradeoffs",
}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server():
    server = Server()
    yield server.url
    log = server.stop()
    assert "Traceback" not in log, log[-3000:]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: run scripts/setup.sh --test"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def wait_for_metric(page, label: str, expected: str, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    value = None
    while time.time() < deadline:
        try:
            value = metric(page, label)
            if value == expected:
                return
        except Exception:  # noqa: BLE001 - the element may be re-rendering
            pass
        time.sleep(0.2)
    raise AssertionError(f"{label}: expected {expected}, last saw {value}")


def settle(page) -> None:
    """Wait until Streamlit has finished the run (no 'running' indicator) and charts drew."""
    page.wait_for_selector('[data-testid="stSidebar"]', timeout=30000)
    idle(page)
    time.sleep(1.5)


def test_slider_moves_update_totals_and_url_and_reload_keeps_them(server, browser):
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    page.goto(f"{server}/?model=v3_small&alpha=0.75&resolution=192")
    wait_for_metric(page, "Parameters", f"{mc.count('v3_small', 0.75, 192).params:,}")
    wait_for_metric(page, "MACs", f"{mc.count('v3_small', 0.75, 192).macs:,}")

    thumb = page.locator('[data-testid="stSidebar"] input[type="range"]').first  # alpha
    thumb.focus()
    thumb.press("ArrowRight")  # one step: 0.75 -> 0.80
    expected = mc.count("v3_small", 0.8, 192)
    wait_for_metric(page, "MACs", f"{expected.macs:,}")
    wait_for_metric(page, "Parameters", f"{expected.params:,}")
    page.wait_for_function("() => location.search.includes('alpha=0.8')", timeout=10000)
    assert "model=v3_small" in page.url and "resolution=192" in page.url

    page.reload()
    wait_for_metric(page, "MACs", f"{expected.macs:,}")
    page.close()


def test_invalid_link_values_show_a_notice(server, browser):
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    page.goto(f"{server}/?model=v9&alpha=7")
    wait_for_metric(page, "Parameters", f"{mc.count('v2').params:,}")
    warnings = page.locator('[data-testid="stSidebar"] [data-testid="stAlertContentWarning"]')
    warnings.first.wait_for(timeout=10000)
    text = " ".join(warnings.all_inner_texts())
    assert "model='v9'" in text and "alpha='7'" in text
    page.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_screenshots_of_every_view(server, browser, lang):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1600, "height": 1800})
    query = "?model=v4_hybrid_medium&alpha=1.0&resolution=256"
    for view, path in VIEWS.items():
        page.goto(f"{server}/{path}{query}")
        settle(page)
        if lang == "zh":
            page.locator('[data-testid="stSidebar"] label').filter(has_text="中文").click()
            settle(page)
            assert page.get_by_text("语言").count() or page.get_by_text("模型").count()
        if view == "overview":
            expected = "参数量" if lang == "zh" else "Parameters"
            wait_for_metric(page, expected, f"{mc.count('v4_hybrid_medium').params:,}")
        if view in ("graph", "anatomy", "lab"):
            page.locator('[data-testid="stImage"] img').first.wait_for(timeout=30000)
        if view in ("charts", "compare", "roofline", "tradeoffs"):
            page.locator(".js-plotly-plot").first.wait_for(timeout=30000)
        assert page.locator('[data-testid="stException"]').count() == 0, f"{view}: exception shown"
        page.screenshot(path=str(SHOTS / f"{view}_{lang}.png"))
    page.close()


def test_upload_a_photo_and_see_top5_and_heatmap(server, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1600, "height": 1600})
    page.goto(f"{server}/classify?model=v3_small&alpha=0.6")
    settle(page)
    page.get_by_text("No published checkpoint for v3_small").wait_for(timeout=30000)
    page.locator(".st-key-use_untrained label").click()
    settle(page)
    photo = ROOT / "tests" / "data" / "chelsea_cat.png"
    page.locator('.st-key-images input[type="file"]').set_input_files(str(photo))
    page.locator(".js-plotly-plot").first.wait_for(timeout=60000)
    settle(page)
    assert page.get_by_text("Top-5").count() >= 1
    assert page.get_by_text("Grad-CAM: where the last stage looked").count() == 1
    assert page.get_by_text(re.compile("UNTRAINED network")).count() == 1
    bars = page.locator(".js-plotly-plot .bars .point")
    assert bars.count() == 5
    page.screenshot(path=str(SHOTS / "classify_en.png"))
    page.close()

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
from appdriver import ALPHA_SHOWN, ALPHA_THUMB, CHROMIUM, FLAGS, ROOT, Server, idle, metric, wait  # noqa: E402

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


def wait_for_metric(page, label: str, expected: str, timeout: float = 120) -> None:
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
    page.wait_for_selector('[data-testid="stSidebar"]', timeout=120000)
    idle(page)
    time.sleep(1.5)


def record_frames(page) -> tuple[list[bytes], list[bytes]]:
    """The page's websocket frames from now on: (sent, received), each a list the test may clear.
    Playwright's sync API hands frames over only inside its own calls (a wait must call it)."""
    sent, received = [], []

    def attach(ws):
        ws.on("framesent", lambda p: sent.append(p) if isinstance(p, bytes) else None)
        ws.on("framereceived", lambda p: received.append(p) if isinstance(p, bytes) else None)

    page.on("websocket", attach)
    return sent, received


def test_slider_moves_update_totals_and_url_and_reload_keeps_them(server, browser):
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    page.goto(f"{server}/?model=v3_small&alpha=0.75&resolution=192")
    wait_for_metric(page, "Parameters", f"{mc.count('v3_small', 0.75, 192).params:,}")
    wait_for_metric(page, "MACs", f"{mc.count('v3_small', 0.75, 192).macs:,}")

    thumb = page.locator(ALPHA_THUMB)
    thumb.press("ArrowRight")  # one step: 0.75 -> 0.80
    expected = mc.count("v3_small", 0.8, 192)
    wait_for_metric(page, "MACs", f"{expected.macs:,}")
    wait_for_metric(page, "Parameters", f"{expected.params:,}")
    page.wait_for_function("() => location.search.includes('alpha=0.8')", timeout=60000)
    assert "model=v3_small" in page.url and "resolution=192" in page.url

    page.reload()
    wait_for_metric(page, "MACs", f"{expected.macs:,}")
    page.close()


def test_invalid_link_values_show_a_notice(server, browser):
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    page.goto(f"{server}/?model=v9&alpha=7")
    wait_for_metric(page, "Parameters", f"{mc.count('v2').params:,}")
    warnings = page.locator('[data-testid="stSidebar"] [data-testid="stAlertContentWarning"]')
    warnings.first.wait_for(timeout=60000)
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
        if view in ("anatomy", "lab"):
            page.locator('[data-testid="stImage"] img').first.wait_for(timeout=120000)
        if view == "graph":  # the pan / zoom viewer
            page.locator(".gv-stage svg g.node").first.wait_for(timeout=120000)
        if view in ("charts", "compare", "roofline", "tradeoffs"):
            page.locator(".js-plotly-plot").first.wait_for(timeout=120000)
        assert page.locator('[data-testid="stException"]').count() == 0, f"{view}: exception shown"
        page.screenshot(path=str(SHOTS / f"{view}_{lang}.png"))
    page.close()


def test_upload_a_photo_and_see_top5_and_heatmap(server, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1600, "height": 1600})
    page.goto(f"{server}/classify?model=v3_small&alpha=0.6")
    settle(page)
    page.get_by_text("No published checkpoint for MobileNetV3-Small").wait_for(timeout=120000)
    # offline and no network chosen yet: the photo can be dropped all the same, and waits
    photo = ROOT / "tests" / "data" / "chelsea_cat.png"
    page.locator('.st-key-images input[type="file"]').set_input_files(str(photo))
    page.get_by_text("Photos waiting: 1.").wait_for(timeout=120000)
    settle(page)
    assert page.locator(".js-plotly-plot").count() == 0
    page.screenshot(path=str(SHOTS / "classify_waiting_en.png"))
    # the ways forward are buttons whose words are shown whole, not cut to "Switch to MobileNetV3…"
    for key in ("switch", "open_upload"):
        label = page.locator(f'.st-key-{key} button [data-testid="stMarkdownContainer"]').first
        assert label.evaluate("e => e.scrollWidth <= e.clientWidth"), f"{key}: {label.inner_text()} is cut"
    page.locator(".st-key-use_untrained label").click()  # the photo is not dropped again
    page.locator(".js-plotly-plot").first.wait_for(timeout=60000)
    settle(page)
    assert page.get_by_text("Top-5").count() >= 1
    # random weights: no Grad-CAM presented as an explanation, and the classes said to be noise
    assert page.get_by_text("Grad-CAM: where the last stage looked").count() == 0
    assert page.get_by_text(re.compile("No Grad-CAM: with random weights")).count() == 1
    assert page.get_by_text(re.compile("UNTRAINED network")).count() >= 1
    bars = page.locator(".js-plotly-plot .bars .point")
    assert bars.count() == 5
    page.screenshot(path=str(SHOTS / "classify_en.png"))
    page.close()


def test_classify_reruns_its_own_part_and_the_switch_to_a_checkpoint_the_whole_page(server, browser):
    """A photo dropped and the untrained network's switch rerun Classify's own part (a fragment):
    the browser asks for that fragment and the sidebar's navigation is not sent again. The button
    to the nearest published checkpoint changes the sidebar's selection, so it reruns the whole
    page, once: the sidebar and the title show the checkpoint's model and width."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    page = browser.new_page(viewport={"width": 1440, "height": 900})
    sent, received = record_frames(page)

    def reruns():
        return [
            m.rerun_script for m in map(BackMsg.FromString, sent) if m.WhichOneof("type") == "rerun_script"
        ]

    page.goto(f"{server}/classify?model=v3_small&alpha=0.6")
    settle(page)
    page.get_by_text("No published checkpoint for MobileNetV3-Small").wait_for(timeout=120000)
    assert any(b"mobilenet_navigation" in p for p in received)  # a whole run sends the navigation
    sent.clear(), received.clear()
    page.locator('.st-key-images input[type="file"]').set_input_files(
        str(ROOT / "tests" / "data" / "chelsea_cat.png")
    )
    page.get_by_text("Photos waiting: 1.").wait_for(timeout=120000)
    page.locator(".st-key-use_untrained label").click()
    page.locator(".js-plotly-plot").first.wait_for(timeout=60000)
    settle(page)
    assert len(reruns()) >= 2 and all(r.fragment_id for r in reruns())  # the drop, the switch
    assert not any(b"mobilenet_navigation" in p for p in received)  # the sidebar was not redrawn
    assert page.locator(".js-plotly-plot .bars .point").count() == 5
    sent.clear(), received.clear()
    page.locator(".st-key-switch button").click()  # the nearest published: V3-Small at α 0.5
    wait(lambda: "α = 0.5 ·" in page.locator("h1").first.inner_text(), timeout=120)
    settle(page)
    assert any(b"mobilenet_navigation" in p for p in received)  # the whole page ran (st.rerun)
    # one run for the click: the fragment's run the click asked for stops before drawing anything
    # (the callback's st.rerun), where a rerun called after the click let the fragment draw first;
    # an element of 10 kB or more the browser already has comes as a ref_hash, not a delta
    kinds = [m.WhichOneof("type") for m in map(ForwardMsg.FromString, received)]
    assert "script_finished" in kinds, kinds
    drawn_first = set(kinds[: kinds.index("script_finished")]) & {"delta", "ref_hash"}
    assert not drawn_first, kinds
    shown = page.locator(ALPHA_SHOWN)
    assert shown.inner_text() == "0.50"
    page.close()


def _edit_cell(page, row: int, column: int, value: str, until) -> None:
    """Type into the design lab's data editor like a user: click the row's 'stage' cell, move
    right to the column (0 = stage), open the editor with Enter, type, commit with Enter; until
    `until()` is true (a click that lands while Streamlit redraws the grid is lost: retried).
    The grid is drawn on a canvas; its rows are 35 px below a 35 px header."""
    for attempt in range(3):
        settle(page)
        page.keyboard.press("Escape")  # close an editor a lost attempt may have left open
        _type_into_cell(page, row, column, value)
        try:
            wait(until, timeout=90)
            return
        except TimeoutError:
            page.screenshot(path=str(SHOTS / f"lab_edit_attempt{attempt}.png"))
    raise AssertionError(f"editing row {row}, column {column} to {value!r} had no effect")


def _type_into_cell(page, row: int, column: int, value: str) -> None:
    editor = page.locator('[data-testid="stDataFrame"]').first
    # in the middle of the window: nothing of Streamlit's fixed header can be over it
    editor.evaluate("e => e.scrollIntoView({block: 'center', behavior: 'instant'})")
    grid = editor.bounding_box()
    for _ in range(20):  # wait until the page stops moving (a redraw can still shift the grid)
        time.sleep(0.15)
        now = editor.bounding_box()
        if now == grid:
            break
        grid = now
    # click the first row's 'stage' cell (right under the header, where nothing can shift it),
    # then walk to the cell with the arrow keys
    page.mouse.click(grid["x"] + 120, grid["y"] + 35 + 17)
    time.sleep(0.2)
    for _ in range(row):
        page.keyboard.press("ArrowDown")
    for _ in range(column):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    time.sleep(0.3)
    type_and_commit(page, value)


# two animation frames: the grid's cell editor has rendered what was typed
NEXT_FRAMES = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"


def type_and_commit(page, value: str) -> None:
    """Type `value` into the grid's open cell editor and commit it with Enter, as a person does:
    the editor commits the value of its last render, so an Enter pressed in the same frame as the
    keystrokes (Playwright types in microseconds) commits the old value and no edit reaches the
    app. Seen here 4 times in 6 sessions; it was once written down as a lost-edit bug."""
    page.keyboard.type(value)
    page.evaluate(NEXT_FRAMES)
    page.keyboard.press("Enter")


def test_design_lab_edit_anatomy_latency_sweep_and_measured_roofline(server, browser):
    """The design lab as a user drives it: edit a cell of the block table, see the exact MACs,
    an invalid edit explained while the numbers stay, the edited block in Block anatomy; then a
    latency sweep in the background and a roofline with every layer measured."""
    from mobilenet_core.api import count_generation
    from mobilenet_core.lab import generation_from_rows, generation_rows

    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1600, "height": 1500})
    page.goto(f"{server}/lab?model=v2")
    page.wait_for_selector('[data-testid="stDataFrame"]', timeout=120000)
    settle(page)
    rows = generation_rows(mc.get_generation("v2"))
    rows[3]["repeats"] = 6  # the 64-wide group: 4 -> 6 blocks
    edited = count_generation(generation_from_rows(mc.get_generation("v2"), rows))
    _edit_cell(page, row=3, column=2, value="6", until=lambda: metric(page, "MACs") == f"{edited.macs:,}")
    assert metric(page, "Blocks").startswith("19 ")
    settle(page)
    page.screenshot(path=str(SHOTS / "lab_edit_en.png"))

    page.get_by_role("button", name="Build and benchmark on this machine").click()
    page.get_by_text(f"Built: {edited.params:,} parameters").wait_for(timeout=120000)
    chart = page.locator(".st-key-lab_time_share .js-plotly-plot")
    chart.wait_for(timeout=120000)
    chart.evaluate("e => e.scrollIntoView({block: 'center'})")
    settle(page)
    page.screenshot(path=str(SHOTS / "lab_benchmark_en.png"))

    # An invalid edit typed into the grid (kernel 4) is no longer driven here: after the benchmark
    # the canvas grid took the keystrokes into other cells in 2 of 3 full runs. The message and
    # the kept architecture are tested through AppTest
    # (test_app_edit_updates_counts_and_invalid_edit_keeps_the_last_valid_one).

    page.get_by_role("button", name="Open its blocks in Block anatomy").click()
    page.get_by_text("MobileNetV2 (edited)").first.wait_for(timeout=120000)
    page.locator('[data-testid="stImage"] img').first.wait_for(timeout=120000)
    settle(page)
    page.screenshot(path=str(SHOTS / "anatomy_lab_en.png"))

    page.goto(f"{server}/tradeoffs?model=v3_small")
    settle(page)
    page.get_by_role("radiogroup", name="Cost axis").get_by_text("latency on this machine (ms)").click()
    page.get_by_role("button", name=re.compile("Measure latency of 25 configurations")).click()
    page.locator('[data-testid="stProgress"]').first.wait_for(timeout=120000)
    page.screenshot(path=str(SHOTS / "tradeoffs_measuring_en.png"))
    page.get_by_text("Latency measured for 25 of 25 configurations").wait_for(timeout=300000)
    settle(page)
    assert page.locator('[data-testid="stProgress"]').count() == 0
    assert page.get_by_text("Measured latency against MACs").count() == 1
    page.screenshot(path=str(SHOTS / "tradeoffs_latency_en.png"), full_page=True)

    page.goto(f"{server}/roofline?model=v2")
    settle(page)
    page.get_by_role("button", name="Measure every layer on this CPU").click()
    page.get_by_text("share of measured time").wait_for(timeout=120000)
    settle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(SHOTS / "roofline_measured_en.png"))
    page.close()


def _node_text_heights(page) -> list[float]:
    return page.locator(".gv-stage svg g.node text").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().height).filter(h => h > 0)"
    )


def _viewport_transform(page) -> str:
    return page.locator(".gv-stage svg .svg-pan-zoom_viewport").first.get_attribute("transform") or ""


@pytest.mark.parametrize("model", ["v3_large", "v4_hybrid_large"])
def test_layer_graph_is_readable_zooms_pans_and_opens_a_node(server, browser, model):
    """The graph at 1440 x 900 (a laptop): node text at least 12 CSS px at 100 %, zoom buttons and
    drag-to-pan move it, a click on a node shows its details, search finds a block; then the same
    graph in Chinese at 1920 x 1080 with 150 % zoom (a projector: 1280 x 720 CSS px at 1.5)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(f"{server}/graph?model={model}&lang=en")
    page.locator(".gv-stage svg g.node").first.wait_for(timeout=60000)
    settle(page)
    heights = _node_text_heights(page)
    assert len(heights) > 20 and min(heights) >= 12, sorted(heights)[:5]
    page.screenshot(path=str(SHOTS / f"graph_{model}_1440_en.png"))

    before = _viewport_transform(page)
    page.locator(".gv-in").click()
    page.locator(".gv-in").click()
    time.sleep(0.5)
    assert min(_node_text_heights(page)) > min(heights) * 1.2  # zoomed in
    box = page.locator(".gv-stage").bounding_box()
    page.mouse.move(box["x"] + 500, box["y"] + 300)
    page.mouse.down()
    page.mouse.move(box["x"] + 300, box["y"] + 200, steps=8)
    page.mouse.up()
    time.sleep(0.3)
    assert _viewport_transform(page) != before  # zoomed and panned
    page.locator(".gv-one").click()
    time.sleep(0.3)
    assert abs(min(_node_text_heights(page)) - min(heights)) < 0.5  # "100 %" is the natural size

    target = "blocks.3.1"
    block = next(b for b in mc.count(model).blocks if b.name == target)
    page.locator(".gv-search").fill(target)
    page.locator(".gv-search").press("Enter")
    page.get_by_text("1 found").wait_for(timeout=60000)
    node = page.locator(".gv-stage svg g.node.gv-selected")
    assert node.count() == 1
    node.click()
    details = page.get_by_text(f"{block.macs:,} MACs")  # from Python
    # the search started a run and the click on the same block another during it: the details must
    # come all the same (they did not beside a CPU hog, app.graph_viewer.graph_viewer says why)
    wait(lambda: details.count(), timeout=120)
    settle(page)
    page.screenshot(path=str(SHOTS / f"graph_{model}_selected_en.png"))
    page.close()

    projector = browser.new_page(viewport={"width": 1280, "height": 720}, device_scale_factor=1.5)
    projector.goto(f"{server}/graph?model={model}&lang=zh")
    projector.locator(".gv-stage svg g.node").first.wait_for(timeout=60000)
    settle(projector)
    assert min(_node_text_heights(projector)) >= 12
    projector.screenshot(path=str(SHOTS / f"graph_{model}_projector_zh.png"))
    projector.close()


def test_presentation_mode_hides_the_controls_and_steps_with_the_arrow_keys(server, browser):
    """?present=1 on a projector (1920 x 1080 at 150 %): no sidebar, no controls, big text; the
    right arrow goes to the next view with the same selection, Esc leaves."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 720}, device_scale_factor=1.5)
    page.goto(f"{server}/?model=v4_conv_medium&present=1&lang=en")
    wait_for_metric(page, "Parameters", f"{mc.count('v4_conv_medium').params:,}")
    idle(page)  # (settle() waits for the sidebar, which is hidden here)
    time.sleep(1.5)
    assert not page.locator('section[data-testid="stSidebar"]').is_visible()
    assert page.locator('.stMainBlockContainer [data-testid="stDownloadButton"]').first.is_hidden()
    value = page.locator('[data-testid="stMetricValue"]').first
    assert value.evaluate("e => e.getBoundingClientRect().height") >= 40  # the number as drawn
    page.screenshot(path=str(SHOTS / "present_overview_en.png"))
    page.keyboard.press("ArrowRight")
    page.wait_for_url(re.compile(r"/graph\?.*present=1"), timeout=120000)
    page.locator(".gv-stage svg g.node").first.wait_for(timeout=60000)
    assert "model=v4_conv_medium" in page.url
    idle(page)  # (settle() waits for the sidebar, which is hidden here)
    time.sleep(1.5)
    page.screenshot(path=str(SHOTS / "present_graph_en.png"))
    page.keyboard.press("Escape")
    page.wait_for_url(lambda url: "present=1" not in url, timeout=120000)
    page.locator('section[data-testid="stSidebar"]').wait_for(state="visible", timeout=120000)
    page.close()


LESSON_MODEL = {
    "lesson-se": "v3_large",
    "lesson-attention": "v4_hybrid_medium",
    "lesson-uib": "v4_conv_small",
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_lesson_url_opens_steps_and_is_screenshotted(server, browser, lang):
    """Each lesson at its own URL (what a slide links to), in a laptop window and on a projector
    (1920x1080 at 150 %); the separable lesson's step-through advances with "Next step"."""
    from mobilenet_core.lessons import LESSON_PATHS

    SHOTS.mkdir(parents=True, exist_ok=True)
    sizes = {"1440": dict(viewport={"width": 1440, "height": 900}),
             "projector": dict(viewport={"width": 1280, "height": 720}, device_scale_factor=1.5)}  # fmt: skip
    for size, options in sizes.items():
        context = browser.new_context(**options)
        page = context.new_page()
        for path in LESSON_PATHS:
            model = LESSON_MODEL.get(path, "v2")
            page.goto(f"{server}/{path}?model={model}&lang={lang}")
            settle(page)
            heading = page.locator('[data-testid="stHeading"]').first
            heading.wait_for(timeout=120000)
            assert page.locator('[data-testid="stException"]').count() == 0, f"{path}: exception shown"
            shown = ".js-plotly-plot" if path != "lesson-uib" else '[data-testid="stMetric"]'
            page.locator(shown).first.wait_for(timeout=120000)
            if path == "lesson-separable":
                label = "乘加次数：深度卷积" if lang == "zh" else "MACs, depthwise"
                before = metric(page, label)
                page.get_by_role("button", name="下一步" if lang == "zh" else "Next step").click()
                after = wait(lambda p=page, k=label, b=before: (v := metric(p, k)) != b and v, timeout=30)
                # one more output position: one more D_K² M multiply-adds of the depthwise conv
                assert int(after.replace(",", "")) == 2 * int(before.replace(",", ""))
                settle(page)
            page.screenshot(path=str(SHOTS / f"{path}_{size}_{lang}.png"), full_page=size == "1440")
        context.close()

# ruff: noqa: F811 - the tests take the server and browser fixtures shared with test_browser
"""Tablets and phones (issue 26): a school iPad held upright (820 x 1180 CSS px, touch) and a
phone (390 x 844, touch). Every view and lesson, in English and Chinese, fits the width (nothing
scrolls sideways, nothing is cut at the right edge except inside a box that scrolls on purpose);
controls are at least 44 px tall; the sidebar folds away and opens by touch; the layer graph pans
with one finger and zooms with two. Screenshots (the whole page, top to bottom) go to
tests/artifacts/screenshots/tablet_* and phone_* (or $SCREENSHOT_DIR)."""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError
from test_browser import CHROMIUM, FLAGS, SHOTS, browser, server  # noqa: F401 - shared fixtures
from test_browser_lecture import MODEL, ready

from mobilenet_core.lessons import LESSON_PATHS

pytestmark = pytest.mark.browser

SIZES = {
    "tablet": dict(viewport={"width": 820, "height": 1180}, has_touch=True, is_mobile=True),
    "phone": dict(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True),
}
VIEWS = ("", "graph", "charts", "anatomy", "compare", "diff", "lab", "roofline", "tradeoffs", "classify")
PAGES = VIEWS + tuple(LESSON_PATHS)
MAIN = '[data-testid="stMain"]'

# What sticks out at the right: the page's width, the main area's own scrolling, and every shown
# element of the main area whose right edge passes the window's. An element inside a box that
# scrolls sideways on purpose (overflow-x auto/scroll, e.g. a wide table) is fine; one cut by a
# box that hides its overflow is not (the reader cannot get at it: a chart's title cut by its
# SVG), except in the graph viewer, whose stage pans. KaTeX's MathML copy, for screen readers, is
# drawn 1 px wide and clipped.
OVERFLOW = """() => {
    const width = window.innerWidth, main = document.querySelector('[data-testid="stMain"]');
    const out = [], page = document.documentElement.scrollWidth;
    if (page > width) out.push(`page ${page} > ${width}`);
    if (main.scrollWidth > main.clientWidth + 1) out.push(`main ${main.scrollWidth} > ${main.clientWidth}`);
    for (const e of main.querySelectorAll('*')) {
        const r = e.getBoundingClientRect();
        if (r.width === 0 || r.height === 0 || r.right <= width + 1) continue;
        if (e.closest('.katex-mathml, .gv-stage')) continue;
        if (getComputedStyle(e).visibility === 'hidden') continue;
        // an SVG group is not drawn itself (its shapes are looked at one by one), nor is a
        // chart note's transparent background
        if (e.tagName === 'g' || e.matches('rect.bg') && getComputedStyle(e).fillOpacity === '0') continue;
        // the nearest box that stops it at the window's edge: one that scrolls, or one that cuts
        let box = e.parentElement, scrolls = false;
        while (box && box !== main) {
            const o = getComputedStyle(box).overflowX;
            if (o !== 'visible' && box.getBoundingClientRect().right <= width + 1) {
                scrolls = o === 'auto' || o === 'scroll';
                break;
            }
            box = box.parentElement;
        }
        if (scrolls) continue;
        const name = e.getAttribute('data-testid') || (e.className.baseVal ?? e.className) || '';
        const text = (e.textContent || '').trim().slice(0, 40);
        out.push(`${e.tagName}.${String(name).slice(0, 30)} right ${Math.round(r.right)}: ${text}`);
        if (out.length > 8) break;
    }
    return out;
}"""
# the whole page's height: Streamlit scrolls its main area, not the document
CONTENT_HEIGHT = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    return Math.max(main.scrollHeight, window.innerHeight);
}"""


def drawn(page, path: str = "") -> None:
    """Until the page's run has finished, it has been quiet for a second and every chart is
    drawn (a lesson: its demonstration too; the attention lesson's heads came after the page had
    been looked at)."""
    ready(page, path)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.js-plotly-plot')].every((p) => p.querySelector('.main-svg'))",
        timeout=120000,
    )


def sticking_out(page) -> list[str]:
    """What sticks out at the right, once the page has fitted its charts' titles (they are fitted
    as they are drawn, and again when the web font arrives): at most 15 s for that."""
    try:
        page.wait_for_function(f"() => ({OVERFLOW})().length === 0", timeout=15000)
    except TimeoutError:
        pass
    return page.evaluate(OVERFLOW)


# A chart's legend (its colour key) that a box around the chart cuts off: on touch screens the
# chart moved down for Plotly's buttons inside a box as tall as the figure, and the lessons' keys
# under slanted block names fell out of sight (every lesson with a key, at 820 and 390 px).
CUT_LEGENDS = """() => [...document.querySelectorAll('.mne-chart g.legend')].flatMap((legend) => {
    const r = legend.getBoundingClientRect();
    if (!r.height) return [];
    const page = document.querySelector('[data-testid="stMain"]');  // the page's own scroller
    for (let box = legend.parentElement; box && box !== page; box = box.parentElement) {
        const style = getComputedStyle(box);
        if (style.overflowY === 'visible' && style.overflow === 'visible') continue;
        const b = box.getBoundingClientRect();
        if (r.bottom > b.bottom + 1 || r.top < b.top - 1) {
            return [legend.textContent.slice(0, 60) + ' cut by ' + (box.className.baseVal ?? box.className)];
        }
    }
    return [];
})"""


# A box that scrolls sideways (a formula, a table) must say so and take the keyboard: a formula
# cut at a phone's right edge with nothing to show that it scrolled, and a table cut mid-word,
# were found in the screenshot review. It shows a shadow at its hidden side (a background) and
# takes focus (axe's scrollable-region-focusable). A data frame's grid (a canvas, which takes the
# keyboard itself) shows a shadow over its right edge while columns are hidden there.
HIDDEN_SCROLLERS = """() => [...document.querySelectorAll('[data-testid="stMain"] *')].flatMap((e) => {
    const style = getComputedStyle(e);
    if (!['auto', 'scroll'].includes(style.overflowX) || e.scrollWidth <= e.clientWidth + 1) return [];
    if (e.closest('.mne-chart') || e.matches('[data-testid="stMain"]')) return [];
    const frame = e.closest('[data-testid="stDataFrame"]');
    if (frame) {
        const hidden = e.scrollLeft + e.clientWidth < e.scrollWidth - 1;
        const shaded = getComputedStyle(frame, '::after').backgroundImage !== 'none';
        if (!e.matches('.dvn-scroller') || !hidden || shaded) return [];
    } else if (e.tabIndex >= 0 && style.backgroundImage !== 'none') return [];
    const text = e.textContent.trim().slice(0, 40);
    return [`${e.className || e.tagName} ${e.clientWidth} < ${e.scrollWidth}: ${text}`];
})"""

# Texts of a chart drawn over each other: subplot titles side by side (separable, multipliers),
# notes on the same spot (the roofline's device names), a legend over the axis' slanted labels
# (its white box cut the block names to "blo"), a title over the legend. Tick labels among
# themselves are Plotly's business.
OVERLAPS = """() => [...document.querySelectorAll('.mne-chart .svg-container')].flatMap((chart) => {
    const boxes = (query, kind) => [...chart.querySelectorAll(query)].map((e) => ({kind, e,
        r: e.getBoundingClientRect(), text: (e.closest('g.legend') || e).textContent.trim().slice(0, 30)}))
        .filter((b) => b.r.width > 0 && b.r.height > 0);
    const notes = [...boxes('text.annotation-text', 'note'), ...boxes('text.gtitle', 'title')];
    const legend = boxes('g.legend rect.bg', 'legend');
    const axes = boxes('.xtick text, .ytick text, .g-xtitle text, .g-ytitle text, .g-y2title text', 'axis');
    const pairs = [];
    notes.forEach((a, i) => notes.slice(i + 1).forEach((b) => pairs.push([a, b])));
    for (const a of legend) for (const b of [...notes, ...axes]) pairs.push([a, b]);
    return pairs.filter(([a, b]) => Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left) > 2
        && Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top) > 2)
        .map(([a, b]) => `${a.kind} "${a.text}" over ${b.kind} "${b.text}"`).slice(0, 4);
})"""

# A chart squeezed out of shape: a heatmap drawn more than twice as tall as wide or the other way
# (every heatmap of the app is of a square map; the attention heads were thin strips on a phone),
# or a plot left less than half the chart's width by a legend beside it (Compare's scatter).
CRAMPED = """() => [...document.querySelectorAll('.mne-chart .svg-container')].flatMap((chart) => {
    const out = [];
    const title = (chart.querySelector('text.gtitle')?.textContent || '').slice(0, 30);
    for (const image of chart.querySelectorAll('.heatmaplayer image')) {
        const r = image.getBoundingClientRect();
        if (r.width && r.height && (r.width / r.height > 2 || r.height / r.width > 2)) {
            out.push(`${title}: a heatmap ${Math.round(r.width)} x ${Math.round(r.height)}`);
        }
    }
    const plot = chart.querySelector('.draglayer .nsewdrag'), legend = chart.querySelector('g.legend');
    if (plot && legend) {
        const p = plot.getBoundingClientRect(), l = legend.getBoundingClientRect();
        if (l.left >= p.right - 1 && p.width < chart.clientWidth / 2) {
            out.push(`${title}: the plot ${Math.round(p.width)} of ${chart.clientWidth} px by its legend`);
        }
    }
    return out;
})"""
LOOKS = ("HIDDEN_SCROLLERS", "OVERLAPS", "CRAMPED")


def looks_wrong(page) -> list[str]:
    """What the screenshot review found at a phone's width and the sideways check did not, once
    the page has fitted its formulas and titles and marked its scrolling boxes (as they are drawn:
    at most 15 s for that)."""
    every = "() => [" + ", ".join(f"...({globals()[name]})()" for name in LOOKS) + "]"
    try:
        page.wait_for_function(f"() => ({every})().length === 0", timeout=15000)
    except TimeoutError:
        pass
    return page.evaluate(every)


def address(server, path: str, lang: str) -> str:
    return f"{server}/{path}?model={MODEL.get(path, 'v2')}&lang={lang}"


def screenshot_whole(page, name: str, size: dict) -> None:
    """The page top to bottom: the window made as tall as the content (same width, so the same
    layout), then back."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    height = min(page.evaluate(CONTENT_HEIGHT), 12000)
    page.set_viewport_size({"width": size["viewport"]["width"], "height": height})
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    page.set_viewport_size(size["viewport"])


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("size", ["tablet", "phone"])
def test_no_page_scrolls_sideways(server, browser, size, lang):
    context = browser.new_context(**SIZES[size])
    page = context.new_page()
    faults = {}
    try:
        for path in PAGES:
            page.goto(address(server, path, lang))
            drawn(page, path)
            assert page.locator('[data-testid="stException"]').count() == 0, path
            out = sticking_out(page) + page.evaluate(CUT_LEGENDS) + looks_wrong(page)
            if out:
                faults[path or "overview"] = out
            screenshot_whole(page, f"{size}_{path or 'overview'}_{lang}", SIZES[size])
    finally:
        context.close()
    assert not faults, faults


# The controls a finger must hit, shown in the main area and the sidebar, with the box it hits:
# a radio's or checkbox's whole label, a slider's thumb, a select's field, a number's field and
# its - / + buttons, an expander's summary, a link of the navigation, the sidebar's toggle.
TARGETS = """() => {
    const shown = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
    const kinds = {
        button: 'button:not(.modebar-btn)',
        link: '[data-testid="stSidebar"] a, [data-testid="stPageLink-NavLink"]',
        radio: '[data-testid="stRadio"] [role="radiogroup"] label',
        checkbox: '[data-testid="stCheckbox"] label',
        thumb: '[data-testid="stSlider"] div:has(> div > input[type="range"])',
        select: '[data-testid="stSelectbox"] [role="group"], [data-testid="stMultiSelect"] [role="group"]',
        input: 'input[type="text"], input[type="number"], input[type="search"], textarea',
        summary: '[data-testid="stExpander"] summary',
        graph: '.gv-bar button, .gv-search',
    };
    // the graph viewer draws in its own shadow root
    const roots = [document, ...[...document.querySelectorAll('*')].filter((e) => e.shadowRoot)
        .map((e) => e.shadowRoot)];
    const out = [];
    for (const [kind, query] of Object.entries(kinds)) {
        for (const e of roots.flatMap((root) => [...root.querySelectorAll(query)])) {
            if (!shown(e) || e.closest('[data-testid="stSidebar"]') && !shown(document.querySelector(
                '[data-testid="stSidebarContent"]'))) continue;
            // a select is one target, its whole field: its text box and arrow are inside it
            const field = e.closest('[data-testid="stSelectbox"] [role="group"]');
            if (field && field !== e) continue;
            const name = (e.getAttribute('aria-label') || e.textContent || e.getAttribute('data-testid')
                || '').trim().slice(0, 30);
            out.push({kind, name, height: e.getBoundingClientRect().height});
        }
    }
    return out;
}"""
# Plotly's modebar buttons (zoom, save, ...) are 22 px and are left out: the chart's own download
# button below it and the sidebar's format are the way to save on a tablet, and a pinch zooms.
TARGET_PAGES = ("", "diff", "lab", "classify", "graph", "lesson-separable", "lesson-bottleneck")


def open_sidebar(page) -> None:
    """Tap the sidebar's toggle and wait until the sidebar is shown."""
    page.locator('[data-testid="stExpandSidebarButton"]').tap()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stSidebar\"]').getBoundingClientRect().width > 200",
        timeout=60000,
    )


def test_controls_are_44_px_tall_on_a_tablet(server, browser):
    context = browser.new_context(**SIZES["tablet"])
    page = context.new_page()
    small, seen = [], set()
    try:
        for path in TARGET_PAGES:
            page.goto(address(server, path, "en"))
            drawn(page)
            if path == "":  # the sidebar's controls, once: the same on every page
                open_sidebar(page)
            for target in page.evaluate(TARGETS):
                seen.add(target["kind"])
                if target["height"] < 44 - 0.5:
                    small.append((path or "overview", target["kind"], target["name"], target["height"]))
    finally:
        context.close()
    assert {"button", "link", "radio", "checkbox", "thumb", "select", "input", "graph"} <= seen, seen
    assert not small, small


SIDEBAR_WIDTH = "() => document.querySelector('[data-testid=\"stSidebar\"]').getBoundingClientRect().width"


def test_sidebar_folds_away_on_a_tablet_and_opens_by_touch(server, browser):
    """Folded when the tablet opens the app (Streamlit alone folds it only at 768 px and less);
    a tap opens it, the page still fits beside it (Diff, whose table and third waterfall were
    cut at the right), another tap folds it."""
    context = browser.new_context(**SIZES["tablet"])
    page = context.new_page()
    try:
        page.goto(address(server, "diff", "en"))
        ready(page, "diff")
        page.wait_for_function(f"() => ({SIDEBAR_WIDTH})() === 0", timeout=60000)
        assert page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').clientWidth") >= 800
        open_sidebar(page)
        ready(page, "diff")  # the charts redraw at the narrower width
        assert sticking_out(page) == []
        page.locator('[data-testid="stSidebarCollapseButton"] button').tap()
        page.wait_for_function(f"() => ({SIDEBAR_WIDTH})() === 0", timeout=60000)
    finally:
        context.close()


def test_sidebar_stays_open_on_a_laptop(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto(address(server, "", "en"))
        ready(page)
        assert page.evaluate(SIDEBAR_WIDTH) > 200
    finally:
        page.close()


# the graph's view: svg-pan-zoom's transform of the drawing (scale, x, y)
VIEW = """(view) => {
    const m = view.transform.baseVal.consolidate().matrix;
    return {scale: m.a, x: m.e, y: m.f};
}"""


def touch(cdp, kind: str, points: list[tuple[float, float]]) -> None:
    cdp.send("Input.dispatchTouchEvent", {
        "type": kind, "touchPoints": [{"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)],
    })  # fmt: skip


def gesture(cdp, start: list[tuple[float, float]], end: list[tuple[float, float]], steps: int = 8) -> None:
    """Fingers down at `start`, moved in `steps` to `end`, lifted."""
    touch(cdp, "touchStart", start)
    for step in range(1, steps + 1):
        f = step / steps
        touch(
            cdp,
            "touchMove",
            [(x0 + (x1 - x0) * f, y0 + (y1 - y0) * f) for (x0, y0), (x1, y1) in zip(start, end)],
        )
    touch(cdp, "touchEnd", [])


def test_graph_pans_with_one_finger_and_zooms_with_two(server, browser):
    context = browser.new_context(**SIZES["tablet"])
    page = context.new_page()
    try:
        page.goto(address(server, "graph", "en"))
        ready(page, "graph")
        page.locator(".gv-stage .svg-pan-zoom_viewport g.node").first.wait_for(timeout=120000)
        view = page.locator(".gv-stage .svg-pan-zoom_viewport").first  # in the viewer's shadow root
        stage = page.locator(".gv-stage")
        stage.scroll_into_view_if_needed()
        box = stage.bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + min(box["height"], 1180 - box["y"]) / 2
        cdp = context.new_cdp_session(page)

        # a tap on a block opens it, as a click does (the graph opens at 100 %, top left: in view)
        node = page.locator(".gv-stage g.node").nth(2)
        node_box = node.bounding_box()
        page.touchscreen.tap(node_box["x"] + node_box["width"] / 2, node_box["y"] + node_box["height"] / 2)
        page.locator(".gv-stage g.node.gv-selected").wait_for(timeout=60000)
        ready(page, "graph")  # the run the selection started

        before = view.evaluate(VIEW)
        gesture(cdp, [(cx, cy)], [(cx - 120, cy - 90)])
        after = view.evaluate(VIEW)
        assert after["x"] - before["x"] == pytest.approx(-120, abs=2)
        assert after["y"] - before["y"] == pytest.approx(-90, abs=2)
        assert after["scale"] == pytest.approx(before["scale"])
        assert page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollLeft") == 0

        before = after
        gesture(cdp, [(cx - 40, cy), (cx + 40, cy)], [(cx - 120, cy), (cx + 120, cy)])  # fingers 80 -> 240 px
        after = view.evaluate(VIEW)
        assert after["scale"] / before["scale"] == pytest.approx(3, rel=0.05)

    finally:
        context.close()


@pytest.fixture(scope="module")
def camera_browser(browser):
    """Chromium with its fake camera (a test pattern) and the permission granted without asking."""
    fake = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
    b = browser.browser_type.launch(executable_path=CHROMIUM, args=FLAGS + fake)
    yield b
    b.close()


def test_a_photo_taken_with_the_camera_is_classified(server, camera_browser):
    """Classify on a tablet: the camera is not asked for on load; the switch opens it, a photo
    taken waits for a network like a dropped one, and is classified once there is one."""
    context = camera_browser.new_context(**SIZES["tablet"], permissions=["camera"])
    page = context.new_page()
    try:
        page.goto(f"{server}/classify?model=v3_small&alpha=0.6&lang=en")
        page.get_by_text("No published checkpoint for MobileNetV3-Small").wait_for(timeout=120000)
        assert page.locator('[data-testid="stCameraInput"]').count() == 0  # no camera asked for on load
        page.locator(".st-key-classify_camera_open label").tap()
        take_photo(page)
        page.get_by_text("Photos waiting: 1.").wait_for(timeout=120000)
        page.locator(".st-key-use_untrained label").tap()
        page.locator("h2").filter(has_text="camera photo.jpg").wait_for(timeout=120000)
        page.locator(".js-plotly-plot .bars .point").nth(4).wait_for(timeout=120000)
        assert page.locator(".js-plotly-plot .bars .point").count() == 5  # its top-5
        screenshot_whole(page, "tablet_classify_camera_en", SIZES["tablet"])

        # a lesson's photo picker: the photo taken is the one the demonstration runs on
        page.goto(address(server, "lesson-separable", "en"))
        drawn(page)
        before = page.locator(".js-plotly-plot").first.evaluate(INPUT_MAP)
        page.locator('[data-testid="stExpander"] summary').filter(has_text="Your photo").tap()
        switch = page.locator(".st-key-lesson_photo_camera_open label")
        for _ in range(3):  # a tap that lands while Streamlit redraws the page is lost: tapped again
            switch.tap(timeout=60000)
            try:
                page.locator('[data-testid="stCameraInput"]').wait_for(timeout=30000)
                break
            except TimeoutError:
                pass
        take_photo(page)
        now = f"({INPUT_MAP})(document.querySelector('{MAIN} .js-plotly-plot'))"
        changed = f"(before) => {{ const now = {now}; return now !== null && now !== before; }}"
        page.wait_for_function(changed, arg=before, timeout=120000)
    finally:
        context.close()


def take_photo(page) -> None:
    """Once the camera's picture moves, tap "Take Photo" until the photo is taken (a tap before
    the camera is ready is ignored by the widget)."""
    camera = page.locator('[data-testid="stCameraInput"]')
    camera.locator("video").wait_for(timeout=120000)
    video = camera.locator("video").element_handle()
    page.wait_for_function("(video) => video.readyState >= 2", arg=video, timeout=120000)
    for _ in range(3):
        camera.locator("button").filter(has_text="Take Photo").tap(timeout=60000)
        try:
            camera.locator("button").filter(has_text="Clear photo").wait_for(timeout=30000)
            return
        except TimeoutError:
            pass
    raise AssertionError("the camera took no photo")


# the first map of a lesson's step-through: the photo's first input channel, as drawn
INPUT_MAP = "(plot) => plot && plot.data ? JSON.stringify(plot.data[0].z) : null"

# ruff: noqa: F811 - the tests take the server and browser fixtures shared with test_browser
"""Lecture-ready, second pass (issue 23): what a teacher sees on a projector (1280 x 720 CSS px at
150 %) and a laptop (1440 x 900), in English and Chinese. Presentation mode keeps every lesson's
controls, large and usable; the demo figure is on the first screen; the lessons make their point
(inverted residual, roofline, multipliers, bottleneck, story, attention); the layer graph's
search and details; one control for Classify's untrained network. Screenshots of every lesson in
presentation mode go to tests/artifacts/screenshots (or $SCREENSHOT_DIR)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect
from test_browser import ROOT, SHOTS, browser, idle, metric, server, wait  # noqa: F401 - shared fixtures

import mobilenet_core as mc
from app.i18n import STRINGS
from mobilenet_core.lessons import LESSON_PATHS

pytestmark = pytest.mark.browser

PROJECTOR = dict(viewport={"width": 1280, "height": 720}, device_scale_factor=1.5)
LAPTOP = dict(viewport={"width": 1440, "height": 900})
MODEL = {"lesson-separable": "v1", "lesson-se": "v3_large", "lesson-attention": "v4_hybrid_medium",
         "lesson-uib": "v4_conv_small"}  # fmt: skip
DEMO_FIRST = ("lesson-separable", "lesson-se", "lesson-inverted-residual", "lesson-attention")
WORDS = {lang: STRINGS[lang] for lang in ("en", "zh")}  # the locale files' and the lessons' words
MAIN = ".stMainBlockContainer"

# the widgets of the main area that are shown (an element under display: none has no box)
SHOWN_CONTROLS = """() => {
    const main = document.querySelector('.stMainBlockContainer');
    const out = {};
    for (const kind of ['stSlider', 'stNumberInput', 'stButton', 'stSelectbox', 'stCheckbox', 'stRadio',
                        'stExpander']) {
        out[kind] = [...main.querySelectorAll(`[data-testid="${kind}"]`)]
            .filter((e) => e.getBoundingClientRect().height > 0).length;
    }
    return out;
}"""
# sizes of the shown controls, CSS px
CONTROL_SIZES = """() => {
    const main = document.querySelector('.stMainBlockContainer');
    const shown = (e) => e.getBoundingClientRect().height > 0;
    const px = (e) => parseFloat(getComputedStyle(e).fontSize);
    return {
        labels: [...main.querySelectorAll('[data-testid="stWidgetLabel"] p')].filter(shown).map(px),
        thumbs: [...main.querySelectorAll('[data-testid="stSlider"] input[type="range"]')]
            .map((e) => e.parentElement).filter(shown).map((e) => e.getBoundingClientRect().width),
        buttons: [...main.querySelectorAll('[data-testid="stButton"] button')].filter(shown)
            .map((e) => e.getBoundingClientRect().height),
        inputs: [...main.querySelectorAll('[data-testid="stNumberInput"] input')].filter(shown)
            .map((e) => e.getBoundingClientRect().height),
    };
}"""
# each metric: label and value font size (px), and whether the value is cut
METRICS = """() => [...document.querySelectorAll('[data-testid="stMetric"]')]
    .filter((m) => m.getBoundingClientRect().height > 0).map((m) => {
        const value = m.querySelector('[data-testid="stMetricValue"]');
        const inner = value.querySelector('div') || value;
        const label = m.querySelector('[data-testid="stMetricLabel"] p');
        return {label: parseFloat(getComputedStyle(label).fontSize), text: value.innerText,
                value: Math.min(...[value, ...value.querySelectorAll('*')]
                    .map((e) => parseFloat(getComputedStyle(e).fontSize))),
                cut: inner.scrollWidth > inner.clientWidth + 1};
    })"""
# what the presentation hint overlaps (boxes of the page's content, at the current scroll)
HINT_OVERLAPS = """() => {
    const hint = document.querySelector('.present-hint');
    if (!hint) return ['no hint'];
    const h = hint.getBoundingClientRect();
    const content = document.querySelectorAll('.stMainBlockContainer :is(h1, h2, h3, h4, p, li,'
        + ' .js-plotly-plot, [data-testid="stMetric"], [data-testid="stWidgetLabel"],'
        + ' [data-testid="stButton"], .katex-display,'
        + ' [data-testid="stDataFrame"], [data-testid="stTable"])');
    return [...content].filter((e) => !hint.contains(e) && !e.contains(hint)).filter((e) => {
        const r = e.getBoundingClientRect();
        return r.width > 0 && r.height > 0 && r.left < h.right && h.left < r.right && r.top < h.bottom
            && h.top < r.bottom;
    }).map((e) => `${e.tagName}.${e.className}: ${e.innerText?.slice(0, 40)}`);
}"""
# texts of a chart that overlap each other or are cut by the chart's edge
TEXT_CLASHES = """(plot) => {
    const frame = plot.getBoundingClientRect();
    const texts = [...plot.querySelectorAll('g.textpoint text, g.annotation-text-g text, g.annotation text')]
        .filter((e) => e.getBoundingClientRect().width > 0 && e.textContent.trim());
    const boxes = texts.map((e) => [e.textContent, e.getBoundingClientRect()]);
    const out = [];
    boxes.forEach(([t, r], i) => {
        if (r.left < frame.left - 1 || r.right > frame.right + 1 || r.top < frame.top - 1
            || r.bottom > frame.bottom + 1)
            out.push(`cut: ${t}`);
        boxes.slice(i + 1).forEach(([u, s]) => {
            const x = Math.min(r.right, s.right) - Math.max(r.left, s.left);
            const y = Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top);
            if (x > 2 && y > 2) out.push(`${t} / ${u}`);
        });
    });
    return out;
}"""
# the first chart of the main area, against the window (CSS px)
FIRST_FIGURE = """() => {
    const plot = document.querySelector('.stMainBlockContainer .mne-chart');
    if (!plot) return null;
    const r = plot.getBoundingClientRect();
    return {top: r.top, bottom: r.bottom, height: r.height, window: window.innerHeight};
}"""


def url(server, path: str, lang: str = "en", present: bool = True, model: str | None = None, **extra) -> str:
    query = {"model": model or MODEL.get(path, "v2"), "lang": lang, **extra}
    if present:
        query["present"] = "1"
    return f"{server}/{path}?" + "&".join(f"{k}={v}" for k, v in query.items())


# the page is quiet: no run going on, nothing stale, and the same elements for a second (a page's
# first run can be followed at once by a second one, e.g. when the link gains the resolution)
QUIET = """async () => {
    const shown = '[data-testid="stElementContainer"], .js-plotly-plot';
    const signature = () => [...document.querySelectorAll(shown)]
        .map((e) => e.getBoundingClientRect().height > 0 ? 1 : 0).join('');
    let last = null, same = 0;
    const end = Date.now() + 120000;
    while (same < 5) {
        if (Date.now() > end) return false;
        await new Promise((done) => setTimeout(done, 200));
        const now = signature();
        const busy = document.querySelector('[data-testid="stStatusWidget"], [data-stale="true"]');
        if (!busy && now === last) same += 1; else { same = 0; last = now; }
    }
    return true;
}"""


def ready(page, path: str = "") -> None:
    """Until the page's run has finished and its demonstration is drawn: a lesson's run ends with
    its "Try this" heading, and then the page must be quiet."""
    page.locator('[data-testid="stHeading"]').first.wait_for(timeout=60000)
    if path.startswith("lesson"):
        page.locator(f"{MAIN} h2").filter(has_text=re.compile("Try this|动手试试")).wait_for(timeout=180000)
        if path != "lesson-uib":
            drawn = "() => document.querySelector('.stMainBlockContainer .js-plotly-plot .main-svg')"
            page.wait_for_function(drawn, timeout=120000)
    idle(page)
    assert page.evaluate(QUIET), "the page did not come to rest in 120 s"


def open_page(page, address: str, path: str = "") -> None:
    page.goto(address)
    ready(page, path)


def plots(page) -> list:
    return page.locator(f"{MAIN} .js-plotly-plot").all()


# --- items 1-3: presentation mode ----------------------------------------------------------------


def test_presentation_keeps_every_lesson_control_large(server, browser):
    """Every control a lesson has in a laptop window is there with ?present=1, and large: labels
    at least 20 px, slider thumbs 24 px, buttons and number fields 44 px high (issue 23, item 1)."""
    laptop, projector = browser.new_page(**LAPTOP), browser.new_page(**PROJECTOR)
    for path in LESSON_PATHS:
        open_page(laptop, url(server, path, present=False), path)
        open_page(projector, url(server, path), path)
        expected = laptop.evaluate(SHOWN_CONTROLS)
        assert projector.evaluate(SHOWN_CONTROLS) == expected, path
        sizes = projector.evaluate(CONTROL_SIZES)
        assert all(px >= 20 for px in sizes["labels"]), (path, sizes)
        assert all(w >= 24 for w in sizes["thumbs"]), (path, sizes)
        assert all(h >= 44 for h in sizes["buttons"] + sizes["inputs"]), (path, sizes)
    laptop.close()
    projector.close()


@pytest.mark.parametrize(
    "path", ["lesson-separable", "lesson-bottleneck", "lesson-attention", "lesson-roofline"]
)
def test_presentation_sliders_move_with_the_keys_and_stay_on_the_page(server, browser, path):
    """A focused slider takes the arrow keys (the value moves, the page stays); the step-through's
    channel field takes a number (issue 23, item 1)."""
    page = browser.new_page(**PROJECTOR)
    open_page(page, url(server, path), path)
    here = page.url.split("?")[0]
    thumbs = page.locator(f'{MAIN} [data-testid="stSlider"] input[type="range"]')
    assert thumbs.count() >= 1
    for i in range(thumbs.count()):
        before = thumbs.nth(i).input_value()
        thumbs.nth(i).focus()
        thumbs.nth(i).press("ArrowRight")
        wait(lambda i=i, b=before: thumbs.nth(i).input_value() != b, timeout=30)
        ready(page, path)
        assert page.url.split("?")[0] == here, "the arrow key left the page"
        assert thumbs.nth(i).input_value() != before
    if path == "lesson-separable":
        field = page.locator(f"{MAIN} .st-key-sep_channel input")
        field.fill("3")
        field.press("Enter")
        expect(page.locator(f"{MAIN} .js-plotly-plot").first).to_contain_text(
            "input, channel 3", timeout=60000
        )
    page.close()


def test_presentation_steps_the_separable_demo(server, browser):
    """'Next step' is there with ?present=1 and advances the step-through (issue 23, item 1)."""
    page = browser.new_page(**PROJECTOR)
    open_page(page, url(server, "lesson-separable"), "lesson-separable")
    label = WORDS["en"]["ls_macs_depthwise"]
    before = metric(page, label)
    page.locator(f"{MAIN} .st-key-sep_next button").click()
    after = wait(lambda: (v := metric(page, label)) != before and v, timeout=60)
    # one more output position: one more D_K² M multiply-adds of the depthwise conv
    assert int(after.replace(",", "")) == 2 * int(before.replace(",", ""))
    page.close()


@pytest.mark.parametrize("path", ["", "lesson-uib", "lesson-inverted-residual"])
def test_presentation_metric_values_are_not_smaller_than_labels(server, browser, path):
    """A metric's number at least as large as its label, and not cut (issue 23, item 2)."""
    page = browser.new_page(**PROJECTOR)
    open_page(page, url(server, path, model="v4_conv_small" if not path else None), path)
    metrics = page.evaluate(METRICS)
    assert metrics, path
    for m in metrics:
        assert m["value"] >= m["label"], (path, m)
        assert not m["cut"], (path, m)
    page.close()


def test_presentation_compare_has_no_empty_headings_and_a_large_table(server, browser):
    """Compare with ?present=1: no 'Configuration 1' headings over hidden pickers; the table's
    text is projector-sized and nothing in it is cut (issue 23, item 2)."""
    page = browser.new_page(**PROJECTOR)
    open_page(page, url(server, "compare", model="v3_large"))
    page.locator(f'{MAIN} [data-testid="stTable"]').first.wait_for(timeout=60000)
    heading = page.get_by_text(WORDS["en"]["config_n"].format(n=1), exact=True)
    assert heading.count() == 0 or not heading.first.is_visible()
    table = page.locator(f'{MAIN} [data-testid="stTable"]').first
    sizes = table.locator("td").evaluate_all("es => es.map(e => parseFloat(getComputedStyle(e).fontSize))")
    assert min(sizes) >= 18, sizes
    cut = table.evaluate("""e => [e, ...e.querySelectorAll('*')]
        .filter(x => getComputedStyle(x).overflowX !== 'visible' && x.scrollWidth > x.clientWidth + 1)
        .map(x => x.tagName)""")
    assert not cut, cut
    box = table.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1280 + 1
    page.screenshot(path=str(SHOTS / "present_compare_en.png"))
    page.close()


@pytest.mark.parametrize("path", ["", "lesson-se"])
def test_presentation_hint_covers_nothing(server, browser, path):
    """The '← → · Esc' hint overlaps no content, at the top and scrolled down (issue 23, item 2)."""
    page = browser.new_page(**PROJECTOR)
    open_page(page, url(server, path), path)
    assert page.evaluate(HINT_OVERLAPS) == []
    for _ in range(4):
        page.mouse.move(640, 400)
        page.mouse.wheel(0, 500)
        page.wait_for_timeout(0)  # let the scroll event land (no sleep: the check reads the boxes)
        assert page.evaluate(HINT_OVERLAPS) == []
    page.close()


def test_presentation_escape_right_after_an_arrow_leaves(server, browser):
    """← then Esc at once: the arrow switches the page inside the app (no reload), so the key
    listener is there when Esc comes (issue 23, item 2)."""
    page = browser.new_page(**PROJECTOR)
    open_page(page, url(server, "lesson-se"), "lesson-se")
    page.keyboard.press("ArrowLeft")
    page.wait_for_url(re.compile(r"/lesson-inverted-residual\?.*present=1"), timeout=120000)
    page.keyboard.press("Escape")
    page.wait_for_url(lambda u: "present=1" not in u and "/lesson-inverted-residual" in u, timeout=15000)
    page.locator('section[data-testid="stSidebar"]').wait_for(state="visible", timeout=120000)
    page.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_presentation_every_lesson_screenshotted_demo_on_the_first_screen(server, browser, lang):
    """Every lesson with ?present=1 on a projector, in both languages, screenshotted; the demo
    figure of separable, SE, inverted residual and MQA wholly on the first screen (item 3), and
    no English left in the Chinese pages."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(**PROJECTOR)
    english = ("Computed on", "Untrained network", "The idea in full", "Next step", "Try this", "None",
               "Your photo", "layers", "Block")  # fmt: skip
    for path in LESSON_PATHS:
        open_page(page, url(server, path, lang=lang), path)
        assert page.locator('[data-testid="stException"]').count() == 0, path
        page.screenshot(path=str(SHOTS / f"present_{path}_{lang}.png"))
        if path in DEMO_FIRST:
            box = page.evaluate(FIRST_FIGURE)
            assert box and 0 <= box["top"] < box["window"] / 2 and box["bottom"] <= box["window"] + 1, (
                path,
                box,
            )
        if lang == "zh":
            text = page.locator(MAIN).inner_text()
            left = [w for w in english if re.search(rf"\b{w}\b", text)]
            assert not left, (path, left)
    page.close()


# --- items 4-11: lessons that make their point ---------------------------------------------------


def test_inverted_residual_leads_with_what_differs(server, browser):
    """The first metrics are the tensors between blocks (they differ), the peaks inside a block
    come after them, with why they tie (issue 23, item 4)."""
    page = browser.new_page(**LAPTOP)
    open_page(page, url(server, "lesson-inverted-residual", present=False), "lesson-inverted-residual")
    values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    labels = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
    assert "between blocks" in labels[0] and "between blocks" in labels[1], labels
    assert values[0] != values[1], values
    expect(page.get_by_text(re.compile("Why the peaks inside a block"))).to_be_visible()
    title = page.locator(f"{MAIN} .js-plotly-plot .gtitle").first.text_content()
    assert "hands to the next" in title
    page.close()


def _plot_json(page, index: int) -> dict:
    return plots(page)[index].evaluate(
        "e => JSON.parse(JSON.stringify({data: e.data.map(d => ({name: d.name, x: d.x, y: d.y,"
        " color: d.marker && d.marker.color, line: d.line && d.line.color})), layout: e.layout}))"
    )


def test_roofline_lesson_tells_the_papers_point_truthfully(server, browser):
    """No illustrative peak: the sweep shows time over compute time (independent of the peak),
    the paper's calibrated devices show the EdgeTPU fastest, the device labels do not overlap,
    the % axis ticks every 25, memory-bound has the Roofline view's colour, and the formula
    has no 10¹² labelled ms (issue 23, item 5)."""
    page = browser.new_page(**LAPTOP)
    open_page(page, url(server, "lesson-roofline", present=False), "lesson-roofline")
    sweep, devices = _plot_json(page, 0), _plot_json(page, 1)
    assert sweep["layout"]["yaxis2"]["dtick"] == 25
    ticks = plots(page)[0].locator(".y2tick text").all_text_contents()
    assert ticks and all(int(x) % 25 == 0 for x in ticks), ticks
    assert plots(page)[0].evaluate(TEXT_CLASHES) == []
    totals = {}
    for trace in devices["data"]:
        if trace["name"] in ("compute-bound", "memory-bound"):
            for device, ms in zip(trace["y"], trace["x"], strict=True):
                totals[device] = totals.get(device, 0) + ms
    assert min(totals, key=totals.get) == "Pixel 8 EdgeTPU", totals
    memory = next(d["color"] for d in devices["data"] if d["name"] == "memory-bound")
    tex = page.locator('annotation[encoding="application/x-tex"]').all_text_contents()
    assert tex and not any("10^{12}" in x or "ms" in x for x in tex), tex
    open_page(page, f"{server}/roofline?model=v2&lang=en")
    page.locator(f"{MAIN} .js-plotly-plot").first.wait_for(timeout=60000)
    view = [d for i in range(len(plots(page))) for d in _plot_json(page, i)["data"]]
    assert memory in [d["color"] for d in view if d["name"] == WORDS["en"]["memory_bound_ms"]]
    page.close()


def test_multipliers_has_a_rho_chart_and_readable_accuracy_labels(server, browser):
    """MACs against ρ beside MACs against α; the published top-1 chart's labels neither overlap
    nor are cut (issue 23, item 6)."""
    page = browser.new_page(**LAPTOP)
    open_page(page, url(server, "lesson-multipliers", present=False, model="v1"), "lesson-multipliers")
    titles = plots(page)[0].locator(".xtitle, .x2title").all_text_contents()
    assert any("ρ" in x for x in titles), titles
    for plot in plots(page):
        assert plot.evaluate(TEXT_CLASHES) == []
    page.close()


def test_bottleneck_every_n_has_its_panel_and_more_dimensions_never_look_worse(server, browser):
    """n = 8 has its own panel; with seed 7 the error at n = 30 is not above n = 15 (issue 23, item 7)."""
    page = browser.new_page(**LAPTOP)
    open_page(page, url(server, "lesson-bottleneck", present=False), "lesson-bottleneck")
    thumb = page.locator(f'{MAIN} .st-key-spiral_n input[type="range"]')
    thumb.focus()
    thumb.press("ArrowRight")  # 5 -> 8
    expect(plots(page)[1]).to_contain_text("n = 8", timeout=60000)  # the chosen n's own panel
    seed = page.locator(f"{MAIN} .st-key-spiral_seed input")
    seed.fill("7")
    seed.press("Enter")
    ready(page, "lesson-bottleneck")
    wait(lambda: seed.input_value() == "7", timeout=30)
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=60000)
    figure = _plot_json(page, 0)
    errors = {}
    titles = [a["text"] for a in figure["layout"]["annotations"] if a["text"].startswith("n = ")]
    values = [float(a["text"].split()[-1]) for a in figure["layout"]["annotations"] if "error" in a["text"]]
    errors = dict(zip(titles, values, strict=True))
    assert errors["n = 30"] <= errors["n = 15"], errors
    page.close()


def test_story_says_five_generations_shows_no_none_and_nothing_clashes(server, browser):
    """The story: V5 named in the text, no 'None' for a missing top-1, chart labels apart and
    inside the chart, lesson links not cut (issue 23, item 9)."""
    page = browser.new_page(**LAPTOP)
    open_page(page, url(server, "lessons", present=False), "lessons")
    text = page.locator(MAIN).inner_text()
    assert "V5 (2025)" in text and not re.search(r"\bNone\b", text)
    grid = page.locator(f'{MAIN} [data-testid="stDataFrame"]').first
    expect(grid).not_to_contain_text("None")
    assert plots(page)[0].evaluate(TEXT_CLASHES) == []
    links = page.locator(f'{MAIN} [data-testid="stPageLink"] p')
    assert links.count() == len(LESSON_PATHS) - 1
    assert (
        links.evaluate_all("es => es.filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)")
        == []
    )
    page.close()


def test_lesson_texts_open_whole_and_try_this_is_smaller_than_the_title(server, browser):
    """A first paragraph ending with a colon shows what it announces; 'Try this' smaller than the
    title; no '0 SE units'; a share without an arrow (issue 23, item 10)."""
    page = browser.new_page(**LAPTOP)
    for path, model in (
        ("lesson-activations", "v2"),
        ("lesson-uib", "v4_conv_small"),
        ("lesson-roofline", "v2"),
    ):
        open_page(page, url(server, path, present=False, model=model), path)
        before = page.locator(f'{MAIN} [data-testid="stMarkdownContainer"]').evaluate_all(
            """es => { const ex = document.querySelector('.stMainBlockContainer [data-testid="stExpander"]');
                return es.filter(e => ex && (e.compareDocumentPosition(ex) & Node.DOCUMENT_POSITION_FOLLOWING)
                    && e.innerText.trim()).map(e => e.innerText.trim()); }"""
        )  # fmt: skip
        assert before and not before[-1].endswith((":", "：")), (path, before[-1:])
        title = page.locator(f"{MAIN} h1").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        try_this = page.get_by_text("Try this", exact=True).evaluate(
            "e => parseFloat(getComputedStyle(e).fontSize)"
        )
        assert try_this < title
        if path == "lesson-activations":
            assert page.get_by_text(re.compile(r"The 0 SE units")).count() == 0
    open_page(page, url(server, "lesson-se", present=False), "lesson-se")
    deltas = page.locator('[data-testid="stMetricDelta"]')
    assert deltas.count() == 3 and deltas.locator("svg").count() == 0
    page.close()


def test_attention_eight_heads_titles_over_their_maps_and_weights_from_zero(server, browser):
    """Hybrid-L's 8 heads: each 'head i' title over head i's map (the second row was off by
    one), and the colour scale starts at 0 (issue 23, item 11)."""
    page = browser.new_page(**LAPTOP)
    open_page(
        page, url(server, "lesson-attention", present=False, model="v4_hybrid_large"), "lesson-attention"
    )
    plot = plots(page)[0]
    check = plot.evaluate("""gd => {
        const full = gd._fullLayout;
        const maps = gd.data.filter(d => d.type === 'heatmap');
        return maps.map((d, i) => {
            const axis = full['xaxis' + (d.xaxis === 'x' ? '' : d.xaxis.slice(1))];
            const centre = (axis.domain[0] + axis.domain[1]) / 2;
            const title = gd.layout.annotations.find(a => a.text === `head ${i}`);
            return title ? Math.abs(title.x - centre) : 1;
        });
    }""")
    assert len(check) == 8 and max(check) < 0.01, check
    assert plot.evaluate("gd => gd.layout.coloraxis.cmin") == 0
    page.close()


# --- items 13, 14b, 15 -----------------------------------------------------------------------------


def test_graph_search_shows_every_hit_and_details_once_above_the_graph(server, browser):
    """Search 'blocks.3': every block found is in the view; a click shows its details once, on
    the first screen (issue 23, item 13)."""
    page = browser.new_page(**LAPTOP)
    page.goto(f"{server}/graph?model=v3_large&lang=en")
    page.locator(".gv-stage svg g.node").first.wait_for(timeout=60000)
    ready(page)
    page.locator(".gv-search").fill("blocks.3")
    page.locator(".gv-search").press("Enter")
    found = page.locator(".gv-found")
    expect(found).to_have_text(re.compile(r"^[2-9]\d* found"), timeout=60000)
    stage = page.locator(".gv-stage").bounding_box()
    hits = page.locator(".gv-stage svg g.node.gv-match").evaluate_all(
        "es => es.map(e => { const r = e.getBoundingClientRect();"
        " return [r.left, r.top, r.right, r.bottom]; })"
    )
    assert len(hits) >= 2
    for left, top, right, bottom in hits:
        assert stage["x"] - 1 <= left and right <= stage["x"] + stage["width"] + 1, (hits, stage)
        assert stage["y"] - 1 <= top and bottom <= stage["y"] + stage["height"] + 1, (hits, stage)
    block = next(b for b in mc.count("v3_large").blocks if b.name == "blocks.3.1")
    page.locator(".gv-search").fill("blocks.3.1")
    page.locator(".gv-search").press("Enter")
    shown = page.get_by_text(f"{block.macs:,} MACs")
    # the search started a run and this click another during it: the details must come (they did
    # not in 1 of 6 tries beside a CPU hog; app.graph_viewer.graph_viewer says why)
    page.locator(".gv-stage svg g.node.gv-selected").click()
    expect(shown.first).to_be_visible(timeout=120000)
    ready(page)
    expect(shown).to_have_count(1, timeout=120000)  # once, after any rerun the click started
    assert shown.first.bounding_box()["y"] < 900
    page.close()


def test_classify_has_one_control_for_the_untrained_network(server, browser):
    """One switch for the untrained network, not a button and a toggle (issue 23, item 14)."""
    page = browser.new_page(**LAPTOP)
    page.goto(f"{server}/classify?model=v3_small&alpha=0.6&lang=en")
    page.get_by_text("No published checkpoint for MobileNetV3-Small").wait_for(timeout=60000)
    ready(page)
    controls = page.locator(f'{MAIN} :is([data-testid="stButton"], [data-testid="stCheckbox"])')
    untrained = controls.filter(has_text=re.compile("untrained", re.I))
    assert untrained.count() == 1, untrained.all_inner_texts()
    untrained.locator("label").click()
    expect(page.get_by_text(re.compile("UNTRAINED network")).first).to_be_visible(timeout=60000)
    page.close()


def test_chinese_roofline_and_story_have_no_english_left(server, browser):
    """'layers' under the Σ, 'None' in the story, the Roofline view named as the navigation
    names it (屋顶线模型) (issue 23, item 15)."""
    page = browser.new_page(**LAPTOP)
    open_page(page, url(server, "lesson-roofline", lang="zh", present=False), "lesson-roofline")
    # KaTeX draws a formula (and its annotation) after the element is there: wait for the Σ's
    formulas = 'annotation[encoding="application/x-tex"]'
    try:
        sigma = f"() => [...document.querySelectorAll('{formulas}')]" + (
            ".some((a) => a.textContent.includes(String.raw`\\sum`))"
        )
        page.wait_for_function(sigma, timeout=60000)
    except PlaywrightTimeout:
        pass  # the assertion below says what was there
    tex = " ".join(page.locator(formulas).all_text_contents())
    assert "layers" not in tex and "各层" in tex, tex
    text = page.locator(MAIN).inner_text()
    assert "「屋顶线模型」" in text and "「屋顶线」" not in text, text[:3000]
    open_page(page, url(server, "lessons", lang="zh", present=False), "lessons")
    story = page.locator(MAIN).inner_text()
    assert not re.search(r"\bNone\b", story), story[:3000]
    page.close()

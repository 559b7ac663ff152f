"""Accessibility checks a browser shows (issue 26): the page says its language, so that a screen
reader reads the Chinese interface with a Chinese voice (WCAG 2.1, 3.1.1); axe-core's WCAG 2.1 A
and AA rules pass on every page in both languages; the app can be used with the keyboard alone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_browser import browser, metric, server, type_and_commit, wait  # noqa: F401 - the fixtures, shared with test_browser

import mobilenet_core as mc
from app.i18n import STRINGS
from mobilenet_core.lessons import LESSON_PATHS

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_says_its_language_and_follows_a_switch(server, browser, lang):  # noqa: F811
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    try:
        page.goto(f"{server}/?lang={lang}")
        # Streamlit writes lang="en" into the page: wait for ours, and for the page's first run to
        # end (at lang=en the attribute is there before the app is; a click then was lost once
        # beside a CPU hog)
        page.wait_for_function(DRAWN, arg=lang, timeout=120_000)
        other = "en" if lang == "zh" else "zh"
        page.get_by_text("English" if other == "en" else "中文", exact=True).first.click()
        page.wait_for_function(f"() => document.documentElement.lang === '{other}'", timeout=120_000)
    finally:
        page.close()


# --- axe-core on every page -------------------------------------------------------------------

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"  # 4.14.1, see its README
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]  # WCAG 2.0 and 2.1, levels A and AA

# the page is drawn: our language, the run over, a heading, and what draws itself after the run
# (Plotly's charts, the graph viewer's blocks, the images) is there. The layer graph lives in a
# shadow root (a components-v2 component), which querySelector does not enter: `deep` does, and
# the viewer says data-ready once its controls are named and wired
DRAWN = """(lang) => {
  const deep = (sel) => [document, ...[...document.querySelectorAll('*')].filter((e) => e.shadowRoot)
      .map((e) => e.shadowRoot)].flatMap((r) => [...r.querySelectorAll(sel)]);
  return document.documentElement.lang === lang
  && !document.querySelector('[data-testid="stStatusWidget"], [data-testid="stSkeleton"]')
  && !!document.querySelector('.stMainBlockContainer :is(h1, h2, h3)')
  && [...document.querySelectorAll('.mne-chart')].every((c) => c.querySelector('.main-svg'))
  && deep('.gv').every((g) => g.dataset.ready && g.querySelector('g.node[tabindex]'))
  && [...document.images].every((i) => i.complete);
}"""

# the Graph page's viewer is mounted and set up (DRAWN alone passes before it is mounted)
GRAPH_READY = """() => [...document.querySelectorAll('*')].filter((e) => e.shadowRoot)
  .some((e) => e.shadowRoot.querySelector('.gv[data-ready]'))"""

AXE_RUN = """async (tags) => {
  const result = await axe.run(document, { runOnly: { type: "tag", values: tags } });
  return result.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(" ")) }));
}"""


# axe-core's best-practice rules for headings (impact moderate, so outside WCAG_AA's run): a
# screen-reader user moves by headings, and a page without an h1 or with a level skipped (h1 to h3)
# has no outline to move by
HEADING_RULES = ["heading-order", "page-has-heading-one"]
AXE_RULES = """async (rules) => {
  const result = await axe.run(document, { runOnly: { type: "rule", values: rules } });
  return result.violations.map((v) => ({ id: v.id, impact: v.impact,
    targets: v.nodes.map((n) => n.target.join(" ")) }));
}"""

# Streamlit's and Plotly's own English a Chinese page must not show nor say (a short list, written
# here independently of app/page_language.py's): in visible text, and in aria-label / title /
# placeholder (what a screen reader says), case-sensitive whole words (the icon font's ligatures
# are lower case: "upload")
ENGLISH = re.compile(
    r"\b(Upload|Browse files|Drag and drop|per file|Add files|Take Photo|Clear photo|Remove \S|"
    r"Collapse sidebar|Expand sidebar|Choose an option|Link to heading|Help for|Download as CSV|"
    r"Show/hide columns|Search|Fullscreen|Zoom in|Zoom out|Reset axes|Autoscale|Increment|Decrement)\b"
)
SAID = """() => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement, text = n.nodeValue.trim();
    if (text && el && !el.closest('script, style') && el.checkVisibility()) out.push("text: " + text);
  }
  document.querySelectorAll("[aria-label], [title], [placeholder]").forEach((e) => {
    for (const a of ["aria-label", "title", "placeholder"])
      if (e.getAttribute(a)) out.push(a + ": " + e.getAttribute(a));
  });
  return out;
}"""


def english_words(page) -> list[str]:
    """What the page shows or says that is on ENGLISH's list."""
    return sorted({s for s in page.evaluate(SAID) if ENGLISH.search(s.split(": ", 1)[1])})


RUN_OVER = """() => !document.querySelector('[data-testid="stStatusWidget"]')"""


def _open_expanders(page) -> None:
    """Open every closed expander (the lessons' photo picker is in one), so its drop zone is drawn.
    Each click waits for the run to be over; an expander that a run (begun as it was clicked, the
    language switch's second one, seen beside a CPU hog) redraws closed is clicked again: what is
    waited for is the expander open, a bounded number of clicks."""
    closed = page.locator('.stMain [data-testid="stExpander"] details:not([open]) > summary')
    for _ in range(40):  # a page has a few, each clicked at most a few times
        page.wait_for_function(RUN_OVER, timeout=120_000)
        n = closed.count()
        if not n:
            return
        closed.first.click()
        try:
            wait(lambda n=n: closed.count() < n, timeout=15)
        except TimeoutError:
            continue  # drawn anew, closed: click it again
    raise AssertionError("expanders that do not open")


def _axe(page, lang: str, where: str, script: str) -> list[str]:
    """axe's WCAG A/AA run (serious and critical) and the heading rules, on the page as it is."""
    page.add_script_tag(content=script)
    found = [
        f"{lang}/{where}: {v['id']} ({v['impact']}) at {v['targets'][:5]}"
        for v in page.evaluate(AXE_RUN, WCAG_AA)
    ]
    found += [
        f"{lang}/{where}: {v['id']} at {v['targets'][:5]}" for v in page.evaluate(AXE_RULES, HEADING_RULES)
    ]
    return found


def test_axe_finds_no_serious_violation_on_any_page_in_either_language(server, browser):  # noqa: F811
    """axe-core's WCAG 2.0/2.1 A and AA rules on every view and lesson, in English and Chinese:
    no violation of impact serious or critical (the 19 pages had 447 such nodes, measured
    before issue 26's fixes); and its heading rules (one h1, no level skipped). On the Chinese
    pages, none of Streamlit's English words (its uploader's "Upload" and "200MB per file", the
    sidebar's "Collapse sidebar", the tables' "Search", ...) is shown or said, expanders open."""
    from app.present import VIEW_PATHS

    script = AXE.read_text(encoding="utf-8")
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    found, english = [], []
    try:
        for lang in ("en", "zh"):
            for path in (*VIEW_PATHS, "diff"):  # Diff is not among presentation mode's steps
                page.goto(f"{server}/{path}?lang={lang}")
                if path == "graph":
                    page.wait_for_function(GRAPH_READY, timeout=120_000)
                page.wait_for_function(DRAWN, arg=lang, timeout=120_000)
                found += _axe(page, lang, path or "overview", script)
                if lang == "zh":
                    _open_expanders(page)
                    page.wait_for_function(DRAWN, arg=lang, timeout=120_000)
                    english += [f"{path or 'overview'}: {w}" for w in english_words(page)]
    finally:
        page.close()
    assert not found, "\n".join(found)
    assert not english, "English on Chinese pages:\n" + "\n".join(english)


def test_the_navigation_says_which_page_is_shown_and_follows_a_link_in_the_page(server, browser):  # noqa: F811
    """The sidebar's links are a list in a navigation landmark; the link to the page shown has
    aria-current="page" (a screen reader says "current page"), and only it. A link followed opens
    its page in the same document (the session and the sidebar's selection stay, nothing loads
    again), keeps the app-wide parameters in the link, and Back returns to the page before."""
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    current = """() => [...document.querySelectorAll('[data-testid="stSidebar"] a[aria-current="page"]')]
      .map((a) => a.getAttribute("href"))"""  # relative to the app's root: the overview's is "./"
    title = lambda: page.locator("h1").first.inner_text()  # noqa: E731
    try:
        page.goto(f"{server}/charts?lang=en&model=v3_large&alpha=0.75")
        page.wait_for_function(DRAWN, arg="en", timeout=120_000)
        wait(lambda: page.evaluate(current) == ["charts"], timeout=60)
        links = page.locator('[data-testid="stSidebar"] nav[aria-label="Pages"] ul > li > a')
        assert links.count() == 10 + len(LESSON_PATHS)
        name = page.locator('[data-testid="stSidebar"] a[href="lesson-se"] span:not(.mn-icon)').inner_text()
        page.evaluate("() => { window.sameDocument = true; }")
        page.locator('[data-testid="stSidebar"] a[href="lesson-se"]').click()
        page.wait_for_url(re.compile(r"/lesson-se\?"), timeout=120_000)
        page.wait_for_function(DRAWN, arg="en", timeout=120_000)
        wait(lambda: page.evaluate(current) == ["lesson-se"], timeout=60)
        wait(lambda: title() == name, timeout=60)
        assert page.evaluate("() => window.sameDocument === true"), "the link loaded a new document"
        assert "model=v3_large" in page.url and "alpha=0.75" in page.url and "lang=en" in page.url
        page.go_back()
        page.wait_for_url(re.compile(r"/charts\?"), timeout=120_000)
        wait(lambda: page.evaluate(current) == ["charts"], timeout=60)
        wait(lambda: title().startswith(STRINGS["en"]["page_charts"]), timeout=60)
    finally:
        page.close()


# --- the keyboard alone -----------------------------------------------------------------------

# what has the keyboard's focus, through shadow roots: tag | aria-label | text | data-testid | id
FOCUSED = """() => {
  let e = document.activeElement;
  while (e && e.shadowRoot && e.shadowRoot.activeElement) e = e.shadowRoot.activeElement;
  if (!e) return "";
  const text = (e.innerText || e.value || "").replace(/\\s+/g, " ").slice(0, 80);
  const label = e.getAttribute("aria-label") || "", testid = e.getAttribute("data-testid") || "";
  return [e.tagName, label, text, testid, e.id].join("|");
}"""


def _tab_to(page, pattern: str, key: str = "Tab", limit: int = 300) -> str:
    """Press Tab (or Shift+Tab) until what has the focus matches `pattern`; the focus order is
    the page's, so this is the way a keyboard user gets there."""
    seen = []
    for _ in range(limit):
        page.keyboard.press(key)
        focused = page.evaluate(FOCUSED)
        seen.append(focused)
        if re.search(pattern, focused):
            return focused
    raise AssertionError(f"{pattern!r} never took the focus; the last stops:\n" + "\n".join(seen[-40:]))


SELECTED_CELL = "() => document.querySelector('canvas [aria-selected=\"true\"]')?.id || ''"


def _open_cell(page, column: int, row: int) -> None:
    """Walk the design lab's grid (it has the focus, its first cell selected: row 0, column 1,
    column 0 being the row markers) to a cell with the arrow keys and open its editor with Enter;
    the grid's own table for screen readers then says which cell is selected
    (glide-cell-<column>-<row>)."""
    for key in ["ArrowDown"] * row + ["ArrowRight"] * (column - 1) + ["Enter"]:
        page.keyboard.press(key)
    cell = wait(lambda: page.evaluate(SELECTED_CELL), timeout=60)
    assert cell == f"glide-cell-{column}-{row}", cell


def _type_in_open_cell(page, text: str) -> None:
    """Replace the open cell editor's value with `text` and commit it with Enter. The editor opens
    a moment after the Enter that asks for it: keys typed before it has the focus go to the grid."""
    wait(lambda: page.evaluate(FOCUSED).split("|")[0] in ("INPUT", "TEXTAREA"), timeout=60)
    page.keyboard.press("Control+A")
    type_and_commit(page, text)


def _words(lang: str = "en") -> dict:
    return STRINGS[lang]  # the locale file's and the lessons' words


def test_a_lesson_the_graph_the_lab_and_presentation_mode_with_the_keyboard_only(server, browser):  # noqa: F811
    """No mouse: Tab / Shift+Tab, Enter, Space, arrows and typing. Open the separable lesson from
    the navigation and step its demo, open the layer graph, search it and open a block, edit a
    cell of the design lab's table, enter presentation mode, step a page with an arrow key and
    leave with Esc."""
    words = _words()
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    try:
        page.goto(f"{server}/?lang=en&model=v2")
        page.wait_for_function(DRAWN, arg="en", timeout=120_000)
        # a lesson, from the sidebar's navigation; its step-through
        _tab_to(page, r"^A\|.*Depthwise separable")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/lesson-separable"), timeout=120_000)
        page.wait_for_function(DRAWN, arg="en", timeout=120_000)
        before = metric(page, words["ls_macs_depthwise"])
        _tab_to(page, r"^BUTTON\|.*" + words["ls_next"])
        page.keyboard.press("Space")
        after = wait(lambda: (v := metric(page, words["ls_macs_depthwise"])) != before and v, timeout=120)
        assert int(after.replace(",", "")) == 2 * int(before.replace(",", ""))  # one more output position

        # the layer graph: search, then a block reached with Tab and opened with Enter
        _tab_to(page, r"^A\|.*" + words["page_graph"], key="Shift+Tab")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/graph"), timeout=120_000)
        page.wait_for_function(DRAWN, arg="en", timeout=120_000)
        _tab_to(page, r"^INPUT\|" + re.escape(words["viewer_search"]))
        page.keyboard.type("blocks.3.1")
        page.keyboard.press("Enter")
        searched = next(b for b in mc.count("v2").blocks if b.name == "blocks.3.1")
        # its details, from Python
        page.get_by_text(f"{searched.macs:,} MACs").first.wait_for(timeout=120_000)
        page.wait_for_function(DRAWN, arg="en", timeout=120_000)  # the viewer redraws after a search
        _tab_to(page, r"^DIV\|" + re.escape(words["viewer_keys"]))  # the graph itself: arrows pan it
        moved = page.locator(".gv-stage svg .svg-pan-zoom_viewport").get_attribute("transform")
        page.keyboard.press("ArrowDown")  # drawn on the next animation frame
        page.wait_for_function(
            "(t) => document.querySelector('.svg-pan-zoom_viewport')?.getAttribute('transform') != t",
            arg=moved,
            timeout=60_000,
        )
        _tab_to(page, r"^g\|[^|]*blocks\.1\.0")
        page.keyboard.press("Enter")
        opened = next(b for b in mc.count("v2").blocks if b.name == "blocks.1.0")
        page.get_by_text(f"{opened.macs:,} MACs").first.wait_for(timeout=120_000)

        # the design lab (its grid edited by keyboard: test_a_lab_cell_edited_with_the_keyboard_only)
        _tab_to(page, r"^A\|.*" + words["page_lab"], key="Shift+Tab")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/lab"), timeout=120_000)
        page.wait_for_function(DRAWN, arg="en", timeout=120_000)
        page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=120_000)

        # presentation mode: the sidebar's switch, an arrow to the next page, Esc to leave
        _tab_to(page, r"^INPUT\|.*" + words["present_switch"], key="Shift+Tab")
        page.keyboard.press("Space")
        page.wait_for_url(re.compile(r"/lab\?.*present=1"), timeout=120_000)
        page.wait_for_selector('[data-testid="stSidebar"]', state="hidden", timeout=120_000)
        page.keyboard.press("ArrowRight")
        page.wait_for_url(re.compile(r"/roofline\?.*present=1"), timeout=120_000)
        page.keyboard.press("Escape")
        page.wait_for_url(lambda url: "present=1" not in url and "/roofline" in url, timeout=120_000)
    finally:
        page.close()


# --- presentation mode, a classified photo, the drop zone in Chinese ---------------------------

PHOTO = Path(__file__).parent / "data" / "chelsea_cat.png"
SHOTS = Path(__file__).parent / "artifacts" / "screenshots"


def test_axe_in_presentation_mode_and_after_a_photo_was_classified(server, browser):  # noqa: F811
    """axe's WCAG A/AA run and heading rules on a view, the Graph and a lesson in presentation
    mode (?present=1: no sidebar, bigger type), both languages; and on Classify once a photo was
    dropped and classified (its file row, its top-5 chart and table), both languages, where the
    Chinese page also shows and says none of Streamlit's English (the file row's "Remove ...")."""
    script = AXE.read_text(encoding="utf-8")
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    found, english = [], []
    try:
        for lang in ("en", "zh"):
            for path in ("charts", "graph", "lesson-separable"):
                page.goto(f"{server}/{path}?lang={lang}&present=1")
                if path == "graph":
                    page.wait_for_function(GRAPH_READY, timeout=120_000)
                page.wait_for_function(DRAWN, arg=lang, timeout=120_000)
                page.wait_for_selector('[data-testid="stSidebar"]', state="hidden", timeout=120_000)
                found += _axe(page, lang, f"{path}?present=1", script)
            page.goto(f"{server}/classify?lang={lang}&model=v3_small&alpha=0.6")
            page.wait_for_function(DRAWN, arg=lang, timeout=120_000)
            page.locator('.st-key-images input[type="file"]').set_input_files(str(PHOTO))
            # no published weights for this configuration: classified by the untrained network
            page.locator(".st-key-use_untrained label").click()
            page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
            page.wait_for_function(DRAWN, arg=lang, timeout=120_000)
            assert page.get_by_text(PHOTO.name).count() >= 1  # the file row
            found += _axe(page, lang, "classify, a photo classified", script)
            if lang == "zh":
                english += english_words(page)
    finally:
        page.close()
    assert not found, "\n".join(found)
    assert not english, "English on the Chinese Classify page:\n" + "\n".join(english)


@pytest.mark.parametrize("path", ["classify", "lesson-separable"])
def test_the_drop_zone_and_the_camera_speak_chinese_on_a_chinese_page(server, browser, path):  # noqa: F811
    """The photo drop zone's button is named and labelled in Chinese (上传, what a screen reader
    says and what is shown), its size limit in Chinese, and the camera's button too (拍照); the
    English comes back after a switch to English. Screenshots at 1440x900 and 820x1180 (iPad)."""
    zh, en = _words("zh"), _words("en")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    try:
        page.goto(f"{server}/{path}?lang=zh")
        page.wait_for_function(DRAWN, arg="zh", timeout=120_000)
        _open_expanders(page)
        zone = page.locator('.stMain [data-testid="stFileUploaderDropzone"]').first
        button = zone.get_by_role("button", name=zh["sw_upload"], exact=True)
        button.wait_for(timeout=60_000)
        expect_limit = zh["sw_per_file"].split("{")[0].strip()  # "每个文件最大"
        zone.get_by_text(re.compile(expect_limit)).first.wait_for(timeout=60_000)
        assert zone.get_attribute("aria-label") and not ENGLISH.search(zone.get_attribute("aria-label"))
        for width, height in ((1440, 900), (820, 1180)):
            page.set_viewport_size({"width": width, "height": height})
            zone.scroll_into_view_if_needed()
            page.wait_for_timeout(500)  # the layout after a resize: a picture, nothing asserted on it
            page.screenshot(path=str(SHOTS / f"dropzone_{path}_zh_{width}x{height}.png"))
        page.set_viewport_size({"width": 1440, "height": 900})
        # the camera, switched on: its button in Chinese (no camera in the test browser: disabled)
        page.locator(".stMain label").filter(has_text=zh["camera_open"]).first.click()
        camera = page.locator('.stMain [data-testid="stCameraInput"]').first
        camera.get_by_role("button", name=zh["sw_take_photo"], exact=True).wait_for(timeout=60_000)
        assert not english_words(page), english_words(page)
        # back to English: Streamlit's own words again
        page.get_by_text("English", exact=True).first.click()
        # the run over (the language attribute comes early in it): an expander opened while the
        # run redraws it with its English label is drawn anew, closed (seen beside a CPU hog)
        page.wait_for_function(DRAWN, arg="en", timeout=120_000)
        _open_expanders(page)  # the lesson's photo picker: a new label, a new (closed) expander
        zone.get_by_role("button", name=en["sw_upload"], exact=True).wait_for(timeout=60_000)
        camera.get_by_role("button", name=en["sw_take_photo"], exact=True).wait_for(timeout=60_000)
    finally:
        page.close()


# --- what a screen reader reads ---------------------------------------------------------------

UNNAMED = re.compile(
    r"^\s*- (button|slider|link|textbox|searchbox|combobox|checkbox|switch|spinbutton)\s*(\[|:|$)", re.M
)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_screen_reader_hears_headings_named_controls_and_the_data(server, browser, lang):  # noqa: F811
    """The accessibility tree (Playwright's aria snapshot of <main>) of a lesson and of the Graph
    page, as a screen reader gets it: the page's h1, its sliders and buttons named in the page's
    language (no control without a name), the chart's data a table in the "Data" expander; the
    graph's search box and buttons named. Saved under tests/artifacts/ for reading."""
    words = _words(lang)
    out = Path(__file__).parent / "artifacts"
    out.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    try:
        page.goto(f"{server}/lesson-separable?lang={lang}")
        page.wait_for_function(DRAWN, arg=lang, timeout=120_000)
        page.locator(".stMain details > summary").filter(has_text=words["figure_data"]).first.click()
        page.locator(".stMain table.figure-data").first.wait_for(timeout=60_000)
        lesson = page.locator("main").aria_snapshot()
        page.goto(f"{server}/graph?lang={lang}")
        page.wait_for_function(GRAPH_READY, timeout=120_000)
        page.wait_for_function(DRAWN, arg=lang, timeout=120_000)
        graph = page.locator("main").aria_snapshot()
    finally:
        page.close()
    (out / f"aria_lesson-separable_{lang}.txt").write_text(lesson, encoding="utf-8")
    (out / f"aria_graph_{lang}.txt").write_text(graph, encoding="utf-8")
    for name, tree in (("lesson", lesson), ("graph", graph)):
        # the page's title is its h1 (a screen reader's "next heading" starts there)
        assert re.search(r'^  - heading "[^"]+" \[level=1\]', tree, re.M), f"{name}: no h1\n{tree[:3000]}"
        assert not UNNAMED.search(tree), f"{name}: a control without a name: {UNNAMED.search(tree).group(0)}"
        if lang == "zh":
            assert not ENGLISH.search(tree), f"{name}: {ENGLISH.search(tree).group(0)!r} in Chinese"
    assert f'button "{words["ls_next"]}"' in lesson
    assert re.search(r"- slider", lesson) and "- table" in lesson  # the step slider; the chart's data
    # a slider is named once (Streamlit's thumb was named by itself and its group: "step step")
    sliders = re.findall(r'- slider "([^"]*)"', lesson)
    assert sliders and not [n for n in sliders if re.fullmatch(r"(.+) \1", n)], sliders
    assert f'"{words["viewer_search"]}"' in graph and f'button "{words["viewer_fit"]}"' in graph


def test_a_lab_cell_edited_with_the_keyboard_only(server, browser):  # noqa: F811
    """The design lab's grid without a mouse: Tab to it, arrows to the 64-wide group's repeats,
    Enter, type 6, Enter: the block count becomes 19."""
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    try:
        page.goto(f"{server}/lab?lang=en&model=v2")
        page.wait_for_function(DRAWN, arg="en", timeout=120_000)
        page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=120_000)
        _tab_to(page, r"^CANVAS\|")
        _open_cell(page, column=4, row=3)  # the 64-wide group's "repeats"
        _type_in_open_cell(page, "6")
        wait(lambda: metric(page, "Blocks").startswith("19 "), timeout=120)
    finally:
        page.close()

"""Tablets and phones (issue 26): every page fits a school iPad held upright (820 x 1180 CSS px)
and a phone (390 x 844) without scrolling sideways, and every control is a target a finger can
hit (at least 44 px tall: WCAG 2.5.5, Apple's Human Interface Guidelines).

- Columns wrap rather than shrink: below 1024 px a column never gets narrower than 15rem (or the
  whole width), so Diff's three waterfalls, Anatomy's two diagrams and the pickers' rows stack on
  a tablet with the sidebar open (Streamlit stacks columns only when the *window* is under
  640 px, however narrow the main area is).
- Wide tables scroll in their own box; the page does not.
- On a touch screen (`pointer: coarse`) buttons, pickers, radios, checkboxes, sliders' thumbs
  (a transparent border around the visible dot), the sidebar's links and its toggle are 44 px.
- A photo can be taken with the camera (Classify and the lessons' photo picker), behind a
  switch so that no page asks for the camera when it opens.
- Streamlit folds the sidebar away only at 768 px and less; an iPad upright is 820 px, where the
  open sidebar leaves the page 520 px. On a touch screen narrower than 1024 px it is folded once
  when the tab opens (the toggle opens it again, and it stays as the reader leaves it).
"""

from __future__ import annotations

import streamlit as st

from app.common import lost_uploads_ui
from app.i18n import t

TOUCH_TARGET_PX = 44  # WCAG 2.5.5 (AAA) and Apple's HIG; Material asks 48 dp, which 44 CSS px nears
NARROW_PX = 1024  # an iPad in landscape and anything narrower

_MAIN = '[data-testid="stMain"]'
_TAPPABLE = (
    '[data-testid="stBaseButton-secondary"], [data-testid="stBaseButton-primary"], '
    '[data-testid="stBaseButton-tertiary"], [data-testid="stBaseButton-pills"], '
    '[data-testid="stBaseButton-pillsActive"], [data-testid="stBaseButton-segmented_control"], '
    '[data-testid="stBaseButton-segmented_controlActive"], [data-testid="stBaseButton-header"], '
    '[data-testid="stBaseButton-headerNoPadding"], [data-testid="stDownloadButton"] button, '
    '[data-testid="stButton"] button, [data-testid="stFileUploaderDropzone"] button, '
    '[data-testid="stExpander"] summary, [data-testid="stSidebarNavLink"], '
    '[data-testid="stSidebarCollapseButton"] button, [data-testid="stExpandSidebarButton"], '
    '[data-testid="stPageLink-NavLink"], .mn-nav a'
)

RESPONSIVE_CSS = f"""
<style>
@media (max-width: {NARROW_PX}px) {{
  [data-testid="stHorizontalBlock"] {{ flex-wrap: wrap; }}
  [data-testid="stHorizontalBlock"] > [data-testid="stColumn"] {{ min-width: min(100%, 15rem); }}
  {_MAIN} [data-testid="stTable"], {_MAIN} [data-testid="stMarkdownContainer"]:has(> table),
  {_MAIN} .katex-display {{ overflow-x: auto; overflow-y: hidden; max-width: 100%; }}
  {_MAIN} [data-testid="stImage"] img {{ max-width: 100%; height: auto; }}
}}
/* a multiselect's chosen values wrap onto more lines (Streamlit scrolls them sideways, out of
   sight: Trade-offs' five α in a column showed three or four, on a laptop too) */
{_MAIN} [data-testid="stMultiSelectTagsContainer"] {{ flex-wrap: wrap !important;
  overflow: visible !important; height: auto !important; }}
{_MAIN} [data-testid="stMultiSelect"] div:has(> [data-testid="stMultiSelectTagsContainer"]) {{
  max-height: none !important; height: auto !important; }}
/* A box that scrolls sideways (a formula or a table wider than a phone) shows that it does: a
   scroll bar that stays, and a shadow at the side where more is hidden (the "local" white covers
   the shadow once the reader has scrolled to that end). The script marks such a box. */
{_MAIN} .mn-scrolls {{ scrollbar-width: thin; scrollbar-color: #8a8a8a #ececec;
  background: linear-gradient(to right, white 30%, rgba(255,255,255,0)) left / 28px 100% no-repeat local,
    linear-gradient(to left, white 30%, rgba(255,255,255,0)) right / 28px 100% no-repeat local,
    radial-gradient(farthest-side at 0 50%, rgba(0,0,0,.35), transparent) left / 16px 100%
      no-repeat scroll,
    radial-gradient(farthest-side at 100% 50%, rgba(0,0,0,.35), transparent) right / 16px 100%
      no-repeat scroll;
  padding-bottom: 6px; }}
{_MAIN} .mn-scrolls:focus-visible {{ outline: 2px solid #1f5fbf; outline-offset: 2px; }}
/* a data frame scrolls in its own grid (drawn on a canvas; the grid takes the keyboard): a shadow
   over the edge where more columns are hidden */
{_MAIN} [data-testid="stDataFrame"]:is(.mn-more-right, .mn-more-left) {{ position: relative; }}
{_MAIN} [data-testid="stDataFrame"].mn-more-right::after,
{_MAIN} [data-testid="stDataFrame"].mn-more-left::before {{ content: ""; position: absolute; top: 0;
  bottom: 0; width: 22px; pointer-events: none; z-index: 3; }}
{_MAIN} [data-testid="stDataFrame"].mn-more-right::after {{ right: 0;
  background: linear-gradient(to left, rgba(0,0,0,.35), rgba(0,0,0,0)); }}
{_MAIN} [data-testid="stDataFrame"].mn-more-left::before {{ left: 0;
  background: linear-gradient(to right, rgba(0,0,0,.35), rgba(0,0,0,0)); }}
@media (pointer: coarse) {{
  {_TAPPABLE} {{ min-height: {TOUCH_TARGET_PX}px !important; }}
  [data-testid="stSidebarCollapseButton"] button, [data-testid="stExpandSidebarButton"] {{
    min-width: {TOUCH_TARGET_PX}px !important; }}
  [data-testid="stSelectbox"] [role="group"], [data-testid="stMultiSelect"] [role="group"],
  [data-testid="stNumberInput"] input, [data-testid="stTextInput"] input,
  [data-testid="stDateInput"] input {{ min-height: {TOUCH_TARGET_PX}px !important; }}
  [data-testid="stNumberInput"] button {{ min-height: {TOUCH_TARGET_PX}px !important;
    min-width: {TOUCH_TARGET_PX}px !important; }}
  [data-testid="stRadio"] [role="radiogroup"] label, [data-testid="stCheckbox"] label {{
    min-height: {TOUCH_TARGET_PX}px !important; align-items: center !important; }}
  /* the thumb: the dot stays as it is drawn, a transparent ring makes it a 44 px target */
  [data-testid="stSlider"] div:has(> div > input[type="range"]) {{
    box-sizing: content-box !important; border: 16px solid transparent !important;
    background-clip: padding-box !important; }}
  /* every other button: pills, a table's toolbar, a code block's copy, a picture's full screen */
  [data-testid="stAppViewContainer"] button:not(.modebar-btn) {{ min-height: {TOUCH_TARGET_PX}px; }}
  [data-testid="stElementToolbar"] button, [data-testid="stCode"] button {{
    min-width: {TOUCH_TARGET_PX}px; }}
  [data-testid="stPageLink-NavLink"] {{ min-height: {TOUCH_TARGET_PX}px; display: flex;
    align-items: center; }}
  /* a help mark stays small in its line; its target grows around it (negative margins) */
  [data-testid="stTooltipIcon"] button, [data-testid="stTooltipHoverTarget"] button {{
    min-height: {TOUCH_TARGET_PX}px !important; min-width: {TOUCH_TARGET_PX}px !important;
    margin: -14px !important; }}
}}
/* Streamlit shows the sidebar's fold button only under a hovering mouse: a finger never hovers.
   Plotly's buttons, shown all the time without a mouse, move above the chart, off its title. */
@media (hover: none) {{
  /* the room goes above the chart's box, whose height is the figure's: room taken inside it (a
     padding) pushed the chart's foot, its legend under slanted labels, out of sight */
  [data-testid="stElementContainer"]:has(.mne-chart) {{ margin-top: 36px;
    overflow: visible !important; }}
  .mne-chart .js-plotly-plot {{ overflow: visible !important; }}
  .mne-chart .modebar-container {{ top: -36px !important; }}
  [data-testid="stSidebarCollapseButton"], [data-testid="stSidebarCollapseButton"] * {{
    visibility: visible !important; }}
}}
</style>
"""

FOLD_JS = r"""
// A chart's title or note longer than a narrow chart (a phone) is cut by the chart's SVG: it gets
// a smaller font (down to 11 px) and, if that is not enough, breaks into lines. Plotly draws its
// titles again when it redraws, so an observer looks at every change of the page.
const SVG = "http://www.w3.org/2000/svg";

function fitText(text, room) {
  const width = () => text.getBBox().width;
  if (width() <= room) return;
  const size = parseFloat(getComputedStyle(text).fontSize);
  text.style.fontSize = Math.max(11, Math.floor(size * room / width())) + "px";
  if (width() <= room) return;
  // Plotly writes a title's own line breaks as tspan.line; each is broken further at spaces
  const given = [...text.querySelectorAll("tspan.line")].map((t) => t.textContent);
  const x = text.getAttribute("x") || 0, style = text.querySelector("tspan[style]")?.getAttribute("style");
  text.textContent = "";
  let count = 0;
  // a line breaks between words, and between any two Chinese characters (no spaces there)
  const cjk = "\u2e80-\u9fff\u3000-\u303f\uff00-\uffef";
  const pieces = new RegExp(`(\\s*)([${cjk}]|[^\\s${cjk}]+)`, "g");
  for (const givenLine of given.length ? given : [text.dataset.words]) {
    let line = null;
    for (const [, space, word] of givenLine.matchAll(pieces)) {
      const before = line ? line.textContent : null;
      if (line) line.textContent = before + space + word;
      if (!line || line.getComputedTextLength() > room) {
        if (line) line.textContent = before;
        line = document.createElementNS(SVG, "tspan");
        line.setAttribute("x", x);
        line.setAttribute("dy", count ? "1.15em" : "0");
        if (style) line.setAttribute("style", style);  // bold stays bold
        line.textContent = word;
        text.appendChild(line);
        count += 1;
      }
    }
  }
  // the first line moves up half a line per line added: the block stays centred where it was
  text.firstChild.setAttribute("dy", -(count - 1) * 0.575 + "em");
}

// Subplot titles side by side (make_subplots) each have the room between their neighbours'
// centres: at a phone's width they ran into each other. The row then takes its smallest size.
function rooms(chart, texts) {
  const room = new Map(), rows = new Map();
  for (const text of texts) {
    if (!text.classList.contains("annotation-text")) continue;
    const r = text.getBoundingClientRect(), key = Math.round((r.top + r.bottom) / 8);
    rows.set(key, [...(rows.get(key) || []), [text, (r.left + r.right) / 2]]);
  }
  for (const row of rows.values()) {
    row.sort((a, b) => a[1] - b[1]);
    row.forEach(([text, centre], i) => {
      const gaps = [i > 0 ? centre - row[i - 1][1] : Infinity,
        i < row.length - 1 ? row[i + 1][1] - centre : Infinity];
      if (row.length > 1) room.set(text, Math.min(...gaps) - 8);
    });
  }
  room.rows = [...rows.values()].filter((row) => row.length > 1).map((row) => row.map(([text]) => text));
  return room;
}

function sameSize(row) {
  const sizes = row.map((text) => parseFloat(getComputedStyle(text).fontSize));
  const smallest = Math.min(...sizes);
  row.forEach((text, i) => { if (sizes[i] > smallest + 0.1) text.style.fontSize = smallest + "px"; });
}

// A formula or a table wider than its box scrolls in it: first a formula gets a smaller font
// (down to 80 %), then the box is marked (.mn-scrolls: a scroll bar and a shadow at the hidden
// side) and takes focus, so that a keyboard scrolls it too (WCAG 2.1.1, axe's
// scrollable-region-focusable).
function markScrollBoxes() {
  const main = document.querySelector('[data-testid="stMain"]');
  if (!main) return;
  const boxes = '.katex-display, [data-testid="stTable"] > div:has(> table), '
    + '[data-testid="stMarkdownContainer"]:has(> table)';
  for (const box of main.querySelectorAll(boxes)) {
    const math = box.classList.contains("katex-display") ? box.querySelector(":scope > .katex") : null;
    if (math && box.clientWidth && box.dataset.fittedWidth !== String(box.clientWidth)) {
      math.style.fontSize = "";
      const over = box.scrollWidth / box.clientWidth;
      if (over > 1.001) math.style.fontSize = `${1.21 * Math.max(0.8, 1 / over)}em`;  // KaTeX's own 1.21em
      box.dataset.fittedWidth = String(box.clientWidth);
    }
    const scrolls = box.clientWidth > 0 && box.scrollWidth > box.clientWidth + 1;
    if (scrolls === box.classList.contains("mn-scrolls")) continue;
    box.classList.toggle("mn-scrolls", scrolls);
    if (scrolls) box.setAttribute("tabindex", "0");
    else box.removeAttribute("tabindex");
  }
}

function markFrame(frame, scroller) {
  const more = scroller.scrollWidth - scroller.clientWidth;
  frame.classList.toggle("mn-more-right", scroller.scrollLeft < more - 1);
  frame.classList.toggle("mn-more-left", scroller.scrollLeft > 1);
}

function markFrames() {
  for (const frame of document.querySelectorAll('[data-testid="stMain"] [data-testid="stDataFrame"]')) {
    const scroller = frame.querySelector(".dvn-scroller");
    if (!scroller) continue;
    if (!scroller.dataset.mnWatched) {
      scroller.dataset.mnWatched = "1";
      scroller.addEventListener("scroll", () => markFrame(frame, scroller), { passive: true });
      new ResizeObserver(() => markFrame(frame, scroller)).observe(scroller.firstElementChild || scroller);
    }
    markFrame(frame, scroller);
  }
}

const fittedAs = (chart, text) =>
  `${chart?.clientWidth} ${text.getBBox().width.toFixed(1)} ${text.innerHTML.length}`;

function fitChartTexts() {
  markScrollBoxes();
  markFrames();
  const query = ".mne-chart text.gtitle, .mne-chart text.annotation-text";
  const texts = [...document.querySelectorAll(query)];
  const charts = new Map();
  for (const text of texts) {
    const chart = text.closest(".svg-container");
    if (chart && !charts.has(chart)) charts.set(chart, rooms(chart, texts.filter((e) => chart.contains(e))));
    // fitted for this width and this text (Plotly may write a title twice, plain, then bold)
    const seen = () => fittedAs(chart, text);
    if (!chart || !chart.clientWidth || !text.getBBox().width || text.dataset.fitted === seen()) continue;
    text.dataset.words = text.textContent;
    const left = text.getBoundingClientRect().left - chart.getBoundingClientRect().left;
    const between = charts.get(chart).get(text) ?? Infinity;
    fitText(text, Math.min(between, chart.clientWidth - Math.max(left, 4) - 4));
    text.dataset.fitted = seen();
  }
  for (const [chart, room] of charts) {
    for (const row of room.rows) {
      sameSize(row);  // smaller only: each still fits; marked as fitted at this size
      for (const text of row) text.dataset.fitted = fittedAs(chart, text);
    }
  }
}

export default function (component) {
  if (!window.__mobilenetFitCharts) {
    window.__mobilenetFitCharts = true;
    let queued = false;
    new MutationObserver(() => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => { queued = false; fitChartTexts(); });
    }).observe(document.body, { childList: true, subtree: true });
    // a title measured in the fallback font grows when the web font arrives
    document.fonts.addEventListener("loadingdone", () => requestAnimationFrame(fitChartTexts));
    window.addEventListener("resize", () => requestAnimationFrame(fitChartTexts));
  }
  requestAnimationFrame(fitChartTexts);  // the charts this run drew before the observer was there
  // once per tab: the app is one page, so a reader who opens the sidebar keeps it open
  if (window.__mobilenetFolded) return;
  window.__mobilenetFolded = true;
  const { narrow } = component.data;
  const touch = window.matchMedia("(pointer: coarse)").matches;
  if (!touch || window.innerWidth > narrow || window.innerWidth <= 768) return;  // 768: Streamlit folds it
  const fold = () => {
    const sidebar = document.querySelector('section[data-testid="stSidebar"]');
    const button = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
    if (!sidebar || !button) return false;
    if (sidebar.getBoundingClientRect().width > 50) button.click();
    return true;
  };
  if (!fold()) {  // the sidebar is drawn after the first elements: look again for 10 s at most
    let tries = 0;
    const timer = setInterval(() => { if (fold() || ++tries > 50) clearInterval(timer); }, 200);
  }
}
"""


def fold_data() -> dict:
    """FOLD_JS's data (app.page_script runs it, with RESPONSIVE_CSS, on every run)."""
    return {"narrow": NARROW_PX}


def camera_photo(key: str) -> tuple[str, bytes] | None:
    """A photo from the tablet's or laptop's camera, or None. The camera opens only when asked
    (a switch): st.camera_input asks the browser for the camera as soon as it is drawn, and a page
    must not ask on load. The browser allows it on localhost and https only. The photo stays
    while the camera is open (the widget keeps its value across runs) and is keyed by its bytes'
    digest like a dropped one, so it is classified once."""
    if not st.toggle(t("camera_open"), key=f"{key}_camera_open", help=t("camera_help")):
        return None
    shot = st.camera_input(t("camera_take"), key=f"{key}_camera", help=t("camera_help"))
    lost_uploads_ui(f"{key}_camera")
    return (f"{t('camera_photo')}.jpg", shot.getvalue()) if shot is not None else None

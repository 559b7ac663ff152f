"""Presentation mode: for a projector. `?present=1` (or the sidebar switch) hides the sidebar,
enlarges text and figures to about one per screen, and lets the arrow keys step through the
views of the current model (Esc leaves). The selection stays in the link, so each step shows the
same model, α, resolution and language.

The views' controls are set before the lecture and hidden; a lesson's controls (the
step-through, the sliders, the pickers) are its demonstration and stay, large. A lesson marks
itself with `lesson_stage()`, which also puts its figure on the projector's first screen.

The arrow keys switch pages inside the running app (st.switch_page), never by loading the page
again: the key listener lives on the document for as long as the tab does, so Esc pressed right
after an arrow is heard (a reload left the new page deaf to keys until the app had started).
"""

from __future__ import annotations

import streamlit as st

from app.i18n import t
from app.lessons import PAGE_FILES
from mobilenet_core.lessons import LESSON_PATHS

# the views in navigation order, by URL path ("" is the overview)
VIEW_PATHS = ("", "graph", "charts", "anatomy", "compare", "lab", "roofline", "tradeoffs", "classify")
VIEW_PATHS += LESSON_PATHS  # then the lessons, in the order of the navigation


def page_file(path: str) -> str:
    """The page script (relative to app/main.py) st.navigation runs for a URL path."""
    if path in PAGE_FILES:
        return PAGE_FILES[path]  # app/lessons/<name>/page.py
    return f"views/{path or 'overview'}.py"


# the controls a view hides in presentation mode; a lesson (marked .present-lesson) keeps them
_CONTROLS = ("stRadio", "stSelectbox", "stCheckbox", "stSlider", "stNumberInput", "stMultiSelect",
             "stButtonGroup",
             "stDataEditor", "stExpander", "stTextInput", "stButton")  # fmt: skip
_VIEW = ".stMainBlockContainer:not(:has(.present-lesson))"
_LESSON = ".stMainBlockContainer:has(.present-lesson)"

_CSS = (
    """
<style>
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"],
[data-testid="stToolbar"] { display: none !important; }
.stMainBlockContainer { max-width: 100% !important; padding: 2.4rem 2.5rem 3rem 2.5rem !important;
  position: relative; }
.stMainBlockContainer p, .stMainBlockContainer li, .stMainBlockContainer td, .stMainBlockContainer th,
[data-testid="stCaptionContainer"], [data-testid="stMarkdownContainer"] { font-size: 1.3rem !important; }
.stMainBlockContainer h3, .stMainBlockContainer .st-key-page_title h1 { font-size: 2.2rem !important; }
.stMainBlockContainer h4,
.stMainBlockContainer:has(.st-key-page_title) [data-testid="stMarkdownContainer"] h2 {
  font-size: 1.6rem !important; }
.stMainBlockContainer:has(.st-key-page_title) [data-testid="stMarkdownContainer"] h3 {
  font-size: 1.35rem !important; }
/* a metric's number is its point: never smaller than its label (a p rule once made it so) */
.stMainBlockContainer [data-testid="stMetricValue"],
.stMainBlockContainer [data-testid="stMetricValue"] * { font-size: 2.4rem !important;
  line-height: 1.25 !important; }
.stMainBlockContainer [data-testid="stMetricLabel"] p { font-size: 1.3rem !important; }
.stMainBlockContainer [data-testid="stMetricLabel"] * { white-space: normal !important;
  overflow: visible !important; text-overflow: clip !important; }
.stMainBlockContainer [data-testid="stMetricDelta"] div,
.stMainBlockContainer [data-testid="stMetricDelta"] p { font-size: 1.2rem !important; }
/* the views' controls are set before the lecture; the pictures and numbers stay */
"""
    + ",\n".join(f'{_VIEW} [data-testid="{c}"]' for c in _CONTROLS)
    + """ { display: none !important; }
.stMainBlockContainer [data-testid="stDownloadButton"] { display: none !important; }
/* Compare: its configuration pickers are hidden with the other controls, and so are their
   headings (the table names every configuration) */
"""
    + f'{_VIEW} [data-testid="stHorizontalBlock"]:has(.st-key-cmp_model_0)'
    + """ { display: none !important; }
/* a lesson's controls are the demonstration: large enough to use on a projector */
"""
    + f"""{_LESSON} [data-testid="stWidgetLabel"] p {{ font-size: 1.3rem !important; }}
{_LESSON} [data-testid="stButton"] button {{ min-height: 3rem; padding: 0.4rem 1.4rem; }}
{_LESSON} [data-testid="stButton"] button p {{ font-size: 1.4rem !important; font-weight: 600; }}
{_LESSON} [data-testid="stNumberInput"] input, {_LESSON} [data-baseweb="select"] div {{
  font-size: 1.3rem !important; }}
{_LESSON} [data-testid="stNumberInput"] input {{ min-height: 3rem; }}
{_LESSON} [data-testid="stSlider"] div:has(> input[type="range"]) {{ width: 1.6rem !important;
  height: 1.6rem !important; }}
{_LESSON} [data-testid="stSlider"] [data-testid="stSliderThumbValue"],
{_LESSON} [data-testid="stSliderTickBarMin"], {_LESSON} [data-testid="stSliderTickBarMax"] {{
  font-size: 1.2rem !important; }}
{_LESSON} [data-testid="stExpander"] summary p {{ font-size: 1.2rem !important; }}
"""
    + """
/* about one figure per screen; a lesson's figure shares the first screen with its title */
html { scroll-snap-type: y proximity; }
.mne-chart, [data-testid="stImage"], [class*="st-key-graph_viewer"] { scroll-snap-align: start; }
"""
    + f"""{_VIEW} .mne-chart .js-plotly-plot, {_VIEW} .mne-chart .plot-container,
{_VIEW} .mne-chart .svg-container {{ min-height: 78vh !important; }}
{_LESSON} .mne-chart .js-plotly-plot, {_LESSON} .mne-chart .plot-container,
{_LESSON} .mne-chart .svg-container {{ min-height: 56vh !important; }}
"""
    + """
/* the keys' hint sits in the page's top margin and scrolls away with it: it covers nothing */
.stElementContainer:has(.present-hint) { position: absolute !important; top: 0.5rem; right: 2.5rem;
  width: auto !important; z-index: 10; }
.present-hint { font-size: 1rem; color: #666; white-space: nowrap; }
.present-hint p { font-size: 1rem !important; margin: 0; }
/* the style, the key listener and the lesson mark take no room (a style applies from anywhere) */
.stElementContainer:has(.present-lesson), .stElementContainer:has(.present-style),
.stMainBlockContainer .st-key-present_keys { display: none !important; }
</style>
<span class="present-style"></span>
"""
)

_JS = r"""
export default function (component) {
  // the latest run's paths and component; the listener itself is installed once per tab
  window.__mobilenetPresentData = { paths: component.data.paths, component };
  if (window.__mobilenetPresentListener) return;
  const where = () => {
    const url = new URL(window.location.href);
    const here = url.pathname.replace(/\/+$/, "").split("/").pop();
    const { paths } = window.__mobilenetPresentData;
    // an arrow pressed while the app still switches: count from the page it goes to
    const pending = window.__mobilenetPresentPending;
    if (pending !== undefined && pending !== here) return { url, paths, index: paths.indexOf(pending) };
    window.__mobilenetPresentPending = undefined;
    return { url, paths, index: Math.max(0, paths.indexOf(paths.includes(here) ? here : "")) };
  };
  const handler = (event) => {
    const url0 = new URL(window.location.href);
    if (url0.searchParams.get("present") !== "1") return;  // switched off in the sidebar
    const target = event.target;
    const tag = target?.tagName, kind = (target?.type || "").toLowerCase();
    const typing = (tag === "INPUT" && !["range", "checkbox", "radio", "button"].includes(kind))
      || tag === "TEXTAREA" || tag === "SELECT" || target?.isContentEditable;
    // a focused slider (an input of type range), radio group or list uses the arrows itself
    const arrowsTaken = typing || kind === "range" || kind === "radio" || target?.closest?.(
      '[role="slider"], [role="radiogroup"], [role="listbox"], [role="combobox"], [role="tablist"]');
    if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
      if (arrowsTaken) return;
      const { paths, index } = where();
      const next = (index + (event.key === "ArrowRight" ? 1 : paths.length - 1)) % paths.length;
      event.preventDefault();
      window.__mobilenetPresentPending = paths[next];
      window.__mobilenetPresentData.component.setTriggerValue("go", paths[next]);
    } else if (event.key === "Escape") {
      if (typing || target?.closest?.('[aria-expanded="true"]')) return;  // Esc closes the list first
      const { url, paths, index } = where();
      url.searchParams.delete("present");
      const base = url.pathname.replace(/[^/]*\/?$/, "");
      window.location.assign(base + (paths[index] || "") + url.search);
    }
  };
  window.__mobilenetPresentListener = handler;
  document.addEventListener("keydown", handler);
}
"""

_KEYS = None


def _keys_component():
    global _KEYS
    if _KEYS is None:
        _KEYS = st.components.v2.component("mobilenet_present_keys", html="<span></span>", js=_JS)
    return _KEYS


def presenting() -> bool:
    return st.query_params.get("present") == "1"


def presentation_switch() -> None:
    """The sidebar switch; on, it puts ?present=1 in the link (which is what a teacher shares)."""

    def toggle() -> None:
        if st.session_state.get("present_switch"):
            st.query_params["present"] = "1"
        else:
            st.query_params.pop("present", None)

    st.sidebar.toggle(t("present_switch"), value=presenting(), key="present_switch", on_change=toggle,
                      help=t("present_help"))  # fmt: skip


def _pressed() -> None:
    """An arrow key (a trigger needs a callback; the page is switched in apply_presentation)."""


def apply_presentation() -> None:
    """In presentation mode: the projector style, the arrow keys, and the hint."""
    if not presenting():
        return
    st.markdown(_CSS, unsafe_allow_html=True)
    keys = _keys_component()(data={"paths": list(VIEW_PATHS)}, key="present_keys", on_go_change=_pressed)
    target = getattr(keys, "go", None)  # the page an arrow key asked for, in the run it started
    if target is not None and target in VIEW_PATHS:
        st.switch_page(page_file(target), query_params=st.query_params.to_dict())
    st.markdown(f'<div class="present-hint">{t("present_hint")}</div>', unsafe_allow_html=True)


def lesson_stage():
    """(figure, settings) containers of a lesson page, in the order they are shown: presenting,
    the demonstration first (it must be on the projector's first screen) and the settings
    (which network, which photo, which block) below it; otherwise the settings first. Marks the
    page as a lesson, whose controls presentation mode keeps."""
    if not presenting():
        settings = st.container()
        return st.container(), settings
    st.markdown('<span class="present-lesson"></span>', unsafe_allow_html=True)
    figure = st.container()
    return figure, st.container()

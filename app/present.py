"""Presentation mode: for a projector. `?present=1` (or the sidebar switch) hides the sidebar and
the controls, enlarges text and figures to about one per screen, and lets the arrow keys step
through the views of the current model (Esc leaves). The selection stays in the link, so each
step shows the same model, α, resolution and language."""

from __future__ import annotations

import streamlit as st

from app.i18n import t
from mobilenet_core.lessons import LESSON_PATHS

# the views in navigation order, by URL path ("" is the overview)
VIEW_PATHS = ("", "graph", "charts", "anatomy", "compare", "lab", "roofline", "tradeoffs", "classify")
VIEW_PATHS += LESSON_PATHS  # then the lessons, in the order of the navigation

_CSS = """
<style>
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"],
[data-testid="stToolbar"] { display: none !important; }
.stMainBlockContainer { max-width: 100% !important; padding: 1.2rem 2.5rem 3rem 2.5rem !important; }
.stMainBlockContainer p, .stMainBlockContainer li, .stMainBlockContainer td, .stMainBlockContainer th,
[data-testid="stCaptionContainer"], [data-testid="stMarkdownContainer"] { font-size: 1.3rem !important; }
.stMainBlockContainer h3 { font-size: 2.2rem !important; }
[data-testid="stMetricValue"], [data-testid="stMetricValue"] * { font-size: 3rem !important; }
[data-testid="stMetricLabel"] p { font-size: 1.4rem !important; }
/* the controls are set before the lecture; the pictures and numbers stay */
.stMainBlockContainer [data-testid="stRadio"], .stMainBlockContainer [data-testid="stSelectbox"],
.stMainBlockContainer [data-testid="stCheckbox"], .stMainBlockContainer [data-testid="stSlider"],
.stMainBlockContainer [data-testid="stNumberInput"], .stMainBlockContainer [data-testid="stMultiSelect"],
.stMainBlockContainer [data-testid="stButtonGroup"], .stMainBlockContainer [data-testid="stDownloadButton"],
.stMainBlockContainer [data-testid="stDataEditor"], .stMainBlockContainer [data-testid="stExpander"],
.stMainBlockContainer [data-testid="stTextInput"] { display: none !important; }
.stMainBlockContainer [data-testid="stButton"]:not([class*="st-key-step"]) { display: none !important; }
/* about one figure per screen, and Page Down moves from figure to figure */
html { scroll-snap-type: y proximity; }
.stPlotlyChart, [data-testid="stImage"], [class*="st-key-graph_viewer"] { scroll-snap-align: start; }
.stPlotlyChart .js-plotly-plot, .stPlotlyChart .plot-container, .stPlotlyChart .svg-container {
  min-height: 78vh !important; }
.present-hint { position: fixed; right: 1rem; bottom: 0.6rem; z-index: 1000; font-size: 1rem;
  background: rgba(255,255,255,0.9); border: 1px solid #ccc; border-radius: 6px; padding: 2px 10px;
  color: #444; }
</style>
"""

_JS = r"""
export default function (component) {
  const { data } = component;
  // one listener for the whole page, replaced on every run (the last one knows the current view)
  if (window.__mobilenetPresent) document.removeEventListener("keydown", window.__mobilenetPresent);
  const handler = (event) => {
    const target = event.target;
    const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(target?.tagName);
    if (typing || target?.isContentEditable) return;  // arrows in a text box stay the box's
    const paths = data.paths;
    const url = new URL(window.location.href);
    const here = url.pathname.replace(/\/+$/, "").split("/").pop();
    const index = Math.max(0, paths.indexOf(paths.includes(here) ? here : ""));
    const base = url.pathname.replace(/[^/]*\/?$/, "");
    if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
      const next = (index + (event.key === "ArrowRight" ? 1 : paths.length - 1)) % paths.length;
      event.preventDefault();
      window.location.assign(base + paths[next] + url.search);
    } else if (event.key === "Escape") {
      url.searchParams.delete("present");
      window.location.assign(base + (paths[index] || "") + (url.search ? url.search : ""));
    }
  };
  window.__mobilenetPresent = handler;
  document.addEventListener("keydown", handler);
  return () => document.removeEventListener("keydown", handler);
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


def apply_presentation() -> None:
    """In presentation mode: the projector style, the arrow keys, and the hint."""
    if not presenting():
        return
    st.markdown(_CSS, unsafe_allow_html=True)
    _keys_component()(data={"paths": list(VIEW_PATHS)}, key="present_keys")
    st.markdown(f'<div class="present-hint">{t("present_hint")}</div>', unsafe_allow_html=True)

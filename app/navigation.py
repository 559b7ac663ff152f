"""The sidebar's navigation, drawn by the app: one st.page_link per page, the lessons under their
heading, in the order, with the titles, icons and URLs st.navigation knows (it still routes, with
position="hidden", so the URLs, st.switch_page and presentation mode's arrow keys are unchanged).

Why not Streamlit's own: its sidebar navigation (Streamlit 1.67) puts the section headings and
the "show more" control as <div>s inside its <ul>, and its <li>s end up outside any list, so
axe-core reports `list` and `listitem` (serious, WCAG 1.3.1 Info and Relationships) on every page:
407 of the 447 serious violations measured on the 19 pages in both languages. A screen reader
announces the list wrongly. st.page_link renders a plain link, which axe accepts.

Minimal upstream reproduction (not filed), Streamlit 1.67, `streamlit run repro.py`:

    import streamlit as st
    a = st.Page(lambda: st.write("a"), title="A", url_path="a", default=True)
    b = st.Page(lambda: st.write("b"), title="B", url_path="b")
    st.navigation({"": [a], "Section": [b]}, position="sidebar").run()

then in the browser console, with axe-core loaded: `(await axe.run()).violations.map(v => v.id)`
lists "list" (ul[data-testid=stSidebarNavItems] has <div> children) and "listitem".

The page-wide style for accessibility is here as well (it is drawn on every page, like the
navigation): captions dark enough for WCAG's 4.5:1 and a visible keyboard focus.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable

import streamlit as st

from app.i18n import current_language

# Streamlit draws captions at 60 % opacity: #828180 on white, 3.9:1 (axe, color-contrast, serious).
# #555866 at full opacity is 7.0:1 on white and 6.3:1 on the sidebar's #f0f2f6.
_STYLE = """
<style>
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] *,
.stCaption { color: #555866 !important; opacity: 1 !important; }
/* a page's whole title, on two lines if need be (not cut off with "…") */
[data-testid="stSidebar"] [data-testid="stPageLink-NavLink"] * { white-space: normal !important;
  overflow: visible !important; text-overflow: clip !important; }
/* the charts' data tables (app.common.draw_figure) */
table.figure-data { border-collapse: collapse; font-size: 0.9rem; }
table.figure-data th, table.figure-data td { border: 1px solid #d5d7de; padding: 2px 8px; text-align: right; }
table.figure-data th:first-child, table.figure-data td:first-child { text-align: left; }
/* keyboard focus: a ring on whatever has it (Streamlit removes the outline of some controls) */
a:focus-visible, button:focus-visible, input:focus-visible, textarea:focus-visible, summary:focus-visible,
[tabindex]:focus-visible, [role="button"]:focus-visible, [role="slider"]:focus-visible {
  outline: 3px solid #0072b2 !important; outline-offset: 2px; }
</style>
"""


def accessibility_style() -> None:
    st.html(_STYLE)


def sidebar_navigation(box, sections: dict[str, list]) -> None:
    """Links to every page in `box` (a sidebar container, so that they sit above the settings);
    the current page is highlighted by st.page_link itself."""
    with box:
        for heading, pages in sections.items():
            if heading:
                st.markdown(f"**{heading}**")
            for page in pages:
                st.page_link(page, width="stretch")


# The pages' st.Page objects, built once per (language, main script's folder) for the class: an
# st.Page resolves its script's path on disk and checks the file is there, 21 pages a run,
# a tenth of a page's own run (cProfile, issue 24). The built objects are only copied, never
# handed to st.navigation: it marks the page it runs on the object it gets (`_can_be_called`),
# so each run gets its own shallow copies (the other attributes are strings and a path). The lock:
# two first sessions build once.
_SECTIONS: dict[tuple, dict[str, list]] = {}
_SECTIONS_LOCK = threading.Lock()


def page_sections(build: Callable[[], dict[str, list]]) -> dict[str, list]:
    """`build()`'s sections of st.Page objects (heading -> pages), built once per language, as
    copies for this run."""
    ctx = st.runtime.scriptrunner.get_script_run_ctx()
    key = (current_language(), str(ctx.pages_manager.main_script_parent) if ctx else "")
    with _SECTIONS_LOCK:
        if key not in _SECTIONS:
            _SECTIONS[key] = build()
        built = _SECTIONS[key]
    return {heading: [copy.copy(page) for page in pages] for heading, pages in built.items()}

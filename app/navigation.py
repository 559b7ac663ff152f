"""The sidebar's navigation, drawn by the app: one list of links, the lessons under their heading,
in the order, with the titles, icons and URLs st.navigation knows (it still routes, with
position="hidden", so the URLs, st.switch_page and presentation mode's arrow keys are unchanged).

Why not Streamlit's own: its sidebar navigation (Streamlit 1.67) puts the section headings and
the "show more" control as <div>s inside its <ul>, and its <li>s end up outside any list, so
axe-core reports `list` and `listitem` (serious, WCAG 1.3.1 Info and Relationships) on every page:
407 of the 447 serious violations measured on the 19 pages in both languages. A screen reader
announces the list wrongly.

Minimal upstream reproduction (not filed), Streamlit 1.67, `streamlit run repro.py`:

    import streamlit as st
    a = st.Page(lambda: st.write("a"), title="A", url_path="a", default=True)
    b = st.Page(lambda: st.write("b"), title="B", url_path="b")
    st.navigation({"": [a], "Section": [b]}, position="sidebar").run()

then in the browser console, with axe-core loaded: `(await axe.run()).violations.map(v => v.id)`
lists "list" (ul[data-testid=stSidebarNavItems] has <div> children) and "listitem".

Why one component and not an st.page_link per page (as before): every element is a message the
server builds, hands to its event loop and sends on every run of every page, and the 21 links and
the heading were a third of a page's messages: 7-8 of a rerun's 45-55 server core-ms (issue 24,
measured by removing them). The component is one message: a <nav> landmark with a list per
section (<ul>/<li>, WCAG 1.3.1), the page shown marked aria-current="page" (2.4.8), plain links
(a middle click or "open in new tab" works). A click is followed the way the browser's Back
button is: the script puts the URL in the history and tells Streamlit's frontend (a popstate
event, which it follows by running the page, keeping the session and its widgets, as it does for
Back and Forward); no new document is loaded. The link keeps the app-wide parameters (APP_PARAMS).

The page-wide style for accessibility is here as well (it is drawn on every page, like the
navigation): captions dark enough for WCAG's 4.5:1 and a visible keyboard focus.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from app.i18n import current_language, t

# Streamlit draws captions at 60 % opacity: #828180 on white, 3.9:1 (axe, color-contrast, serious).
# #555866 at full opacity is 7.0:1 on white and 6.3:1 on the sidebar's #f0f2f6.
ACCESSIBILITY_CSS = """
<style>
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] *,
.stCaption { color: #555866 !important; opacity: 1 !important; }
/* the navigation (sidebar_navigation): Streamlit's look of a sidebar link (Streamlit 1.67's
   st.page_link, measured: 14 px text on 28 px lines 36 px apart, a 16 px icon, 8 px padding and
   radius) */
.mn-nav ul { list-style: none; margin: 0 0 0.75rem 0; padding: 0; }
.mn-nav li { margin: 0; padding: 4px 0; }
.mn-nav a { display: flex; align-items: center; gap: 8px; padding: 0 8px; margin: 0;
  border-radius: 8px; min-height: 28px; font-size: 14px; line-height: 28px; color: #2f2d2b;
  text-decoration: none; }
.mn-nav a:hover { background: rgba(169, 169, 162, 0.15); }
.mn-nav a[aria-current="page"] { background: rgba(169, 169, 162, 0.15); font-weight: 600; }
.mn-nav .mn-icon { font-family: "Material Symbols Rounded"; font-size: 16px; line-height: 28px;
  font-weight: 400; font-style: normal; letter-spacing: normal; text-transform: none;
  white-space: nowrap; direction: ltr; font-feature-settings: "liga"; flex: 0 0 16px; }
.mn-nav .mn-heading { font-weight: 600; font-size: 16px; margin: 0.5rem 0 0.5rem 0; }
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


# The link's parameters every page reads (the sidebar's selection, the language, presentation
# mode): following a link keeps them, as the widgets keep their values; a page's own (?block=)
# stay with their page.
APP_PARAMS = ("model", "alpha", "resolution", "lang", "present")

_NAV_JS = r"""
const esc = (s) => String(s).replace(/[&<>"']/g, (c) =>
  ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

// a page's link, relative to the app's root like st.page_link's (the pages are one level below it)
const href = (path) => path || "./";

function mark(root, path) {
  root.querySelectorAll("a[data-path]").forEach((a) => {
    if (a.dataset.path === path) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
}

function follow(event, root) {
  const a = event.target.closest("a[data-path]");
  if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey
      || event.shiftKey || event.altKey) return;  // a new tab or window: the browser's own
  event.preventDefault();
  const now = new URL(window.location.href);
  const url = new URL(a.getAttribute("href"), new URL("./", now));
  for (const name of root.keep) {
    const value = now.searchParams.get(name);
    if (value !== null) url.searchParams.set(name, value);
  }
  if (url.pathname === now.pathname) return;  // the page shown
  mark(root, a.dataset.path);
  window.history.pushState(null, "", url);
  // Streamlit's frontend runs the page of the URL it finds on a popstate (Back, Forward)
  window.dispatchEvent(new PopStateEvent("popstate", { state: null }));
}

export default function (component) {
  const { parentElement, data } = component;
  let root = parentElement.querySelector("nav.mn-nav");
  if (!root) {
    root = document.createElement("nav");
    root.className = "mn-nav";
    root.addEventListener("click", (event) => follow(event, root));
    parentElement.appendChild(root);
  }
  root.keep = data.keep;
  root.setAttribute("aria-label", data.label);
  const html = data.sections.map((section, i) => {
    const id = `mn-nav-section-${i}`;
    const heading = section.heading ? `<p class="mn-heading" id="${id}">${esc(section.heading)}</p>` : "";
    const items = section.pages.map((p) => `<li><a href="${esc(href(p.path))}" data-path="${esc(p.path)}">`
      + `<span class="mn-icon" aria-hidden="true" translate="no">${esc(p.icon)}</span>`
      + `<span>${esc(p.title)}</span></a></li>`).join("");
    return heading + `<ul${section.heading ? ` aria-labelledby="${id}"` : ""}>${items}</ul>`;
  }).join("");
  // drawn again only when it changes: a link that has the keyboard's focus keeps it
  if (root.drawn !== html) { root.innerHTML = html; root.drawn = html; }
  mark(root, data.current);
}
"""

_NAV = None


def _nav_component():
    global _NAV
    if _NAV is None:  # registered once per process (the registry is Streamlit's, shared)
        # in the page itself, not a shadow root: the page-wide style (app.page_script: the touch
        # targets) applies to the links, and tests and tools find them in the document
        _NAV = st.components.v2.component("mobilenet_navigation", html="<span></span>", js=_NAV_JS,
                                          isolate_styles=False)  # fmt: skip
    return _NAV


def _icon(page) -> str:
    return page.icon.removeprefix(":material/").removesuffix(":")  # the Material Symbols ligature


def sidebar_navigation(box, sections: dict[str, list], current: str) -> None:
    """Links to every page in `box` (a sidebar container, so that they sit above the settings),
    the one at URL path `current` marked as the page shown."""
    data = {
        "label": t("nav_label"),
        "current": current,
        "keep": APP_PARAMS,
        "sections": [
            {
                "heading": heading,
                "pages": [{"path": p.url_path, "title": p.title, "icon": _icon(p)} for p in ps],
            }
            for heading, ps in sections.items()
        ],
    }
    with box:
        _nav_component()(data=data, key="navigation")


# The pages' st.Page objects, built once per (language, main script's folder) for the class: an
# st.Page resolves its script's path on disk and checks the file is there, 21 pages a run,
# a tenth of a page's own run (cProfile, issue 24). The built objects are only copied, never
# handed to st.navigation: it marks the page it runs on the object it gets (`_can_be_called`),
# so each run gets its own shallow copies (the other attributes are strings and a path). The lock:
# two first sessions build once. Kept for the process's life: a changed page title or lesson needs
# a restart, as the source watcher is off (.streamlit/config.toml).
_SECTIONS: dict[tuple, dict[str, list]] = {}
_SECTIONS_LOCK = threading.Lock()


def page_sections(build: Callable[[], dict[str, list]]) -> dict[str, list]:
    """`build()`'s sections of st.Page objects (heading -> pages), built once per language, as
    copies for this run."""
    ctx = get_script_run_ctx()
    key = (current_language(), str(ctx.pages_manager.main_script_parent) if ctx else "")
    with _SECTIONS_LOCK:
        if key not in _SECTIONS:
            _SECTIONS[key] = build()
        built = _SECTIONS[key]
    return {heading: [copy.copy(page) for page in pages] for heading, pages in built.items()}

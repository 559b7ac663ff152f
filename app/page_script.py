"""The page's own style and script, once per run, as one style element and one component.

The style: the accessibility rules (app.navigation) and the tablet's and phone's (app.responsive).
The script: the page's language and Streamlit's words in it (app.page_language), the
sidebar's fold and the charts' fitted titles on touch screens (app.responsive), and Plotly made
ready while the reader reads (app.prefetch). Each module keeps
its own script, written as a component's default export; here they run as parts of one
components-v2 element, each in its own scope with its own data. Two components and two style
elements cost the server more than one of each on every run of every session (a component about
0.9 core-ms, three markdowns' worth, measured on a bare Streamlit app; issue 24)."""

from __future__ import annotations

import re

import streamlit as st

from app.i18n import current_language
from app.navigation import ACCESSIBILITY_CSS
from app.page_language import LANGUAGE_JS, language_data
from app.prefetch import PREFETCH_JS, prefetch_data
from app.responsive import FOLD_JS, RESPONSIVE_CSS, fold_data

# (script, its data for this run): in the order they run
PARTS = (
    (LANGUAGE_JS, lambda: language_data(current_language())),
    (FOLD_JS, fold_data),
    (PREFETCH_JS, prefetch_data),
)
STYLE = ACCESSIBILITY_CSS + RESPONSIVE_CSS


def _part(js: str) -> str:
    """A component script's default export as a function in a scope of its own (two scripts may
    both name a helper `text`). The script has one `export default function` and no other
    import or export (checked: anything else would be a syntax error in the page)."""
    rest = js.replace("export default function", "", 1)
    if js.count("export default function") != 1 or re.search(r"^\s*(import|export)\b", rest, re.MULTILINE):
        raise ValueError("a page script part needs exactly one `export default function` and no imports")
    return "(() => {\n" + js.replace("export default function", "return function", 1) + "\n})()"


# each part runs on its own: one that fails leaves the others working
_JS = (
    "const PARTS = [\n"
    + ",\n".join(_part(js) for js, _ in PARTS)
    + "];\nexport default function (component) {\n"
    + "  PARTS.forEach((part, i) => {\n"
    + "    try { part({ ...component, data: component.data[i] }); } catch (e) { console.error(e); }\n"
    + "  });\n}\n"
)
_COMPONENT = None


def page_script() -> None:
    """The style and the script (from app/main.py, before the pages draw anything)."""
    global _COMPONENT
    st.html(STYLE)
    if _COMPONENT is None:  # registered once per process (the registry is Streamlit's, shared)
        _COMPONENT = st.components.v2.component("mobilenet_page_script", html="<span></span>", js=_JS)
    # the key the language script had: its place on the page ([0, 0]) and its look are the same
    _COMPONENT(data=[data() for _, data in PARTS], key="page_language")

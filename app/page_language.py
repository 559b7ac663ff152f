"""The page says which language it is in (<html lang="zh"> in the Chinese interface): screen readers
choose their voice by it, browsers their fonts and line breaking (WCAG 2.1, 3.1.1 Language of
Page). Streamlit writes lang="en" whatever the content; a components-v2 script, which runs in the
page itself, sets the attribute from the interface's language on every run."""

from __future__ import annotations

import streamlit as st

from app.i18n import current_language

_JS = """
export default function (component) {
  document.documentElement.lang = component.data.lang;
}
"""

_COMPONENT = None


def page_language() -> None:
    global _COMPONENT
    if _COMPONENT is None:  # registered once per process (the registry is Streamlit's, shared)
        _COMPONENT = st.components.v2.component("mobilenet_page_language", html="<span></span>", js=_JS)
    _COMPONENT(data={"lang": current_language()}, key="page_language")

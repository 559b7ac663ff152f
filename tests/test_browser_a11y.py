"""Accessibility checks a browser shows (issue 26): the page says its language, so that a screen
reader reads the Chinese interface with a Chinese voice (WCAG 2.1, 3.1.1)."""

from __future__ import annotations

import pytest
from test_browser import browser, server  # noqa: F401 - the fixtures, shared with test_browser

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_says_its_language_and_follows_a_switch(server, browser, lang):  # noqa: F811
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    try:
        page.goto(f"{server}/?lang={lang}")
        # Streamlit writes lang="en" into the page: wait for ours
        page.wait_for_function(f"() => document.documentElement.lang === '{lang}'", timeout=120_000)
        other = "en" if lang == "zh" else "zh"
        page.get_by_text("English" if other == "en" else "中文", exact=True).first.click()
        page.wait_for_function(f"() => document.documentElement.lang === '{other}'", timeout=120_000)
    finally:
        page.close()

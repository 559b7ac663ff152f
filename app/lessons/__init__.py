"""The Lessons section of the app: one folder per lesson, found from the library's lessons.

app/lessons/<name>/ holds the page of mobilenet_core/lessons/<name>.py: `__init__.py` (the page
function `show()`), `page.py` (the script st.navigation runs, which calls it), the texts
`en.md`, `zh.md` and the page's own words `en.toml`, `zh.toml` (read by app.i18n). The story page (the overview, URL path "lessons") is app/lessons/story/. Nothing
here lists the lessons: the pages follow mobilenet_core.lessons.LESSONS, in its order.

Why a page script and not `st.Page(callable)`: AppTest.switch_page (streamlit 1.67) takes only a
script file relative to the main script and refuses a page registered from a callable (see the
README's "How to add a lesson").
"""

from __future__ import annotations

from pathlib import Path

from mobilenet_core.lessons import LESSON_PATHS

HERE = Path(__file__).resolve().parent


def folder(path: str) -> str:
    """The folder of a lesson's URL path: "lesson-inverted-residual" -> "inverted_residual"."""
    return "story" if path == "lessons" else path.removeprefix("lesson-").replace("-", "_")


# the page script of every lesson path, relative to app/main.py (st.switch_page, st.page_link, AppTest)
PAGE_FILES = {path: f"lessons/{folder(path)}/page.py" for path in LESSON_PATHS}


def lesson_pages() -> list:
    """The st.Page of the story and of every lesson, in the lessons' order, at stable URL paths a
    slide can link to."""
    import streamlit as st

    from app.lessons.common import lesson_title

    return [
        st.Page(HERE / folder(path) / "page.py", title=lesson_title(path), url_path=path,
                icon=":material/school:" if path == "lessons" else ":material/lightbulb:")
        for path in LESSON_PATHS
    ]  # fmt: skip

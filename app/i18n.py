"""The app's words. Each language is one file, app/locales/<code>.toml: `[meta] name`, `[ui]` (the
labels, explanations and messages) and `[graph]` (the words drawn inside the graphs; keys of
mobilenet_core.graph.WORDS). A lesson's own words are in its folder, app/lessons/<name>/<code>.toml:
a flat table of keys (no `[ui]` header), merged into that language's `[ui]`; words several pages
share stay in the locale file. A key in two of these files raises at load (nobody shadows a word
silently). A third language is one more locale file, and one more file in each lesson folder that
has words, with the same keys; tests/test_i18n.py checks that every file has every key and that
every key is used."""

from __future__ import annotations

import logging
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

LOCALES = Path(__file__).parent / "locales"
LESSONS = Path(__file__).parent / "lessons"  # app/lessons/<name>/<code>.toml: one lesson's words


def _load(locales: Path = LOCALES, lessons: Path = LESSONS) -> dict[str, dict]:
    # read once per process; afterwards only read (never written), so sharing between sessions is safe
    files = sorted(locales.glob("*.toml"), key=lambda p: (p.stem != "en", p.stem))  # English first
    catalogs = {path.stem: tomllib.loads(path.read_text(encoding="utf-8")) for path in files}
    for code, catalog in catalogs.items():
        source = dict.fromkeys(catalog["ui"], locales / f"{code}.toml")  # key -> the file that has it
        for path in sorted(lessons.glob(f"*/{code}.toml")):
            for key, text in tomllib.loads(path.read_text(encoding="utf-8")).items():
                if not isinstance(text, str):
                    raise ValueError(
                        f"{path}: {key!r} is not a word; a lesson's file is a flat table of keys"
                    )
                if key in source:
                    raise ValueError(f"the key {key!r} is in both {source[key]} and {path}")
                source[key] = path
                catalog["ui"][key] = text
    return catalogs


CATALOGS = _load()
LANGUAGES = {code: catalog["meta"]["name"] for code, catalog in CATALOGS.items()}
STRINGS: dict[str, dict[str, str]] = {code: catalog["ui"] for code, catalog in CATALOGS.items()}
GRAPH_WORDS: dict[str, dict[str, str]] = {code: catalog["graph"] for code, catalog in CATALOGS.items()}
GRAPH_WORDS_ZH = GRAPH_WORDS["zh"]


# A language set for one thread (`speaking`): for work done outside any session (the server's
# warm-up builds the figures every session will draw, in each language), for a figure built in
# another language, and for a page's whole run (app/main.py reads the session's language once and
# runs the page inside it). Thread-local, so no other thread (another session's run, the warm-up)
# sees it; a fragment's own rerun runs outside the page's and reads the session.
_spoken = threading.local()


@contextmanager
def speaking(lang: str) -> Iterator[None]:
    """Within it, this thread's words are `lang`'s, whatever the session's (outside a session:
    st.session_state is not there)."""
    before = getattr(_spoken, "lang", None)
    _spoken.lang = lang
    try:
        yield
    finally:
        _spoken.lang = before


def current_language() -> str:
    lang = getattr(_spoken, "lang", None) or st.session_state.get("lang", "en")
    return lang if lang in LANGUAGES else "en"


def t(key: str, **kwargs) -> str:
    text = STRINGS[current_language()][key]
    return text.format(**kwargs) if kwargs else text


_log = logging.getLogger(__name__)


def error_text(exc: Exception) -> str:
    """What went wrong, in the user's language: the message of the error's code (`err_<code>`)
    with its parameters (a column named by its label in the editor). Never the exception's own
    text, which is English and may carry a server path: that goes to the server's log."""
    _log.info("shown to the user as %r: %s", getattr(exc, "code", ""), exc)
    code = getattr(exc, "code", "")
    strings = STRINGS[current_language()]
    if not code or f"err_{code}" not in strings:
        return t("err_unknown")
    params = {k: ("" if v is None else v) for k, v in getattr(exc, "params", {}).items()}
    if "column" in params and f"labcol_{params['column']}" in strings:
        params["column"] = t(f"labcol_{params['column']}")
    if "model" in params:  # an id: said as the model's title
        from mobilenet_core.api import GENERATIONS

        params["model"] = (
            GENERATIONS[params["model"]].title if params["model"] in GENERATIONS else params["model"]
        )
    return t(f"err_{code}", **params)


def viewer_words() -> dict[str, str]:
    """The interactive graph's own words, in the current language."""
    return {key: t(f"viewer_{key}") for key in ("fit", "zoom_in", "zoom_out", "search", "found", "keys")}


def graph_words() -> dict | None:
    """The words for mobilenet_core's pictures; None means the library's own (English) words."""
    language = current_language()
    return None if language == "en" else GRAPH_WORDS[language]

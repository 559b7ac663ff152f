"""The app's words. Each language is one file, app/locales/<code>.toml: `[meta] name`, `[ui]` (the
labels, explanations and messages) and `[graph]` (the words drawn inside the graphs; keys of
mobilenet_core.graph.WORDS). A third language is one more file with the same keys; tests/test_i18n.py
checks that every file has every key and that every key is used."""

from __future__ import annotations

import tomllib
from pathlib import Path

import streamlit as st

LOCALES = Path(__file__).parent / "locales"


def _load() -> dict[str, dict]:
    # read once per process; afterwards only read (never written), so sharing between sessions is safe
    files = sorted(LOCALES.glob("*.toml"), key=lambda p: (p.stem != "en", p.stem))  # English first
    return {path.stem: tomllib.loads(path.read_text(encoding="utf-8")) for path in files}


CATALOGS = _load()
LANGUAGES = {code: catalog["meta"]["name"] for code, catalog in CATALOGS.items()}
STRINGS: dict[str, dict[str, str]] = {code: catalog["ui"] for code, catalog in CATALOGS.items()}
GRAPH_WORDS: dict[str, dict[str, str]] = {code: catalog["graph"] for code, catalog in CATALOGS.items()}
GRAPH_WORDS_ZH = GRAPH_WORDS["zh"]


def current_language() -> str:
    lang = st.session_state.get("lang", "en")
    return lang if lang in LANGUAGES else "en"


def t(key: str, **kwargs) -> str:
    text = STRINGS[current_language()][key]
    return text.format(**kwargs) if kwargs else text


def viewer_words() -> dict[str, str]:
    """The interactive graph's own words, in the current language."""
    return {key: t(f"viewer_{key}") for key in ("fit", "zoom_in", "zoom_out", "search", "found")}


def graph_words() -> dict | None:
    """The words for mobilenet_core's pictures; None means the library's own (English) words."""
    language = current_language()
    return None if language == "en" else GRAPH_WORDS[language]

"""What goes wrong is said in the user's language, from the error's code: never the exception's own
text (English, sometimes a server path), in any language. The guard reads the app's code for the
ways an exception's text reaches a page; the pages are driven to the errors a user can cause."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_lab import _open

import mobilenet_core as mc
from mobilenet_core.lab import generation_rows, to_url_token

ROOT = Path(__file__).resolve().parent.parent


def exception_text_uses(source: str) -> list[int]:
    """Lines where an `except ... as name` handler's name is turned into text: str(name),
    repr(name), f"{name}", name.args, type(name).__name__ (logging calls excepted)."""
    tree = ast.parse(source)
    found = []
    for handler in (n for n in ast.walk(tree) if isinstance(n, ast.ExceptHandler) and n.name):
        name = handler.name
        for node in ast.walk(handler):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                if isinstance(owner, ast.Name) and owner.id in ("_log", "log", "logging", "logger"):
                    continue  # the server's log is where the detail belongs
            text = None
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("str", "repr")
            ):
                text = node.args[0] if node.args else None
            elif isinstance(node, ast.FormattedValue):
                text = node.value
            elif isinstance(node, ast.Attribute) and node.attr in ("args", "__name__"):
                text = (
                    node.value.args[0] if isinstance(node.value, ast.Call) and node.value.args else node.value
                )
            if isinstance(text, ast.Name) and text.id == name:
                found.append(node.lineno)
    return sorted(found)


def test_no_page_turns_an_exception_into_text():
    offenders = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / "app").rglob("*.py"))
        if (lines := exception_text_uses(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_the_guard_finds_each_way_an_exception_becomes_text():
    source = """
try:
    pass
except ValueError as exc:
    st.error(str(exc))
    st.error(f"failed: {exc}")
    st.error(type(exc).__name__)
    _log.warning("kept for the log: %s", exc)
"""
    assert exception_text_uses(source) == [5, 6, 7]


def run_page(view: str, lang: str, **query) -> AppTest:
    return _open(view, {"lang": lang, **query})


def shown(at: AppTest) -> str:
    return "\n".join(str(x.value) for kind in ("error", "warning", "info") for x in getattr(at, kind))


ENGLISH_DETAIL = re.compile(r"Error|Traceback|row \d+:|must be|/tmp/|/root/|/home/|\.py\b|errno", re.I)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_bad_lab_edit_and_a_damaged_link_are_said_in_the_users_words(lang):
    at = run_page("lab", lang, model="v2", lab="not-a-token")
    assert not at.exception
    message = shown(at)
    assert ("damaged" in message) if lang == "en" else ("已损坏" in message)
    assert not ENGLISH_DETAIL.search(message.replace("damaged", "")), message

    at.session_state[f"lab_editor_{at.session_state['lab_editor_version']}"] = {
        "edited_rows": {4: {"kernel": 4}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    message = "\n".join(e.value for e in at.error)
    assert "4" in message and ("odd" in message if lang == "en" else "奇数" in message), message
    assert "must be odd (1, 3, 5, 7, 9), got" not in message  # the library's English sentence
    if lang == "zh":
        assert not re.search(r"[A-Za-z]{4,}", message.replace("kernel", "")), message


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_lab_link_with_an_unknown_model_names_it_in_the_users_words(lang):
    token = to_url_token("v9", generation_rows(mc.get_generation("v2")))
    at = run_page("lab", lang, model="v2", lab=token)
    assert not at.exception
    message = shown(at)
    assert "v9" in message and "unknown base model" not in message, message


def _lost_files_page():
    """A page whose drop zones list files the session does not have (what Streamlit puts in
    st.session_state for them: a DeletedFile each), as after a reconnection to a new session."""
    import streamlit as st
    from streamlit.runtime.uploaded_file_manager import DeletedFile

    from app.common import lost_uploads_ui

    st.session_state["lang"] = st.query_params.get("lang", "en")  # what the sidebar's picker sets
    st.session_state["photos"] = [DeletedFile("a"), DeletedFile("b")]  # several at once: two lost
    st.session_state["camera"] = DeletedFile("c")  # one file (the camera, a checkpoint)
    st.session_state["kept"] = []  # nothing dropped, or the files removed
    for key in ("photos", "camera", "kept"):
        st.session_state[f"lost_{key}"] = lost_uploads_ui(key)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_files_the_session_no_longer_has_are_said_in_the_users_words(lang):
    at = AppTest.from_function(_lost_files_page, default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    assert not at.exception
    assert [at.session_state[f"lost_{k}"] for k in ("photos", "camera", "kept")] == [2, 1, 0]
    said = [w.value for w in at.warning]
    assert len(said) == 2 and "2" in said[0] and "1" in said[1]
    assert all(("server" in s) == (lang == "en") and ("服务器" in s) == (lang == "zh") for s in said)

"""Every lesson page through AppTest, for every model and both languages: renders without an
exception or error, shows its own title, follows the selection, and shows the live numbers
the library computes."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import mobilenet_core as mc
from app.lesson_pages import PAGE_FILES, lesson_text
from mobilenet_core import lessons as L

MAIN = str(Path(__file__).resolve().parent.parent / "app" / "main.py")


def run(page: str | None = None, **query) -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=180)
    for key, value in query.items():
        at.query_params[key] = str(value)
    at.run()
    if page:
        at.switch_page(page).run()
    return at


def clean(at: AppTest, where: str) -> None:
    assert not at.exception, f"{where}: {[e.value for e in at.exception]}"
    assert not at.error, f"{where}: {[e.value for e in at.error]}"


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [s.value for s in at.subheader] + [c.value for c in at.caption]
    parts += [x.value for x in at.latex] + [i.value for i in at.info]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("model", mc.list_models())
def test_every_lesson_renders_for_every_model_in_both_languages(model, lang):
    at = run(model=model, lang=lang)
    clean(at, f"{model} {lang} overview")
    report = mc.count(model)
    for path, page in PAGE_FILES.items():
        at.switch_page(page).run()
        where = f"{model} {lang} {path}"
        clean(at, where)
        shown = texts(at)
        assert lesson_text(path, lang)[0] in shown, where  # the lesson's own title, in the language
        if path == "lessons":
            continue
        fallback = L.lesson_model(path, report)
        if fallback is not None:  # said, and the fallback model is the one shown
            assert mc.get_generation(fallback).title in shown, where
        else:
            assert mc.get_generation(model).title in shown, where

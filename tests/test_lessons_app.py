"""Every lesson page through AppTest, for every model and both languages: renders without an
exception or error, shows its own title, follows the selection, and shows the live numbers
the library computes."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import mobilenet_core as mc
from app.lessons import PAGE_FILES
from app.lessons.common import lesson_text
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
    parts = [m.value for m in at.markdown] + [s.value for s in at.title] + [c.value for c in at.caption]
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


def test_lessons_and_classify_run_the_published_weights_once_they_are_in_the_cache(tmp_path, monkeypatch):
    """A deterministic checkpoint in timm's layout lands in the cache as a download would leave it
    (the file and its pinned digest); the SE lesson and Classify then run it and name it."""
    import torch
    from safetensors.torch import save_file

    from app.models import MODEL_CACHE
    from mobilenet_core.weights import import_weights
    from reference import deterministic_state_dict, manifest

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    source = tmp_path / "mobilenetv3_small_100.safetensors"
    state = deterministic_state_dict(manifest("timm_mobilenetv3_small_100")["keys"])
    save_file({k: v.contiguous() for k, v in state.items() if isinstance(v, torch.Tensor)}, str(source))
    entry, path = import_weights(source)
    assert entry.model == "v3_small" and path.exists()

    at = run(PAGE_FILES["lesson-se"], model="v3_small")
    clean(at, "lesson-se with a cached checkpoint")
    said = [s.value for s in at.success]
    assert any(entry.name in s and entry.description in s for s in said), said
    assert ("pretrained", entry.name) in MODEL_CACHE.keys()
    assert not any("seeded" in i.value for i in at.info)  # the untrained network is not what runs

    at = run(PAGE_FILES["lesson-attention"], model="v3_small")  # falls back to Hybrid-M: not cached
    clean(at, "lesson-attention without its checkpoint")
    assert any(t_ in i.value for i in at.info for t_ in ("Untrained network",)), [i.value for i in at.info]
    assert any(b.label == "Download pretrained weights" for b in at.button)

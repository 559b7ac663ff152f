"""The language files (app/locales/<code>.toml and each lesson's app/lessons/<name>/<code>.toml): every
language has every key, every key is used, a lesson's keys by that lesson only, no key in two files,
and the formats agree."""

from __future__ import annotations

import re
import string
import tomllib
from pathlib import Path

import pytest

from mobilenet_core.graph import WORDS

ROOT = Path(__file__).resolve().parent.parent
LOCALES = sorted((ROOT / "app" / "locales").glob("*.toml"))
LESSON_WORDS = sorted((ROOT / "app" / "lessons").glob("*/*.toml"))  # app/lessons/<name>/<code>.toml
APP_SOURCE = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "app").rglob("*.py")))


def catalog(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def ui(code: str) -> dict[str, str]:
    """A language's [ui] as the app sees it: the locale file's and every lesson's words."""
    from app.i18n import CATALOGS

    return CATALOGS[code]["ui"]


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_english_and_chinese_exist():
    assert {p.stem for p in LOCALES} >= {"en", "zh"}


@pytest.mark.parametrize("path", LOCALES, ids=lambda p: p.stem)
def test_every_language_has_exactly_the_english_keys(path):
    english, other = catalog(LOCALES[[p.stem for p in LOCALES].index("en")]), catalog(path)
    assert other["meta"]["name"]
    for section, theirs, ours in (
        ("ui", ui(path.stem), ui("en")),
        ("graph", other["graph"], english["graph"]),
    ):
        assert set(theirs) == set(ours), section
        for key, text in theirs.items():
            assert text.strip(), f"{path.stem}: {key} is empty"
            # the same placeholders, so a translation never fails (or drops a number) at run time
            assert fields(text) == fields(ours[key]), f"{path.stem}: {key}"


def test_every_lesson_with_words_has_them_in_every_language():
    languages = {p.stem for p in LOCALES}
    folders = {p.parent for p in LESSON_WORDS}
    assert folders, "no lesson has its own words"
    for folder in folders:
        assert {p.stem for p in folder.glob("*.toml")} == languages, folder.name
        english = catalog(folder / "en.toml")
        for code in languages:
            words = catalog(folder / f"{code}.toml")
            # the same keys in the lesson's own files (not one language's word in the shared file)
            assert set(words) == set(english), f"{folder.name}/{code}"
            assert all(isinstance(text, str) for text in words.values()), f"{folder.name}/{code}: flat"


def test_a_lessons_words_are_used_by_that_lesson_only():
    """A word in a lesson's folder is that lesson's: its code uses it and no other file does
    (a word two pages share goes to the locale files)."""
    for path in (p for p in LESSON_WORDS if p.stem == "en"):
        mine = "\n".join(p.read_text(encoding="utf-8") for p in sorted(path.parent.rglob("*.py")))
        others = "\n".join(
            p.read_text(encoding="utf-8")
            for p in sorted((ROOT / "app").rglob("*.py"))
            if path.parent not in p.parents
        )
        for key in catalog(path):
            used = f'"{key}"' in mine or f"'{key}'" in mine
            assert used, f"{path.parent.name}: {key} is not used by the lesson"
            assert not re.search(rf"\b{key}\b", others), f"{path.parent.name}: {key} is used elsewhere"


def test_a_key_in_two_files_raises(tmp_path):
    from app.i18n import _load

    locales, lessons = tmp_path / "locales", tmp_path / "lessons"
    locales.mkdir()
    (locales / "en.toml").write_text('[meta]\nname = "English"\n[ui]\nok = "OK"\n[graph]\n', encoding="utf-8")
    for name in ("one", "two"):
        (lessons / name).mkdir(parents=True)
    (lessons / "one" / "en.toml").write_text('mine = "mine"\n', encoding="utf-8")
    assert _load(locales, lessons)["en"]["ui"] == {"ok": "OK", "mine": "mine"}
    (lessons / "two" / "en.toml").write_text('mine = "theirs"\n', encoding="utf-8")  # two lessons
    with pytest.raises(ValueError, match="'mine'"):
        _load(locales, lessons)
    (lessons / "two" / "en.toml").write_text('ok = "shadowed"\n', encoding="utf-8")  # a lesson and a locale
    with pytest.raises(ValueError, match="'ok'"):
        _load(locales, lessons)
    (lessons / "two" / "en.toml").write_text('[ui]\nlater = "no"\n', encoding="utf-8")  # not flat
    with pytest.raises(ValueError, match="flat table"):
        _load(locales, lessons)


def test_graph_words_are_the_library_words():
    english = catalog(ROOT / "app" / "locales" / "en.toml")
    assert english["graph"] == WORDS


# keys the app builds from a prefix and a value: t(f"img_{exc.code}"), t("cost_" + term.key), ...
DYNAMIC = re.compile(r"""\bt\(\s*(?:f["']([a-z_]+)\{|["']([a-z_]+)["']\s*\+)""")


def test_every_key_is_used_by_the_app():
    english = ui("en")
    prefixes = {a or b for a, b in DYNAMIC.findall(APP_SOURCE)}
    unused = [
        key
        for key in english
        if f'"{key}"' not in APP_SOURCE
        and f"'{key}'" not in APP_SOURCE
        and not any(key.startswith(prefix) for prefix in prefixes)
    ]
    assert not unused, f"keys no page uses: {unused}"


def test_every_literal_key_the_app_asks_for_exists():
    english = ui("en")
    asked = set(re.findall(r"""\bt\(\s*["']([a-z0-9_]+)["']\s*[,)]""", APP_SOURCE))
    assert asked and not asked - set(english), sorted(asked - set(english))


LESSON_TEXTS = ROOT / "app" / "lessons"  # app/lessons/<lesson folder>/<language>.md


def lesson_file(language: str, path: str) -> Path:
    from app.lessons import folder

    return LESSON_TEXTS / folder(path) / f"{language}.md"


# the established Chinese terms the lessons must use (issue 13)
TERMS_ZH = {
    "lesson-separable": ["深度可分离卷积", "逐点卷积"],
    "lesson-multipliers": ["宽度乘子", "分辨率乘子"],
    "lesson-bottleneck": ["线性瓶颈"],
    "lesson-inverted-residual": ["倒残差"],
    "lesson-se": ["挤压激励"],
    "lesson-activations": ["硬 swish"],
    "lesson-uib": ["通用倒瓶颈"],
}


def test_every_lesson_has_a_text_in_every_language():
    from app.lessons import folder
    from mobilenet_core.lessons import LESSON_PATHS

    languages = [p.stem for p in LOCALES]
    for language in languages:
        folders = {p.parent.name for p in LESSON_TEXTS.glob(f"*/{language}.md")}
        assert folders == {folder(path) for path in LESSON_PATHS}, language
        for path in LESSON_PATHS:
            text = lesson_file(language, path).read_text(encoding="utf-8")
            assert text.startswith("# ") and text.count("<!-- demo -->") == 1, f"{language}/{path}"
            assert "arXiv:" in text, f"{language}/{path}: cite the paper"
    for path, terms in TERMS_ZH.items():
        text = lesson_file("zh", path).read_text(encoding="utf-8")
        for term in terms:
            assert term in text, f"zh/{path} lacks {term}"


def test_chinese_bold_renders():
    # CommonMark does not close ** after full-width punctuation that is followed by a character
    # ("**通用倒瓶颈（UIB）**是" shows the asterisks): end bold on a character instead
    import re

    for path in sorted(LESSON_TEXTS.glob("*/zh.md")):
        for line in path.read_text(encoding="utf-8").splitlines():
            closing = [m.start() for m in re.finditer(r"\*\*", line)][1::2]  # every second ** closes
            for at in closing:
                after = line[at + 2 : at + 3]
                bad = line[at - 1] in "（）。，：；！？“”" and re.match(r"[\u4e00-\u9fff]", after)
                assert not bad, f"{path.parent.name}: {line[max(at - 12, 0) : at + 4]}"


def test_the_block_tables_csv_is_in_the_pages_language_outside_the_session():
    """Overview's CSV download builds the block table when clicked, in a worker thread outside
    the student's session: its columns are still in the language the page asked for."""
    import threading

    from app.common import block_table
    from app.i18n import STRINGS

    block_table.clear()
    got = {}
    worker = threading.Thread(target=lambda: got.update(frame=block_table("v2", 1.0, 224, "zh")))
    worker.start()
    worker.join()
    assert got["frame"].columns[0] == STRINGS["zh"]["col_block"] != STRINGS["en"]["col_block"]

"""mc.diff: two configurations aligned by output stride. The rows partition both networks, so the
per-row differences add up to the totals' difference (params and MACs exactly, latency to float
precision), for every pair of models; a configuration against itself has no difference; every
block sits in the row of its output size, checked against the counter's own block rows; the CLI's
--json says the same; the Diff view works in both languages."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import mobilenet_core as mc
from mobilenet_core.api import count_generation
from mobilenet_core.diff import WORDS, diff_graph, export_svg, stack_pngs, table_dot, waterfall_dot

ROOT = Path(__file__).resolve().parent.parent
MAIN = str(ROOT / "app" / "main.py")
MODELS = mc.list_models()
PAIRS = list(itertools.permutations(MODELS, 2))
# alpha and resolution pairs: of one model, and across models
SCALED = [
    (("v2", 1.0, 224), ("v2", 0.75, 224)),
    (("v2", 1.0, 224), ("v2", 1.0, 160)),
    (("v3_large", 1.0, 224), ("v3_large", 0.75, 192)),
    (("v3_small", 0.35, 96), ("v3_small", 1.4, 320)),
    (("v4_conv_medium", 1.0, 256), ("v4_conv_large", 0.75, 288)),
    (("v4_hybrid_medium", 0.5, 224), ("v5_base", 1.25, 160)),
    (("v1", 0.25, 128), ("v5_300m", 1.0, 256)),
]


def check_sums(d) -> None:
    """Every block of each network in exactly one row; the rows' sums are the totals."""
    for side in ("a", "b"):
        report = getattr(d, side).report
        names = [b.name for r in d.rows for b in getattr(r, side).blocks]
        assert sorted(names) == sorted(b.name for b in report.blocks)
        assert len(names) == len(set(names))
        assert sum(getattr(r, side).params for r in d.rows) == report.params
        assert sum(getattr(r, side).macs for r in d.rows) == report.macs
        assert math.isclose(sum(getattr(r, side).ms for r in d.rows), getattr(d, side).ms, rel_tol=1e-9)
    assert sum(r.d_params for r in d.rows) == d.d_params == d.b.report.params - d.a.report.params
    assert sum(r.d_macs for r in d.rows) == d.d_macs == d.b.report.macs - d.a.report.macs
    assert math.isclose(sum(r.d_ms for r in d.rows), d.d_ms, rel_tol=1e-9, abs_tol=1e-12 * d.a.ms)
    for measure in ("params", "macs"):
        shares = [d.share(r, measure) for r in d.rows]
        if getattr(d, f"d_{measure}"):
            assert math.isclose(sum(shares), 1.0, rel_tol=1e-9)


@pytest.mark.parametrize("a, b", PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_rows_partition_both_networks_for_every_pair(a, b):
    check_sums(mc.diff(a, b))


@pytest.mark.parametrize("a, b", SCALED, ids=[f"{a}-{b}" for a, b in SCALED])
def test_rows_partition_at_other_alphas_and_resolutions(a, b):
    check_sums(mc.diff(a, b, device="s23_cpu"))


def expected_size(resolution: int, stride: int) -> int:
    """A stride-s map of a padded (k-1)/2 conv stack: ceil(resolution / s)."""
    return -(-resolution // stride)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("resolution", [None, 96, 160])
def test_rows_hold_the_blocks_of_their_output_size(model, resolution):
    """Against the counter's block rows: a stride row holds exactly the blocks whose output map is
    resolution / stride; the stem row the stem; the fusion row V5's MSFA; the head row the head."""
    report = mc.count(model, 1.0, resolution)
    d = mc.diff(report, report)
    for row in d.rows:
        blocks = row.a.blocks
        assert blocks
        if row.kind == "head":
            assert [b.kind for b in blocks] == ["head"]
        elif row.kind == "fusion":
            assert [b.kind for b in blocks] == ["msfa"]
        elif row.kind == "stem":
            assert [b.name for b in blocks] == ["stem"]
        else:
            size = expected_size(report.resolution, row.stride)
            assert all((b.out_height, b.out_width) == (size, size) for b in blocks), row.key
    # and every block of that size is in that row (the stem aside, which has its own)
    for b in report.blocks:
        if b.kind in ("head", "msfa") or b.name == "stem":
            continue
        (row,) = [r for r in d.rows if b in r.a.blocks]
        assert row.kind == "stride" and expected_size(report.resolution, row.stride) == b.out_height
    strides = [r.stride for r in d.rows if r.kind == "stride"]
    assert strides == sorted(strides) and len(set(strides)) == len(strides)
    if mc.get_generation(model).family == "V5":
        assert [r.kind for r in d.rows][-2:] == ["fusion", "head"]


@pytest.mark.parametrize("a, b", PAIRS[:: max(1, len(PAIRS) // 20)])
def test_both_sides_of_a_row_have_the_same_stride(a, b):
    d = mc.diff(a, b)
    for row in d.rows:
        if row.kind != "stride":
            continue
        for side in (d.a, d.b):
            part = row.a if side is d.a else row.b
            size = expected_size(side.report.resolution, row.stride)
            assert all(x.out_height == size for x in part.blocks)


@pytest.mark.parametrize("model", MODELS)
def test_a_configuration_against_itself_has_no_difference(model):
    d = mc.diff(model, (model, 1.0, None))
    assert d.d_params == d.d_macs == 0 and d.d_ms == 0.0
    assert all(r.d_params == r.d_macs == 0 and r.d_ms == 0.0 for r in d.rows)
    assert not d.changed_rows
    assert all(d.share(r, "macs") is None for r in d.rows)
    assert all(marks == {} for r in d.rows for marks in r.marks())


def test_alpha_alone_changes_no_design():
    """Widths are not a design change: V2 and V3-Large at another alpha have no changed row."""
    for model in ("v2", "v3_large", "v4_hybrid_medium", "v5_base"):
        d = mc.diff((model, 1.0), (model, 0.75, 160))
        assert not d.changed_rows, [(r.key, [c.words() for c in r.changes]) for r in d.changed_rows]
        assert d.d_macs < 0


def test_v2_to_v3_large_says_what_changed():
    d = mc.diff("v2", "v3_large")
    words = {r.key: [c.words() for c in r.changes] for r in d.rows}
    assert words["stem"] == ["ReLU6 → h-swish"]
    assert "kernel 3 → 5" in words["1/8"] and "SE added" in words["1/8"]
    assert "new block type Conv" in words["1/32"]  # the 1x1 conv to 960
    assert "blocks 7 → 6" in words["1/16"]
    kinds = {c.kind for r in d.rows for c in r.changes}
    assert {"activation", "kernel", "se_added", "type_added", "depth", "expansion"} <= kinds


def test_hybrid_adds_attention_and_v5_adds_the_fusion_row():
    d = mc.diff("v4_conv_medium", "v4_hybrid_medium")
    assert any(c.kind == "attention_added" for r in d.rows for c in r.changes)
    assert [c.kind for r in mc.diff("v4_hybrid_medium", "v4_conv_medium").rows for c in r.changes].count(
        "attention_removed"
    )
    d = mc.diff("v4_conv_large", "v5_base")
    fusion = next(r for r in d.rows if r.kind == "fusion")
    assert not fusion.a.blocks and [b.kind for b in fusion.b.blocks] == ["msfa"]
    assert fusion.d_params == fusion.b.params > 0
    assert [c.kind for c in fusion.changes] == ["type_added"]


def test_a_lab_edit_against_its_base():
    """A design-lab edit (a CountReport of an edited generation) diffs against its base: only
    the edited row changes, and it says how."""
    from dataclasses import replace

    base = mc.get_generation("v2")
    stages = list(base.stages)
    stages[2] = tuple(replace(spec, kernel=5) for spec in stages[2])  # the 1/8 stage: 3x3 -> 5x5
    edited = replace(base, name="custom", title="MobileNetV2 (edited)", stages=tuple(stages))
    d = mc.diff("v2", count_generation(edited), labels=("V2", "my edit"))
    assert [r.key for r in d.changed_rows] == ["1/8"]
    assert [c.words() for c in d.changed_rows[0].changes] == ["kernel 3 → 5"]
    assert d.d_macs == d.changed_rows[0].d_macs > 0
    assert d.b.label == "my edit"
    check_sums(d)


def test_notebook_table_and_pictures():
    d = mc.diff("v2", "v3_large", device="pixel8_edgetpu")
    html = d._repr_html_()
    assert html.startswith("<table>") and "1/16" in html and f"{d.d_macs:+,}" in html
    assert html.count("<tr") == len(d.rows) + 2  # the header, the rows, the totals
    for dot in (diff_graph(d), table_dot(d), waterfall_dot(d)):
        assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    svg = export_svg(d)
    assert svg.count("<svg") == 4 and "SE added" in svg
    assert mc.diff("v2", "v2", device=None).to_dict()["d_ms"] is None


def test_stacked_png_is_white_where_graphviz_is_transparent():
    import io

    from PIL import Image

    clear = io.BytesIO()
    Image.new("RGBA", (4, 3), (0, 0, 0, 0)).save(clear, format="PNG")
    page = Image.open(io.BytesIO(stack_pngs([clear.getvalue(), clear.getvalue()], gap=2)))
    assert page.size == (4, 8) and page.convert("RGB").getpixel((1, 1)) == (255, 255, 255)


def test_bad_configuration_is_a_config_error():
    with pytest.raises(mc.ConfigError):
        mc.diff(42, "v2")
    with pytest.raises(mc.ConfigError):
        mc.diff("v2", "v9")


def test_cli_json():
    out = subprocess.run(
        [sys.executable, "-m", "mobilenet_core", "diff", "v2", "v3_large", "--alpha-b", "0.75",
         "--res-b", "192",
         "--device", "pixel4_dsp", "--json"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    data = json.loads(out.stdout)
    d = mc.diff("v2", ("v3_large", 0.75, 192), device="pixel4_dsp")
    assert data["d_params"] == d.d_params and data["d_macs"] == d.d_macs
    assert math.isclose(data["d_ms"], d.d_ms, rel_tol=1e-12)
    assert data["b"] == {**data["b"], "model": "v3_large", "alpha": 0.75, "resolution": 192}
    assert [r["row"] for r in data["rows"]] == [r.key for r in d.rows]
    assert sum(r["d_macs"] for r in data["rows"]) == data["d_macs"]
    assert any(c["kind"] == "se_added" for r in data["rows"] for c in r["changes"])


def test_cli_text_and_errors():
    out = subprocess.run([sys.executable, "-m", "mobilenet_core", "diff", "v4_conv_large", "v5_base"],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout  # fmt: skip
    assert "fusion" in out and "new block type MSFA" in out and "total" in out
    bad = subprocess.run([sys.executable, "-m", "mobilenet_core", "diff", "v2", "v3_large", "--device", "x"],
                         capture_output=True, text=True, cwd=ROOT)  # fmt: skip
    assert bad.returncode == 2 and "unknown device" in bad.stderr


def test_english_words_are_the_library_words():
    english = tomllib.loads((ROOT / "app" / "locales" / "en.toml").read_text(encoding="utf-8"))["ui"]
    assert {k.removeprefix("diffword_"): v for k, v in english.items() if k.startswith("diffword_")} == WORDS


# --- the view ------------------------------------------------------------------------------------


def run_diff(**query) -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = str(value)
    at.run()
    at.switch_page("views/diff.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_view_shows_the_library_numbers_in_both_languages(lang):
    at = run_diff(lang=lang, a="v2", b="v3_large")
    d = mc.diff("v2", "v3_large")
    words = tomllib.loads((ROOT / "app" / "locales" / f"{lang}.toml").read_text(encoding="utf-8"))["ui"]
    assert metric(at, words["params"]) == f"{d.b.report.params:,}"
    assert metric(at, words["macs"]) == f"{d.b.report.macs:,}"
    table = at.table[0].value
    assert list(table[words["diff_col_row"]])[1:-1] == [r.key for r in d.rows][1:-1]
    assert list(table[words["diff_col_row"]])[0] == words["diffword_stem"]
    deltas = [int(x.split(" ")[0].replace(",", "")) for x in table[words["diff_col_d_macs"]]]
    assert deltas == [r.d_macs for r in d.rows] and sum(deltas) == d.d_macs
    changed = " ".join(table[words["diff_col_changed"]])
    assert words["diffword_se_added"] in changed
    assert at.query_params["a"] == "v2" and at.query_params["b"] == "v3_large"


def test_view_one_click_pair_swap_and_link():
    at = run_diff(a="v2", b="v3_large")
    at.button(key="diff_pair_v4_conv_large_v5_base").click().run()
    assert at.selectbox(key="diff_model_a").value == "v4_conv_large"
    assert at.number_input(key="diff_res_a").value == 384
    assert at.number_input(key="diff_res_b").value == 256
    assert at.query_params["b"] == "v5_base" and at.query_params["res_a"] == "384"
    assert metric(at, "MACs") == f"{mc.count('v5_base').macs:,}"
    at.button(key="diff_swap").click().run()
    assert at.selectbox(key="diff_model_a").value == "v5_base"
    assert metric(at, "MACs") == f"{mc.count('v4_conv_large').macs:,}"
    # alpha and resolution from a link
    at = run_diff(a="v3_large", alpha_a="0.75", res_a="192", b="v3_large", device="pixel8_edgetpu")
    d = mc.diff(("v3_large", 0.75, 192), "v3_large", device="pixel8_edgetpu")
    assert metric(at, "MACs") == f"{d.b.report.macs:,}"
    assert at.table[0].value["Δ MACs (share)"].tolist()[-2].startswith(f"{d.rows[-2].d_macs:+,}")


def test_view_invalid_link_falls_back_with_a_notice():
    at = run_diff(a="v9", alpha_b="7")
    assert any("a='v9'" in w.value for w in at.warning)
    assert any("alpha_b='7'" in w.value for w in at.warning)


def test_view_lab_edit_against_its_base():
    at = AppTest.from_file(MAIN, default_timeout=120)
    at.run()
    at.switch_page("views/lab.py").run()
    rows = [dict(r) for r in at.session_state["lab_valid"]]
    rows[2]["kernel"] = 5  # V2's 1/8 stage: kernel 3 -> 5
    at.session_state["lab_valid"] = rows
    at.switch_page("views/diff.py").run()
    assert not at.exception, [e.value for e in at.exception]
    pair = at.button(key="diff_pair_lab")
    assert not pair.disabled
    pair.click().run()
    assert at.selectbox(key="diff_model_b").value == "lab"
    table = at.table[0].value
    changed = [c for c in table["what changed"] if c]
    assert changed == ["kernel 3 → 5"], changed

"""Lecture-ready, second pass (issue 23): the lessons' library and pages through AppTest, where no
browser is needed (the browser side is tests/test_browser_lecture.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_lessons_app import PAGE_FILES, clean, run

import mobilenet_core as mc
from app.lessons.common import first_paragraphs, lesson_text
from app.present import VIEW_PATHS, page_file
from drawn import drawn_charts
from mobilenet_core import lessons as L

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("path", L.LESSON_PATHS[1:])
def test_a_lesson_opens_on_a_whole_thought(path, lang):
    """The first paragraph shown never ends with a colon: what it announces comes with it."""
    shown, rest = first_paragraphs(lesson_text(path, lang)[1])
    assert shown and not shown.rstrip().endswith((":", "：")), shown
    assert "\n\n".join(p for p in (shown, rest) if p) == lesson_text(path, lang)[1]


def test_try_this_is_a_section_under_the_title():
    """The lesson's title is the page's h1; "Try this" is a section (h2, drawn smaller than the
    title: test_browser_lecture), so a screen reader's outline skips no level."""
    for lang in ("en", "zh"):
        for path in L.LESSON_PATHS:
            after = lesson_text(path, lang)[2]
            headings = [line for line in after.splitlines() if line.startswith("#")]
            assert headings and all(h.startswith("## ") for h in headings), (path, lang, headings)


def test_every_view_path_has_a_page_file():
    for path in VIEW_PATHS:
        assert (ROOT / "app" / page_file(path)).exists(), path


def test_the_spiral_read_out_linearly_never_gets_worse_with_more_dimensions():
    for seed in range(16):
        errors = {n: L.spiral_relu(n, seed, readout="linear").error for n in (2, 5, 15, 30)}
        assert errors[30] <= errors[15] + 1e-9 and errors[15] < 0.01, (seed, errors)
        assert errors[2] > 0.3, (seed, errors)
    # the paper's read-out is still there, and a wrong name says what it accepts
    x = L.spiral(50)
    t = np.random.default_rng(3).standard_normal((5, 2))
    np.testing.assert_allclose(L.spiral_relu(5, 3, 50).recovered, np.linalg.pinv(t) @ np.maximum(t @ x, 0))
    with pytest.raises(mc.ConfigError, match="readout"):
        L.spiral_relu(5, readout="inverse")


def test_handoffs_are_what_differs_between_the_designs():
    report = mc.count("v2")
    hands = L.handoffs(report)
    assert all(h.narrow < h.wide for h in hands)
    assert L.between_blocks(report) == (max(h.narrow for h in hands), max(h.wide for h in hands))
    block = next(b for b in report.blocks if b.name == "blocks.1.1")
    steps = L.residual_memory(block)
    # the peaks tie: two wide tensors and a narrow one, in the opposite order
    assert L.peak_step(steps["inverted"]).values == L.peak_step(steps["bottleneck"]).values


def test_slowdown_depends_on_the_ridge_point_only_and_the_edgetpu_is_fastest():
    report = mc.count("v2")
    for ridge in (0.0, 31.2, 433.8):
        a = L.slowdown(mc.latency.estimate_latency(report, L.ridge_device(ridge, 1e12)))
        b = L.slowdown(mc.latency.estimate_latency(report, L.ridge_device(ridge, 7e12)))
        assert a == pytest.approx(b) and a >= 1.0
    for model in ("v2", "v4_conv_small", "v4_conv_medium"):
        fastest = L.paper_device_estimates(mc.count(model))[0]
        assert fastest.device.name == "pixel8_edgetpu", model
    here = L.ridge_sweep(report, [31.2])[0]
    total = sum(L.work(x, 31.2) for x in here.layers)
    assert total / L.ILLUSTRATIVE_PEAK * 1e3 == pytest.approx(here.ms)  # MAC-equivalents / P = time


def _charts(at) -> list[dict]:
    return [json.loads(c.spec) for c in drawn_charts(at)]


def test_roofline_lesson_formula_has_no_wrong_unit_and_chinese_names_its_sum():
    at = run(PAGE_FILES["lesson-roofline"], model="v2", lang="en")
    clean(at, "roofline en")
    tex = " ".join(x.value for x in at.latex)
    assert "10^{12}" not in tex and r"\text{ms}" not in tex and r"\text{layers}" in tex
    # the paper's devices on the ridge chart say what their number is
    lines = [d["name"] for c in _charts(at) for d in c["data"] if d.get("line", {}).get("dash") == "dash"]
    assert len(lines) == len(L.PAPER_DEVICE_RIDGES), lines
    for title, ridge in L.PAPER_DEVICE_RIDGES.items():
        assert any(f"{title} · ridge point {ridge:g} MACs/byte" in name for name in lines), (title, lines)
    at = run(PAGE_FILES["lesson-roofline"], model="v2", lang="zh")
    clean(at, "roofline zh")
    tex = " ".join(x.value for x in at.latex)
    assert "layers" not in tex and r"\text{各层}" in tex
    captions = " ".join(c.value for c in at.caption)
    assert "「屋顶线模型」" in captions and "「屋顶线」" not in captions


def test_story_table_shows_no_none_and_v5_is_in_the_text():
    for lang in ("en", "zh"):
        at = run(PAGE_FILES["lessons"], lang=lang)
        clean(at, f"story {lang}")
        frame = at.dataframe[0].value
        assert not frame.isna().any().any()
        assert "None" not in frame.astype(str).to_numpy().ravel().tolist()
        assert "V5" in " ".join(m.value for m in at.markdown)


def test_activations_on_a_model_without_se_says_so():
    at = run(PAGE_FILES["lesson-activations"], model="v2")
    clean(at, "activations v2")
    captions = " ".join(c.value for c in at.caption)
    assert "The 0 SE units" not in captions and "no SE unit" in captions


def test_attention_titles_sit_over_their_maps_and_weights_start_at_zero():
    at = run(PAGE_FILES["lesson-attention"], model="v4_hybrid_large")
    clean(at, "attention v4_hybrid_large")
    spec = _charts(at)[0]
    layout = spec["layout"]
    heatmaps = [d for d in spec["data"] if d["type"] == "heatmap"]
    assert len(heatmaps) == 8
    for i, d in enumerate(heatmaps):
        axis = layout["xaxis" + d.get("xaxis", "x")[1:]]
        title = next(a for a in layout["annotations"] if a["text"] == f"head {i}")
        assert title["x"] == pytest.approx(sum(axis["domain"]) / 2), i
    assert layout["coloraxis"]["cmin"] == 0


def test_multipliers_draws_rho_and_labels_no_points():
    at = run(PAGE_FILES["lesson-multipliers"], model="v1")
    clean(at, "multipliers v1")
    first, accuracy = _charts(at)[:2]
    assert "ρ" in first["layout"]["xaxis2"]["title"]["text"]
    assert all("text" not in d.get("mode", "") for d in accuracy["data"])
    assert len([d for d in accuracy["data"] if d.get("name", "").endswith(" px")]) >= 3


def test_multipliers_keeps_its_knobs_on_a_projector():
    """Presentation mode hides the sidebar; the multipliers lesson asks the class to move α and to
    pick V2: its own model, α and resolution move the selection (the sidebar's, and the link)."""
    at = run(PAGE_FILES["lesson-multipliers"], model="v1", present="1")
    clean(at, "multipliers present")
    assert at.slider(key="page_alpha").value == 1.0 and at.slider(key="page_resolution").value == 224
    first_macs = _charts(at)[0]["data"][2]["y"][0]  # the current selection's diamond
    at.slider(key="page_alpha").set_value(0.5).run()
    clean(at, "multipliers alpha")
    assert at.session_state["alpha"] == 0.5 and at.slider(key="alpha").value == 0.5
    assert _charts(at)[0]["data"][2]["y"][0] == mc.count("v1", 0.5, 224).macs / 1e6 < first_macs
    at.slider(key="page_resolution").set_value(160).run()
    assert at.slider(key="resolution").value == 160 and at.query_params["resolution"] == "160"
    at.selectbox(key="page_model").set_value("v2").run()
    clean(at, "multipliers v2")
    assert at.selectbox(key="model").value == "v2" and at.query_params["model"] == "v2"
    # the knobs follow the sidebar too: they show the selection, whichever place moved it
    at.slider(key="alpha").set_value(0.75).run()
    assert at.slider(key="page_alpha").value == 0.75 and at.selectbox(key="page_model").value == "v2"


def test_inverted_residual_metrics_lead_with_the_difference():
    at = run(PAGE_FILES["lesson-inverted-residual"], model="v2")
    clean(at, "inverted residual")
    labels = [m.label for m in at.metric]
    assert labels[0].startswith("between blocks") and labels[1].startswith("between blocks")
    assert at.metric[0].value != at.metric[1].value
    assert any("Why the peaks" in c.value for c in at.caption)


def test_presentation_marks_lessons_and_not_views():
    at = run(PAGE_FILES["lesson-se"], model="v3_large", present="1")
    clean(at, "se present")
    assert any('<span class="present-lesson">' in m.value for m in at.markdown)
    at = run(model="v3_large", present="1")
    assert not any('<span class="present-lesson">' in m.value for m in at.markdown)


def test_classify_has_one_control_for_the_untrained_network():
    at = run("views/classify.py", model="v3_small", alpha="0.6")
    clean(at, "classify")
    assert [b.key for b in at.button if "untrained" in (b.key or "")] == []
    at.toggle(key="use_untrained").set_value(True).run()
    assert any("UNTRAINED" in e.value for e in at.error)

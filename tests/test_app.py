"""Every page through streamlit.testing's AppTest: renders for all nine models, shows the
counter's numbers, reads the selection from the URL, switches language."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import mobilenet_core as mc
from drawn import drawn_charts

MAIN = str(Path(__file__).resolve().parent.parent / "app" / "main.py")
PAGES = [
    "views/graph.py",
    "views/charts.py",
    "views/anatomy.py",
    "views/compare.py",
    "views/diff.py",
    "views/lab.py",
    "views/tradeoffs.py",
    "views/roofline.py",
    "views/classify.py",
]


def run_app(**query) -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = str(value)
    at.run()
    return at


def assert_clean(at: AppTest, where: str) -> None:
    assert not at.exception, f"{where}: {[e.value for e in at.exception]}"
    assert not at.error, f"{where}: {[e.value for e in at.error]}"


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


CONFIGS = [
    (model, alpha, resolution)
    for model in mc.list_models()
    for alpha in (0.35, 1.0, 1.4)
    for resolution in (mc.get_generation(model).base_resolution, 160)
]


@pytest.mark.parametrize("model, alpha, resolution", CONFIGS)
def test_every_page_renders_and_shows_the_counter_numbers(model, alpha, resolution):
    at = run_app(model=model, alpha=alpha, resolution=resolution)
    where = f"{model} {alpha} {resolution} overview"
    assert_clean(at, where)
    report = mc.count(model, alpha, resolution)
    assert metric(at, "Parameters") == f"{report.params:,}"
    assert metric(at, "MACs") == f"{report.macs:,}"
    assert metric(at, "FLOPs (= 2 × MACs)") == f"{2 * report.macs:,}"
    table = at.dataframe[0].value
    assert list(table["block"]) == [b.name for b in report.blocks]
    assert list(table["params"]) == [b.params for b in report.blocks]
    assert list(table["MACs"]) == [b.macs for b in report.blocks]
    for page in PAGES:
        at.switch_page(page).run()
        assert_clean(at, f"{model} {alpha} {resolution} {page}")


def test_query_parameters_set_the_selection():
    at = run_app(model="v3_small", alpha="0.75", resolution="192")
    assert at.selectbox(key="model").value == "v3_small"
    assert at.slider(key="alpha").value == pytest.approx(0.75)
    assert at.slider(key="resolution").value == 192
    assert at.session_state["selection"] == type(at.session_state["selection"])("v3_small", 0.75, 192)
    assert metric(at, "Parameters") == "2,041,872"


def test_widgets_drive_the_selection_and_the_numbers():
    at = run_app()
    assert metric(at, "MACs") == f"{mc.count('v2').macs:,}"
    at.selectbox(key="model").set_value("v4_conv_medium").run()
    assert at.slider(key="resolution").value == 256  # an untouched resolution follows the new base
    at.slider(key="alpha").set_value(0.5).run()
    assert metric(at, "MACs") == f"{mc.count('v4_conv_medium', 0.5, 256).macs:,}"
    at.slider(key="resolution").set_value(512).run()
    at.selectbox(key="model").set_value("v2").run()  # 512 is over V2's 448: clamped
    assert at.slider(key="resolution").value == 448
    assert_clean(at, "after switching")


def test_paper_alpha_buttons_set_alpha():
    at = run_app(model="v2")
    at.pills(key="alpha_pick").set_value(1.4).run()
    assert at.slider(key="alpha").value == pytest.approx(1.4)
    assert metric(at, "Parameters") == f"{mc.count('v2', 1.4).params:,}"
    assert "Top-1 75.0%" in at.success[0].value


@pytest.mark.parametrize(
    "query, name",
    [
        ({"model": "resnet"}, "model"),
        ({"alpha": "9"}, "alpha"),
        ({"alpha": "abc"}, "alpha"),
        ({"resolution": "5000"}, "resolution"),
        ({"model": "v1", "resolution": "12"}, "resolution"),
    ],
)
def test_invalid_query_values_fall_back_with_a_notice(query, name):
    at = run_app(**query)
    assert_clean(at, str(query))
    assert any(f"{name}=" in w.value for w in at.sidebar.warning), [w.value for w in at.sidebar.warning]
    selection = at.session_state["selection"]
    assert 0.25 <= selection.alpha <= 2.0 and selection.model in mc.list_models()


def test_language_switch_changes_the_text():
    at = run_app(model="v2")
    assert at.title[0].value == "MobileNet Explorer"
    at.radio(key="lang").set_value("zh").run()
    assert_clean(at, "zh")
    assert at.title[0].value == "MobileNet 探索器"
    assert any(m.label == "参数量" for m in at.metric)
    for page in PAGES:
        at.switch_page(page).run()
        assert_clean(at, f"zh {page}")
    at.switch_page("views/anatomy.py").run()
    assert any("此模块" in md.value for md in at.markdown)


def navigation(at: AppTest) -> dict:
    """What the sidebar's navigation draws (app/navigation.py), as its component receives it."""
    import json

    (nav,) = [c for c in at.get("bidi_component") if c.proto.component_name.endswith("mobilenet_navigation")]
    return json.loads(nav.proto.json)


def test_the_navigation_lists_every_page_in_the_language_and_marks_the_one_shown():
    from app.i18n import STRINGS
    from mobilenet_core.lessons import LESSON_PATHS

    at = run_app(model="v2", lang="zh")
    nav = navigation(at)
    views, lessons = nav["sections"]
    assert nav["label"] == STRINGS["zh"]["nav_label"] and nav["current"] == ""
    assert views["heading"] == "" and lessons["heading"] == STRINGS["zh"]["nav_lessons"]
    assert [p["path"] for p in views["pages"]] == ["", "graph", "charts", "anatomy", "compare", "diff", "lab",
                                                     "roofline", "tradeoffs", "classify"]  # fmt: skip
    assert views["pages"][2]["title"] == STRINGS["zh"]["page_charts"]
    assert [p["path"] for p in lessons["pages"]] == list(LESSON_PATHS)
    assert all(p["title"] and p["icon"] and ":" not in p["icon"] for s in nav["sections"] for p in s["pages"])
    at.switch_page("views/compare.py").run()
    assert navigation(at)["current"] == "compare"
    at.radio(key="lang").set_value("en").run()
    assert navigation(at)["sections"][0]["pages"][2]["title"] == STRINGS["en"]["page_charts"]


def viewers(at: AppTest) -> list:
    """The graph viewers on the page (other components, such as the page's language, are not)."""
    return [c for c in at.get("bidi_component") if c.key == "graph_viewer"]


def test_graph_page_levels():
    at = run_app(model="v4_hybrid_large")
    at.switch_page("views/graph.py").run()
    assert len(viewers(at)) == 1  # the server-rendered SVG in the pan / zoom viewer
    at.radio(key="graph_level").set_value("one").run()
    at.selectbox(key="graph_block").set_value("blocks.2.7").run()
    assert_clean(at, "one block")
    at.radio(key="graph_level").set_value("layers").run()
    assert_clean(at, "layers")
    assert len(viewers(at)) == 1


def test_graph_block_details_and_open_in_anatomy():
    at = run_app(model="v3_large", alpha="0.75")
    at.switch_page("views/graph.py").run()
    at.selectbox(key="graph_details_block").set_value("blocks.3.1").run()
    block = next(b for b in mc.count("v3_large", 0.75).blocks if b.name == "blocks.3.1")
    text = " ".join(m.value for m in at.markdown)
    assert f"{block.params:,} params" in text and f"{block.macs:,} MACs" in text
    at.button(key="graph_to_anatomy").click().run()
    at.switch_page("views/anatomy.py").run()  # AppTest does not follow a script's switch_page
    assert at.selectbox(key="anatomy_block").value == "blocks.3.1"
    assert_clean(at, "anatomy from graph")


def test_anatomy_formulas_use_the_block_numbers():
    at = run_app(model="v1")
    at.switch_page("views/anatomy.py").run()
    block = next(b for b in mc.count("v1").blocks if b.name == at.selectbox(key="anatomy_block").value)
    latex = " ".join(x.value for x in at.latex)
    assert f"{block.macs:,}" in latex  # the separable cost equals the counter's block MACs
    assert f"{block.in_channels}" in latex


def test_compare_page_rejects_an_absurd_configuration():
    at = run_app()
    at.switch_page("views/compare.py").run()
    at.number_input(key="cmp_res_1").set_value(768).run()  # V2 stops at 448
    assert any("resolution must be between 32 and 448" in e.value for e in at.error)
    assert not at.exception


DATA = Path(__file__).parent / "data"


def test_classify_shows_top5_for_an_upload_with_untrained_weights():
    at = run_app(model="v3_small", alpha="0.6")
    at.switch_page("views/classify.py").run()
    assert_clean(at, "classify")
    assert any("No published checkpoint for MobileNetV3-Small at α 0.6" in w.value for w in at.warning)
    at.toggle(key="use_untrained").set_value(True).run()
    at.file_uploader(key="images").set_value(
        [
            ("cat.png", (DATA / "chelsea_cat.png").read_bytes(), "image/png"),
            ("broken.png", b"not an image at all", "image/png"),
        ]
    ).run()
    assert not at.exception
    assert any("UNTRAINED" in e.value for e in at.error)
    assert any("broken.png is not an image we can read" in e.value for e in at.error)
    charts = drawn_charts(at)
    assert len(charts) == 1  # one top-5 chart, for the cat
    assert "Top-5" in charts[0].spec


def test_classify_takes_a_photo_before_a_network_is_chosen_and_classifies_it_once_one_is():
    at = run_app(model="v3_small", alpha="0.6")
    at.switch_page("views/classify.py").run()
    # offline, nothing chosen yet: the drop zone is there all the same
    photo = ("cat.png", (DATA / "chelsea_cat.png").read_bytes(), "image/png")
    at.file_uploader(key="images").set_value([photo]).run()
    assert_clean(at, "classify, photo before a network")
    assert any("Photos waiting: 1" in i.value for i in at.info)
    assert not drawn_charts(at)
    at.toggle(key="use_untrained").set_value(True).run()  # the photo is not dropped again
    charts = drawn_charts(at)
    assert len(charts) == 1 and "Top-5" in charts[0].spec
    assert not any("Photos waiting" in i.value for i in at.info)


def test_classify_switches_to_the_nearest_published_configuration():
    at = run_app(model="v2", alpha="0.6", resolution="192")
    at.switch_page("views/classify.py").run()
    at.button(key="switch").click().run()
    selection = at.session_state["selection"]
    assert (selection.model, selection.alpha, selection.resolution) == ("v2", 0.5, 224)


def test_classify_refuses_a_checkpoint_that_does_not_fit(tmp_path):
    import torch

    path = tmp_path / "wrong.pth"
    torch.save({"conv_stem.weight": torch.zeros(8, 3, 3, 3)}, path)
    at = run_app(model="v2")
    at.switch_page("views/classify.py").run()
    at.file_uploader(key="checkpoint_upload").set_value(
        ("wrong.pth", path.read_bytes(), "application/octet-stream")
    )
    at.run()
    assert not at.exception
    assert any("Checkpoint refused" in e.value and "MobileNetV2" in e.value for e in at.error)


V4_PAPER = {"v4_conv_small": 73.8, "v4_conv_medium": 79.9, "v4_hybrid_medium": 80.7, "v4_conv_large": 82.9,
            "v4_hybrid_large": 83.4}  # arXiv:2404.10518, Table 6  # fmt: skip


@pytest.mark.parametrize("model", list(V4_PAPER))
def test_v4_overview_shows_the_papers_and_the_checkpoints_top1_with_sources(model):
    from mobilenet_core.registry import weights_for

    base = mc.get_generation(model).base_resolution
    at = run_app(model=model, alpha="1.0", resolution=str(base))
    assert_clean(at, model)
    texts = [s.value for s in at.success]
    assert any(f"Top-1 {V4_PAPER[model]}%" in s and "arXiv:2404.10518 Table 6" in s for s in texts), texts
    entry = weights_for(model, 1.0, base)[0]
    assert any(f"Checkpoint top-1 {entry.top1}%" in s and "model card" in s for s in texts), texts
    assert not any("No published figure" in i.value for i in at.info)


def test_compare_scatter_includes_v4():
    import json

    at = run_app(model="v4_conv_small")
    at.switch_page("views/compare.py").run()
    charts = [c.spec for c in drawn_charts(at)]
    scatter = next(spec for spec in charts if "MobileNetV4-Conv-S" in spec and "MACs (M)" in spec)
    names = [trace.get("name") for trace in json.loads(scatter)["data"]]
    assert {"MobileNetV4-Conv-S", "MobileNetV4-Hybrid-L"} <= set(names)
    table = at.table[0].value  # a row per figure, a column per configuration
    assert table.loc["ImageNet top-1 (%)"].iloc[0] == "73.8"  # Compare's top-1 is no longer "—" for V4


@pytest.mark.parametrize(("value", "title"), [("zh", "MobileNet 探索器"), ("en", "MobileNet Explorer"),
                                              ("中文", "MobileNet 探索器")])  # fmt: skip
def test_language_from_the_link_by_code_or_label(value, title):
    at = run_app(model="v2", lang=value)
    assert_clean(at, value)
    assert at.title[0].value == title
    assert at.query_params["lang"] == ("zh" if title.endswith("探索器") else "en")
    assert not at.sidebar.warning


def test_a_snapped_resolution_is_what_the_link_says():
    at = run_app(model="v2", resolution="100")
    assert at.session_state["selection"].resolution == 96
    assert at.query_params["resolution"] == "96"


def test_graph_detail_and_blocks_survive_a_language_switch_and_a_reload():
    at = run_app(model="v3_large")
    at.switch_page("views/graph.py").run()
    at.radio(key="graph_level").set_value("layers").run()
    at.radio(key="lang").set_value("zh").run()
    assert at.radio(key="graph_level").value == "layers"  # today it went back to "blocks"
    assert at.query_params["detail"] == "layers"
    reload = AppTest.from_file(MAIN, default_timeout=120)  # a reload: a new session, same link
    reload.query_params.update({"model": "v3_large", "detail": "one", "block": "blocks.3.1", "lang": "zh"})
    reload.run()
    reload.switch_page("views/graph.py").run()
    assert reload.radio(key="graph_level").value == "one"
    assert reload.selectbox(key="graph_block").value == "blocks.3.1"
    anatomy = AppTest.from_file(MAIN, default_timeout=120)
    anatomy.query_params.update({"model": "v3_large", "block": "blocks.5.2"})
    anatomy.run()
    anatomy.switch_page("views/anatomy.py").run()
    assert anatomy.selectbox(key="anatomy_block").value == "blocks.5.2"
    assert anatomy.query_params["block"] == "blocks.5.2"


def test_presentation_mode_from_the_link_and_the_switch():
    at = run_app(model="v2", present="1")
    assert_clean(at, "present")
    assert at.toggle(key="present_switch").value is True
    assert any("Esc" in m.value for m in at.markdown)  # the hint
    at.toggle(key="present_switch").set_value(False).run()
    assert "present" not in at.query_params
    plain = run_app(model="v2")
    plain.toggle(key="present_switch").set_value(True).run()
    assert plain.query_params["present"] == "1"


def _compare_top1(at: AppTest) -> list[str]:
    return list(at.table[0].value.loc["ImageNet top-1 (%)"])


def test_compare_resolution_follows_the_model_until_the_user_sets_one():
    at = run_app(model="v3_large")
    at.switch_page("views/compare.py").run()
    at.selectbox(key="cmp_model_1").set_value("v4_conv_medium").run()
    at.selectbox(key="cmp_model_2").set_value("v5_base").run()
    assert [at.number_input(key=f"cmp_res_{i}").value for i in range(3)] == [224, 256, 256]
    top1 = _compare_top1(at)
    assert top1[:2] == ["75.2", "79.9"]  # V4 Conv-M at its own 256 px: its published top-1
    assert "MobileNetV5-Base has no published ImageNet top-1" in top1[2]
    assert any("Follows the model: its base resolution, 256 px" in c.value for c in at.caption)
    macs = at.table[0].value.loc["MACs (Δ vs first)"]
    assert macs.iloc[1].startswith(f"{mc.count('v4_conv_medium', 1.0, 256).macs:,} (")

    # a resolution the user sets is kept when the model changes, and the missing top-1 is explained
    at.number_input(key="cmp_res_1").set_value(224).run()
    at.selectbox(key="cmp_model_1").set_value("v4_conv_large").run()
    assert at.number_input(key="cmp_res_1").value == 224
    assert any("Set by you: kept when the model changes (base: 384 px)" in c.value for c in at.caption)
    assert _compare_top1(at)[1] == "— (none published at α 1, 224 px; nearest: α 1, 384 px: 82.9)"
    at.button(key="cmp_follow_1").click().run()  # back to following the model
    assert at.number_input(key="cmp_res_1").value == 384
    at.selectbox(key="cmp_model_1").set_value("v2").run()
    assert at.number_input(key="cmp_res_1").value == 224
    assert_clean(at, "compare")


def test_compare_keeps_a_resolution_set_in_the_sidebar():
    at = run_app(model="v2", resolution="160")
    at.switch_page("views/compare.py").run()
    assert at.number_input(key="cmp_res_0").value == 160
    at.selectbox(key="cmp_model_0").set_value("v4_conv_medium").run()
    assert at.number_input(key="cmp_res_0").value == 160
    assert "nearest: α 1, 256 px: 79.9" in _compare_top1(at)[0]


def test_compare_in_chinese_explains_a_missing_top1_in_chinese():
    at = run_app(model="v5_base", lang="zh")
    at.switch_page("views/compare.py").run()
    assert_clean(at, "compare zh")
    assert (
        "MobileNetV5-Base 没有已发表的 ImageNet top-1" in at.table[0].value.loc["ImageNet top-1（%）"].iloc[0]
    )


def test_sidebar_lists_models_by_title_and_keeps_the_id_in_the_link():
    at = run_app(model="v3_large")
    picker = at.selectbox(key="model")
    assert picker.value == "v3_large" and at.query_params["model"] == "v3_large"
    assert "MobileNetV5-300M" in picker.options and "v5_300m" not in picker.options
    picker.set_value("v5_300m").run()
    assert at.query_params["model"] == "v5_300m"  # the link keeps the id, not the title
    assert at.session_state["selection"].model == "v5_300m"
    assert at.slider(key="resolution").value == 768  # and the resolution followed its base
    assert_clean(at, "sidebar titles")


def test_a_model_box_drawn_afresh_shows_the_sessions_choice_not_the_first_model():
    """A browser that redraws a select box without its kept value shows the box's default: it must
    be the session's model (under load a V3-Large session once came back on MobileNetV1)."""
    at = run_app(model="v3_large", resolution="256")
    models = mc.list_models()
    assert at.selectbox(key="model").proto.default == models.index("v3_large")
    assert at.slider(key="resolution").proto.default[:] == [256]
    at.selectbox(key="model").set_value("v4_conv_medium").run()
    assert at.selectbox(key="model").proto.default == models.index("v4_conv_medium")
    at.switch_page("views/compare.py").run()
    boxes = [b for b in at.selectbox if (b.key or "").startswith("cmp_model_")]
    assert len(boxes) >= 2 and boxes[0].value == "v4_conv_medium"
    for i, box in enumerate(boxes):
        assert box.proto.default == models.index(box.value), f"Compare's configuration {i + 1}"
    assert_clean(at, "held defaults")


# the library's own English (for its API and CLI), which the pages must say in their language
LIBRARY_ENGLISH = ["fastest of", "peak set so that", "this machine (measured)", "model card",
                   "model documentation", "forward hooks", "entered by the user"]  # fmt: skip


def _said(at: AppTest) -> str:
    """Every caption, message and table cell the page shows."""
    parts = [c.value for c in at.caption] + [m.value for m in at.success] + [m.value for m in at.info]
    parts += [str(x.value.to_dict()) for x in at.table] + [str(x.value.to_dict()) for x in at.dataframe]
    return "\n".join(parts)


def test_the_roofline_and_the_checkpoint_sources_are_said_in_the_pages_language():
    """The measured peaks' method, the devices' origin and names, and where a checkpoint's top-1
    comes from are composed in the interface's language (they were the library's English on the
    Chinese pages)."""
    for lang in ("zh", "en"):
        at = run_app(model="v2", lang=lang)
        overview = _said(at)
        at.switch_page("views/roofline.py").run()
        assert_clean(at, f"roofline {lang}")
        roofline = _said(at)
        if lang == "zh":
            for said in (overview, roofline):
                english = [w for w in LIBRARY_ENGLISH if w in said]
                assert not english, english
            assert "torchvision 模型文档" in overview and "本机（实测" in roofline and "表 16" in roofline
        else:
            assert "torchvision's model documentation" in overview
            assert "ridge point 31.2 MACs/byte at INT8" in roofline and "the fastest of" in roofline


def test_the_page_script_runs_each_part_in_its_own_scope_and_refuses_what_it_cannot_wrap():
    """app.page_script joins the language script and the tablet's fold into one component: one
    default export for the page, each part wrapped whole; a part it cannot wrap (no default
    export, an import) is refused on the server, not left as a syntax error in every page."""
    from app import page_script

    assert page_script._JS.count("export default function") == 1
    assert page_script._JS.count("return function") == len(page_script.PARTS)
    part = page_script._part("const text = 1;\nexport default function (component) { return text; }")
    assert part.startswith("(() => {") and "return function (component)" in part
    for bad in ("const a = 1;", "import x from 'y';\nexport default function (c) {}"):
        with pytest.raises(ValueError):
            page_script._part(bad)

"""Every block type is registered once, and everything that must know it finds it there."""

import re
import typing
from pathlib import Path

import pytest
import torch
from torch import nn

import mobilenet_core as mc
from mobilenet_core import anatomy
from mobilenet_core.blocktypes import REGISTRY, kinds
from mobilenet_core.count import count_block
from mobilenet_core.graph import BLOCK_COLORS
from mobilenet_core.lab import COLUMNS, RowReader, generation_rows
from mobilenet_core.specs import GENERATIONS
from mobilenet_core.specs.blocks import BlockSpec

ROOT = Path(__file__).resolve().parents[1]


def _first_use(kind: str):
    """(model, resolved block) of the first block of this type in the family."""
    for name in GENERATIONS:
        net, _ = mc.resolve_model(name)
        for b in net.blocks:
            if b.kind == kind:
                return name, b
    raise AssertionError(f"no generation uses block type {kind!r}")


def test_every_spec_class_has_exactly_one_block_type():
    spec_classes = set(typing.get_args(BlockSpec))
    assert {t.spec for t in REGISTRY.values()} == spec_classes
    assert all(t.spec.__dataclass_fields__["kind"].default == k for k, t in REGISTRY.items())
    assert len(set(kinds())) == len(REGISTRY)


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_module_count_and_label_of_each_block_type_agree(kind):
    bt = REGISTRY[kind]
    model, b = _first_use(kind)
    report = mc.count(model)
    row = next(r for r in report.blocks if r.name == b.name)
    module = bt.module(b)
    # two independent paths: the counter's rule and the built module
    assert sum(p.numel() for p in module.parameters()) == row.params
    assert row.variant in BLOCK_COLORS and row.variant in bt.colors
    assert bt.short and bt.title and re.fullmatch(r"#[0-9a-f]{6}", bt.color)
    assert bt.anatomy in ("plain", "separable", "bottleneck", "variants", "attention", "fusion")
    if bt.formulas:
        assert callable(getattr(anatomy, bt.formulas))
    # batch-norm folding finds every pair it names (in a batch-norm generation)
    for conv, norm in bt.fold:
        assert isinstance(getattr(module, conv), nn.Conv2d)
        assert isinstance(getattr(module, norm), nn.BatchNorm2d)  # the first user of every type is V1-V4
    # the counter's rule alone (no module) gives the same row again
    if not bt.fuses_stages:
        assert count_block(b, row.in_height, row.in_width).params == row.params


@pytest.mark.parametrize("kind", kinds(editable_only=True))
def test_each_editable_block_type_round_trips_through_an_editor_row(kind):
    bt = REGISTRY[kind]
    model, b = _first_use(kind)
    assert set(bt.columns) <= set(COLUMNS)
    row = next(r for r in generation_rows(GENERATIONS[model]) if r["type"] == kind)
    assert bt.from_row(RowReader(row, 0)) == GENERATIONS[model].stages[b.stage][b.index]


def test_folded_fast_path_matches_for_every_block_type():
    """BN folding uses the records' pairs: a model with every BN block type gives the eager logits."""
    from mobilenet_core.fast import fold_batchnorm

    for model in ("v3_large", "v4_conv_medium", "v4_hybrid_medium"):
        # in float64: the fold's arithmetic, exactly (in float32 the untrained hybrid amplifies
        # rounding differences beyond 1e-4, see reference.float32_tolerance)
        module = mc.build(model).double()
        x = torch.randn(1, 3, 96, 96, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
        with torch.inference_mode():
            torch.testing.assert_close(fold_batchnorm(module)(x), module(x), rtol=1e-9, atol=1e-9)


CONSUMERS = [
    "mobilenet_core/count.py", "mobilenet_core/modules.py", "mobilenet_core/resolve.py",
    "mobilenet_core/lab.py", "mobilenet_core/graph.py", "mobilenet_core/fast.py",
    "app/views/charts.py", "app/views/anatomy.py", "app/views/lab.py",
]  # fmt: skip
# the lessons, each in its own files: every module of the library's lessons and every file of the
# app's lesson folders (the page functions themselves, not the scripts st.navigation runs)
LESSON_CODE = sorted(
    str(p.relative_to(ROOT))
    for p in [*(ROOT / "mobilenet_core" / "lessons").rglob("*.py"), *(ROOT / "app" / "lessons").rglob("*.py")]
)


def kind_string_branches(source: str) -> set[str]:
    """The block types a source names as string literals (it should ask the registry instead)."""
    literals = {k for k in REGISTRY if re.search(rf"""["']{k}["']""", source)} - {"conv"}
    # "conv" is also a layer kind and a module attribute name: only as a block-type comparison is it banned
    if re.search(r"""kind\s*(==|!=)\s*["']conv["']""", source):
        literals.add("conv")
    return literals


@pytest.mark.parametrize("path", CONSUMERS + LESSON_CODE)
def test_consumers_dispatch_through_the_registry_not_on_kind_strings(path):
    source = (ROOT / path).read_text()
    literals = kind_string_branches(source)
    assert not literals, f"{path} names block types {sorted(literals)}: look them up in the registry"


def test_the_kind_string_guard_scans_every_lesson_and_finds_a_branch():
    """The guard itself: it reads the lessons' real code (both sides, every lesson), and it fails
    on code that branches on a kind string, as lessons.py and lesson_pages.py did."""
    from mobilenet_core.lessons import LESSONS

    for lesson in LESSONS:
        assert f"mobilenet_core/lessons/{lesson.name}.py" in LESSON_CODE
        assert f"app/lessons/{lesson.name}/__init__.py" in LESSON_CODE
    old_library = 'if need in ("uib", "mqa"):\n    return any(b.kind == need for b in report.blocks)'
    old_page = 'blocks = [b for b in report.blocks if b.kind == "mqa"]'
    assert kind_string_branches(old_library) == {"uib", "mqa"}
    assert kind_string_branches(old_page) == {"mqa"}
    assert kind_string_branches('if final.kind != "conv":') == {"conv"}
    assert kind_string_branches('layer.kind == "dwconv" and name == "conv_head"') == set()  # layer kinds

"""The layer graph and block diagrams: what they draw comes from the counter's rows."""

import graphviz
import pytest

import mobilenet_core as mc
from mobilenet_core.anatomy import block_diagram
from mobilenet_core.graph import fold_blocks, layer_graph


def test_folding_groups_identical_consecutive_blocks():
    report = mc.count("v4_hybrid_large")
    folded = fold_blocks(report.blocks)
    assert sum(f.count for f in folded) == len(report.blocks)
    assert sum(f.params for f in folded) == report.params
    run = next(f for f in folded if f.names[0] == "blocks.2.1")
    assert (run.count, run.names) == (3, ("blocks.2.1", "blocks.2.2", "blocks.2.3"))
    assert len(fold_blocks(report.blocks, fold=False)) == len(report.blocks)


def test_block_graph_has_one_node_per_folded_block_and_a_column_per_stage():
    report = mc.count("v4_hybrid_large")
    dot = layer_graph(report)
    for f in fold_blocks(report.blocks):
        assert f"n_{f.first.name.replace('.', '_')} [label=" in dot
    assert "ExtraDW × 3" in dot and "Mobile MQA" in dot
    assert dot.count("subgraph cluster_stage_") == 7  # stem, stages 0-4, head


def test_expanding_one_block_draws_its_layers_with_exact_costs():
    report = mc.count("v4_hybrid_medium")
    dot = layer_graph(report, expand=["blocks.2.4"])
    block = next(b for b in report.blocks if b.name == "blocks.2.4")
    assert "cluster_blocks_2_4" in dot
    for layer in block.layers:
        assert f"l_{layer.name.replace('.', '_')} [label=" in dot
    assert "skip ⊕" in dot  # the MQA block is residual


def test_every_model_renders_with_graphviz(tmp_path):
    for model in mc.list_models():
        report = mc.count(model, 0.5, 96)
        for expand in ((), "all"):
            svg = graphviz.Source(layer_graph(report, title=model, expand=expand)).pipe(format="svg")
            assert svg.startswith(b"<?xml") and b"<svg" in svg


@pytest.mark.parametrize("model", mc.list_models())
def test_block_diagrams_show_each_layer_cost(model):
    for block in mc.count(model).blocks[1:-1]:
        dot = block_diagram(block)
        for layer in block.layers:
            if layer.macs:
                assert f"{layer.macs:,}" in dot
        assert f"params {block.params:,} · MACs {block.macs:,}" in dot
        graphviz.Source(dot).pipe(format="svg")


def _stage_members(dot: str) -> dict[str, set[str]]:
    """node -> the stage clusters that name it (in a declaration or an edge)."""
    import re

    members: dict[str, set[str]] = {}
    stack: list[str] = []
    for line in dot.splitlines():
        text = line.strip()
        if text.startswith("subgraph "):
            stack.append(text.split()[1])
            continue
        if text == "}":
            if stack:
                stack.pop()
            continue
        stage = next((c for c in stack if c.startswith("cluster_stage_")), None)
        if stage is None:
            continue
        edge = re.match(r"(\w+) -> (\w+)", text)
        names = edge.groups() if edge else ((m.group(1),) if (m := re.match(r"(\w+) \[", text)) else ())
        for name in names:
            members.setdefault(name, set()).add(stage)
    return members


@pytest.mark.parametrize("model", mc.list_models())
def test_every_node_is_in_one_column_and_a_skip_starts_at_the_block_input(model):
    """A node named in two stage clusters is drawn in the wrong column (V3-Large with a block
    expanded drew stage 3's "IR x 2" inside stage 4); the skip of an expanded block must run
    from the block's input, not from its first layer."""
    report = mc.count(model)
    residual = [b for b in report.blocks if b.residual and b.name.startswith("blocks.")]
    middle = [b.name for b in report.blocks if b.name.startswith("blocks.")][3]
    for expand in ([], [middle], "all"):
        dot = layer_graph(report, expand=expand)
        twice = {n: c for n, c in _stage_members(dot).items() if len(c) > 1}
        assert not twice, (expand, twice)
    if not residual:  # V1
        return
    block = residual[len(residual) // 2]
    index = [b.name for b in report.blocks].index(block.name)
    dot = layer_graph(report, fold=False, expand=[block.name])
    add = "add_" + block.name.replace(".", "_")
    before = "n_" + report.blocks[index - 1].name.replace(".", "_")
    skip = [line for line in dot.splitlines() if f"-> {add}" in line and "dashed" in line]
    assert len(skip) == 1 and skip[0].strip().startswith(before), skip


def test_chinese_diagrams_have_no_english_words_left():
    import re
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from app.i18n import GRAPH_WORDS_ZH
    from mobilenet_core.anatomy import bottleneck_diagram, standard_conv_diagram
    from mobilenet_core.graph import WORDS

    assert set(GRAPH_WORDS_ZH) == set(WORDS)  # every word of the pictures has its translation
    english = re.compile(r"\b(stride|out|output|params|input|skip|legend|stage|None|none|activation)\b")
    for model in ("v2", "v3_large", "v4_hybrid_medium"):
        report = mc.count(model)
        pictures = [layer_graph(report, words=GRAPH_WORDS_ZH, expand="all")]
        for b in report.blocks[1:-1]:
            for draw in (block_diagram, standard_conv_diagram, bottleneck_diagram):
                pictures.append(draw(b, words=GRAPH_WORDS_ZH))
        for dot in pictures:
            labels = " ".join(re.findall(r'label=("[^"]*"|<<.*?>>)', dot))
            labels = re.sub(r"\w+(?:[._]\w+)+", "", labels)  # module paths (attn.output.proj) are names
            assert not english.search(labels), english.search(labels).group(0)


def test_reports_and_graphs_show_themselves_in_jupyter():
    """Two lines in a notebook give the app's block table and layer graph."""
    report = mc.count("v3_small", 0.75, 192)
    html = report._repr_html_()
    assert html.startswith("<table>") and f"{report.params:,} params · {report.macs:,} MACs" in html
    for b in report.blocks:
        assert f"<td>{b.name}</td>" in html and f"{b.macs:,}" in html
    picture = mc.graph_of("v3_small", 0.75, 192)
    svg = picture._repr_svg_()
    assert "<svg" in svg and "n_blocks_2_0" in svg and "MobileNetV3&#45;Small" in svg
    assert picture.dot == layer_graph(report, title="MobileNetV3-Small · α 0.75 · 192 px")
    assert picture.png().startswith(b"\x89PNG")

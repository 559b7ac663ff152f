"""The layer graph and block diagrams: what they draw comes from the counter's rows."""

import graphviz
import pytest

import mobilenet_core as mc
from mobilenet_core.graph import block_diagram, fold_blocks, layer_graph


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

"""The lessons' demonstrations (mobilenet_core.lessons), each checked by an independent path:
the counter's per-layer rows, the modules' own forward, torch's attention kernel, hand formulas
and the papers' tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import mobilenet_core as mc
from mobilenet_core import lessons as L
from mobilenet_core.api import resolve_model
from mobilenet_core.predict import load_image, preprocess_image
from mobilenet_core.registry import default_preprocess

CAT = Path(__file__).resolve().parent.parent / "assets" / "samples" / "chelsea_cat.png"


@pytest.fixture(scope="module")
def photo():
    return load_image(CAT)


def net_and_input(model: str, photo, resolution: int | None = None):
    report = mc.count(model, 1.0, resolution)
    x, _ = preprocess_image(photo, default_preprocess(report.resolution))
    return report, mc.build(model, 1.0, report.resolution), x


def test_every_lesson_has_a_model_for_every_selection():
    for model in mc.list_models():
        report = mc.count(model)
        for lesson in L.LESSONS:
            fallback = L.lesson_model(lesson.path, report)
            if fallback is not None:  # the fallback itself has what the lesson needs
                assert L.lesson_model(lesson.path, mc.count(fallback)) is None
    assert L.lesson_model("lesson-se", mc.count("v2")) == "v3_large"
    assert L.lesson_model("lesson-se", mc.count("v3_small")) is None
    assert L.lesson_model("lesson-attention", mc.count("v4_conv_medium")) == "v4_hybrid_medium"


def test_timeline_numbers_are_the_counter_and_the_published_tables():
    rows = {r.model: r for r in L.timeline()}
    assert list(rows) == mc.list_models()
    for model, row in rows.items():
        report = mc.count(model)
        assert (row.params, row.macs, row.resolution) == (report.params, report.macs, report.resolution)
        if row.generation == "V5":  # no paper, no ImageNet table: the overview says why
            assert row.top1 is None and row.year == 2025
        else:  # every earlier model at alpha 1 has a published top-1
            assert row.top1 is not None and row.top1_source
    assert rows["v1"].top1 == 70.6 and rows["v4_conv_medium"].top1 == 79.9
    assert [rows[m].year for m in ("v1", "v2", "v3_large", "v4_conv_small")] == [2017, 2018, 2019, 2024]


@pytest.mark.parametrize("model", mc.list_models())
def test_separable_ratio_is_the_papers_formula_from_the_counters_layer_macs(model):
    report = mc.count(model)
    pairs = L.separable_pairs(report)
    assert pairs
    for _, dw, pw in pairs:
        cost = L.separable_cost(dw, pw)
        # the counter's per-layer MACs: D_K² M D_F² for the depthwise, M N D_F² for the pointwise
        assert dw.macs == cost.kernel**2 * cost.in_channels * dw.out_height * dw.out_width
        assert cost.exact_ratio == pytest.approx(1 / pw.out_channels + 1 / dw.kernel**2, rel=1e-12)


def test_v1_with_standard_convs_is_the_papers_table_4():
    # arXiv:1704.04861 Table 4: Conv MobileNet 4866 M Mult-Adds and 29.3 M parameters
    whole = L.whole_net_standard(mc.count("v1"))
    assert whole.standard_macs / 1e6 == pytest.approx(4866, rel=1e-3)
    assert whole.standard_params / 1e6 == pytest.approx(29.3, rel=2e-3)
    assert whole.separable_macs == mc.count("v1").macs


@pytest.mark.parametrize("model", ["v1", "v2", "v3_small", "v4_conv_small"])
def test_separable_demo_runs_the_real_layers_on_the_photo(model, photo):
    report, module, x = net_and_input(model, photo)
    block = L.separable_pairs(report)[1][0]
    demo = L.separable_demo(module, x, report, block, max_side=10)
    # depthwise then pointwise equals one standard conv with the product kernel (the same map)
    np.testing.assert_allclose(demo.pointwise, demo.standard, rtol=1e-4, atol=1e-4)
    assert demo.depthwise.shape[1:] == demo.pointwise.shape[1:]
    # the dot product shown for a window is the depthwise output at that position
    for step in (0, 7, demo.positions - 1):
        _, _, value = demo.dot_product(3, step)
        row, col = divmod(step, demo.depthwise.shape[2])
        assert value == pytest.approx(float(demo.depthwise[3, row, col]), rel=1e-4, abs=1e-5)
    # the MAC counters tick at the formula's rate; over the whole layer they give the counter's MACs
    c = demo.cost
    standard, depthwise, pointwise = demo.macs_after(c.out_height * c.out_width)
    assert (depthwise, pointwise, standard) == (c.depthwise_macs, c.pointwise_macs, c.standard_macs)
    assert np.isfinite(demo.features).all() and demo.features.std() > 0


def test_block_input_is_the_previous_blocks_output(photo):
    report, module, x = net_and_input("v2", photo)
    got = L.block_input(module, x, "blocks.2.1")
    want = module.block_outputs(x, ["blocks.2.0"])["blocks.2.0"]
    torch.testing.assert_close(got, want)
    # and running the steps in order gives the block's output (the straight line + residual)
    blk = L.block_module(module, "blocks.2.1")
    seen = L.step_inputs(blk, got)
    torch.testing.assert_close(seen["output"] + got, blk(got))


def test_scaling_points_are_exact_counts_beside_the_rule():
    points = L.scaling_points("v1", [0.25, 0.5, 1.0], [128, 224])
    base = mc.count("v1")
    for p in points:
        rep = mc.count("v1", p.alpha, p.resolution)
        assert (p.params, p.macs) == (rep.params, rep.macs)
        assert p.predicted_macs == pytest.approx(base.macs * p.alpha**2 * (p.resolution / 224) ** 2)
        assert p.macs >= p.predicted_macs * 0.999  # the parts that grow only with alpha keep more
    assert next(p for p in points if p.alpha == 0.5 and p.resolution == 224).top1 == 63.7


def test_alpha_squared_holds_for_pointwise_layers_and_not_for_depthwise():
    kinds = L.macs_by_kind("v1", 0.5)
    assert kinds["pwconv"][0] * 4 == kinds["pwconv"][1]  # M N: alpha²
    assert kinds["dwconv"][0] * 2 == kinds["dwconv"][1]  # M: alpha
    assert kinds["conv"][0] * 2 == kinds["conv"][1]  # the stem, 3 -> 32 alpha
    assert kinds["linear"][0] * 2 == kinds["linear"][1]  # 1024 alpha -> 1000
    assert sum(a for a, _ in kinds.values()) == mc.count("v1", 0.5).macs


def test_width_breaks_name_rounding_and_fixed_widths():
    v2 = {b.block: b for b in L.width_breaks("v2", 0.5)}
    assert v2["head"].reason == "fixed" and v2["head"].channels == 1280  # V2 keeps 1280 for alpha < 1
    assert v2["blocks.1.0"].reason == "rounded" and v2["blocks.1.0"].channels == 16  # 12 -> 16
    assert L.width_breaks("v1", 0.75) == []  # every V1 width times 0.75 is a whole multiple of 8


def test_spiral_reconstruction_error_falls_as_the_dimension_grows():
    errors = L.spiral_errors((2, 3, 5, 15, 30), seeds=16)
    values = list(errors.values())
    assert values == sorted(values, reverse=True)
    assert errors[2] > 1.0 and errors[30] < 0.4
    # the recovered points are T⁺ ReLU(T x), recomputed here
    x = L.spiral(50)
    t = np.random.default_rng(3).standard_normal((5, 2))
    want = np.linalg.pinv(t) @ np.maximum(t @ x, 0)
    np.testing.assert_allclose(L.spiral_relu(5, seed=3, points=50).recovered, want)


def test_relu_zero_shares_are_the_blocks_own_tensors(photo):
    report, module, x = net_and_input("v2", photo)
    shares = {s.block: s for s in L.relu_zero_shares(module, x, report)}
    assert len(shares) == 16
    blk = L.block_module(module, "blocks.2.1")
    h = L.block_input(module, x, "blocks.2.1")
    with torch.no_grad():
        pre = blk.bn1(blk.conv_pw(h))
        bottleneck = blk.bn3(blk.conv_pwl(blk.act2(blk.bn2(blk.conv_dw(blk.act1(pre))))))
    assert shares["blocks.2.1"].expansion_zeroed == pytest.approx(float((pre <= 0).float().mean()))
    assert shares["blocks.2.1"].bottleneck_zeroed == pytest.approx(float((bottleneck <= 0).float().mean()))


def test_residual_memory_by_hand():
    block = next(b for b in mc.count("v2").blocks if b.name == "blocks.2.1")  # 32 -> 192 -> 32 at 28x28
    steps = L.residual_memory(block)
    inverted, bottleneck = [s.values for s in steps["inverted"]], [s.values for s in steps["bottleneck"]]
    a = 28 * 28
    assert inverted == [32 * a, (32 + 192) * a, (32 + 192 + 192) * a, (32 + 192 + 32) * a, 32 * a]
    assert bottleneck == [192 * a, (192 + 32) * a, (192 + 32 + 32) * a, (192 + 32 + 192) * a, 192 * a]
    narrow, wide = L.between_blocks(mc.count("v2"))
    assert narrow == 24 * 56 * 56 and wide == 144 * 56 * 56


@pytest.mark.parametrize("model", ["v3_large", "v3_small"])
def test_se_gates_equal_the_modules_own_gate(model, photo):
    report, module, x = net_and_input(model, photo)
    block = L.se_blocks(report)[2].name
    gates = L.se_gates(module, x, block)
    blk = L.block_module(module, block)
    h = L.step_inputs(blk, L.block_input(module, x, block))["se"]
    with torch.no_grad():
        scaled = blk.se(h)  # the module multiplies its input by the gate
    own = (scaled / h).flatten(2).nanmedian(dim=2).values[0].numpy()
    np.testing.assert_allclose(gates, own, rtol=1e-4)
    assert ((gates >= 0) & (gates <= 1)).all()
    cost = L.se_cost(report, block)
    se_rows = [la for b in report.blocks if b.name == block for la in b.layers if la.kind == "se"]
    assert (cost.params, cost.macs) == (sum(r.params for r in se_rows), sum(r.macs for r in se_rows))
    c, s = blk.se.conv_reduce.in_channels, blk.se.conv_reduce.out_channels
    assert cost.params == 2 * c * s + c + s and cost.macs == 2 * c * s


def test_activation_curves_and_derivatives():
    x = np.linspace(-6, 6, 1201)
    curves = L.activation_curves(x)
    relu6 = np.clip(x + 3, 0, 6)
    np.testing.assert_allclose(curves["h-swish"][0], x * relu6 / 6, atol=1e-12)
    np.testing.assert_allclose(curves["hard-sigmoid"][0], relu6 / 6, atol=1e-12)
    inside = (x > -3) & (x < 3)
    np.testing.assert_allclose(curves["h-swish"][1][inside], (2 * x[inside] + 3) / 6, atol=1e-12)
    assert np.abs(curves["h-swish"][0] - curves["swish"][0]).max() < 0.15  # the close approximation
    sig = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(curves["swish"][1], sig * (1 + x * (1 - sig)), atol=1e-9)


def test_v3_last_stage_counts():
    stage = L.last_stage(mc.count("v3_large"))
    a = 7 * 7
    assert stage.original_macs == 9 * 960 * a + 960 * 320 * a + 320 * 1280 * a
    assert stage.efficient_macs == 960 * 1280
    # the paper (Sec. 5.2) reports about 30 M Mult-Adds saved; this counts the three layers alone
    assert 30e6 < stage.original_macs - stage.efficient_macs < 36e6


def test_uib_choices_count_like_the_counter():
    g = mc.get_generation("v4_conv_medium")
    report = mc.count("v4_conv_medium")
    extra = next(b for b in report.blocks if b.variant == "ExtraDW" and b.stride == 2)
    resolved = next(b for b in resolve_model("v4_conv_medium")[0].blocks if b.name == extra.name)
    own = L.uib_choice(g, 1.0, report.resolution, extra.name, resolved.spec.start, resolved.spec.mid)
    assert (own.row.params, own.row.macs) == (extra.params, extra.macs) and own.name == "ExtraDW"
    flat = next(b for b in report.blocks if b.variant == "ExtraDW" and b.stride == 1)
    kept = L.uib_choice(g, 1.0, report.resolution, flat.name, 5, 5)
    ffn = L.uib_choice(g, 1.0, report.resolution, flat.name, 0, 0)
    # FFN drops exactly the two depthwise layers (weights, BN and MACs) of the same block
    dw = [la for la in kept.row.layers if la.kind == "dwconv"]
    assert ffn.name == "FFN" and ffn.receptive_field == 1 and kept.receptive_field == 9
    assert ffn.row.macs == kept.row.macs - sum(la.macs for la in dw)
    assert ffn.row.params == kept.row.params - sum(la.params for la in dw)
    assert L.receptive_field(5, 5, 2) == 9 and L.receptive_field(3, 0, 2) == 3
    assert L.receptive_field(0, 3, 1) == 3 and L.receptive_field(0, 0, 1) == 1
    with pytest.raises(mc.ConfigError, match="stride 2"):  # a strided block keeps a depthwise conv
        L.uib_choice(g, 1.0, report.resolution, extra.name, 0, 0)
    stages = L.uib_choices_by_stage(report)
    assert sum(n for _, _, n in stages) == sum(b.kind == "uib" for b in report.blocks)


def test_attention_cost_and_map(photo):
    report, module, x = net_and_input("v4_hybrid_medium", photo)
    row = next(b for b in report.blocks if b.kind == "mqa")
    spec = next(b for b in resolve_model("v4_hybrid_medium")[0].blocks if b.name == row.name).spec
    cost = L.attention_cost(row, spec.heads, spec.key_dim, spec.kv_stride)
    n, m = row.in_height * row.in_width, (row.in_height // spec.kv_stride) * (row.in_width // spec.kv_stride)
    assert cost.kv_positions_mqa == m and cost.queries == n
    assert cost.mqa_macs == row.macs and cost.mha_macs > cost.mqa_macs
    # one shared head at s² fewer positions
    assert cost.mqa_kv_values * spec.heads * n == cost.mha_kv_values * m
    weights = L.attention_map(module, x, row.name, 3, 5)
    assert weights.shape == (spec.heads, row.in_height // spec.kv_stride, row.in_width // spec.kv_stride)
    np.testing.assert_allclose(weights.sum(axis=(1, 2)), 1, rtol=1e-5)
    # weights @ V is torch's attention output for that query
    blk = L.block_module(module, row.name)
    with torch.no_grad():
        h = blk.norm(L.block_input(module, x, row.name))
        q = blk.attn.query(h).reshape(1, spec.heads, spec.key_dim, -1).transpose(-1, -2)
        k = blk.attn.key(h).flatten(2).transpose(1, 2).unsqueeze(1)
        v = blk.attn.value(h).flatten(2).transpose(1, 2).unsqueeze(1)
        o = F.scaled_dot_product_attention(q, k, v)[0, :, 3 * row.in_width + 5]  # heads x d
    mine = torch.from_numpy(weights.reshape(spec.heads, -1)) @ v[0, 0]
    torch.testing.assert_close(mine, o, rtol=1e-4, atol=1e-5)


def test_every_querys_attention_map_from_one_pass(photo):
    """The lesson's sliders read a query's map from attention_maps: each is a softmax per head
    (sums to 1) and is what attention_map gives for that query."""
    report, module, x = net_and_input("v4_hybrid_medium", photo)
    row = next(b for b in report.blocks if b.kind == "mqa")
    maps = L.attention_maps(module, x, row.name)
    assert maps.shape[:2] == (row.in_height, row.in_width)
    np.testing.assert_allclose(maps.sum(axis=(3, 4)), 1, rtol=1e-5)
    for r, c in ((0, 0), (3, 5), (row.in_height - 1, row.in_width - 1)):
        np.testing.assert_array_equal(L.attention_map(module, x, row.name, r, c), maps[r, c])
    assert np.abs(maps[0, 0] - maps[3, 5]).max() > 1e-3  # two queries look at different places


def test_roofline_sweep_is_the_sum_of_the_per_layer_terms():
    report = mc.count("v2")
    ridges = [0, 10, 31.2, 100, 347.3, 500]
    estimates = L.ridge_sweep(report, ridges)
    for ridge, est in zip(ridges, estimates, strict=True):
        assert est.ms == pytest.approx(sum(max(x.compute_ms, x.memory_ms) for x in est.layers))
        for layer in est.layers:
            assert layer.compute_ms == pytest.approx(layer.macs / L.ILLUSTRATIVE_PEAK * 1e3)
            if ridge:
                assert layer.memory_ms == pytest.approx(layer.bytes * ridge / L.ILLUSTRATIVE_PEAK * 1e3)
    assert estimates[0].ms == pytest.approx(report.macs / L.ILLUSTRATIVE_PEAK * 1e3)
    times = [e.ms for e in estimates]
    assert times == sorted(times)
    shares = [e.memory_bound_share for e in estimates]
    assert shares[0] == 0 and shares[-1] > 0.5 and shares == sorted(shares)
    slow = L.bottlenecks(estimates[-1], top=3)
    assert [x.ms for x in slow] == sorted((x.ms for x in estimates[-1].layers), reverse=True)[:3]
    assert L.PAPER_DEVICE_RIDGES["Pixel 8 EdgeTPU"] == 433.8

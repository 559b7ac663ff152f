"""MobileNetV5 (Gemma 3n's vision encoder): exact counts, the checkpoints' layout and probes,
RMS norm, the fusion adapter and the encoder head."""

import pytest
import torch
from test_checkpoints import assert_close, save
from torch.utils.flop_counter import FlopCounterMode

import mobilenet_core as mc
from mobilenet_core.fast import FastModel, fold_batchnorm
from mobilenet_core.layers import RmsNorm2d
from reference import deterministic_state_dict, manifest, probe_input, reference_counts


def test_counts_equal_timm_exactly():
    for reference, model in (("timm_mobilenetv5_base", "v5_base"), ("timm_mobilenetv5_300m", "v5_300m")):
        expected = reference_counts()[reference]
        report = mc.count(model, 1.0, expected["resolution"])
        assert (report.params, report.macs) == (expected["params"], expected["macs"])
    assert mc.count("v5_base").resolution == 256 and mc.count("v5_300m").resolution == 768


def test_300m_manifest_loads_strictly_and_reproduces_the_probe(tmp_path):
    """The Gemma 3n encoder: every key of timm's state_dict, and its 2048-d feature vector."""
    m = manifest("timm_mobilenetv5_300m")
    path = save(deterministic_state_dict(m["keys"]), tmp_path / "v5_300m.safetensors")
    module = mc.load_checkpoint(mc.build("v5_300m", 1.0, 768), path)
    with torch.inference_mode():
        out = module(probe_input(768))[0]
    assert out.shape == (2048,)
    assert_close(out, torch.tensor(m["probe"]["logits"]))


@pytest.mark.parametrize(
    "model, alpha, resolution",
    [
        ("v5_base", 1.0, 256),  # fusion at 16 x 16: nothing to resize
        ("v5_base", 0.5, 224),  # 14 x 14: bilinear resizing to 16 x 16
        ("v5_base", 1.25, 512),  # 32 x 32: average pooling
        ("v5_base", 0.25, 32),
        ("v5_300m", 0.5, 128),
        ("v5_300m", 1.0, 256),  # 16 x 16 after the upsampled last stage
    ],
)
def test_flop_counter_and_params_equal_the_analytic_count(model, alpha, resolution):
    report = mc.count(model, alpha, resolution)
    module = mc.build(model, alpha, resolution)
    module.set_fused_attention(False)
    assert sum(p.numel() for p in module.parameters()) == report.params
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        out = module(torch.randn(1, 3, resolution, resolution))
    assert out.shape == (1, 1000 if model == "v5_base" else 2048) and torch.isfinite(out).all()
    assert counter.get_total_flops() == 2 * report.macs


def test_fusion_adapter_merges_the_last_two_stages():
    report = mc.count("v5_300m")
    msfa = next(b for b in report.blocks if b.kind == "msfa")
    stage2, stage3 = (next(b for b in reversed(report.blocks) if b.stage == s) for s in (2, 3))
    assert (stage2.out_height, stage3.out_height) == (48, 24)
    assert msfa.in_channels == stage2.out_channels + stage3.out_channels == 1920
    assert (msfa.in_height, msfa.expanded_channels, msfa.out_channels, msfa.out_height) == (
        48,
        3840,
        2048,
        16,
    )
    layers = {layer.name: layer for layer in msfa.layers}
    assert layers["msfa.ffn.pw_exp"].macs == 1920 * 3840 * 48 * 48  # at the larger map, before pooling
    assert layers["msfa.norm"].params == 2048  # RMS norm: one weight per channel, no bias
    head = report.blocks[-1]
    assert head.out_channels == 2048 and not any(x.kind == "linear" for x in head.layers)  # an encoder


def test_rms_norm_counts_one_parameter_per_channel_and_is_not_folded():
    layers = {layer.name: layer for layer in mc.count("v5_base").layers}
    assert layers["blocks.1.0.pw_exp"].norm_params == 768 and layers["conv_stem.conv"].bias_params == 64
    module = mc.build("v5_base", 0.5, 128)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in module.modules())
    folded = fold_batchnorm(module)
    assert sum(isinstance(m, RmsNorm2d) for m in folded.modules()) == sum(
        isinstance(m, RmsNorm2d) for m in module.modules()
    )
    x = torch.randn(1, 3, 128, 128)
    with torch.inference_mode():
        eager = module(x)
    fast = FastModel(module)  # nothing to fold: the module runs as it is, its weights shared
    assert fast.backend == "eager" and fast.net is module
    torch.testing.assert_close(fast(x), eager, rtol=1e-4, atol=1e-4 * float(eager.abs().max()))


def test_rms_norm_is_the_formula():
    norm = RmsNorm2d(4)
    with torch.no_grad():
        norm.weight.copy_(torch.tensor([1.0, 2.0, 0.5, -1.0]))
    x = torch.randn(2, 4, 3, 3)
    expected = x / torch.sqrt((x**2).mean(1, keepdim=True) + 1e-6) * norm.weight.view(1, -1, 1, 1)
    torch.testing.assert_close(norm(x), expected)


def test_width_multiplier_follows_timms_rule():
    """timm's channel_multiplier: block widths rounded to multiples of 8, the stem kept at 64 below 1,
    the fusion adapter's 2048 and the attention heads never scaled."""
    half = mc.count("v5_base", 0.5)
    assert half.blocks[0].out_channels == 64
    assert [b.out_channels for b in half.blocks if b.name in ("blocks.2.0", "blocks.3.0", "msfa")] == [
        256,
        512,
        2048,
    ]
    mqa = next(b for b in half.blocks if b.kind == "mqa")
    assert mqa.expanded_channels == 8 * 64
    assert mc.count("v5_base", 1.5).blocks[0].out_channels == 96


def test_lessons_run_v5_300m_as_v5_base_and_v5_base_live():
    from mobilenet_core import lessons as L

    assert L.live_model("v5_300m", 1.0) == "v5_base" and L.live_model("v5_base", 1.0) == "v5_base"
    assert L.live_resolution("v5_base", 1.0, 256) == 256  # 20 G MACs: runs as selected
    small = L.live_resolution("v5_base", 2.0, 512)
    assert small < 512 and mc.count("v5_base", 2.0, small).macs <= L.LIVE_MACS
    assert mc.count("v5_base", 2.0, small + 32).macs > L.LIVE_MACS

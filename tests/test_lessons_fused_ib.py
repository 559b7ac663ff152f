"""The fused inverted bottleneck lesson (mobilenet_core/lessons/fused_ib.py, app/lessons/fused_ib/):
its counts against the hand formula and the built FusedIB module, its times against the roofline
model's own sum, and the page in both languages showing the library's numbers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import mobilenet_core as mc
from mobilenet_core import lessons as L
from mobilenet_core.api import resolve_model
from mobilenet_core.blocktypes.fused_ib import FusedIBBlock
from mobilenet_core.latency import estimate_latency, paper_devices
from mobilenet_core.specs.blocks import FusedIB

MAIN = str(Path(__file__).resolve().parent.parent / "app" / "main.py")


def test_every_inverted_residual_of_v2_is_counted_fused_by_the_formula_and_the_module():
    report = mc.count("v2")
    trades = L.fused_trades(report)
    # V2's first block has expansion 1 (no 1x1 expansion): the 16 others expand then filter
    expand_then_filter = [b for b in report.blocks if b.expanded_channels > b.in_channels
                          and any(x.kind == "dwconv" for x in b.layers)]  # fmt: skip
    assert len(trades) == len(expand_then_filter) == 16
    resolved = {b.name: b for b in resolve_model("v2")[0].blocks}
    for tr in trades:
        pw, dw = tr.separate
        c, e, k, h2 = pw.in_channels, pw.out_channels, dw.kernel, dw.out_height
        assert tr.separate_macs == c * e * pw.out_height**2 + k * k * e * h2**2
        assert tr.fused.macs == k * k * c * e * h2**2  # V4 / EfficientNetV2's dense k x k expansion
        # the built module's conv and BN hold exactly the fused row's parameters
        r = resolved[tr.block]
        module = FusedIBBlock(replace(r, spec=FusedIB(out=r.out_channels, kernel=k, stride=dw.stride)))
        assert (
            sum(p.numel() for p in [*module.conv_exp.parameters(), *module.bn1.parameters()])
            == tr.fused.params
        )


def test_fused_network_sums_the_roofline_of_the_changed_layers_only():
    report = mc.count("v2")
    trades = L.fused_trades(report)
    fused = L.fused_report(report, trades)
    assert fused.macs == report.macs - sum(tr.separate_macs for tr in trades) + sum(
        tr.fused.macs for tr in trades
    )
    assert fused.params == sum(b.params for b in fused.blocks)
    for device in paper_devices().values():
        net = L.fused_network(report, device, trades)
        assert net.built_ms == pytest.approx(estimate_latency(report, device).ms)
        # only the fused layers change: the difference is theirs, block by block
        change = sum(x.fused.ms - x.separate_ms for x in net.timings)
        assert net.all_fused_ms - net.built_ms == pytest.approx(change)
        assert net.best_ms <= min(net.built_ms, net.all_fused_ms) + 1e-12
    # V4's point: on the CPU the first stages pay, on the accelerator more of them do, never the last
    cpu = L.fused_network(report, paper_devices()["pixel6_cpu"], trades)
    tpu = L.fused_network(report, paper_devices()["pixel8_edgetpu"], trades)
    assert 0 < sum(x.pays for x in cpu.timings) < sum(x.pays for x in tpu.timings) < len(trades)
    assert not tpu.timings[-1].pays


def test_a_network_without_an_expansion_to_fuse_falls_back_to_v2():
    assert L.lesson_model("lesson-fused-ib", mc.count("v1")) == "v2"
    assert L.lesson_model("lesson-fused-ib", mc.count("v4_conv_medium")) is None


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_page_shows_the_counters_numbers_in_both_languages(lang):
    at = AppTest.from_file(MAIN, default_timeout=180)
    at.query_params["model"], at.query_params["lang"] = "v2", lang
    at.run()
    at.switch_page("lessons/fused_ib/page.py").run()
    assert not at.exception and not at.error
    report = mc.count("v2")
    device = paper_devices()["pixel4_dsp"]  # the page's default
    net = L.fused_network(report, device)
    timing = next(x for x in net.timings if x.trade.block == at.selectbox(key="fi_block").value)
    latex = "\n".join(x.value for x in at.latex)
    assert f"{timing.trade.separate_macs:,}" in latex and f"{timing.trade.fused.macs:,}" in latex
    metrics = {m.label: m.value for m in at.metric}
    assert f"{net.built_ms:.2f} ms" in metrics.values() and f"{net.best_ms:.2f} ms" in metrics.values()
    title = (
        (Path(MAIN).parent / "lessons" / "fused_ib" / f"{lang}.md").read_text(encoding="utf-8").split("\n")[0]
    )
    assert at.title[0].value == title.lstrip("# ")
    # another device: other numbers, the library's again
    at.selectbox(key="fi_device").set_value("pixel8_edgetpu").run()
    tpu = L.fused_network(report, paper_devices()["pixel8_edgetpu"])
    assert f"{tpu.best_ms:.2f} ms" in [m.value for m in at.metric]

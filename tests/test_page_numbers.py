"""Numbers the pages used to compute themselves, now from the library (issue 12: pages do no
network arithmetic)."""

from __future__ import annotations

import pytest

import mobilenet_core as mc
from mobilenet_core.anatomy import depthwise_separable_costs, separable_saving
from mobilenet_core.measure import block_shares


def test_other_tools_estimates():
    report = mc.count("v4_hybrid_medium")
    attention = sum(x.macs for x in report.layers if x.kind == "attention")
    assert attention > 0
    assert report.thop_macs == report.macs - attention
    assert report.fvcore_macs == report.macs - attention + report.norm_output_elements


def test_separable_saving_is_the_papers_ratio():
    block = next(b for b in mc.count("v1").blocks if b.name == "blocks.3.1")
    separable, standard, ratio = separable_saving(depthwise_separable_costs(block))
    assert ratio == pytest.approx(1 / block.out_channels + 1 / 9)
    assert separable / standard == ratio


def test_block_shares_are_shares_of_the_timed_blocks():
    report = mc.count("v2")
    timed = {b.name: 1.0 + i for i, b in enumerate(report.blocks[1:5])}
    shares = block_shares(report, timed)
    assert list(shares) == list(timed)
    assert sum(m for m, _ in shares.values()) == pytest.approx(1)
    assert sum(t for _, t in shares.values()) == pytest.approx(1)
    first = report.blocks[1]
    assert shares[first.name][0] == first.macs / sum(b.macs for b in report.blocks[1:5])

"""V4's fused inverted bottleneck (arXiv:2404.10518, Sections 3.1-3.2; EfficientNetV2's Fused-MBConv
before it): one dense k x k conv to the expanded width instead of a 1x1 expansion followed by a
k x k depthwise conv. It costs more MACs and runs one layer fewer, and the depthwise layer it
removes moves many bytes for few MACs: on a device with a high ridge point (an accelerator) the
fused block can be faster though it computes more. Counted on the learner's network, block by
block, and timed with the roofline model (`latency.estimate_latency`, the one formula)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..count import BlockRow, CountReport, count_block
from ..latency import DeviceProfile, LayerLatency, estimate_latency
from ..specs.blocks import FusedIB
from ..walk import LayerRow
from . import Lesson


def fusable_pair(block: BlockRow) -> tuple[LayerRow, LayerRow] | None:
    """(the 1x1 expansion, the k x k depthwise conv right after it) of a block, or None: an
    inverted residual, a UIB IB or ExtraDW has one; a DS block, a ConvNeXt-like UIB, a FusedIB
    or an attention block has none."""
    convs = [x for x in block.layers if x.kind in ("pwconv", "dwconv", "conv")]
    for first, second in zip(convs, convs[1:], strict=False):
        expands = first.kind == "pwconv" and first.out_channels > first.in_channels
        if expands and second.kind == "dwconv" and second.in_channels == first.out_channels:
            return first, second
    return None


def has_fusable(report: CountReport) -> bool:
    return any(fusable_pair(b) for b in report.blocks)


LESSON = Lesson(__name__, "V4", 2024, "arXiv:2404.10518", position=4, needs=has_fusable, fallback="v2")


@dataclass(frozen=True)
class FusedTrade:
    """One block's expansion counted both ways by the counter: as built (1x1 + k x k depthwise)
    and fused (one k x k conv from the block's input to the expanded width, FusedIB's conv_exp,
    with the depthwise conv's stride)."""

    block: str
    separate: tuple[LayerRow, LayerRow]
    fused: LayerRow

    @property
    def separate_macs(self) -> int:
        return sum(x.macs for x in self.separate)

    @property
    def separate_params(self) -> int:
        return sum(x.params for x in self.separate)


def fused_trades(report: CountReport) -> list[FusedTrade]:
    """Every block of the network that has a 1x1 expansion followed by a depthwise conv, with
    that pair counted as one dense conv (count_block on the block turned FusedIB)."""
    from ..api import resolve_model

    resolved = {b.name: b for b in resolve_model(report.model, report.alpha, report.resolution)[0].blocks}
    trades = []
    for b in report.blocks:
        pair = fusable_pair(b)
        if pair is None:
            continue
        pw, dw = pair
        r = resolved[b.name]
        spec = FusedIB(out=r.out_channels, kernel=dw.kernel, stride=dw.stride, activation=r.activation)
        fused_block = replace(r, spec=spec, in_channels=pw.in_channels, expanded_channels=pw.out_channels)
        in_h, in_w = pw.out_height * pw.stride, pw.out_width * pw.stride  # the expansion's input
        fused = count_block(fused_block, in_h, in_w).layers[0]
        trades.append(FusedTrade(b.name, (pw, dw), fused))
    return trades


def fused_report(report: CountReport, trades: list[FusedTrade]) -> CountReport:
    """The network with these blocks' expansion + depthwise replaced by the fused conv (every
    other layer, SE and projection included, unchanged)."""
    by = {tr.block: tr for tr in trades}
    blocks = []
    for b in report.blocks:
        tr = by.get(b.name)
        if tr is None:
            blocks.append(b)
            continue
        at = b.layers.index(tr.separate[0])
        layers = (*b.layers[:at], tr.fused, *b.layers[at + 2 :])
        blocks.append(replace(b, layers=layers, params=b.params - tr.separate_params + tr.fused.params,
                              macs=b.macs - tr.separate_macs + tr.fused.macs))  # fmt: skip
    params = sum(b.params for b in blocks)
    macs = sum(b.macs for b in blocks)
    return replace(report, blocks=tuple(blocks), params=params, macs=macs)


@dataclass(frozen=True)
class FusedTiming:
    """One block's expansion on a device (the roofline model): the two layers as built, the
    fused layer."""

    trade: FusedTrade
    separate: tuple[LayerLatency, LayerLatency]
    fused: LayerLatency

    @property
    def separate_ms(self) -> float:
        return sum(x.ms for x in self.separate)

    @property
    def pays(self) -> bool:
        """Fusing makes this block faster on the device."""
        return self.fused.ms < self.separate_ms


@dataclass(frozen=True)
class FusedNetwork:
    """The whole network on one device: as built, every expansion fused, and fused only where
    it pays (what a search on this device would keep)."""

    device: DeviceProfile
    timings: tuple[FusedTiming, ...]
    built_ms: float
    all_fused_ms: float
    best_ms: float
    built_macs: int
    all_fused_macs: int
    best_macs: int


def fused_network(
    report: CountReport, device: DeviceProfile, trades: list[FusedTrade] | None = None
) -> FusedNetwork:
    trades = fused_trades(report) if trades is None else trades
    built = estimate_latency(report, device)
    fused = estimate_latency(fused_report(report, trades), device)
    layer_built, layer_fused = {x.name: x for x in built.layers}, {x.name: x for x in fused.layers}
    timings = tuple(
        FusedTiming(
            tr,
            (layer_built[tr.separate[0].name], layer_built[tr.separate[1].name]),
            layer_fused[tr.fused.name],
        )
        for tr in trades
    )
    paying = [x.trade for x in timings if x.pays]
    best = fused_report(report, paying)
    return FusedNetwork(device, timings, built.ms, fused.ms, estimate_latency(best, device).ms, report.macs,
                        fused_report(report, trades).macs, best.macs)  # fmt: skip

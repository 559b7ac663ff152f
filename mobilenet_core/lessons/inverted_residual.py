"""V2's inverted residual (arXiv:1801.04381, Section 5.1): the tensors alive during a block,
narrow -> wide -> narrow against a ResNet bottleneck."""

from __future__ import annotations

from dataclasses import dataclass

from ..count import BlockRow, CountReport
from . import Lesson
from .blocks import (
    expansion_blocks,
    has_expansion,
)

LESSON = Lesson(__name__, "V2", 2018, "arXiv:1801.04381", position=2, needs=has_expansion, fallback="v2")


@dataclass(frozen=True)
class TensorStep:
    step: str  # "input", "expand 1×1", ...
    tensors: tuple[tuple[str, int, int, int], ...]  # (role, channels, height, width) alive now

    @property
    def values(self) -> int:
        return sum(c * h * w for _, c, h, w in self.tensors)


def residual_memory(block: BlockRow) -> dict[str, list[TensorStep]]:
    """The tensors that must be alive at each step of one block's inference, for the inverted
    residual (narrow -> wide -> narrow, the block's real widths) and for a ResNet bottleneck with
    the same widths the other way round (wide -> narrow -> wide). Residual input kept alive until
    the add when the block has one."""
    c, t, o = block.in_channels, block.expanded_channels, block.out_channels
    h, w, h2, w2 = block.in_height, block.in_width, block.out_height, block.out_width
    skip = block.residual
    keep = (("input (kept for ⊕)", c, h, w),) if skip else ()
    inverted = [
        TensorStep("input", (("input", c, h, w),)),
        TensorStep("expand 1×1", (*(keep or (("input", c, h, w),)), ("expanded", t, h, w))),
        TensorStep("depthwise", (*keep, ("expanded", t, h, w), ("depthwise out", t, h2, w2))),
        TensorStep("project 1×1", (*keep, ("depthwise out", t, h2, w2), ("output", o, h2, w2))),
        TensorStep("output", (("output", o, h2, w2),)),
    ]
    wide_keep = (("input (kept for ⊕)", t, h, w),) if skip else ()
    bottleneck = [
        TensorStep("input", (("input", t, h, w),)),
        TensorStep("reduce 1×1", (*(wide_keep or (("input", t, h, w),)), ("reduced", c, h, w))),
        TensorStep("3×3 conv", (*wide_keep, ("reduced", c, h, w), ("conv out", c, h2, w2))),
        TensorStep("expand 1×1", (*wide_keep, ("conv out", c, h2, w2), ("output", t, h2, w2))),
        TensorStep("output", (("output", t, h2, w2),)),
    ]
    return {"inverted": inverted, "bottleneck": bottleneck}


@dataclass(frozen=True)
class Handoff:
    """What one block passes to the next (and keeps for the next shortcut), in values: the
    inverted residual its narrow output, a ResNet bottleneck with the same widths its wide one."""

    block: str
    narrow: int  # out_channels x H x W
    wide: int  # expanded_channels x H x W


def handoffs(report: CountReport) -> list[Handoff]:
    """The tensor every expansion block hands on, both ways (V2, Section 5.1: between blocks
    only the bottleneck tensors must stay in memory)."""
    return [
        Handoff(
            b.name,
            b.out_channels * b.out_height * b.out_width,
            b.expanded_channels * b.out_height * b.out_width,
        )
        for b in expansion_blocks(report)
    ]


def between_blocks(report: CountReport) -> tuple[int, int]:
    """(largest tensor passed between expansion blocks of the model, the same if the blocks were
    ResNet bottlenecks passing their wide tensors), in values."""
    rows = handoffs(report)
    return max((h.narrow for h in rows), default=0), max((h.wide for h in rows), default=0)


def peak_step(steps: list[TensorStep]) -> TensorStep:
    """The step at which the most values are alive."""
    return max(steps, key=lambda s: s.values)

"""V4's Universal Inverted Bottleneck (arXiv:2404.10518, Section 3.2): one block, four variants."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..count import BlockRow, CountReport
from ..errors import ConfigError
from . import Lesson
from .blocks import (
    blocks_drawn_as,
    has_uib_variants,
)

LESSON = Lesson(
    __name__, "V4", 2024, "arXiv:2404.10518", position=1, needs=has_uib_variants, fallback="v4_conv_medium"
)

UIB_NAMES = {(True, True): "ExtraDW", (False, True): "IB", (True, False): "ConvNeXt", (False, False): "FFN"}


@dataclass(frozen=True)
class UIBChoice:
    name: str
    start: int  # 0: no start depthwise
    mid: int
    row: BlockRow  # counted by the counter with these choices
    receptive_field: int  # of the block alone, in input pixels


def receptive_field(start: int, mid: int, stride: int) -> int:
    """Input pixels one output of the block sees: the start dw (stride 1 when a mid dw follows)
    then the mid dw. 1x1 convs add nothing."""
    k1, k2 = start or 1, mid or 1
    s1 = stride if not mid else 1
    return k1 + (k2 - 1) * s1


def uib_choice(generation, alpha: float, resolution: int, block: str, start: int, mid: int) -> UIBChoice:
    """The UIB block `block` with its start / mid depthwise convs set (kernel, 0 = off)."""
    from ..count import count_block
    from ..resolve import resolve
    from ..rules import resolve_config

    config = resolve_config(generation, alpha, resolution)
    net = resolve(generation, config.alpha)
    resolved = next(b for b in net.blocks if b.name == block)
    from ..api import count_generation

    row = next(b for b in count_generation(generation, alpha, resolution).blocks if b.name == block)
    if not start and not mid and resolved.spec.stride > 1:
        raise ConfigError(f"{block} has stride {resolved.spec.stride}: it needs a depthwise conv to carry it")
    variant = replace(resolved, spec=replace(resolved.spec, start=start, mid=mid))
    counted = count_block(variant, row.in_height, row.in_width)
    return UIBChoice(UIB_NAMES[(bool(start), bool(mid))], start, mid, counted,
                     receptive_field(start, mid, resolved.spec.stride))  # fmt: skip


def uib_choices_by_stage(report: CountReport) -> list[tuple[int, str, int]]:
    """(stage, variant, how many blocks) for the UIB blocks the V4 search chose, in order."""
    out: list[tuple[int, str, int]] = []
    for b in blocks_drawn_as(report, "variants"):
        if out and out[-1][0] == b.stage and out[-1][1] == b.variant:
            out[-1] = (b.stage, b.variant, out[-1][2] + 1)
        else:
            out.append((b.stage, b.variant, 1))
    return out

"""V3's squeeze-and-excitation (arXiv:1905.02244, Section 5.3): its cost and its gates on a photo."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..count import BlockRow, CountReport
from ..layers import SqueezeExcite
from ..modules import MobileNet
from . import Lesson
from .blocks import (
    block_input,
    block_module,
    block_steps,
    has_se,
    step_inputs,
)

LESSON = Lesson(__name__, "V3", 2019, "arXiv:1905.02244", position=1, needs=has_se, fallback="v3_large")


def se_blocks(report: CountReport) -> list[BlockRow]:
    return [b for b in report.blocks if b.se_channels]


@dataclass(frozen=True)
class SECost:
    params: int
    macs: int
    block_params: int
    block_macs: int
    model_params: int
    model_macs: int


def se_cost(report: CountReport, block: str) -> SECost:
    b = next(x for x in report.blocks if x.name == block)
    layers = [layer for layer in b.layers if layer.kind == "se"]
    return SECost(sum(x.params for x in layers), sum(x.macs for x in layers), b.params, b.macs,
                  report.params, report.macs)  # fmt: skip


@torch.no_grad()
def se_gates(module: MobileNet, x: torch.Tensor, block: str) -> np.ndarray:
    """The gate (hard-sigmoid output, 0..1) of every channel of the block's SE unit on photo x."""
    blk = block_module(module, block)
    se_name, se = next((n, m) for n, m in block_steps(blk) if isinstance(m, SqueezeExcite))
    h = step_inputs(blk, block_input(module, x, block))[se_name]
    pooled = h.mean((2, 3), keepdim=True)
    return se.gate(se.conv_expand(se.act(se.conv_reduce(pooled))))[0, :, 0, 0].numpy()

"""V2's linear bottleneck (arXiv:1801.04381, Section 3.2, Figure 1): ReLU destroys a
low-dimensional manifold, and what the learner's network zeroes on a photo."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from ..count import CountReport
from ..errors import ConfigError
from ..modules import MobileNet
from . import Lesson
from .blocks import (
    block_steps,
    expansion_blocks,
    has_expansion,
    is_depthwise,
    step_inputs,
)

LESSON = Lesson(__name__, "V2", 2018, "arXiv:1801.04381", position=1, needs=has_expansion, fallback="v2")


def spiral(points: int = 400) -> np.ndarray:
    """The V2 paper's Figure 1 input: a 2-D spiral, 2 x points, centred."""
    t = np.linspace(0.5, 4 * math.pi, points)
    xy = np.stack([t * np.cos(t), t * np.sin(t)]) / (4 * math.pi)
    return xy - xy.mean(axis=1, keepdims=True)


@dataclass(frozen=True)
class SpiralResult:
    n: int
    recovered: np.ndarray  # 2 x points: T⁺ ReLU(T x)
    error: float  # mean squared distance to the spiral / mean squared norm of the spiral


def spiral_relu(n: int, seed: int = 0, points: int = 400, readout: str = "pinv") -> SpiralResult:
    """Embed the spiral in n dimensions with a random matrix T (n x 2), apply ReLU, and project
    back to 2-D (V2, Fig. 1): with small n ReLU destroys the manifold, with large n it is
    preserved. `readout` "pinv" projects back with the pseudo-inverse of T, as the paper does
    (it also shrinks and bends the picture: ReLU keeps about half of every coordinate);
    "linear" with the best linear map B (least squares, B = x Y⁺), which is what a linear layer
    after the ReLU could recover at most: the error then measures only what ReLU destroyed."""
    if readout not in ("pinv", "linear"):
        raise ConfigError(f"readout must be 'pinv' or 'linear', got {readout!r}")
    x = spiral(points)
    t = np.random.default_rng(seed).standard_normal((n, 2))
    y = np.maximum(t @ x, 0.0)
    back = (np.linalg.pinv(t) if readout == "pinv" else x @ np.linalg.pinv(y)) @ y
    error = float(((back - x) ** 2).sum(axis=0).mean() / (x**2).sum(axis=0).mean())
    return SpiralResult(n, back, error)


def spiral_errors(ns=(2, 3, 5, 15, 30), seeds: int = 16, readout: str = "pinv") -> dict[int, float]:
    """Mean reconstruction error over `seeds` random embeddings, for each n (a new dict each call)."""
    return dict(_spiral_errors(tuple(ns), seeds, readout))


@lru_cache(maxsize=16)
def _spiral_errors(ns: tuple[int, ...], seeds: int, readout: str) -> tuple[tuple[int, float], ...]:
    """Computed once per process: 60 % of a move of the lesson's n slider was this curve, which does
    not depend on n (issue 24). Sharing it between sessions is safe: it is a pure function of its
    arguments (seeded embeddings), the value is an immutable tuple, and lru_cache's table is
    changed under its own lock (a key computed twice at once gives the same tuple twice)."""
    return tuple(
        (n, float(np.mean([spiral_relu(n, s, readout=readout).error for s in range(seeds)]))) for n in ns
    )


@dataclass(frozen=True)
class ZeroShare:
    block: str
    expanded_channels: int
    out_channels: int
    expansion_zeroed: float  # share of the expanded activations the block's ReLU sets to 0
    bottleneck_zeroed: float  # share of the bottleneck outputs a ReLU there would set to 0
    activation: str


@torch.no_grad()
def relu_zero_shares(module: MobileNet, x: torch.Tensor, report: CountReport) -> list[ZeroShare]:
    """For every expansion block, on the photo x: the share of values at or below 0 entering
    the expansion activation (what ReLU / ReLU6 zero) and at the linear bottleneck's output
    (what a ReLU there would zero, and V2 leaves linear)."""
    rows = {b.name: b for b in expansion_blocks(report)}
    out = []
    h = module.act1(module.bn1(module.conv_stem(x)))
    for s, stage in enumerate(module.blocks):
        for i, block in enumerate(stage):
            name = f"blocks.{s}.{i}"
            if name in rows:
                steps = block_steps(block)
                seen = step_inputs(block, h)
                exp_conv = next(n for n, m in steps if isinstance(m, nn.Conv2d)
                                and m.out_channels > m.in_channels and not is_depthwise(m))  # fmt: skip
                after = [n for n, _ in steps]
                act = next(n for n in after[after.index(exp_conv) + 1 :] if "act" in n)
                pre = seen[act]
                bottleneck = seen["layer_scale"] if "layer_scale" in seen else seen["output"]
                row = rows[name]
                zeroed, would_zero = float((pre <= 0).float().mean()), float((bottleneck <= 0).float().mean())
                widths = (row.expanded_channels, row.out_channels)
                out.append(ZeroShare(name, *widths, zeroed, would_zero, row.activation))
            h = block(h)
    return out

"""V1's depthwise separable convolution (arXiv:1704.04861, Section 3.1), on the learner's network
and photo."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..blocktypes import REGISTRY
from ..count import CountReport, LayerRow
from ..errors import ConfigError
from ..modules import MobileNet
from . import Lesson
from .blocks import (
    block_input,
    block_module,
    block_steps,
    has_depthwise,
    step_inputs,
)

LESSON = Lesson(__name__, "V1", 2017, "arXiv:1704.04861", position=1, needs=has_depthwise)


def separable_pairs(report: CountReport) -> list[tuple[str, LayerRow, LayerRow]]:
    """(block, depthwise layer, the pointwise layer after it) for every such pair of the model."""
    pairs = []
    attention = {k for k, t in REGISTRY.items() if t.anatomy == "attention"}
    for b in report.blocks:
        if b.kind in attention:  # the K/V downsampling depthwise belongs to attention, not to this idea
            continue
        layers = list(b.layers)
        for i, layer in enumerate(layers):
            if layer.kind == "dwconv":
                nxt = next((x for x in layers[i + 1 :] if x.kind in ("pwconv", "dwconv")), None)
                if nxt is not None and nxt.kind == "pwconv":
                    pairs.append((b.name, layer, nxt))
    return pairs


@dataclass(frozen=True)
class SeparableCost:
    kernel: int  # D_K
    in_channels: int  # M
    out_channels: int  # N
    out_height: int  # D_F (output side)
    out_width: int
    depthwise_macs: int  # the counter's
    pointwise_macs: int  # the counter's
    standard_macs: int  # D_K² M N D_F²: a standard conv with the same input, output and stride
    depthwise_params: int
    pointwise_params: int
    standard_params: int

    @property
    def formula_ratio(self) -> float:
        """V1's Eq. (5): 1/N + 1/D_K²."""
        return 1 / self.out_channels + 1 / self.kernel**2

    @property
    def exact_ratio(self) -> float:
        return (self.depthwise_macs + self.pointwise_macs) / self.standard_macs


def separable_cost(dw: LayerRow, pw: LayerRow) -> SeparableCost:
    k, m, n = dw.kernel, dw.in_channels, pw.out_channels
    area = dw.out_height * dw.out_width
    return SeparableCost(
        k, m, n, dw.out_height, dw.out_width, dw.macs, pw.macs, k * k * m * n * area,
        k * k * m, m * n, k * k * m * n,
    )  # fmt: skip


@dataclass(frozen=True)
class WholeNetStandard:
    """The V1 paper's Table 4 question for the selected model: the same network with every
    depthwise + pointwise pair replaced by one standard conv."""

    separable_macs: int
    separable_params: int
    standard_macs: int
    standard_params: int


def whole_net_standard(report: CountReport) -> WholeNetStandard:
    macs, params = report.macs, report.params
    for _, dw, pw in separable_pairs(report):
        cost = separable_cost(dw, pw)
        macs += cost.standard_macs - cost.depthwise_macs - cost.pointwise_macs
        # the depthwise layer's weights and BN go; the pointwise layer's BN stays
        params += cost.standard_params - cost.depthwise_params - cost.pointwise_params - dw.norm_params
    return WholeNetStandard(report.macs, report.params, macs, params)


@dataclass(frozen=True)
class SeparableDemo:
    """A depthwise conv and the pointwise conv after it, run on a real feature map.

    `features` enters the depthwise conv; `depthwise` is its output (the conv alone, before BN),
    `pointwise` the pointwise conv applied to it directly, and `standard` a standard conv whose
    kernel is the product of the two (W[n, m] = P[n, m] D[m]): the same linear map, computed
    with D_K² M N MACs per output position instead of D_K² M + M N."""

    block: str
    cost: SeparableCost
    stride: int
    padding: int
    features: np.ndarray  # M x H x W
    depthwise_kernel: np.ndarray  # M x K x K
    pointwise_kernel: np.ndarray  # N x M
    depthwise: np.ndarray  # M x H' x W'
    pointwise: np.ndarray  # N x H' x W'
    standard: np.ndarray  # N x H' x W'

    @property
    def positions(self) -> int:
        return self.depthwise.shape[1] * self.depthwise.shape[2]

    def macs_after(self, steps: int) -> tuple[int, int, int]:
        """(standard, depthwise, pointwise) MACs after `steps` output positions."""
        c = self.cost
        return (
            steps * c.kernel**2 * c.in_channels * c.out_channels,
            steps * c.kernel**2 * c.in_channels,
            (steps * c.in_channels * c.out_channels),
        )

    def window(self, step: int) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) of the kernel window on the padded-free input for output
        position `step` (row-major), clipped to the feature map."""
        w_out = self.depthwise.shape[2]
        row, col = divmod(step, w_out)
        top, left = row * self.stride - self.padding, col * self.stride - self.padding
        k = self.cost.kernel
        h, w = self.features.shape[1:]
        return max(top, 0), max(left, 0), min(top + k, h), min(left + k, w)

    def dot_product(self, channel: int, step: int) -> tuple[np.ndarray, np.ndarray, float]:
        """The window values of `channel`, the kernel, and their dot product (= depthwise output)."""
        k, p = self.cost.kernel, self.padding
        padded = np.pad(self.features[channel], p)
        row, col = divmod(step, self.depthwise.shape[2])
        patch = padded[row * self.stride : row * self.stride + k, col * self.stride : col * self.stride + k]
        kernel = self.depthwise_kernel[channel]
        return patch, kernel, float((patch * kernel).sum())


@torch.no_grad()
def separable_demo(module: MobileNet, x: torch.Tensor, report: CountReport, block: str,
                   max_side: int = 28) -> SeparableDemo:  # fmt: skip
    """Run the first depthwise + pointwise pair of `block` on the photo `x`. Large maps are cut
    to their top-left max_side x max_side output positions so a step stays instant; the counts
    in `cost` are always the whole layer's."""
    pair = next(((dw, pw) for b, dw, pw in separable_pairs(report) if b == block), None)
    if pair is None:
        raise ConfigError(f"{block} has no depthwise conv followed by a pointwise conv")
    dw_row, pw_row = pair
    blk = block_module(module, block)
    parts = dict(block_steps(blk))
    dw_name, pw_name = dw_row.name[len(block) + 1 :], pw_row.name[len(block) + 1 :]
    feats = step_inputs(blk, block_input(module, x, block))[dw_name][0]
    dw_conv, pw_conv = parts[dw_name], parts[pw_name]
    stride, pad, k = dw_conv.stride[0], dw_conv.padding[0], dw_conv.kernel_size[0]
    # keep the inputs the first max_side x max_side outputs read, so those outputs are exact
    keep = (max_side - 1) * stride + k - pad
    feats = feats[:, :keep, :keep]
    d = F.conv2d(feats[None], dw_conv.weight, None, stride, pad, groups=dw_conv.groups)[
        0, :, :max_side, :max_side
    ]
    p = F.conv2d(d[None], pw_conv.weight)[0]
    combined = pw_conv.weight[:, :, 0, 0, None, None] * dw_conv.weight[:, 0][None]  # N x M x K x K
    s = F.conv2d(feats[None], combined, None, stride, pad)[0, :, :max_side, :max_side]
    return SeparableDemo(
        block, separable_cost(dw_row, pw_row), stride, pad, feats.numpy(), dw_conv.weight[:, 0].numpy(),
        pw_conv.weight[:, :, 0, 0].numpy(), d.numpy(), p.numpy(), s.numpy(),
    )  # fmt: skip

"""MobileNetV5's multi-scale fusion adapter (Gemma 3n's vision encoder, 2025; timm's
`MobileNetV5MultiScaleFusionAdapter`): it takes the outputs of the last stages instead of the
previous block's, so the builder puts it at `msfa` after the stages and hands it their outputs."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from ..layers import ConvNormAct, make_norm
from ..rules import make_divisible
from ..specs.blocks import MSFA
from . import BlockType, Widths, register


class MSFABlock(nn.Module):
    def __init__(self, b):
        super().__init__()
        spec: MSFA = b.spec
        self.inputs, self.output_size = spec.inputs, spec.output_size
        self.ffn = nn.Sequential()  # a UIB with neither depthwise: 1x1 expand + act, 1x1 project
        expand = ConvNormAct(b.in_channels, b.expanded_channels, 1, activation=b.activation, norm=b.norm)
        self.ffn.add_module("pw_exp", expand)
        self.ffn.add_module("pw_proj", ConvNormAct(b.expanded_channels, b.out_channels, 1, norm=b.norm))
        self.norm = make_norm(b.norm, b.out_channels)

    def forward(self, stage_outputs: list[torch.Tensor]) -> torch.Tensor:
        maps = stage_outputs[-self.inputs :]
        size = maps[0].shape[-2:]  # the earliest stage has the largest map
        x = torch.cat(
            [m if m.shape[-2:] == size else F.interpolate(m, size=size, mode="nearest") for m in maps], 1
        )
        x = self.ffn(x)
        out = self.output_size
        if tuple(size) != (out, out):
            if size[0] % out or size[1] % out:
                x = F.interpolate(x, size=(out, out), mode="bilinear")
            else:
                x = F.avg_pool2d(x, kernel_size=(size[0] // out, size[1] // out))
        return self.norm(x)


def _resolve(spec: MSFA, c) -> Widths:
    if len(c.stage_channels) < spec.inputs:
        raise ConfigError(f"{c.name}: the fusion adapter needs {spec.inputs} stages before it")
    fused = sum(c.stage_channels[-spec.inputs :])
    return Widths(out_channels=spec.out, expanded_channels=make_divisible(fused * spec.expand_ratio),
                  in_channels=fused)  # fmt: skip


def _count(walk, b) -> None:
    spec = b.spec
    _, walk.h, walk.w = walk.stage_shapes[-spec.inputs]  # the largest map; the others are upsampled to it
    walk.in_h, walk.in_w = walk.h, walk.w
    walk.conv("ffn.pw_exp", b.in_channels, b.expanded_channels, 1)
    walk.conv("ffn.pw_proj", b.expanded_channels, b.out_channels, 1)
    if (walk.h, walk.w) != (spec.output_size, spec.output_size):  # pooling or resizing: no MACs
        walk.extra("resize", "pool", b.out_channels, b.out_channels, 0, 0, spec.output_size, spec.output_size)
        walk.h = walk.w = spec.output_size
    walk.norm("norm", b.out_channels)


register(BlockType(
    kind="msfa", spec=MSFA, title="Multi-scale fusion adapter", short="MSFA", color="#f0e442",
    resolve=_resolve, count=_count, module=MSFABlock,
    variant=lambda spec: ("MSFA", "1"), colors={"MSFA": "#c49c94"},
    columns=(), to_row=lambda spec: {}, from_row=None, expands=True, anatomy="plain",
    fuses_stages=True, path="msfa", order=6, editable=False,
))  # fmt: skip

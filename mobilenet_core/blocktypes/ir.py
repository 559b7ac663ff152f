"""Inverted residual with linear bottleneck (V2, arXiv:1801.04381): 1x1 expand + norm + act,
depthwise k x k + norm + act, optional SE (V3), 1x1 linear projection + norm."""

from __future__ import annotations

from torch import nn

from ..layers import SqueezeExcite, conv2d, make_activation, make_norm
from ..rules import make_divisible
from ..specs.blocks import InvertedResidual
from . import BlockType, Widths, register


class InvertedResidualBlock(nn.Module):
    def __init__(self, b):
        super().__init__()
        spec: InvertedResidual = b.spec
        mid = b.expanded_channels
        self.has_skip = b.residual
        self.conv_pw = conv2d(b.in_channels, mid, 1)
        self.bn1 = make_norm(b.norm, mid)
        self.act1 = make_activation(b.activation)
        self.conv_dw = conv2d(mid, mid, spec.kernel, spec.stride, groups=mid)
        self.bn2 = make_norm(b.norm, mid)
        self.act2 = make_activation(b.activation)
        self.se = SqueezeExcite(mid, b.se_channels) if b.se_channels else nn.Identity()
        self.conv_pwl = conv2d(mid, b.out_channels, 1)
        self.bn3 = make_norm(b.norm, b.out_channels)  # linear bottleneck: no activation

    def forward(self, x):
        shortcut = x
        x = self.act1(self.bn1(self.conv_pw(x)))
        x = self.act2(self.bn2(self.conv_dw(x)))
        x = self.se(x)
        x = self.bn3(self.conv_pwl(x))
        return x + shortcut if self.has_skip else x


def _resolve(spec: InvertedResidual, c) -> Widths:
    out = c.scaled(spec.out)
    expanded = make_divisible(c.in_channels * spec.expand_ratio)
    return Widths(
        out_channels=out,
        expanded_channels=expanded,
        se_channels=make_divisible(expanded / 4) if spec.se else 0,
        residual=spec.stride == 1 and c.in_channels == out,
    )


def _count(walk, b) -> None:
    mid = b.expanded_channels
    walk.conv("conv_pw", b.in_channels, mid, 1)
    walk.conv("conv_dw", mid, mid, b.spec.kernel, b.spec.stride, groups=mid)
    if b.se_channels:
        walk.se("se", mid, b.se_channels)
    walk.conv("conv_pwl", mid, b.out_channels, 1)


register(BlockType(
    kind="ir", spec=InvertedResidual, title="Inverted residual", short="IR", color="#009e73",
    resolve=_resolve, count=_count, module=InvertedResidualBlock,
    variant=lambda spec: ("IR+SE" if spec.se else "IR", str(spec.kernel)),
    colors={"IR": "#98df8a", "IR+SE": "#c5e88a"},
    columns=("kernel", "expand", "se", "activation"),
    to_row=lambda spec: {"kernel": spec.kernel, "expand": spec.expand_ratio, "se": spec.se},
    from_row=lambda r: InvertedResidual(out=r.out, expand_ratio=r.float("expand", 1.0, 16.0),
                                        kernel=r.kernel("kernel"), stride=r.stride, se=r.flag("se", False),
                                        activation=r.activation),
    fold=(("conv_pw", "bn1"), ("conv_dw", "bn2"), ("conv_pwl", "bn3")),
    expands=True, anatomy="bottleneck", order=2, formulas="inverted_residual_costs",
))  # fmt: skip

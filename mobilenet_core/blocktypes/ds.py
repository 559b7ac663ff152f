"""Depthwise separable: depthwise k x k + norm + act, optional SE, pointwise 1x1 + norm (+ act in
V1). V1's building block (arXiv:1704.04861, Fig. 3); V2 and V3 open with one."""

from __future__ import annotations

from torch import nn

from ..layers import Activation, SqueezeExcite, conv2d, make_activation, make_norm
from ..rules import make_divisible
from ..specs.blocks import DepthwiseSeparable
from . import BlockType, Widths, register


class DepthwiseSeparableBlock(nn.Module):
    def __init__(self, b):
        super().__init__()
        spec: DepthwiseSeparable = b.spec
        c = b.in_channels
        self.has_skip = b.residual
        self.conv_dw = conv2d(c, c, spec.kernel, spec.stride, groups=c)
        self.bn1 = make_norm(b.norm, c)
        self.act1 = make_activation(b.activation)
        self.se = SqueezeExcite(c, b.se_channels) if b.se_channels else nn.Identity()
        self.conv_pw = conv2d(c, b.out_channels, 1)
        self.bn2 = make_norm(b.norm, b.out_channels)
        self.act2 = make_activation(b.activation if spec.pointwise_activation else Activation.NONE)

    def forward(self, x):
        shortcut = x
        x = self.act1(self.bn1(self.conv_dw(x)))
        x = self.se(x)
        x = self.act2(self.bn2(self.conv_pw(x)))
        return x + shortcut if self.has_skip else x


def _resolve(spec: DepthwiseSeparable, c) -> Widths:
    out = c.scaled(spec.out)
    return Widths(
        out_channels=out,
        expanded_channels=c.in_channels,
        se_channels=make_divisible(c.in_channels / 4) if spec.se else 0,
        residual=spec.residual and spec.stride == 1 and c.in_channels == out,
    )


def _count(walk, b) -> None:
    cin = b.in_channels
    walk.conv("conv_dw", cin, cin, b.spec.kernel, b.spec.stride, groups=cin)
    if b.se_channels:
        walk.se("se", cin, b.se_channels)
    walk.conv("conv_pw", cin, b.out_channels, 1)


def _from_row(r) -> DepthwiseSeparable:
    # V1's block: pw_act (activation after the pointwise conv) and no residual; an old file
    # without these columns gets V2 / V3's block, as before they existed
    return DepthwiseSeparable(out=r.out, kernel=r.kernel("kernel"), stride=r.stride, se=r.flag("se", False),
                              pointwise_activation=r.flag("pw_act", False), residual=r.flag("residual", True),
                              activation=r.activation)  # fmt: skip


register(BlockType(
    kind="ds", spec=DepthwiseSeparable, title="Depthwise separable", short="DS", color="#0072b2",
    resolve=_resolve, count=_count, module=DepthwiseSeparableBlock,
    variant=lambda spec: ("DS+SE" if spec.se else "DS", str(spec.kernel)),
    colors={"DS": "#aec7e8", "DS+SE": "#9edae5"},
    columns=("kernel", "se", "pw_act", "residual", "activation"),
    to_row=lambda spec: {"kernel": spec.kernel, "se": spec.se, "pw_act": spec.pointwise_activation,
                         "residual": spec.residual},
    from_row=_from_row, fold=(("conv_dw", "bn1"), ("conv_pw", "bn2")), anatomy="separable", order=1,
    formulas="depthwise_separable_costs",
))  # fmt: skip

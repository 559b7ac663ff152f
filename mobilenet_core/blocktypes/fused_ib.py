"""FusedIB (V4) / EdgeResidual (V5's "er"): a k x k full conv to in x expand (with the stride)
+ norm + act, then a 1x1 projection + norm."""

from __future__ import annotations

from torch import nn

from ..layers import conv2d, make_activation, make_norm
from ..rules import make_divisible
from ..specs.blocks import FusedIB
from . import BlockType, Widths, register


class FusedIBBlock(nn.Module):
    def __init__(self, b):
        super().__init__()
        mid = b.expanded_channels
        self.has_skip = b.residual
        self.conv_exp = conv2d(b.in_channels, mid, b.spec.kernel, b.spec.stride)
        self.bn1 = make_norm(b.norm, mid)
        self.act = make_activation(b.activation)
        self.conv_pwl = conv2d(mid, b.out_channels, 1)
        self.bn2 = make_norm(b.norm, b.out_channels)

    def forward(self, x):
        shortcut = x
        x = self.act(self.bn1(self.conv_exp(x)))
        x = self.bn2(self.conv_pwl(x))
        return x + shortcut if self.has_skip else x


def _resolve(spec: FusedIB, c) -> Widths:
    out = c.scaled(spec.out)
    return Widths(
        out_channels=out,
        expanded_channels=make_divisible(c.in_channels * spec.expand_ratio),
        residual=spec.stride == 1 and c.in_channels == out,
    )


def _count(walk, b) -> None:
    walk.conv("conv_exp", b.in_channels, b.expanded_channels, b.spec.kernel, b.spec.stride)
    walk.conv("conv_pwl", b.expanded_channels, b.out_channels, 1)


register(BlockType(
    kind="fused_ib", spec=FusedIB, title="Fused inverted bottleneck", short="FusedIB", color="#56b4e9",
    resolve=_resolve, count=_count, module=FusedIBBlock,
    variant=lambda spec: ("FusedIB", str(spec.kernel)), colors={"FusedIB": "#ffbb78"},
    columns=("kernel", "expand", "activation"),
    to_row=lambda spec: {"kernel": spec.kernel, "expand": spec.expand_ratio},
    from_row=lambda r: FusedIB(out=r.out, expand_ratio=r.float("expand", 1.0, 16.0),
                               kernel=r.kernel("kernel"), stride=r.stride, activation=r.activation),
    fold=(("conv_exp", "bn1"), ("conv_pwl", "bn2")), expands=True, anatomy="bottleneck", order=3,
))  # fmt: skip

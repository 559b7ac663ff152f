"""A plain k x k conv + norm + act: V4-S's early layers and the final 960 / 576 conv."""

from __future__ import annotations

from torch import nn

from ..layers import conv2d, make_activation, make_norm
from ..specs.blocks import ConvBlock
from . import BlockType, Widths, register


class ConvBnActBlock(nn.Module):
    def __init__(self, b):
        super().__init__()
        self.conv = conv2d(b.in_channels, b.out_channels, b.spec.kernel, b.spec.stride)
        self.bn1 = make_norm(b.norm, b.out_channels)
        self.act = make_activation(b.activation)

    def forward(self, x):
        return self.act(self.bn1(self.conv(x)))


def _resolve(spec: ConvBlock, c) -> Widths:
    out = c.scaled(spec.out)
    return Widths(out_channels=out, expanded_channels=out)


def _count(walk, b) -> None:
    walk.conv("conv", b.in_channels, b.out_channels, b.spec.kernel, b.spec.stride)


register(BlockType(
    kind="conv", spec=ConvBlock, title="Convolution", short="Conv", color="#555555",
    resolve=_resolve, count=_count, module=ConvBnActBlock,
    variant=lambda spec: ("Conv", str(spec.kernel)), colors={"Conv": "#d9d9d9"},
    columns=("kernel", "activation"),
    to_row=lambda spec: {"kernel": spec.kernel},
    from_row=lambda r: ConvBlock(out=r.out, kernel=r.kernel("kernel"), stride=r.stride,
                                 activation=r.activation),
    fold=(("conv", "bn1"),), order=0,
))  # fmt: skip

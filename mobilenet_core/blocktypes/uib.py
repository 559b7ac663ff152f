"""V4's Universal Inverted Bottleneck (arXiv:2404.10518, Fig. 4), V5's "uir": an optional
depthwise before the expansion, 1x1 expand + norm + act, an optional depthwise after it (it
carries the stride when present), 1x1 projection + norm, layer scale in the hybrids and V5."""

from __future__ import annotations

from torch import nn

from ..layers import ConvNormAct, LayerScale2d
from ..rules import make_divisible
from ..specs.blocks import UIB
from . import BlockType, Widths, register


class UIBBlock(nn.Module):
    """The stride sits on the middle depthwise when there is one, else on the start depthwise."""

    def __init__(self, b):
        super().__init__()
        spec: UIB = b.spec
        c, mid, norm = b.in_channels, b.expanded_channels, b.norm
        self.has_skip = b.residual
        start_stride = spec.stride if not spec.mid else 1
        self.dw_start = (
            ConvNormAct(c, c, spec.start, start_stride, groups=c, norm=norm) if spec.start else nn.Identity()
        )
        self.pw_exp = ConvNormAct(c, mid, 1, activation=b.activation, norm=norm)
        self.dw_mid = (
            ConvNormAct(mid, mid, spec.mid, spec.stride, groups=mid, activation=b.activation, norm=norm)
            if spec.mid
            else nn.Identity()
        )
        self.pw_proj = ConvNormAct(mid, b.out_channels, 1, norm=norm)
        self.layer_scale = LayerScale2d(b.out_channels) if b.layer_scale else nn.Identity()

    def forward(self, x):
        shortcut = x
        x = self.dw_start(x)
        x = self.pw_exp(x)
        x = self.dw_mid(x)
        x = self.pw_proj(x)
        x = self.layer_scale(x)
        return x + shortcut if self.has_skip else x


def _resolve(spec: UIB, c) -> Widths:
    out = c.scaled(spec.out)
    return Widths(
        out_channels=out,
        expanded_channels=make_divisible(c.in_channels * spec.expand_ratio),
        residual=spec.stride == 1 and c.in_channels == out,
        layer_scale=c.generation.layer_scale,
    )


def _count(walk, b) -> None:
    spec, cin, mid, cout = b.spec, b.in_channels, b.expanded_channels, b.out_channels
    if spec.start:
        walk.conv("dw_start", cin, cin, spec.start, 1 if spec.mid else spec.stride, groups=cin)
    walk.conv("pw_exp", cin, mid, 1)
    if spec.mid:
        walk.conv("dw_mid", mid, mid, spec.mid, spec.stride, groups=mid)
    walk.conv("pw_proj", mid, cout, 1)
    if b.layer_scale:
        walk.extra("layer_scale", "layer_scale", cout, cout, cout, 0, walk.h, walk.w)


def _from_row(r) -> UIB:
    expand = r.float("expand", 1.0, 16.0)
    start, mid = r.kernel("start", allow_zero=True), r.kernel("mid", allow_zero=True)
    if r.stride == 2 and not (start or mid):
        raise r.error(
            "a stride-2 UIB needs a start or middle depthwise to carry the stride", "row_uib_stride"
        )
    return UIB(out=r.out, expand_ratio=expand, start=start, mid=mid, stride=r.stride, activation=r.activation)


register(BlockType(
    kind="uib", spec=UIB, title="Universal inverted bottleneck", short="UIB", color="#d55e00",
    resolve=_resolve, count=_count, module=UIBBlock,
    variant=lambda spec: (spec.variant, f"{spec.start or '-'}/{spec.mid or '-'}"),
    colors={"ExtraDW": "#ff9896", "IB": "#f7b6d2", "ConvNeXt": "#c5b0d5", "FFN": "#dbdb8d"},
    columns=("expand", "start", "mid", "activation"),
    to_row=lambda spec: {"start": spec.start, "mid": spec.mid, "expand": spec.expand_ratio},
    from_row=_from_row, expands=True, anatomy="variants", order=4,
))  # fmt: skip

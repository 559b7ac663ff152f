"""Mobile MQA (V4 hybrids, arXiv:2404.10518 Sec. 4; V5): norm, multi-query attention with keys
and values optionally downsampled by a stride-2 depthwise, layer scale, residual."""

from __future__ import annotations

from torch import nn

from ..errors import ConfigError
from ..layers import LayerScale2d, MultiQueryAttention2d, make_norm
from ..specs.blocks import MobileMQA
from . import BlockType, Widths, register


class MobileMQABlock(nn.Module):
    def __init__(self, b):
        super().__init__()
        spec: MobileMQA = b.spec
        c = b.in_channels
        self.norm = make_norm(b.norm, c)
        self.attn = MultiQueryAttention2d(c, spec.heads, spec.key_dim, spec.kv_stride, spec.kv_kernel, b.norm)
        self.layer_scale = LayerScale2d(c) if b.layer_scale else nn.Identity()

    def forward(self, x):
        return x + self.layer_scale(self.attn(self.norm(x)))


def _resolve(spec: MobileMQA, c) -> Widths:
    # Attention keeps the width of its stage; heads and key_dim do not scale with alpha.
    out = c.scaled(spec.out)
    if out != c.in_channels:
        raise ConfigError(
            f"{c.name}: Mobile MQA keeps its width ({c.in_channels} in, {out} out)",
            "row_mqa_width",
            width=c.in_channels,
            out=out,
        )
    return Widths(out_channels=out, expanded_channels=spec.heads * spec.key_dim, residual=True,
                  layer_scale=c.generation.layer_scale)  # fmt: skip


def _count(walk, b) -> None:
    spec, cin, cout = b.spec, b.in_channels, b.out_channels
    h, w = walk.h, walk.w
    heads, d = spec.heads, spec.key_dim
    walk.norm("norm", cin)
    walk.conv("attn.query.proj", cin, heads * d, 1, norm=False, at=(h, w))
    kv_h, kv_w = h, w
    for branch in ("key", "value"):
        kv_h, kv_w = h, w
        if spec.kv_stride > 1:
            row = walk.conv(f"attn.{branch}.down_conv", cin, cin, spec.kv_kernel, spec.kv_stride, groups=cin,
                            at=(h, w))  # fmt: skip
            kv_h, kv_w = row.out_height, row.out_width
        walk.conv(f"attn.{branch}.proj", cin, d, 1, norm=False, at=(kv_h, kv_w))
    queries, keys = h * w, kv_h * kv_w
    # scores: [heads, N, M], one d-long dot product each; output: [heads, N, d]
    walk.extra("attn.qk", "attention", d, keys, 0, queries * heads * d * keys, h, w)
    walk.extra("attn.av", "attention", keys, heads * d, 0, queries * heads * keys * d, h, w)
    walk.conv("attn.output.proj", heads * d, cout, 1, norm=False, at=(h, w))
    if b.layer_scale:
        walk.extra("layer_scale", "layer_scale", cout, cout, cout, 0, h, w)


def _from_row(r) -> MobileMQA:
    if r.stride != 1:
        raise r.error("Mobile MQA keeps the resolution (stride 1)", "row_mqa_stride")
    return MobileMQA(out=r.out, heads=r.int("heads", 1, 32), key_dim=r.int("key_dim", 8, 256),
                     kv_stride=r.int("kv_stride", 1, 2, default=1))  # fmt: skip


register(BlockType(
    kind="mqa", spec=MobileMQA, title="Mobile multi-query attention", short="Mobile MQA", color="#cc79a7",
    resolve=_resolve, count=_count, module=MobileMQABlock,
    variant=lambda spec: ("Mobile MQA", "-"), colors={"Mobile MQA": "#fdd0a2"},
    columns=("heads", "key_dim", "kv_stride"),
    to_row=lambda spec: {"heads": spec.heads, "key_dim": spec.key_dim, "kv_stride": spec.kv_stride},
    from_row=_from_row, shows_kernel=False, anatomy="attention", order=5,
))  # fmt: skip

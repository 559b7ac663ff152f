"""The counter's bookkeeping: one LayerRow per layer, and the Walker that block types' count
rules use to add rows while it tracks the feature-map size. Pure arithmetic; nothing is built."""

from __future__ import annotations

from dataclasses import dataclass

from .rules import conv_output_size
from .specs.blocks import Norm


@dataclass(frozen=True)
class LayerRow:
    """One layer: a conv (with its norm), an SE unit, an attention product, a norm, the classifier."""

    name: str  # module path in the built model (attention products: attn.qk / attn.av)
    block: str
    kind: str  # conv, dwconv, pwconv, se, attention, norm, layer_scale, pool, linear
    in_channels: int
    out_channels: int
    kernel: int
    stride: int
    out_height: int
    out_width: int
    params: int
    macs: int
    activations: int  # elements of this layer's output, batch 1
    norm_params: int = 0  # of `params`, the norm's gamma (and beta): folded away for deployment
    bias_params: int = 0  # of `params`, conv / linear biases


class Walker:
    """Accumulates the layer rows of one block while tracking the feature-map size.

    `stage_shapes`: (channels, height, width) of every finished stage's output, for block types
    that fuse several stages (V5's MSFA)."""

    def __init__(self, block: str, height: int, width: int, prefix: str | None = None,
                 norm: Norm = "batch", stage_shapes: tuple = ()):  # fmt: skip
        self.block, self.h, self.w = block, height, width
        self.in_h, self.in_w = height, width  # the block's input size (a fusing block sets its own)
        # module path prefix of this block's layers ("" for top-level modules: stem, head)
        self.prefix = block + "." if prefix is None else prefix
        self.norm_per_channel = 2 if norm == "batch" else 1  # BN: gamma and beta; RMS norm: weight
        self.stage_shapes = stage_shapes
        self.rows: list[LayerRow] = []

    def conv(
        self, name, in_ch, out_ch, kernel, stride=1, groups=1, bias=False, norm=True, at=None
    ) -> LayerRow:
        h, w = at if at is not None else (self.h, self.w)
        oh, ow = conv_output_size(h, kernel, stride), conv_output_size(w, kernel, stride)
        weights = kernel * kernel * (in_ch // groups) * out_ch
        bias_params = out_ch if bias else 0
        norm_params = self.norm_per_channel * out_ch if norm else 0
        kind = "dwconv" if groups > 1 and groups == in_ch else ("pwconv" if kernel == 1 else "conv")
        row = LayerRow(
            name=self.prefix + name, block=self.block, kind=kind, in_channels=in_ch,
            out_channels=out_ch, kernel=kernel, stride=stride, out_height=oh, out_width=ow,
            params=weights + bias_params + norm_params, macs=weights * oh * ow,
            activations=out_ch * oh * ow, norm_params=norm_params, bias_params=bias_params,
        )  # fmt: skip
        self.rows.append(row)
        if at is None:
            self.h, self.w = oh, ow
        return row

    def extra(self, name, kind, in_ch, out_ch, params, macs, height, width, kernel=1, stride=1, bias=0):
        self.rows.append(
            LayerRow(
                name=self.prefix + name,
                block=self.block,
                kind=kind,
                in_channels=in_ch,
                out_channels=out_ch,
                kernel=kernel,
                stride=stride,
                out_height=height,
                out_width=width,
                params=params,
                macs=macs,
                activations=out_ch * height * width,
                norm_params=params if kind == "norm" else 0,
                bias_params=bias,
            )  # fmt: skip
        )

    def norm(self, name, channels):
        """A norm of its own (MQA's pre-norm, MSFA's output norm), at the current size."""
        self.extra(name, "norm", channels, channels, self.norm_per_channel * channels, 0, self.h, self.w)

    def se(self, name, channels, squeeze):
        # Two 1x1 convs with biases on the pooled 1 x 1 vector.
        params = 2 * channels * squeeze + squeeze + channels
        self.extra(name, "se", channels, channels, params, 2 * channels * squeeze, self.h, self.w,
                   bias=squeeze + channels)  # fmt: skip

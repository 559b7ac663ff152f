"""The analytic counter: parameters, MACs and activation sizes from the resolved specs.

It never builds or runs a model. Convention (the MobileNet papers' "Mult-Adds", and what
torch's FlopCounterMode reports / 2): multiplications of convolutions, linear layers and the
two attention matrix products count; batch norm, activations, pooling, residual additions and
the SE gate's multiply do not. FLOPs = 2 x MACs. Parameters include BN gamma and beta (not
the running statistics) and layer-scale gammas.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .specs.blocks import UIB, DepthwiseSeparable, FusedIB, InvertedResidual, MobileMQA
from .specs.width import ResolvedBlock, ResolvedNet, conv_output_size

MAC_CONVENTION = (
    "MACs = multiply-accumulates of convolutions, linear layers and attention matrix products "
    "(q·kᵀ and attn·v); batch norm, activations, pooling, residual additions and the SE gate's "
    "multiply are not counted. FLOPs = 2 × MACs."
)


@dataclass(frozen=True)
class LayerRow:
    """One layer: a conv (with its BN), an SE unit, an attention product, a norm, the classifier."""

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
    norm_params: int = 0  # of `params`, the BN gamma and beta (folded away for deployment)
    bias_params: int = 0  # of `params`, conv / linear biases


@dataclass(frozen=True)
class BlockRow:
    """One block (the stem and the head count as blocks)."""

    name: str
    stage: int
    kind: str  # conv, ds, ir, fused_ib, uib, mqa, head
    variant: str  # human label: "Conv", "DS", "IR", "IR+SE", "ExtraDW", "Mobile MQA", ...
    in_channels: int
    expanded_channels: int
    out_channels: int
    kernel: str  # e.g. "3", "5/5" (UIB start/mid), "-" (FFN)
    stride: int
    in_height: int
    in_width: int
    out_height: int
    out_width: int
    se_channels: int
    residual: bool
    activation: str
    params: int
    macs: int
    activations: int  # elements of the block output, batch 1
    layers: tuple[LayerRow, ...] = field(repr=False)


@dataclass(frozen=True)
class CountReport:
    model: str
    alpha: float
    resolution: int
    params: int
    macs: int
    blocks: tuple[BlockRow, ...]

    @property
    def layers(self) -> tuple[LayerRow, ...]:
        return tuple(layer for b in self.blocks for layer in b.layers)

    @property
    def norm_params(self) -> int:
        """Batch-norm gamma and beta: gone once BN is folded into the convs (TF-slim's V2
        tables count parameters that way: 3.47 M for the 3,504,872 of V2 1.0)."""
        return sum(layer.norm_params for layer in self.layers)

    def block_table(self) -> list[dict]:
        """One row per block, as the app's block table shows it (English column names)."""
        return [
            {
                "block": b.name, "type": b.variant, "in": b.in_channels, "exp": b.expanded_channels,
                "out": b.out_channels, "kernel": b.kernel, "stride": b.stride,
                "output": f"{b.out_channels}×{b.out_height}×{b.out_width}" if b.kind != "head"
                else str(b.out_channels),
                "params": b.params, "MACs": b.macs, "activation": b.activation,
                "residual": "⊕" if b.residual else "", "SE": b.se_channels or None,
            }
            for b in self.blocks
        ]  # fmt: skip

    def _repr_html_(self) -> str:
        """In Jupyter: the block table with the totals, as in the app's overview."""
        from html import escape

        rows = self.block_table()
        head = "".join(f"<th>{escape(k)}</th>" for k in rows[0])
        body = "".join(
            "<tr>" + "".join(
                f'<td style="text-align:right">{v:,}</td>' if isinstance(v, int) and k in ("params", "MACs")
                else f"<td>{escape('' if v is None else str(v))}</td>" for k, v in row.items()
            ) + "</tr>"
            for row in rows
        )  # fmt: skip
        caption = (f"{escape(self.model)} · α {self.alpha:g} · {self.resolution}×{self.resolution} px · "
                   f"{self.params:,} params · {self.macs:,} MACs")  # fmt: skip
        return (
            f"<table><caption>{caption}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )

    def stage_totals(self) -> list[tuple[str, int, int]]:
        """(label, params, MACs) per stage: "stem", "stage 0", ..., "head"."""
        totals: dict[str, list[int]] = {}
        for b in self.blocks:
            label = b.name if b.name in ("stem", "head") else f"stage {b.stage}"
            entry = totals.setdefault(label, [0, 0])
            entry[0] += b.params
            entry[1] += b.macs
        return [(label, p, m) for label, (p, m) in totals.items()]

    @property
    def attention_macs(self) -> int:
        return sum(layer.macs for layer in self.layers if layer.kind == "attention")

    @property
    def torchinfo_mult_adds(self) -> int:
        """What torchinfo.summary reports as total mult-adds for this model: its hooks see
        modules only, so the attention products (functional matmuls) are missing, and it adds
        one per BN and bias parameter. (Held against torchinfo itself in the tests.)"""
        biases = sum(layer.bias_params for layer in self.layers)
        return self.macs - self.attention_macs + self.norm_params + biases

    @property
    def fvcore_macs(self) -> int:
        """About what fvcore reports: no attention products, one op per element batch norm
        normalises."""
        return self.macs - self.attention_macs + self.norm_output_elements

    @property
    def thop_macs(self) -> int:
        """At least what thop / ptflops miss: the attention products (they see modules only)."""
        return self.macs - self.attention_macs

    @property
    def norm_output_elements(self) -> int:
        """Elements batch norm normalises (what fvcore adds as one op each)."""
        return sum(layer.activations for layer in self.layers if layer.norm_params)

    @property
    def flops(self) -> int:
        return 2 * self.macs

    @property
    def activation_elements(self) -> int:
        """Sum of all layer outputs (batch 1): an upper bound of what inference keeps alive."""
        return sum(layer.activations for layer in self.layers)

    @property
    def peak_activation_elements(self) -> int:
        """Largest input + output pair of one block: a lower bound of inference memory."""
        best, previous = 0, 3 * self.resolution * self.resolution
        for b in self.blocks:
            best = max(best, previous + b.activations)
            previous = b.activations
        return best

    def to_dict(self, layers: bool = False) -> dict:
        blocks = []
        for b in self.blocks:
            row = asdict(b)
            if layers:
                row["layers"] = [asdict(layer) for layer in b.layers]
            else:
                row.pop("layers")
            blocks.append(row)
        return {
            "model": self.model,
            "alpha": self.alpha,
            "resolution": self.resolution,
            "params": self.params,
            "macs": self.macs,
            "blocks": blocks,
        }


class _Walker:
    """Accumulates layer rows of one block while tracking the feature-map size."""

    def __init__(self, block: str, height: int, width: int, prefix: str | None = None):
        self.block, self.h, self.w = block, height, width
        # module path prefix of this block's layers ("" for top-level modules: stem, head)
        self.prefix = block + "." if prefix is None else prefix
        self.rows: list[LayerRow] = []

    def conv(
        self, name, in_ch, out_ch, kernel, stride=1, groups=1, bias=False, norm=True, at=None
    ) -> LayerRow:
        h, w = at if at is not None else (self.h, self.w)
        oh, ow = conv_output_size(h, kernel, stride), conv_output_size(w, kernel, stride)
        weights = kernel * kernel * (in_ch // groups) * out_ch
        bias_params = out_ch if bias else 0
        norm_params = 2 * out_ch if norm else 0
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

    def se(self, name, channels, squeeze):
        # Two 1x1 convs with biases on the pooled 1 x 1 vector.
        params = 2 * channels * squeeze + squeeze + channels
        self.extra(
            name,
            "se",
            channels,
            channels,
            params,
            2 * channels * squeeze,
            self.h,
            self.w,
            bias=squeeze + channels,
        )


def _variant(b: ResolvedBlock) -> tuple[str, str]:
    spec = b.spec
    if isinstance(spec, UIB):
        kernel = f"{spec.start or '-'}/{spec.mid or '-'}"
        return spec.variant, kernel
    if isinstance(spec, MobileMQA):
        return "Mobile MQA", "-"
    if isinstance(spec, FusedIB):
        return "FusedIB", str(spec.kernel)
    if isinstance(spec, InvertedResidual):
        return ("IR+SE" if spec.se else "IR"), str(spec.kernel)
    if isinstance(spec, DepthwiseSeparable):
        return ("DS+SE" if spec.se else "DS"), str(spec.kernel)
    return "Conv", str(spec.kernel)


def _count_block(b: ResolvedBlock, height: int, width: int) -> BlockRow:
    walk = _Walker(b.name, height, width, prefix="" if b.name == "stem" else None)
    spec = b.spec
    cin, mid, cout = b.in_channels, b.expanded_channels, b.out_channels
    if b.kind == "conv":
        if b.name == "stem":
            walk.conv("conv_stem", cin, cout, spec.kernel, spec.stride)  # its BN is bn1
        else:
            walk.conv("conv", cin, cout, spec.kernel, spec.stride)
    elif b.kind == "ds":
        walk.conv("conv_dw", cin, cin, spec.kernel, spec.stride, groups=cin)
        if b.se_channels:
            walk.se("se", cin, b.se_channels)
        walk.conv("conv_pw", cin, cout, 1)
    elif b.kind == "ir":
        walk.conv("conv_pw", cin, mid, 1)
        walk.conv("conv_dw", mid, mid, spec.kernel, spec.stride, groups=mid)
        if b.se_channels:
            walk.se("se", mid, b.se_channels)
        walk.conv("conv_pwl", mid, cout, 1)
    elif b.kind == "fused_ib":
        walk.conv("conv_exp", cin, mid, spec.kernel, spec.stride)
        walk.conv("conv_pwl", mid, cout, 1)
    elif b.kind == "uib":
        if spec.start:
            walk.conv("dw_start", cin, cin, spec.start, 1 if spec.mid else spec.stride, groups=cin)
        walk.conv("pw_exp", cin, mid, 1)
        if spec.mid:
            walk.conv("dw_mid", mid, mid, spec.mid, spec.stride, groups=mid)
        walk.conv("pw_proj", mid, cout, 1)
        if b.layer_scale:
            walk.extra("layer_scale", "layer_scale", cout, cout, cout, 0, walk.h, walk.w)
    elif b.kind == "mqa":
        h, w = walk.h, walk.w
        heads, d = spec.heads, spec.key_dim
        walk.extra("norm", "norm", cin, cin, 2 * cin, 0, h, w)
        walk.conv("attn.query.proj", cin, heads * d, 1, norm=False, at=(h, w))
        kv_h, kv_w = h, w
        for branch in ("key", "value"):
            kv_h, kv_w = h, w
            if spec.kv_stride > 1:
                row = walk.conv(
                    f"attn.{branch}.down_conv",
                    cin,
                    cin,
                    spec.kv_kernel,
                    spec.kv_stride,
                    groups=cin,
                    at=(h, w),
                )
                kv_h, kv_w = row.out_height, row.out_width
            walk.conv(f"attn.{branch}.proj", cin, d, 1, norm=False, at=(kv_h, kv_w))
        queries, keys = h * w, kv_h * kv_w
        # scores: [heads, N, M], one d-long dot product each; output: [heads, N, d]
        walk.extra("attn.qk", "attention", d, keys, 0, queries * heads * d * keys, h, w)
        walk.extra("attn.av", "attention", keys, heads * d, 0, queries * heads * keys * d, h, w)
        walk.conv("attn.output.proj", heads * d, cout, 1, norm=False, at=(h, w))
        if b.layer_scale:
            walk.extra("layer_scale", "layer_scale", cout, cout, cout, 0, h, w)
    else:  # pragma: no cover
        raise TypeError(b.kind)
    variant, kernel = _variant(b)
    return BlockRow(
        name=b.name,
        stage=b.stage,
        kind=b.kind,
        variant=variant,
        in_channels=cin,
        expanded_channels=mid,
        out_channels=cout,
        kernel=kernel,
        stride=spec.stride,
        in_height=height,
        in_width=width,
        out_height=walk.h,
        out_width=walk.w,
        se_channels=b.se_channels,
        residual=b.residual,
        activation=b.activation.value,
        params=sum(r.params for r in walk.rows),
        macs=sum(r.macs for r in walk.rows),
        activations=cout * walk.h * walk.w,
        layers=tuple(walk.rows),
    )


def _count_head(net: ResolvedNet, height: int, width: int) -> BlockRow:
    head = net.generation.head
    walk = _Walker("head", height, width, prefix="")
    features, cin = net.head_features, net.head_in
    if features and head.before_pool:
        walk.conv("conv_head", cin, features, 1, bias=head.bias, norm=head.norm)
    pooled = features if features and head.before_pool else cin
    walk.extra("global_pool", "pool", pooled, pooled, 0, 0, 1, 1, kernel=walk.h)
    walk.h = walk.w = 1
    if features and not head.before_pool:
        walk.conv("conv_head", cin, features, 1, bias=head.bias, norm=head.norm)
    fc_in = features or cin
    walk.extra(
        "classifier",
        "linear",
        fc_in,
        head.num_classes,
        fc_in * head.num_classes + head.num_classes,
        fc_in * head.num_classes,
        1,
        1,
        bias=head.num_classes,
    )
    params = sum(r.params for r in walk.rows)
    macs = sum(r.macs for r in walk.rows)
    return BlockRow(
        name="head",
        stage=len(net.generation.stages),
        kind="head",
        variant="Head",
        in_channels=cin,
        expanded_channels=features or cin,
        out_channels=head.num_classes,
        kernel="1" if features else "-",
        stride=1,
        in_height=height,
        in_width=width,
        out_height=1,
        out_width=1,
        se_channels=0,
        residual=False,
        activation=net.generation.activation.value if features else "none",
        params=params,
        macs=macs,
        activations=head.num_classes,
        layers=tuple(walk.rows),
    )


def count_resolved(net: ResolvedNet, resolution: int) -> CountReport:
    rows = []
    h = w = resolution
    for b in (net.stem, *net.blocks):
        row = _count_block(b, h, w)
        rows.append(row)
        h, w = row.out_height, row.out_width
    rows.append(_count_head(net, h, w))
    return CountReport(
        model=net.generation.name,
        alpha=net.alpha,
        resolution=resolution,
        params=sum(r.params for r in rows),
        macs=sum(r.macs for r in rows),
        blocks=tuple(rows),
    )

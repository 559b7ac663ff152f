"""The analytic counter: parameters, MACs and activation sizes from the resolved specs.

It never builds or runs a model. Convention (the MobileNet papers' "Mult-Adds", and what
torch's FlopCounterMode reports / 2): multiplications of convolutions, linear layers and the
two attention matrix products count; batch norm, activations, pooling, residual additions and
the SE gate's multiply do not. FLOPs = 2 x MACs. Parameters include BN gamma and beta (not
the running statistics) and layer-scale gammas.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .blocktypes import block_type
from .resolve import ResolvedBlock, ResolvedNet
from .walk import LayerRow, Walker

MAC_CONVENTION = (
    "MACs = multiply-accumulates of convolutions, linear layers and attention matrix products "
    "(q·kᵀ and attn·v); batch norm, activations, pooling, residual additions and the SE gate's "
    "multiply are not counted. FLOPs = 2 × MACs."
)


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
        one per norm parameter and, for a conv's bias, one per bias and output position (V5's
        stem); SE's convs run on the pooled 1 x 1 map. (Held against torchinfo in the tests.)"""
        conv_kinds = ("conv", "dwconv", "pwconv")
        biases = sum(
            layer.bias_params * (layer.out_height * layer.out_width if layer.kind in conv_kinds else 1)
            for layer in self.layers
        )
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


def count_block(
    b: ResolvedBlock, height: int, width: int, stage_shapes: tuple = (), stem_bias: bool = False
) -> BlockRow:
    """One block's rows, from its block type's own count rule (the stem is counted here)."""
    walk = Walker(b.name, height, width, prefix="" if b.name == "stem" else None, norm=b.norm,
                  stage_shapes=stage_shapes)  # fmt: skip
    spec = b.spec
    kind = block_type(b.kind)
    if b.name == "stem":
        if stem_bias:  # V5: conv_stem.conv (with a bias) and its norm conv_stem.bn
            walk.conv("conv_stem.conv", b.in_channels, b.out_channels, spec.kernel, spec.stride, bias=True)
        else:
            walk.conv("conv_stem", b.in_channels, b.out_channels, spec.kernel, spec.stride)  # its norm is bn1
    else:
        kind.count(walk, b)
    variant, kernel = kind.variant(spec)
    return BlockRow(
        name=b.name,
        stage=b.stage,
        kind=b.kind,
        variant=variant,
        in_channels=b.in_channels,
        expanded_channels=b.expanded_channels,
        out_channels=b.out_channels,
        kernel=kernel,
        stride=spec.stride,
        in_height=walk.in_h,
        in_width=walk.in_w,
        out_height=walk.h,
        out_width=walk.w,
        se_channels=b.se_channels,
        residual=b.residual,
        activation=b.activation.value,
        params=sum(r.params for r in walk.rows),
        macs=sum(r.macs for r in walk.rows),
        activations=b.out_channels * walk.h * walk.w,
        layers=tuple(walk.rows),
    )


def _count_head(net: ResolvedNet, height: int, width: int) -> BlockRow:
    head = net.generation.head
    walk = Walker("head", height, width, prefix="", norm=net.generation.norm)
    features, cin = net.head_features, net.head_in
    if features and head.before_pool:
        walk.conv("conv_head", cin, features, 1, bias=head.bias, norm=head.norm)
    pooled = features if features and head.before_pool else cin
    walk.extra("global_pool", "pool", pooled, pooled, 0, 0, 1, 1, kernel=walk.h)
    walk.h = walk.w = 1
    if features and not head.before_pool:
        walk.conv("conv_head", cin, features, 1, bias=head.bias, norm=head.norm)
    fc_in = features or cin
    if head.num_classes:  # 0: an encoder, whose output is the pooled feature vector
        weights = fc_in * head.num_classes
        walk.extra("classifier", "linear", fc_in, head.num_classes, weights + head.num_classes, weights, 1, 1,
                   bias=head.num_classes)  # fmt: skip
    outputs = head.num_classes or fc_in
    params = sum(r.params for r in walk.rows)
    macs = sum(r.macs for r in walk.rows)
    return BlockRow(
        name="head",
        stage=len(net.generation.stages),
        kind="head",
        variant="Head",
        in_channels=cin,
        expanded_channels=features or cin,
        out_channels=outputs,
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
        activations=outputs,
        layers=tuple(walk.rows),
    )


def count_resolved(net: ResolvedNet, resolution: int) -> CountReport:
    rows = [count_block(net.stem, resolution, resolution, stem_bias=net.generation.stem_bias)]
    h, w = rows[0].out_height, rows[0].out_width
    stage_shapes: list[tuple[int, int, int]] = []  # (channels, height, width) after each stage
    for i, b in enumerate(net.blocks):
        row = count_block(b, h, w, tuple(stage_shapes))
        rows.append(row)
        h, w = row.out_height, row.out_width
        if i + 1 == len(net.blocks) or net.blocks[i + 1].stage != b.stage:
            stage_shapes.append((row.out_channels, h, w))
    rows.append(_count_head(net, h, w))
    return CountReport(
        model=net.generation.name,
        alpha=net.alpha,
        resolution=resolution,
        params=sum(r.params for r in rows),
        macs=sum(r.macs for r in rows),
        blocks=tuple(rows),
    )

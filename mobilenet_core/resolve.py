"""Resolution of alpha: one pure function, `resolve`, used by both the builder and the counter, so
the two can never disagree on a channel count. Each block's widths come from its block type's
width rule (`blocktypes`); the generation's conventions (what alpha scales, what stays fixed)
are data on the generation."""

from __future__ import annotations

from dataclasses import dataclass

from .blocktypes import WidthContext, block_type
from .rules import make_divisible
from .specs.blocks import Activation, BlockSpec, Generation, Norm


@dataclass(frozen=True)
class ResolvedBlock:
    """One block with concrete channel counts. `name` is its module path in the built model."""

    name: str
    stage: int
    index: int
    spec: BlockSpec
    in_channels: int
    out_channels: int
    expanded_channels: int  # width inside the block (DS: in; plain conv: out; MQA: heads x d)
    se_channels: int  # squeeze width, 0 without SE
    activation: Activation
    residual: bool
    layer_scale: bool
    norm: Norm = "batch"

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def stride(self) -> int:
        return self.spec.stride


@dataclass(frozen=True)
class ResolvedNet:
    generation: Generation
    alpha: float
    stem: ResolvedBlock
    blocks: tuple[ResolvedBlock, ...]
    head_in: int
    head_features: int  # 0: no head conv


def _scaled(channels: int, alpha: float) -> int:
    return make_divisible(channels * alpha)


def resolve(generation: Generation, alpha: float) -> ResolvedNet:
    """Apply alpha to every width of the generation, following its conventions."""
    g = generation
    fixed_stem = g.stem_fixed_below is not None and alpha < g.stem_fixed_below
    stem_out = g.stem.out if fixed_stem else _scaled(g.stem.out, alpha)
    stem = ResolvedBlock(
        name="stem",
        stage=-1,
        index=0,
        spec=g.stem,
        in_channels=3,
        out_channels=stem_out,
        expanded_channels=stem_out,
        se_channels=0,
        activation=g.stem.activation or g.activation,
        residual=False,
        layer_scale=False,
        norm=g.norm,
    )
    blocks = []
    channels = stem_out
    stage_channels: list[int] = []
    for stage_index, stage in enumerate(g.stages):
        for block_index, spec in enumerate(stage):
            done = tuple(stage_channels)
            blocks.append(_resolve_block(g, spec, channels, alpha, stage_index, block_index, done))
            channels = blocks[-1].out_channels
        stage_channels.append(channels)
    if g.head_width_rule == "none":
        head_features = 0
    elif g.head_width_rule == "fixed":
        head_features = g.head.features
    else:  # at_least_base: V2 keeps 1280 below alpha 1 and widens it above
        head_features = max(g.head.features, _scaled(g.head.features, alpha))
    return ResolvedNet(g, alpha, stem, tuple(blocks), channels, head_features)


def _resolve_block(
    g: Generation, spec: BlockSpec, in_ch: int, alpha: float, stage: int, index: int, stage_channels: tuple
) -> ResolvedBlock:
    kind = block_type(spec)
    name = kind.path or f"blocks.{stage}.{index}"
    widths = kind.resolve(spec, WidthContext(g, alpha, in_ch, stage_channels, name))
    act = getattr(spec, "activation", None) or g.activation
    return ResolvedBlock(
        name, stage, index, spec, in_ch if widths.in_channels is None else widths.in_channels,
        widths.out_channels, widths.expanded_channels, widths.se_channels, act, widths.residual,
        widths.layer_scale, g.norm,
    )  # fmt: skip

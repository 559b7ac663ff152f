"""Resolution of alpha (width) and rho (input size): one pure function each, used by both
the builder and the counter, so the two can never disagree on a channel count."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import ConfigError
from .blocks import (
    UIB,
    Activation,
    BlockSpec,
    ConvBlock,
    DepthwiseSeparable,
    FusedIB,
    Generation,
    InvertedResidual,
    MobileMQA,
)

ALPHA_MIN, ALPHA_MAX = 0.25, 2.0
RESOLUTION_MIN = 32
RESOLUTION_STEP = 32  # rho is rounded to whole multiples of this


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round a channel count to the nearest multiple of `divisor` (halves round up).

    Never below `min_value` (default: the divisor), and never more than 10% below `value`:
    if rounding down lost more than that, one more divisor is added.
    Examples: 4 -> 8, 12 -> 16, 18 -> 24, 20.8 -> 24, 30 -> 32, 88.08 -> 88.
    """
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


@dataclass(frozen=True)
class Config:
    """A validated (alpha, resolution) pair."""

    alpha: float
    resolution: int


def resolution_range(generation: Generation) -> tuple[int, int]:
    """The input sizes a generation accepts: RESOLUTION_MIN to twice its base resolution."""
    return RESOLUTION_MIN, 2 * generation.base_resolution


def nearest_resolution(generation: Generation, resolution: int) -> int:
    """`resolution` brought into the generation's range (for a view that follows a selection made
    for another model, such as the design lab on another base)."""
    low, high = resolution_range(generation)
    return min(max(int(resolution), low), high)


def resolve_config(
    generation: Generation,
    alpha: float = 1.0,
    resolution: int | None = None,
    rho: float | None = None,
) -> Config:
    """Check alpha and the input size; rho (a multiple of the base resolution) is rounded
    to a multiple of 32 px. Raises ConfigError with a message a user can act on."""
    try:
        alpha = float(alpha)
    except (TypeError, ValueError):
        raise ConfigError(f"alpha must be a number, got {alpha!r}") from None
    if not math.isfinite(alpha) or not ALPHA_MIN <= alpha <= ALPHA_MAX:
        raise ConfigError(f"alpha must be between {ALPHA_MIN} and {ALPHA_MAX}, got {alpha}")
    base = generation.base_resolution
    max_resolution = resolution_range(generation)[1]
    if resolution is not None and rho is not None:
        raise ConfigError("give either resolution or rho, not both")
    if rho is not None:
        try:
            rho = float(rho)
        except (TypeError, ValueError):
            raise ConfigError(f"rho must be a number, got {rho!r}") from None
        lo, hi = RESOLUTION_MIN / base, max_resolution / base
        if not math.isfinite(rho) or not lo - 1e-9 <= rho <= hi + 1e-9:
            raise ConfigError(
                f"rho must be between {lo:.3f} and {hi:.1f} for {generation.name} (base {base} px), got {rho}"
            )
        resolution = int(math.floor(rho * base / RESOLUTION_STEP + 0.5)) * RESOLUTION_STEP
        resolution = min(max(resolution, RESOLUTION_MIN), max_resolution)
    if resolution is None:
        resolution = base
    if isinstance(resolution, float) and resolution.is_integer():
        resolution = int(resolution)
    if isinstance(resolution, bool) or not isinstance(resolution, int):
        raise ConfigError(f"resolution must be a whole number of pixels, got {resolution!r}")
    if not RESOLUTION_MIN <= resolution <= max_resolution:
        raise ConfigError(
            f"resolution must be between {RESOLUTION_MIN} and {max_resolution} px for "
            f"{generation.name} (2 x its base {base} px), got {resolution}"
        )
    return Config(alpha=alpha, resolution=resolution)


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
    )
    blocks = []
    channels = stem_out
    for stage_index, stage in enumerate(g.stages):
        for block_index, spec in enumerate(stage):
            blocks.append(
                _resolve_block(
                    g, spec, channels, alpha, f"blocks.{stage_index}.{block_index}", stage_index, block_index
                )
            )
            channels = blocks[-1].out_channels
    if g.head_width_rule == "none":
        head_features = 0
    elif g.head_width_rule == "fixed":
        head_features = g.head.features
    else:  # at_least_base: V2 keeps 1280 below alpha 1 and widens it above
        head_features = max(g.head.features, _scaled(g.head.features, alpha))
    return ResolvedNet(g, alpha, stem, tuple(blocks), channels, head_features)


def _resolve_block(
    g: Generation, spec: BlockSpec, in_ch: int, alpha: float, name: str, stage: int, index: int
) -> ResolvedBlock:
    out = _scaled(spec.out, alpha)
    act = getattr(spec, "activation", None) or g.activation
    expanded, se, residual, layer_scale = in_ch, 0, False, False
    if isinstance(spec, ConvBlock):
        expanded = out
    elif isinstance(spec, DepthwiseSeparable):
        se = make_divisible(in_ch / 4) if spec.se else 0
        residual = spec.residual and spec.stride == 1 and in_ch == out
    elif isinstance(spec, InvertedResidual):
        expanded = make_divisible(in_ch * spec.expand_ratio)
        se = make_divisible(expanded / 4) if spec.se else 0
        residual = spec.stride == 1 and in_ch == out
    elif isinstance(spec, FusedIB):
        expanded = make_divisible(in_ch * spec.expand_ratio)
        residual = spec.stride == 1 and in_ch == out
    elif isinstance(spec, UIB):
        expanded = make_divisible(in_ch * spec.expand_ratio)
        residual = spec.stride == 1 and in_ch == out
        layer_scale = g.layer_scale
    elif isinstance(spec, MobileMQA):
        # Attention keeps the width of its stage; heads and key_dim do not scale with alpha.
        if out != in_ch:
            raise ConfigError(f"{name}: Mobile MQA keeps its width ({in_ch} in, {out} out)")
        expanded = spec.heads * spec.key_dim
        residual = True
        layer_scale = g.layer_scale
    else:  # pragma: no cover - every spec type is handled above
        raise TypeError(f"unknown block spec {spec!r}")
    return ResolvedBlock(name, stage, index, spec, in_ch, out, expanded, se, act, residual, layer_scale)


def conv_output_size(size: int, kernel: int, stride: int) -> int:
    """Output side of a conv with padding (k - 1) // 2."""
    padding = (kernel - 1) // 2
    return (size + 2 * padding - kernel) // stride + 1

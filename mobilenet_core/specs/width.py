"""Resolution of alpha (width) and rho (input size): one pure function each, used by both
the builder and the counter, so the two can never disagree on a channel count."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import ConfigError
from .blocks import Activation, BlockSpec, Generation, Norm

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
    from ..blocktypes import WidthContext, block_type  # the registry imports this module

    kind = block_type(spec)
    name = kind.path or f"blocks.{stage}.{index}"
    widths = kind.resolve(spec, WidthContext(g, alpha, in_ch, stage_channels, name))
    act = getattr(spec, "activation", None) or g.activation
    return ResolvedBlock(
        name, stage, index, spec, in_ch if widths.in_channels is None else widths.in_channels,
        widths.out_channels, widths.expanded_channels, widths.se_channels, act, widths.residual,
        widths.layer_scale, g.norm,
    )  # fmt: skip


def conv_output_size(size: int, kernel: int, stride: int) -> int:
    """Output side of a conv with padding (k - 1) // 2."""
    padding = (kernel - 1) // 2
    return (size + 2 * padding - kernel) // stride + 1

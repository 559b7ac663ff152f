"""The rules every width and input size obeys: the one `make_divisible`, the ranges of alpha and
resolution, the check of a configuration (`resolve_config`) and a conv's output size. Pure
functions over the specs; `resolve` applies them to a whole network."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import ConfigError
from .specs.blocks import Generation

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
        raise ConfigError(
            f"alpha must be a number, got {alpha!r}", "alpha", low=ALPHA_MIN, high=ALPHA_MAX
        ) from None
    if not math.isfinite(alpha) or not ALPHA_MIN <= alpha <= ALPHA_MAX:
        message = f"alpha must be between {ALPHA_MIN} and {ALPHA_MAX}, got {alpha}"
        raise ConfigError(message, "alpha", low=ALPHA_MIN, high=ALPHA_MAX)
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
        message = f"resolution must be a whole number of pixels, got {resolution!r}"
        raise ConfigError(message, "resolution", low=RESOLUTION_MIN, high=max_resolution)
    if not RESOLUTION_MIN <= resolution <= max_resolution:
        raise ConfigError(
            f"resolution must be between {RESOLUTION_MIN} and {max_resolution} px for "
            f"{generation.name} (2 x its base {base} px), got {resolution}",
            "resolution",
            low=RESOLUTION_MIN,
            high=max_resolution,
        )
    return Config(alpha=alpha, resolution=resolution)


def conv_output_size(size: int, kernel: int, stride: int) -> int:
    """Output side of a conv with padding (k - 1) // 2."""
    padding = (kernel - 1) // 2
    return (size + 2 * padding - kernel) // stride + 1

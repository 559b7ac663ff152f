"""V1's width and resolution multipliers (arXiv:1704.04861, Section 3.3): the alpha² rho² rule
and where the exact counts break it."""

from __future__ import annotations

from dataclasses import dataclass

from ..count import BlockRow
from . import Lesson

LESSON = Lesson(__name__, "V1", 2017, "arXiv:1704.04861", position=2)


@dataclass(frozen=True)
class ScalingPoint:
    alpha: float
    resolution: int
    params: int
    macs: int
    predicted_params: float  # params(alpha 1) * alpha²
    predicted_macs: float  # MACs(alpha 1, base resolution) * alpha² * rho²
    top1: float | None
    top1_source: str


def scaling_points(model: str, alphas, resolutions) -> list[ScalingPoint]:
    """The exact counts over a grid of alpha and resolution, next to the alpha² rho² rule."""
    from ..api import count, get_generation
    from ..published import find_published

    g = get_generation(model)
    base = count(model, 1.0, g.base_resolution)
    points = []
    for a in alphas:
        for r in resolutions:
            rep = count(model, a, r)
            rho = r / g.base_resolution
            fig = find_published(model, rep.alpha, r)
            points.append(ScalingPoint(rep.alpha, r, rep.params, rep.macs, base.params * a * a,
                                       base.macs * a * a * rho * rho, fig.top1 if fig else None,
                                       fig.source if fig else ""))  # fmt: skip
    return points


def macs_by_kind(model: str, alpha: float, resolution: int | None = None) -> dict[str, tuple[int, int]]:
    """MACs per layer kind at alpha and at alpha 1 (same resolution): the alpha² rule holds for
    layers that mix channels (1x1 convs: M N), while depthwise convs (M), the stem (3 -> M) and
    the classifier (M -> classes) grow only with alpha."""
    from ..api import count

    at, one = count(model, alpha, resolution), count(model, 1.0, resolution)
    out: dict[str, tuple[int, int]] = {}
    for rep, i in ((at, 0), (one, 1)):
        for layer in rep.layers:
            if layer.macs:
                pair = list(out.get(layer.kind, (0, 0)))
                pair[i] += layer.macs
                out[layer.kind] = (pair[0], pair[1])
    return out


@dataclass(frozen=True)
class WidthBreak:
    """A block whose width is not alpha x its width at alpha 1."""

    block: str
    channels: int  # at alpha
    scaled: float  # alpha x the channels at alpha 1
    base: int  # at alpha 1
    reason: str  # "rounded" (to a multiple of 8) or "fixed" (not scaled at all)


def width_breaks(model: str, alpha: float, resolution: int | None = None) -> list[WidthBreak]:
    """Where the alpha² rule breaks: output widths rounded to multiples of 8, and widths alpha
    does not touch (e.g. V2's 1280-channel last conv for alpha < 1, the 1000 classes)."""
    from ..api import count
    from ..rules import make_divisible

    at, one = count(model, alpha, resolution), count(model, 1.0, resolution)

    def width(b: BlockRow) -> int:  # the head's width is its feature conv's (the classes never scale)
        if b.kind == "head":
            return next((x.out_channels for x in b.layers if x.name == "conv_head"), b.in_channels)
        return b.out_channels

    breaks = []
    for b, b1 in zip(at.blocks, one.blocks, strict=True):
        got, base = width(b), width(b1)
        scaled = alpha * base
        if abs(got - scaled) < 1e-9:
            continue
        reason = "rounded" if make_divisible(scaled) == got else "fixed"
        breaks.append(WidthBreak(b.name, got, scaled, base, reason))
    return breaks

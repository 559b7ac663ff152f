"""The lessons' demonstrations: each idea of the MobileNet papers computed on a real network of
the family (the learner's configuration) and, where it makes sense, on the learner's photo.

Everything here is plain computation (no Streamlit), so it is tested like the rest of the
library. Intermediate tensors are taken by running a block's parts one after the other
(`block_steps`), never with hooks: the models are shared by every session of a server.

Papers: V1 arXiv:1704.04861, V2 arXiv:1801.04381, V3 arXiv:1905.02244, V4 arXiv:2404.10518.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .blocktypes import REGISTRY
from .count import BlockRow, CountReport, LayerRow
from .errors import ConfigError
from .latency import PAPER_RIDGE_POINTS, LatencyEstimate, custom_device, estimate_latency
from .layers import ConvNormAct, MultiQueryAttention2d, SqueezeExcite
from .modules import MobileNet

# --- the lessons and the models they apply to ----------------------------------------------------


@dataclass(frozen=True)
class Lesson:
    path: str  # the page's URL path
    generation: str  # the generation that introduced the idea
    year: int
    paper: str
    needs: str = ""  # a block kind / layer kind the selected model must have ("" = any model)
    fallback: str = ""  # the model the lesson uses when the selection has none


LESSONS: tuple[Lesson, ...] = (
    Lesson("lesson-separable", "V1", 2017, "arXiv:1704.04861", "dwconv"),
    Lesson("lesson-multipliers", "V1", 2017, "arXiv:1704.04861"),
    Lesson("lesson-bottleneck", "V2", 2018, "arXiv:1801.04381", "expansion", "v2"),
    Lesson("lesson-inverted-residual", "V2", 2018, "arXiv:1801.04381", "expansion", "v2"),
    Lesson("lesson-se", "V3", 2019, "arXiv:1905.02244", "se", "v3_large"),
    Lesson("lesson-activations", "V3", 2019, "arXiv:1905.02244"),
    Lesson("lesson-uib", "V4", 2024, "arXiv:2404.10518", "uib", "v4_conv_medium"),
    Lesson("lesson-attention", "V4", 2024, "arXiv:2404.10518", "mqa", "v4_hybrid_medium"),
    Lesson("lesson-roofline", "V4", 2024, "arXiv:2404.10518"),
)
LESSON_PATHS = ("lessons", *(lesson.path for lesson in LESSONS))


def _has(report: CountReport, need: str) -> bool:
    if need == "":
        return True
    if need in ("uib", "mqa"):
        return any(b.kind == need for b in report.blocks)
    if need == "expansion":
        return bool(expansion_blocks(report))
    return any(layer.kind == need for layer in report.layers)


def lesson_model(path: str, report: CountReport) -> str | None:
    """None when the lesson works on the selected model; else the model it shows instead (the
    selection has no block of the kind, e.g. no SE in V2)."""
    lesson = next(x for x in LESSONS if x.path == path)
    return None if _has(report, lesson.needs) else lesson.fallback


# A lesson that runs the network on a photo stays within a few seconds on a laptop CPU: V5-Base at
# 256 px (20 G MACs) runs as selected; V5-300M at 768 px (436 G, about 30 s here) does not.
LIVE_MACS = 25_000_000_000


# ... and a network a lesson runs must fit the server's shared model cache (app.models): V5-300M's
# 294 M parameters (1.2 GB) would be built again on every run of every student.
LIVE_PARAMS = 100_000_000


def live_model(model: str, alpha: float) -> str:
    """The model a lesson runs for `model`: itself, or for a network too big to hold for live
    demos, the smallest model of its family (V5-300M -> V5-Base, the same design)."""
    from .api import count, get_generation, list_models

    if count(model, alpha).params <= LIVE_PARAMS:
        return model
    family = get_generation(model).family
    return min(
        (m for m in list_models() if get_generation(m).family == family), key=lambda m: count(m).params
    )


def live_resolution(model: str, alpha: float, resolution: int) -> int:
    """The input size a lesson runs the network at: the selection's, or for a network too big to
    run live, the largest multiple of 32 px (below the selection) whose count is under LIVE_MACS."""
    from .api import count
    from .rules import RESOLUTION_MIN, RESOLUTION_STEP

    size = resolution
    while size > RESOLUTION_MIN and count(model, alpha, size).macs > LIVE_MACS:
        size = max(RESOLUTION_MIN, (size - 1) // RESOLUTION_STEP * RESOLUTION_STEP)
    return size


# --- the story ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineRow:
    model: str
    title: str
    generation: str
    year: int
    paper: str
    resolution: int
    params: int
    macs: int
    top1: float | None  # published ImageNet top-1 at alpha 1 and this resolution
    top1_source: str


def timeline() -> list[TimelineRow]:
    """Every model at alpha 1 and its default resolution: exact counts and the published top-1."""
    from .api import count, get_generation, list_models
    from .published import find_published

    rows = []
    for model in list_models():
        g = get_generation(model)
        report = count(model)
        generation, year, paper = g.family, g.year, g.paper
        fig = find_published(model, 1.0, report.resolution)
        top1, source = (fig.top1, fig.source) if fig else (None, "")
        rows.append(TimelineRow(model, g.title, generation, year, paper, report.resolution, report.params,
                                report.macs, top1, source))  # fmt: skip
    return rows


# --- running a block part by part -----------------------------------------------------------------


def block_module(module: MobileNet, name: str) -> nn.Module:
    _, s, i = name.split(".")
    return module.blocks[int(s)][int(i)]


def block_steps(block: nn.Module) -> list[tuple[str, nn.Module]]:
    """A block's parts in forward order, as (name, module), conv + BN + act bricks opened up;
    the names are the counter's (`dw_start` for the conv of the dw_start brick). Every block's
    forward is this straight line followed by the residual add (and nothing else)."""
    steps: list[tuple[str, nn.Module]] = []
    for name, child in block.named_children():
        if isinstance(child, ConvNormAct):
            steps += [(name, child.conv), (f"{name}.bn", child.bn), (f"{name}.act", child.act)]
        elif not isinstance(child, nn.Identity):
            steps.append((name, child))
    return steps


@torch.no_grad()
def block_input(module: MobileNet, x: torch.Tensor, name: str) -> torch.Tensor:
    """The tensor that enters block `name` ("blocks.S.I") for the network input `x`."""
    target = tuple(int(v) for v in name.split(".")[1:])
    x = module.act1(module.bn1(module.conv_stem(x)))
    for s, stage in enumerate(module.blocks):
        for i, block in enumerate(stage):
            if (s, i) == target:
                return x
            x = block(x)
    raise KeyError(f"{module.model_name} has no block {name!r}")


@torch.no_grad()
def step_inputs(block: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """The input of every part of `block` (by step name) and its "output" before the residual."""
    seen = {}
    for name, part in block_steps(block):
        seen[name] = x
        x = part(x)
    seen["output"] = x
    return seen


def _is_depthwise(m: nn.Module) -> bool:
    return isinstance(m, nn.Conv2d) and m.groups == m.in_channels > 1


# --- lesson-separable -----------------------------------------------------------------------------


def separable_pairs(report: CountReport) -> list[tuple[str, LayerRow, LayerRow]]:
    """(block, depthwise layer, the pointwise layer after it) for every such pair of the model."""
    pairs = []
    attention = {k for k, t in REGISTRY.items() if t.anatomy == "attention"}
    for b in report.blocks:
        if b.kind in attention:  # the K/V downsampling depthwise belongs to attention, not to this idea
            continue
        layers = list(b.layers)
        for i, layer in enumerate(layers):
            if layer.kind == "dwconv":
                nxt = next((x for x in layers[i + 1 :] if x.kind in ("pwconv", "dwconv")), None)
                if nxt is not None and nxt.kind == "pwconv":
                    pairs.append((b.name, layer, nxt))
    return pairs


@dataclass(frozen=True)
class SeparableCost:
    kernel: int  # D_K
    in_channels: int  # M
    out_channels: int  # N
    out_height: int  # D_F (output side)
    out_width: int
    depthwise_macs: int  # the counter's
    pointwise_macs: int  # the counter's
    standard_macs: int  # D_K² M N D_F²: a standard conv with the same input, output and stride
    depthwise_params: int
    pointwise_params: int
    standard_params: int

    @property
    def formula_ratio(self) -> float:
        """V1's Eq. (5): 1/N + 1/D_K²."""
        return 1 / self.out_channels + 1 / self.kernel**2

    @property
    def exact_ratio(self) -> float:
        return (self.depthwise_macs + self.pointwise_macs) / self.standard_macs


def separable_cost(dw: LayerRow, pw: LayerRow) -> SeparableCost:
    k, m, n = dw.kernel, dw.in_channels, pw.out_channels
    area = dw.out_height * dw.out_width
    return SeparableCost(
        k, m, n, dw.out_height, dw.out_width, dw.macs, pw.macs, k * k * m * n * area,
        k * k * m, m * n, k * k * m * n,
    )  # fmt: skip


@dataclass(frozen=True)
class WholeNetStandard:
    """The V1 paper's Table 4 question for the selected model: the same network with every
    depthwise + pointwise pair replaced by one standard conv."""

    separable_macs: int
    separable_params: int
    standard_macs: int
    standard_params: int


def whole_net_standard(report: CountReport) -> WholeNetStandard:
    macs, params = report.macs, report.params
    for _, dw, pw in separable_pairs(report):
        cost = separable_cost(dw, pw)
        macs += cost.standard_macs - cost.depthwise_macs - cost.pointwise_macs
        # the depthwise layer's weights and BN go; the pointwise layer's BN stays
        params += cost.standard_params - cost.depthwise_params - cost.pointwise_params - dw.norm_params
    return WholeNetStandard(report.macs, report.params, macs, params)


@dataclass(frozen=True)
class SeparableDemo:
    """A depthwise conv and the pointwise conv after it, run on a real feature map.

    `features` enters the depthwise conv; `depthwise` is its output (the conv alone, before BN),
    `pointwise` the pointwise conv applied to it directly, and `standard` a standard conv whose
    kernel is the product of the two (W[n, m] = P[n, m] D[m]): the same linear map, computed
    with D_K² M N MACs per output position instead of D_K² M + M N."""

    block: str
    cost: SeparableCost
    stride: int
    padding: int
    features: np.ndarray  # M x H x W
    depthwise_kernel: np.ndarray  # M x K x K
    pointwise_kernel: np.ndarray  # N x M
    depthwise: np.ndarray  # M x H' x W'
    pointwise: np.ndarray  # N x H' x W'
    standard: np.ndarray  # N x H' x W'

    @property
    def positions(self) -> int:
        return self.depthwise.shape[1] * self.depthwise.shape[2]

    def macs_after(self, steps: int) -> tuple[int, int, int]:
        """(standard, depthwise, pointwise) MACs after `steps` output positions."""
        c = self.cost
        return (
            steps * c.kernel**2 * c.in_channels * c.out_channels,
            steps * c.kernel**2 * c.in_channels,
            (steps * c.in_channels * c.out_channels),
        )

    def window(self, step: int) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) of the kernel window on the padded-free input for output
        position `step` (row-major), clipped to the feature map."""
        w_out = self.depthwise.shape[2]
        row, col = divmod(step, w_out)
        top, left = row * self.stride - self.padding, col * self.stride - self.padding
        k = self.cost.kernel
        h, w = self.features.shape[1:]
        return max(top, 0), max(left, 0), min(top + k, h), min(left + k, w)

    def dot_product(self, channel: int, step: int) -> tuple[np.ndarray, np.ndarray, float]:
        """The window values of `channel`, the kernel, and their dot product (= depthwise output)."""
        k, p = self.cost.kernel, self.padding
        padded = np.pad(self.features[channel], p)
        row, col = divmod(step, self.depthwise.shape[2])
        patch = padded[row * self.stride : row * self.stride + k, col * self.stride : col * self.stride + k]
        kernel = self.depthwise_kernel[channel]
        return patch, kernel, float((patch * kernel).sum())


@torch.no_grad()
def separable_demo(module: MobileNet, x: torch.Tensor, report: CountReport, block: str,
                   max_side: int = 28) -> SeparableDemo:  # fmt: skip
    """Run the first depthwise + pointwise pair of `block` on the photo `x`. Large maps are cut
    to their top-left max_side x max_side output positions so a step stays instant; the counts
    in `cost` are always the whole layer's."""
    pair = next(((dw, pw) for b, dw, pw in separable_pairs(report) if b == block), None)
    if pair is None:
        raise ConfigError(f"{block} has no depthwise conv followed by a pointwise conv")
    dw_row, pw_row = pair
    blk = block_module(module, block)
    parts = dict(block_steps(blk))
    dw_name, pw_name = dw_row.name[len(block) + 1 :], pw_row.name[len(block) + 1 :]
    feats = step_inputs(blk, block_input(module, x, block))[dw_name][0]
    dw_conv, pw_conv = parts[dw_name], parts[pw_name]
    stride, pad, k = dw_conv.stride[0], dw_conv.padding[0], dw_conv.kernel_size[0]
    # keep the inputs the first max_side x max_side outputs read, so those outputs are exact
    keep = (max_side - 1) * stride + k - pad
    feats = feats[:, :keep, :keep]
    d = F.conv2d(feats[None], dw_conv.weight, None, stride, pad, groups=dw_conv.groups)[
        0, :, :max_side, :max_side
    ]
    p = F.conv2d(d[None], pw_conv.weight)[0]
    combined = pw_conv.weight[:, :, 0, 0, None, None] * dw_conv.weight[:, 0][None]  # N x M x K x K
    s = F.conv2d(feats[None], combined, None, stride, pad)[0, :, :max_side, :max_side]
    return SeparableDemo(
        block, separable_cost(dw_row, pw_row), stride, pad, feats.numpy(), dw_conv.weight[:, 0].numpy(),
        pw_conv.weight[:, :, 0, 0].numpy(), d.numpy(), p.numpy(), s.numpy(),
    )  # fmt: skip


# --- lesson-multipliers ---------------------------------------------------------------------------


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
    from .api import count, get_generation
    from .published import find_published

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
    from .api import count

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
    from .api import count
    from .rules import make_divisible

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


# --- lesson-bottleneck ----------------------------------------------------------------------------


def spiral(points: int = 400) -> np.ndarray:
    """The V2 paper's Figure 1 input: a 2-D spiral, 2 x points, centred."""
    t = np.linspace(0.5, 4 * math.pi, points)
    xy = np.stack([t * np.cos(t), t * np.sin(t)]) / (4 * math.pi)
    return xy - xy.mean(axis=1, keepdims=True)


@dataclass(frozen=True)
class SpiralResult:
    n: int
    recovered: np.ndarray  # 2 x points: T⁺ ReLU(T x)
    error: float  # mean squared distance to the spiral / mean squared norm of the spiral


def spiral_relu(n: int, seed: int = 0, points: int = 400, readout: str = "pinv") -> SpiralResult:
    """Embed the spiral in n dimensions with a random matrix T (n x 2), apply ReLU, and project
    back to 2-D (V2, Fig. 1): with small n ReLU destroys the manifold, with large n it is
    preserved. `readout` "pinv" projects back with the pseudo-inverse of T, as the paper does
    (it also shrinks and bends the picture: ReLU keeps about half of every coordinate);
    "linear" with the best linear map B (least squares, B = x Y⁺), which is what a linear layer
    after the ReLU could recover at most: the error then measures only what ReLU destroyed."""
    if readout not in ("pinv", "linear"):
        raise ConfigError(f"readout must be 'pinv' or 'linear', got {readout!r}")
    x = spiral(points)
    t = np.random.default_rng(seed).standard_normal((n, 2))
    y = np.maximum(t @ x, 0.0)
    back = (np.linalg.pinv(t) if readout == "pinv" else x @ np.linalg.pinv(y)) @ y
    error = float(((back - x) ** 2).sum(axis=0).mean() / (x**2).sum(axis=0).mean())
    return SpiralResult(n, back, error)


def spiral_errors(ns=(2, 3, 5, 15, 30), seeds: int = 16, readout: str = "pinv") -> dict[int, float]:
    """Mean reconstruction error over `seeds` random embeddings, for each n."""
    return {n: float(np.mean([spiral_relu(n, s, readout=readout).error for s in range(seeds)])) for n in ns}


def expansion_blocks(report: CountReport) -> list[BlockRow]:
    """Blocks that expand to a wider tensor, apply an activation and project back linearly."""
    expands = {k for k, t in REGISTRY.items() if t.expands}
    # an expansion ratio of 1 (V5's first FFN) expands nothing
    return [b for b in report.blocks if b.kind in expands and b.expanded_channels > b.in_channels]


@dataclass(frozen=True)
class ZeroShare:
    block: str
    expanded_channels: int
    out_channels: int
    expansion_zeroed: float  # share of the expanded activations the block's ReLU sets to 0
    bottleneck_zeroed: float  # share of the bottleneck outputs a ReLU there would set to 0
    activation: str


@torch.no_grad()
def relu_zero_shares(module: MobileNet, x: torch.Tensor, report: CountReport) -> list[ZeroShare]:
    """For every expansion block, on the photo x: the share of values at or below 0 entering
    the expansion activation (what ReLU / ReLU6 zero) and at the linear bottleneck's output
    (what a ReLU there would zero, and V2 leaves linear)."""
    rows = {b.name: b for b in expansion_blocks(report)}
    out = []
    h = module.act1(module.bn1(module.conv_stem(x)))
    for s, stage in enumerate(module.blocks):
        for i, block in enumerate(stage):
            name = f"blocks.{s}.{i}"
            if name in rows:
                steps = block_steps(block)
                seen = step_inputs(block, h)
                exp_conv = next(n for n, m in steps if isinstance(m, nn.Conv2d)
                                and m.out_channels > m.in_channels and not _is_depthwise(m))  # fmt: skip
                after = [n for n, _ in steps]
                act = next(n for n in after[after.index(exp_conv) + 1 :] if "act" in n)
                pre = seen[act]
                bottleneck = seen["layer_scale"] if "layer_scale" in seen else seen["output"]
                row = rows[name]
                zeroed, would_zero = float((pre <= 0).float().mean()), float((bottleneck <= 0).float().mean())
                widths = (row.expanded_channels, row.out_channels)
                out.append(ZeroShare(name, *widths, zeroed, would_zero, row.activation))
            h = block(h)
    return out


# --- lesson-inverted-residual ---------------------------------------------------------------------


@dataclass(frozen=True)
class TensorStep:
    step: str  # "input", "expand 1×1", ...
    tensors: tuple[tuple[str, int, int, int], ...]  # (role, channels, height, width) alive now

    @property
    def values(self) -> int:
        return sum(c * h * w for _, c, h, w in self.tensors)


def residual_memory(block: BlockRow) -> dict[str, list[TensorStep]]:
    """The tensors that must be alive at each step of one block's inference, for the inverted
    residual (narrow -> wide -> narrow, the block's real widths) and for a ResNet bottleneck with
    the same widths the other way round (wide -> narrow -> wide). Residual input kept alive until
    the add when the block has one."""
    c, t, o = block.in_channels, block.expanded_channels, block.out_channels
    h, w, h2, w2 = block.in_height, block.in_width, block.out_height, block.out_width
    skip = block.residual
    keep = (("input (kept for ⊕)", c, h, w),) if skip else ()
    inverted = [
        TensorStep("input", (("input", c, h, w),)),
        TensorStep("expand 1×1", (*(keep or (("input", c, h, w),)), ("expanded", t, h, w))),
        TensorStep("depthwise", (*keep, ("expanded", t, h, w), ("depthwise out", t, h2, w2))),
        TensorStep("project 1×1", (*keep, ("depthwise out", t, h2, w2), ("output", o, h2, w2))),
        TensorStep("output", (("output", o, h2, w2),)),
    ]
    wide_keep = (("input (kept for ⊕)", t, h, w),) if skip else ()
    bottleneck = [
        TensorStep("input", (("input", t, h, w),)),
        TensorStep("reduce 1×1", (*(wide_keep or (("input", t, h, w),)), ("reduced", c, h, w))),
        TensorStep("3×3 conv", (*wide_keep, ("reduced", c, h, w), ("conv out", c, h2, w2))),
        TensorStep("expand 1×1", (*wide_keep, ("conv out", c, h2, w2), ("output", t, h2, w2))),
        TensorStep("output", (("output", t, h2, w2),)),
    ]
    return {"inverted": inverted, "bottleneck": bottleneck}


@dataclass(frozen=True)
class Handoff:
    """What one block passes to the next (and keeps for the next shortcut), in values: the
    inverted residual its narrow output, a ResNet bottleneck with the same widths its wide one."""

    block: str
    narrow: int  # out_channels x H x W
    wide: int  # expanded_channels x H x W


def handoffs(report: CountReport) -> list[Handoff]:
    """The tensor every expansion block hands on, both ways (V2, Section 5.1: between blocks
    only the bottleneck tensors must stay in memory)."""
    return [
        Handoff(
            b.name,
            b.out_channels * b.out_height * b.out_width,
            b.expanded_channels * b.out_height * b.out_width,
        )
        for b in expansion_blocks(report)
    ]


def between_blocks(report: CountReport) -> tuple[int, int]:
    """(largest tensor passed between expansion blocks of the model, the same if the blocks were
    ResNet bottlenecks passing their wide tensors), in values."""
    rows = handoffs(report)
    return max((h.narrow for h in rows), default=0), max((h.wide for h in rows), default=0)


def peak_step(steps: list[TensorStep]) -> TensorStep:
    """The step at which the most values are alive."""
    return max(steps, key=lambda s: s.values)


# --- lesson-se ------------------------------------------------------------------------------------


def se_blocks(report: CountReport) -> list[BlockRow]:
    return [b for b in report.blocks if b.se_channels]


@dataclass(frozen=True)
class SECost:
    params: int
    macs: int
    block_params: int
    block_macs: int
    model_params: int
    model_macs: int


def se_cost(report: CountReport, block: str) -> SECost:
    b = next(x for x in report.blocks if x.name == block)
    layers = [layer for layer in b.layers if layer.kind == "se"]
    return SECost(sum(x.params for x in layers), sum(x.macs for x in layers), b.params, b.macs,
                  report.params, report.macs)  # fmt: skip


@torch.no_grad()
def se_gates(module: MobileNet, x: torch.Tensor, block: str) -> np.ndarray:
    """The gate (hard-sigmoid output, 0..1) of every channel of the block's SE unit on photo x."""
    blk = block_module(module, block)
    se_name, se = next((n, m) for n, m in block_steps(blk) if isinstance(m, SqueezeExcite))
    h = step_inputs(blk, block_input(module, x, block))[se_name]
    pooled = h.mean((2, 3), keepdim=True)
    return se.gate(se.conv_expand(se.act(se.conv_reduce(pooled))))[0, :, 0, 0].numpy()


# --- lesson-activations ---------------------------------------------------------------------------


def activation_curves(x: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(value, derivative) of ReLU6, swish, h-swish, sigmoid and hard-sigmoid at x, computed by
    torch's own modules and autograd (the functions the networks run)."""
    funcs = {
        "relu6": nn.ReLU6(),
        "swish": nn.SiLU(),
        "h-swish": nn.Hardswish(),
        "sigmoid": nn.Sigmoid(),
        "hard-sigmoid": nn.Hardsigmoid(),
    }
    out = {}
    for name, f in funcs.items():
        t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        y = f(t)
        (grad,) = torch.autograd.grad(y.sum(), t)
        out[name] = (y.detach().numpy(), grad.numpy())
    return out


def activations_used(report: CountReport) -> list[tuple[str, str, str]]:
    """(block, variant, activation) for every block, and the SE gates' hard-sigmoid."""
    return [(b.name, b.variant, b.activation) for b in report.blocks if b.kind != "head"]


@dataclass(frozen=True)
class LastStage:
    """V3's redesigned last stage (arXiv:1905.02244 Sec. 5.2, Fig. 5), counted on the selected
    network: the original stage ran a depthwise conv, a 1x1 projection and the 1x1 to the
    head's features on the final feature map; the efficient one pools first."""

    height: int
    width: int
    expanded: int  # the 1x1 expansion before pooling (960 in V3-Large at alpha 1)
    projected: int  # the projection the original stage had (320)
    features: int  # the head's features (1280)
    original_macs: int
    efficient_macs: int
    original_params: int
    efficient_params: int


def last_stage(report: CountReport, projected: int = 320) -> LastStage:
    """Counts of both last stages after the shared 1x1 expansion (weights only, no BN)."""
    head = next(b for b in report.blocks if b.kind == "head")
    final = report.blocks[-2]  # the 1x1 conv to 960 before pooling
    h, w, e = final.out_height, final.out_width, final.out_channels
    conv_head = next((x for x in head.layers if x.name == "conv_head"), None)
    if conv_head is None or final.kind != "conv":
        raise ConfigError(f"{report.model} has no conv-pool-conv head to compare")
    f = conv_head.out_channels
    original = 9 * e * h * w + e * projected * h * w + projected * f * h * w
    efficient = e * f
    return LastStage(h, w, e, projected, f, original, efficient, 9 * e + e * projected + projected * f, e * f)


# --- lesson-uib -----------------------------------------------------------------------------------

UIB_NAMES = {(True, True): "ExtraDW", (False, True): "IB", (True, False): "ConvNeXt", (False, False): "FFN"}


@dataclass(frozen=True)
class UIBChoice:
    name: str
    start: int  # 0: no start depthwise
    mid: int
    row: BlockRow  # counted by the counter with these choices
    receptive_field: int  # of the block alone, in input pixels


def receptive_field(start: int, mid: int, stride: int) -> int:
    """Input pixels one output of the block sees: the start dw (stride 1 when a mid dw follows)
    then the mid dw. 1x1 convs add nothing."""
    k1, k2 = start or 1, mid or 1
    s1 = stride if not mid else 1
    return k1 + (k2 - 1) * s1


def uib_choice(generation, alpha: float, resolution: int, block: str, start: int, mid: int) -> UIBChoice:
    """The UIB block `block` with its start / mid depthwise convs set (kernel, 0 = off)."""
    from .count import count_block
    from .resolve import resolve
    from .rules import resolve_config

    config = resolve_config(generation, alpha, resolution)
    net = resolve(generation, config.alpha)
    resolved = next(b for b in net.blocks if b.name == block)
    from .api import count_generation

    row = next(b for b in count_generation(generation, alpha, resolution).blocks if b.name == block)
    if not start and not mid and resolved.spec.stride > 1:
        raise ConfigError(f"{block} has stride {resolved.spec.stride}: it needs a depthwise conv to carry it")
    variant = replace(resolved, spec=replace(resolved.spec, start=start, mid=mid))
    counted = count_block(variant, row.in_height, row.in_width)
    return UIBChoice(UIB_NAMES[(bool(start), bool(mid))], start, mid, counted,
                     receptive_field(start, mid, resolved.spec.stride))  # fmt: skip


def uib_choices_by_stage(report: CountReport) -> list[tuple[int, str, int]]:
    """(stage, variant, how many blocks) for the UIB blocks the V4 search chose, in order."""
    out: list[tuple[int, str, int]] = []
    for b in report.blocks:
        if b.kind == "uib":
            if out and out[-1][0] == b.stage and out[-1][1] == b.variant:
                out[-1] = (b.stage, b.variant, out[-1][2] + 1)
            else:
                out.append((b.stage, b.variant, 1))
    return out


# --- lesson-attention -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AttentionCost:
    """One attention block counted two ways: multi-head (every head its own K and V, full
    resolution) and the block's Mobile MQA (one shared K/V head, K/V downsampled by kv_stride)."""

    channels: int
    heads: int
    key_dim: int
    queries: int  # N = H W
    kv_positions_mha: int  # N
    kv_positions_mqa: int  # M = (H / s)(W / s)
    kv_stride: int
    mha_macs: int
    mqa_macs: int  # the counter's for the block's attention
    mha_kv_values: int  # K and V elements held for the products
    mqa_kv_values: int


def attention_cost(block: BlockRow, heads: int, key_dim: int, kv_stride: int) -> AttentionCost:
    c, h, w = block.in_channels, block.in_height, block.in_width
    n = h * w
    key = next((x for x in block.layers if x.name.endswith("attn.key.proj")), None)
    m = key.out_height * key.out_width if key is not None else n
    hd = heads * key_dim
    mha = n * c * hd * 3 + heads * n * n * key_dim * 2 + n * hd * c  # q, k, v projections, 2 products, output
    mqa = sum(x.macs for x in block.layers)
    return AttentionCost(
        c, heads, key_dim, n, n, m, kv_stride, mha, mqa, 2 * heads * n * key_dim, 2 * m * key_dim
    )


@torch.no_grad()
def attention_map(module: MobileNet, x: torch.Tensor, block: str, row: int, col: int) -> np.ndarray:
    """Softmax attention weights of the query at (row, col) of the block's input, per head,
    over the downsampled K/V grid: heads x H_kv x W_kv. Each head's weights sum to 1."""
    blk = block_module(module, block)
    attn: MultiQueryAttention2d = blk.attn
    h = blk.norm(block_input(module, x, block))
    batch, _, height, width = h.shape
    q = attn.query(h).reshape(batch, attn.heads, attn.key_dim, height * width)[0]  # heads x d x N
    kmap = attn.key(h)  # 1 x d x Hk x Wk
    hk, wk = kmap.shape[2:]
    k = kmap.flatten(2)[0]  # d x M
    query = q[:, :, row * width + col]  # heads x d
    weights = ((query * attn.key_dim**-0.5) @ k).softmax(dim=-1)
    return weights.reshape(attn.heads, hk, wk).numpy()


# --- lesson-roofline ------------------------------------------------------------------------------

ILLUSTRATIVE_PEAK = 1e12  # MACs/s: the ridge-point slider keeps the peak and moves the bandwidth


def ridge_device(ridge: float, peak: float = ILLUSTRATIVE_PEAK):
    """A device with this ridge point (MACs/byte) and the illustrative peak, INT8 like the
    V4 paper's. Ridge 0 is unlimited bandwidth: time is MACs / peak."""
    return custom_device(title=f"ridge {ridge:g}", peak_macs_per_s=peak, ridge_point=ridge)


def ridge_sweep(report: CountReport, ridges) -> list[LatencyEstimate]:
    """The roofline estimate of the model at each ridge point."""
    return [estimate_latency(report, ridge_device(r)) for r in ridges]


def slowdown(estimate: LatencyEstimate) -> float:
    """The estimated time over the time of the MACs alone (the same device with unlimited
    bandwidth): how much memory traffic stretches the network's time. It depends on the ridge
    point only, never on the peak, so it compares ridge points truthfully."""
    compute = sum(x.compute_ms for x in estimate.layers)
    return estimate.ms / compute if compute else 1.0


def work(layer, ridge: float) -> float:
    """max(MACs, ridge x bytes): the layer's time in units of 1 / peak (MAC-equivalents)."""
    return max(layer.macs, ridge * layer.bytes)


def paper_device_estimates(report: CountReport) -> list[LatencyEstimate]:
    """The configuration on the V4 paper's four devices, each with its own peak, calibrated on
    MobileNetV2 (latency.paper_devices): the absolute times, fastest device first."""
    from .latency import paper_devices

    return sorted((estimate_latency(report, d) for d in paper_devices().values()), key=lambda e: e.ms)


def bottlenecks(estimate: LatencyEstimate, top: int = 5) -> list:
    """The layers that take the most estimated time, slowest first."""
    return sorted(estimate.layers, key=lambda x: x.ms, reverse=True)[:top]


PAPER_DEVICE_RIDGES = {title: ridge for _, (title, ridge) in PAPER_RIDGE_POINTS.items()}

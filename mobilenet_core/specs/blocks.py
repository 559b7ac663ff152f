"""Spec types: frozen, keyword-built descriptions of one block each.

A generation is a tuple of stages, each a tuple of these specs, plus a stem and a head.
Specs say what the paper's table says (channels at alpha = 1, kernel, stride, expansion);
`width.resolve` turns them into concrete channel counts for a given alpha.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class Activation(StrEnum):
    """Non-linearity after a conv + batch norm."""

    RELU = "relu"
    RELU6 = "relu6"
    HARD_SWISH = "hard_swish"
    GELU = "gelu"
    GELU_TANH = "gelu_tanh"  # GELU with the tanh approximation (MobileNetV5)
    NONE = "none"


# The normalisation after every conv: batch norm (V1 to V4) or RMS norm over channels (V5).
Norm = Literal["batch", "rms"]


@dataclass(frozen=True)
class ConvBlock:
    """Plain k x k convolution + BN + activation (the stem, V4-S's early layers, the 960 conv)."""

    out: int
    kernel: int = 3
    stride: int = 1
    activation: Activation | None = None  # None: the generation's default

    kind: Literal["conv"] = "conv"


@dataclass(frozen=True)
class DepthwiseSeparable:
    """Depthwise k x k + BN + act, optional SE, pointwise 1x1 + BN (+ act in V1).

    V1's building block (arXiv:1704.04861, Fig. 3); V2 and V3 open with one.
    A residual is added when stride is 1 and channels match, unless `residual=False` (V1).
    """

    out: int
    kernel: int = 3
    stride: int = 1
    se: bool = False
    pointwise_activation: bool = False
    residual: bool = True
    activation: Activation | None = None

    kind: Literal["ds"] = "ds"


@dataclass(frozen=True)
class InvertedResidual:
    """1x1 expand + BN + act, depthwise k x k + BN + act, optional SE, 1x1 linear projection + BN.

    The inverted residual with linear bottleneck of V2 (arXiv:1801.04381); V3 adds SE and
    h-swish. Expanded width = make_divisible(in_channels * expand_ratio).
    """

    out: int
    expand_ratio: float
    kernel: int = 3
    stride: int = 1
    se: bool = False
    activation: Activation | None = None

    kind: Literal["ir"] = "ir"


@dataclass(frozen=True)
class FusedIB:
    """V4's FusedIB: k x k full conv to in * expand (with the stride) + BN + act, 1x1 to out + BN."""

    out: int
    expand_ratio: float = 4.0
    kernel: int = 3
    stride: int = 1
    activation: Activation | None = None

    kind: Literal["fused_ib"] = "fused_ib"


UIBVariant = Literal["ExtraDW", "IB", "ConvNeXt", "FFN"]


@dataclass(frozen=True)
class UIB:
    """V4's Universal Inverted Bottleneck (arXiv:2404.10518, Fig. 4).

    start: kernel of the optional depthwise before the expansion (0 = absent, no activation);
    mid: kernel of the optional depthwise after the expansion (0 = absent, carries the stride).
    (start, mid) picks the variant: ExtraDW (a, k), IB (0, k), ConvNeXt-like (a, 0), FFN (0, 0).
    """

    out: int
    expand_ratio: float
    start: int = 0
    mid: int = 0
    stride: int = 1
    activation: Activation | None = None

    kind: Literal["uib"] = "uib"

    @property
    def variant(self) -> UIBVariant:
        if self.start and self.mid:
            return "ExtraDW"
        if self.mid:
            return "IB"
        if self.start:
            return "ConvNeXt"
        return "FFN"


@dataclass(frozen=True)
class MobileMQA:
    """V4 hybrid's Mobile MQA block: BN, multi-query attention, layer scale, residual.

    Queries have `heads` heads of `key_dim`; keys and values share one head of `key_dim`,
    optionally downsampled by a stride-`kv_stride` depthwise 3x3 + BN (arXiv:2404.10518, Sec. 4).
    """

    out: int
    heads: int
    key_dim: int
    kv_stride: int = 1
    kv_kernel: int = 3

    kind: Literal["mqa"] = "mqa"
    stride: int = 1


@dataclass(frozen=True)
class MSFA:
    """MobileNetV5's multi-scale fusion adapter: the outputs of the last `inputs` stages, the
    smaller maps upsampled (nearest) to the largest, concatenated, a 1x1 FFN (expand, act, project;
    no skip) to `out` channels, brought to `output_size` x `output_size` (average pooling when the
    map is a multiple of it, else bilinear resizing), then a norm. `out` does not scale with alpha.
    """

    out: int = 2048
    expand_ratio: float = 2.0
    inputs: int = 2
    output_size: int = 16

    kind: Literal["msfa"] = "msfa"
    stride: int = 1


@dataclass(frozen=True)
class Head:
    """The classifier head.

    features: width of the last 1x1 conv (0 = no conv, V1: pool straight into the classifier).
    before_pool: the conv runs on the feature map (V2) rather than on the pooled vector (V3, V4).
    norm: BN after the head conv; bias: the head conv has a bias (V3, which has no BN there).
    num_classes: 0 = no classifier; the output is the pooled feature vector (an encoder).
    """

    features: int = 0
    before_pool: bool = False
    norm: bool = True
    bias: bool = False
    num_classes: int = 1000

    kind: Literal["head"] = "head"


BlockSpec = ConvBlock | DepthwiseSeparable | InvertedResidual | FusedIB | UIB | MobileMQA | MSFA

# What alpha does to the head conv: V2 scales it only upwards, V3 and V4 never.
HeadWidthRule = Literal["none", "fixed", "at_least_base"]


@dataclass(frozen=True)
class Generation:
    """One member of the family: its table of specs and its width conventions, as data."""

    name: str
    title: str
    paper: str
    base_resolution: int
    stem: ConvBlock
    stages: tuple[tuple[BlockSpec, ...], ...]
    head: Head
    activation: Activation
    # The stem keeps its paper width when alpha is below this (V3: 0.75, V4: 1.0).
    stem_fixed_below: float | None = None
    head_width_rule: HeadWidthRule = "fixed"
    layer_scale: bool = False  # V4 hybrids: per-channel gamma on UIB and MQA residual branches
    norm: Norm = "batch"
    stem_bias: bool = False
    family: str = ""  # "V1" ... "V5": the generation in the story of the family
    year: int = 0  # when it was published  # V5: the stem conv has a bias (and its norm is conv_stem.bn)

    def __post_init__(self) -> None:
        if self.head.features == 0 and self.head_width_rule != "none":
            raise ValueError(f"{self.name}: a head without a conv needs head_width_rule='none'")


# Small named constructors so that each table row reads like the paper's.
def conv(out: int, kernel: int = 3, stride: int = 1, activation: Activation | None = None) -> ConvBlock:
    return ConvBlock(out=out, kernel=kernel, stride=stride, activation=activation)


def ds(out: int, kernel: int = 3, stride: int = 1, **kwargs) -> DepthwiseSeparable:
    return DepthwiseSeparable(out=out, kernel=kernel, stride=stride, **kwargs)


def ir(out: int, expand: float, kernel: int = 3, stride: int = 1, **kwargs) -> InvertedResidual:
    return InvertedResidual(out=out, expand_ratio=expand, kernel=kernel, stride=stride, **kwargs)


def fused_ib(out: int, expand: float = 4.0, kernel: int = 3, stride: int = 1) -> FusedIB:
    return FusedIB(out=out, expand_ratio=expand, kernel=kernel, stride=stride)


def uib(out: int, expand: float, start: int = 0, mid: int = 0, stride: int = 1) -> UIB:
    return UIB(out=out, expand_ratio=expand, start=start, mid=mid, stride=stride)


def mqa(out: int, heads: int, key_dim: int, kv_stride: int = 1) -> MobileMQA:
    return MobileMQA(out=out, heads=heads, key_dim=key_dim, kv_stride=kv_stride)


def msfa(out: int = 2048, expand: float = 2.0, inputs: int = 2, output_size: int = 16) -> MSFA:
    return MSFA(out=out, expand_ratio=expand, inputs=inputs, output_size=output_size)

"""The torch bricks every block type builds from: conv, norm (batch or RMS), activation,
conv + norm + act, layer scale, squeeze-excite and multi-query attention.

Submodules are named for their role in timm's key layout, so that published checkpoints load
as they are."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .specs.blocks import Activation, Norm


def make_activation(activation: Activation) -> nn.Module:
    return {
        Activation.RELU: nn.ReLU,
        Activation.RELU6: nn.ReLU6,
        Activation.HARD_SWISH: nn.Hardswish,
        Activation.GELU: nn.GELU,
        Activation.GELU_TANH: lambda: nn.GELU(approximate="tanh"),
        Activation.NONE: nn.Identity,
    }[activation]()


class RmsNorm2d(nn.Module):
    """RMS normalisation over the channels of each position, with a per-channel weight and no
    bias or running statistics (MobileNetV5): x / sqrt(mean_c(x^2) + eps) * w."""

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))

    def forward(self, x):
        scale = torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + self.eps)
        return x * scale * self.weight.view(1, -1, 1, 1)


def make_norm(norm: Norm, channels: int) -> nn.Module:
    return nn.BatchNorm2d(channels) if norm == "batch" else RmsNorm2d(channels)


def conv2d(in_ch: int, out_ch: int, kernel: int, stride: int = 1, groups: int = 1, bias: bool = False):
    return nn.Conv2d(in_ch, out_ch, kernel, stride, padding=(kernel - 1) // 2, groups=groups, bias=bias)


class ConvNormAct(nn.Module):
    """conv + norm (+ act): the brick of UIB, MQA and V5's stem. No bias when a norm follows,
    except where the published network has one (V5's stem)."""

    def __init__(self, in_ch, out_ch, kernel, stride=1, groups=1, activation=Activation.NONE,
                 norm: Norm = "batch", bias: bool = False):  # fmt: skip
        super().__init__()
        self.conv = conv2d(in_ch, out_ch, kernel, stride, groups, bias=bias)
        self.bn = make_norm(norm, out_ch)
        self.act = make_activation(activation)

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class LayerScale2d(nn.Module):
    """Per-channel learnable scale of a residual branch (V4 hybrids, V5)."""

    def __init__(self, channels: int, init_value: float = 1e-5):
        super().__init__()
        self.gamma = nn.Parameter(torch.full((channels,), init_value))

    def forward(self, x):
        return x * self.gamma.view(1, -1, 1, 1)


class SqueezeExcite(nn.Module):
    """V3's SE: pool, 1x1 reduce (bias) + ReLU, 1x1 expand (bias) + hard-sigmoid, rescale."""

    def __init__(self, channels: int, squeeze_channels: int):
        super().__init__()
        self.conv_reduce = nn.Conv2d(channels, squeeze_channels, 1, bias=True)
        self.act = nn.ReLU()
        self.conv_expand = nn.Conv2d(squeeze_channels, channels, 1, bias=True)
        self.gate = nn.Hardsigmoid()

    def forward(self, x):
        scale = x.mean((2, 3), keepdim=True)
        scale = self.gate(self.conv_expand(self.act(self.conv_reduce(scale))))
        return x * scale


class MultiQueryAttention2d(nn.Module):
    """Multi-query attention on a feature map: `heads` query heads, one shared key/value head.

    fused=True uses torch's scaled_dot_product_attention; fused=False spells out the two
    matrix products (q k^T and attn v), which is what hook- and FlopCounterMode-based
    counters can see.
    """

    def __init__(self, channels: int, heads: int, key_dim: int, kv_stride: int, kv_kernel: int,
                 norm: Norm = "batch"):  # fmt: skip
        super().__init__()
        self.heads, self.key_dim = heads, key_dim
        self.fused = True
        self.query = nn.Sequential()
        self.query.add_module("proj", conv2d(channels, heads * key_dim, 1))
        self.key = self._kv_branch(channels, key_dim, kv_stride, kv_kernel, norm)
        self.value = self._kv_branch(channels, key_dim, kv_stride, kv_kernel, norm)
        self.output = nn.Sequential()
        self.output.add_module("proj", conv2d(heads * key_dim, channels, 1))

    @staticmethod
    def _kv_branch(channels, key_dim, kv_stride, kv_kernel, norm) -> nn.Sequential:
        branch = nn.Sequential()
        if kv_stride > 1:
            branch.add_module("down_conv", conv2d(channels, channels, kv_kernel, kv_stride, groups=channels))
            branch.add_module("norm", make_norm(norm, channels))
        branch.add_module("proj", conv2d(channels, key_dim, 1))
        return branch

    def forward(self, x):
        batch, _, height, width = x.shape
        # q: [B, heads, N, d]; channel index of the projection is head * d + k
        q = self.query(x).reshape(batch, self.heads, self.key_dim, -1).transpose(-1, -2).contiguous()
        # k, v: [B, 1, M, d], one head shared by all query heads (broadcast, not copied)
        k = self.key(x).flatten(2).transpose(1, 2).unsqueeze(1).contiguous()
        v = self.value(x).flatten(2).transpose(1, 2).unsqueeze(1).contiguous()
        if self.fused:
            o = F.scaled_dot_product_attention(q, k, v)
        else:
            attn = (q * self.key_dim**-0.5) @ k.transpose(-1, -2)
            o = attn.softmax(dim=-1) @ v
        # back to [B, heads * d, H, W]
        o = o.transpose(1, 2).reshape(batch, height, width, self.heads * self.key_dim)
        return self.output(o.permute(0, 3, 1, 2).contiguous())

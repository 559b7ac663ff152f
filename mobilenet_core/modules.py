"""PyTorch blocks and the one builder that turns resolved specs into a module.

Submodules are named for their role, in timm's key layout (conv_stem, blocks.S.I.conv_dw,
dw_start / pw_exp / dw_mid / pw_proj, se.conv_reduce, attn.query.proj, ...), so that timm's
published checkpoints load as they are; torchvision's are renamed by `weights`.
Absent parts are nn.Identity, and every forward is a straight line.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from .specs.blocks import UIB, Activation, DepthwiseSeparable, FusedIB, InvertedResidual, MobileMQA
from .specs.width import ResolvedBlock, ResolvedNet


def make_activation(activation: Activation) -> nn.Module:
    return {
        Activation.RELU: nn.ReLU,
        Activation.RELU6: nn.ReLU6,
        Activation.HARD_SWISH: nn.Hardswish,
        Activation.GELU: nn.GELU,
        Activation.NONE: nn.Identity,
    }[activation]()


def _conv(in_ch: int, out_ch: int, kernel: int, stride: int = 1, groups: int = 1, bias: bool = False):
    return nn.Conv2d(in_ch, out_ch, kernel, stride, padding=(kernel - 1) // 2, groups=groups, bias=bias)


class ConvNormAct(nn.Module):
    """conv + BN (+ act): the brick of UIB and MQA. No bias, since BN follows."""

    def __init__(self, in_ch, out_ch, kernel, stride=1, groups=1, activation=Activation.NONE):
        super().__init__()
        self.conv = _conv(in_ch, out_ch, kernel, stride, groups)
        self.bn = nn.BatchNorm2d(out_ch)
        self.act = make_activation(activation)

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class LayerScale2d(nn.Module):
    """Per-channel learnable scale of a residual branch (V4 hybrids)."""

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


class ConvBnActBlock(nn.Module):
    """A plain conv block: conv + BN + act (V4-S's early layers, the final 960 / 576 conv)."""

    def __init__(self, b: ResolvedBlock):
        super().__init__()
        spec = b.spec
        self.conv = _conv(b.in_channels, b.out_channels, spec.kernel, spec.stride)
        self.bn1 = nn.BatchNorm2d(b.out_channels)
        self.act = make_activation(b.activation)

    def forward(self, x):
        return self.act(self.bn1(self.conv(x)))


class DepthwiseSeparableBlock(nn.Module):
    def __init__(self, b: ResolvedBlock):
        super().__init__()
        spec: DepthwiseSeparable = b.spec
        c = b.in_channels
        self.has_skip = b.residual
        self.conv_dw = _conv(c, c, spec.kernel, spec.stride, groups=c)
        self.bn1 = nn.BatchNorm2d(c)
        self.act1 = make_activation(b.activation)
        self.se = SqueezeExcite(c, b.se_channels) if b.se_channels else nn.Identity()
        self.conv_pw = _conv(c, b.out_channels, 1)
        self.bn2 = nn.BatchNorm2d(b.out_channels)
        self.act2 = make_activation(b.activation if spec.pointwise_activation else Activation.NONE)

    def forward(self, x):
        shortcut = x
        x = self.act1(self.bn1(self.conv_dw(x)))
        x = self.se(x)
        x = self.act2(self.bn2(self.conv_pw(x)))
        return x + shortcut if self.has_skip else x


class InvertedResidualBlock(nn.Module):
    def __init__(self, b: ResolvedBlock):
        super().__init__()
        spec: InvertedResidual = b.spec
        mid = b.expanded_channels
        self.has_skip = b.residual
        self.conv_pw = _conv(b.in_channels, mid, 1)
        self.bn1 = nn.BatchNorm2d(mid)
        self.act1 = make_activation(b.activation)
        self.conv_dw = _conv(mid, mid, spec.kernel, spec.stride, groups=mid)
        self.bn2 = nn.BatchNorm2d(mid)
        self.act2 = make_activation(b.activation)
        self.se = SqueezeExcite(mid, b.se_channels) if b.se_channels else nn.Identity()
        self.conv_pwl = _conv(mid, b.out_channels, 1)
        self.bn3 = nn.BatchNorm2d(b.out_channels)  # linear bottleneck: no activation

    def forward(self, x):
        shortcut = x
        x = self.act1(self.bn1(self.conv_pw(x)))
        x = self.act2(self.bn2(self.conv_dw(x)))
        x = self.se(x)
        x = self.bn3(self.conv_pwl(x))
        return x + shortcut if self.has_skip else x


class FusedIBBlock(nn.Module):
    def __init__(self, b: ResolvedBlock):
        super().__init__()
        spec: FusedIB = b.spec
        mid = b.expanded_channels
        self.has_skip = b.residual
        self.conv_exp = _conv(b.in_channels, mid, spec.kernel, spec.stride)
        self.bn1 = nn.BatchNorm2d(mid)
        self.act = make_activation(b.activation)
        self.conv_pwl = _conv(mid, b.out_channels, 1)
        self.bn2 = nn.BatchNorm2d(b.out_channels)

    def forward(self, x):
        shortcut = x
        x = self.act(self.bn1(self.conv_exp(x)))
        x = self.bn2(self.conv_pwl(x))
        return x + shortcut if self.has_skip else x


class UIBBlock(nn.Module):
    """Universal Inverted Bottleneck. The stride sits on the middle depthwise when there is
    one, else on the start depthwise."""

    def __init__(self, b: ResolvedBlock):
        super().__init__()
        spec: UIB = b.spec
        c, mid = b.in_channels, b.expanded_channels
        self.has_skip = b.residual
        start_stride = spec.stride if not spec.mid else 1
        self.dw_start = ConvNormAct(c, c, spec.start, start_stride, groups=c) if spec.start else nn.Identity()
        self.pw_exp = ConvNormAct(c, mid, 1, activation=b.activation)
        self.dw_mid = (
            ConvNormAct(mid, mid, spec.mid, spec.stride, groups=mid, activation=b.activation)
            if spec.mid
            else nn.Identity()
        )
        self.pw_proj = ConvNormAct(mid, b.out_channels, 1)
        self.layer_scale = LayerScale2d(b.out_channels) if b.layer_scale else nn.Identity()

    def forward(self, x):
        shortcut = x
        x = self.dw_start(x)
        x = self.pw_exp(x)
        x = self.dw_mid(x)
        x = self.pw_proj(x)
        x = self.layer_scale(x)
        return x + shortcut if self.has_skip else x


class MultiQueryAttention2d(nn.Module):
    """Multi-query attention on a feature map: `heads` query heads, one shared key/value head.

    fused=True uses torch's scaled_dot_product_attention; fused=False spells out the two
    matrix products (q k^T and attn v), which is what hook- and FlopCounterMode-based
    counters can see.
    """

    def __init__(self, channels: int, heads: int, key_dim: int, kv_stride: int, kv_kernel: int):
        super().__init__()
        self.heads, self.key_dim = heads, key_dim
        self.fused = True
        self.query = nn.Sequential()
        self.query.add_module("proj", _conv(channels, heads * key_dim, 1))
        self.key = self._kv_branch(channels, key_dim, kv_stride, kv_kernel)
        self.value = self._kv_branch(channels, key_dim, kv_stride, kv_kernel)
        self.output = nn.Sequential()
        self.output.add_module("proj", _conv(heads * key_dim, channels, 1))

    @staticmethod
    def _kv_branch(channels, key_dim, kv_stride, kv_kernel) -> nn.Sequential:
        branch = nn.Sequential()
        if kv_stride > 1:
            branch.add_module("down_conv", _conv(channels, channels, kv_kernel, kv_stride, groups=channels))
            branch.add_module("norm", nn.BatchNorm2d(channels))
        branch.add_module("proj", _conv(channels, key_dim, 1))
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


class MobileMQABlock(nn.Module):
    def __init__(self, b: ResolvedBlock):
        super().__init__()
        spec: MobileMQA = b.spec
        c = b.in_channels
        self.norm = nn.BatchNorm2d(c)
        self.attn = MultiQueryAttention2d(c, spec.heads, spec.key_dim, spec.kv_stride, spec.kv_kernel)
        self.layer_scale = LayerScale2d(c) if b.layer_scale else nn.Identity()

    def forward(self, x):
        return x + self.layer_scale(self.attn(self.norm(x)))


BLOCK_MODULES = {
    "conv": ConvBnActBlock,
    "ds": DepthwiseSeparableBlock,
    "ir": InvertedResidualBlock,
    "fused_ib": FusedIBBlock,
    "uib": UIBBlock,
    "mqa": MobileMQABlock,
}


class MobileNet(nn.Module):
    """Any member of the family, built from a ResolvedNet."""

    def __init__(self, net: ResolvedNet, resolution: int):
        super().__init__()
        g = net.generation
        self.model_name, self.alpha, self.resolution = g.name, net.alpha, resolution
        stem = net.stem
        self.conv_stem = _conv(3, stem.out_channels, stem.spec.kernel, stem.spec.stride)
        self.bn1 = nn.BatchNorm2d(stem.out_channels)
        self.act1 = make_activation(stem.activation)
        stages: list[list[nn.Module]] = [[] for _ in g.stages]
        for b in net.blocks:
            stages[b.stage].append(BLOCK_MODULES[b.kind](b))
        self.blocks = nn.Sequential(*(nn.Sequential(*s) for s in stages))

        head = g.head
        features = net.head_features
        self.head_before_pool = head.before_pool
        if features:
            self.conv_head = _conv(net.head_in, features, 1, bias=head.bias)
            norm = nn.BatchNorm2d(features) if head.norm else nn.Identity()
            # timm calls the head BN bn2 when it runs before pooling, norm_head after it
            if head.before_pool:
                self.bn2, self.norm_head = norm, nn.Identity()
            else:
                self.bn2, self.norm_head = nn.Identity(), norm
            self.act2 = make_activation(g.activation)
        else:
            self.conv_head, self.bn2, self.norm_head, self.act2 = (nn.Identity(),) * 4
        self.classifier = nn.Linear(features or net.head_in, head.num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The feature map after the last block (before the head)."""
        x = self.act1(self.bn1(self.conv_stem(x)))
        return self.blocks(x)

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        if self.head_before_pool:
            x = self.act2(self.bn2(self.conv_head(x)))
            x = x.mean((2, 3), keepdim=True)
        else:
            x = x.mean((2, 3), keepdim=True)
            x = self.act2(self.norm_head(self.conv_head(x)))
        return self.classifier(x.flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def block_outputs(self, x: torch.Tensor, names: Iterable[str]) -> dict[str, torch.Tensor]:
        """The outputs of the named blocks ("blocks.S.I", or "blocks.S" for a whole stage) for
        input `x`, from the same straight-line forward, stopping after the last one asked for.

        This is how explanations get intermediate tensors: a model is shared by every session
        of a server, so nothing may register hooks on it (another session's forward pass would
        fire them). This reads the module and writes nothing."""
        wanted = set(names)
        known = {f"blocks.{s}" for s in range(len(self.blocks))}
        known |= {f"blocks.{s}.{i}" for s, stage in enumerate(self.blocks) for i in range(len(stage))}
        if unknown := sorted(wanted - known):
            raise KeyError(f"{self.model_name} has no block {unknown[0]!r}")
        outputs: dict[str, torch.Tensor] = {}
        x = self.act1(self.bn1(self.conv_stem(x)))
        for s, stage in enumerate(self.blocks):
            for i, block in enumerate(stage):
                x = block(x)
                if f"blocks.{s}.{i}" in wanted:
                    outputs[f"blocks.{s}.{i}"] = x
            if f"blocks.{s}" in wanted:
                outputs[f"blocks.{s}"] = x
            if len(outputs) == len(wanted):
                break
        return outputs

    def set_fused_attention(self, fused: bool) -> None:
        """Switch the MQA blocks between torch's fused kernel and explicit matmuls."""
        for m in self.modules():
            if isinstance(m, MultiQueryAttention2d):
                m.fused = fused


def build_module(net: ResolvedNet, resolution: int, seed: int | None = 0) -> MobileNet:
    module = MobileNet(net, resolution)
    _init_weights(module, None if seed is None else torch.Generator().manual_seed(seed))
    return module.eval()


def _init_weights(module: nn.Module, generator: torch.Generator | None) -> None:
    """Training-style init, so that an untrained network gives spread-out, finite logits. With a
    generator the "untrained" network is the same in every session and on every machine."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", generator=generator)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01, generator=generator)
            nn.init.zeros_(m.bias)

"""PyTorch blocks and the one builder that turns resolved specs into a module.

Each block's module comes from its block type's record (`blocktypes`). Submodules are named for
their role, in timm's key layout (conv_stem, blocks.S.I.conv_dw, dw_start / pw_exp / dw_mid /
pw_proj, se.conv_reduce, attn.query.proj, msfa.ffn, ...), so that timm's published checkpoints
load as they are; torchvision's are renamed by `weights`. Absent parts are nn.Identity.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from .blocktypes import block_type
from .layers import ConvNormAct, MultiQueryAttention2d, conv2d, make_activation, make_norm
from .resolve import ResolvedNet
from .untrained import calibrate, calibrated, init_weights


class MobileNet(nn.Module):
    """Any member of the family, built from a ResolvedNet."""

    def __init__(self, net: ResolvedNet, resolution: int):
        super().__init__()
        g = net.generation
        self.model_name, self.alpha, self.resolution = g.name, net.alpha, resolution
        stem = net.stem
        if g.stem_bias:  # V5: conv_stem is conv (with bias) + norm + act, as timm names it
            self.conv_stem = ConvNormAct(3, stem.out_channels, stem.spec.kernel, stem.spec.stride,
                                         activation=stem.activation, norm=g.norm, bias=True)  # fmt: skip
            self.bn1, self.act1 = nn.Identity(), nn.Identity()
        else:
            self.conv_stem = conv2d(3, stem.out_channels, stem.spec.kernel, stem.spec.stride)
            self.bn1 = make_norm(g.norm, stem.out_channels)
            self.act1 = make_activation(stem.activation)
        stages: list[list[nn.Module]] = [[] for _ in g.stages]
        # Blocks with a fixed path (V5's msfa) sit at the top level and take the stages' outputs.
        self.necks: list[str] = []
        for b in net.blocks:
            module = block_type(b.kind).module(b)
            if b.name.startswith("blocks."):
                stages[b.stage].append(module)
            else:
                self.add_module(b.name, module)
                self.necks.append(b.name)
        self.blocks = nn.Sequential(*(nn.Sequential(*s) for s in stages if s))

        head = g.head
        features = net.head_features
        self.head_before_pool = head.before_pool
        if features:
            self.conv_head = conv2d(net.head_in, features, 1, bias=head.bias)
            norm = make_norm(g.norm, features) if head.norm else nn.Identity()
            # timm calls the head BN bn2 when it runs before pooling, norm_head after it
            if head.before_pool:
                self.bn2, self.norm_head = norm, nn.Identity()
            else:
                self.bn2, self.norm_head = nn.Identity(), norm
            self.act2 = make_activation(g.activation)
        else:
            self.conv_head, self.bn2, self.norm_head, self.act2 = (nn.Identity(),) * 4
        # num_classes 0: an encoder (V5-300M in Gemma 3n); the output is the pooled features
        fc_in = features or net.head_in
        self.classifier = nn.Linear(fc_in, head.num_classes) if head.num_classes else nn.Identity()
        self.num_classes = head.num_classes or fc_in

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The feature map after the last block (before the head)."""
        x = self.act1(self.bn1(self.conv_stem(x)))
        if not self.necks:
            return self.blocks(x)
        stage_outputs = []
        for stage in self.blocks:
            x = stage(x)
            stage_outputs.append(x)
        for name in self.necks:
            x = getattr(self, name)(stage_outputs)
        return x

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
    """The untrained network: seeded init, then batch-norm statistics calibrated on real photos so
    that it is alive in eval mode (see `untrained`). seed=None draws from torch's global generator
    and is not cached."""
    module = MobileNet(net, resolution)
    init_weights(module, None if seed is None else torch.Generator().manual_seed(seed))
    module.eval()
    if seed is None:
        calibrate(module, resolution)
    else:
        calibrated(module, (net, resolution, seed), resolution)
    return module

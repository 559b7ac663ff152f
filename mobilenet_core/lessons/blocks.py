"""What every lesson shares: the network a lesson runs live, a block run part by part
(`block_steps`, never hooks: the models are shared by every session of a server), and what a
lesson asks of a model, asked through the block-type registry (`needs` predicates)."""

from __future__ import annotations

import torch
from torch import nn

from ..blocktypes import REGISTRY
from ..count import BlockRow, CountReport
from ..layers import ConvNormAct
from ..modules import MobileNet

# A lesson that runs the network on a photo stays within a few seconds on a laptop CPU: V5-Base at
# 256 px (20 G MACs) runs as selected; V5-300M at 768 px (436 G, about 30 s here) does not.
LIVE_MACS = 25_000_000_000


# ... and a network a lesson runs must fit the server's shared model cache (app.models): V5-300M's
# 294 M parameters (1.2 GB) would be built again on every run of every student.
LIVE_PARAMS = 100_000_000


def live_model(model: str, alpha: float) -> str:
    """The model a lesson runs for `model`: itself, or for a network too big to hold for live
    demos, the smallest model of its family (V5-300M -> V5-Base, the same design)."""
    from ..api import count, get_generation, list_models

    if count(model, alpha).params <= LIVE_PARAMS:
        return model
    family = get_generation(model).family
    return min(
        (m for m in list_models() if get_generation(m).family == family), key=lambda m: count(m).params
    )


def live_resolution(model: str, alpha: float, resolution: int) -> int:
    """The input size a lesson runs the network at: the selection's, or for a network too big to
    run live, the largest multiple of 32 px (below the selection) whose count is under LIVE_MACS."""
    from ..api import count
    from ..rules import RESOLUTION_MIN, RESOLUTION_STEP

    size = resolution
    while size > RESOLUTION_MIN and count(model, alpha, size).macs > LIVE_MACS:
        size = max(RESOLUTION_MIN, (size - 1) // RESOLUTION_STEP * RESOLUTION_STEP)
    return size


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


def is_depthwise(m: nn.Module) -> bool:
    return isinstance(m, nn.Conv2d) and m.groups == m.in_channels > 1


def expansion_blocks(report: CountReport) -> list[BlockRow]:
    """Blocks that expand to a wider tensor, apply an activation and project back linearly."""
    expands = {k for k, t in REGISTRY.items() if t.expands}
    # an expansion ratio of 1 (V5's first FFN) expands nothing
    return [b for b in report.blocks if b.kind in expands and b.expanded_channels > b.in_channels]


# --- what a lesson needs from a model, asked of the block-type registry -----------------------------


def blocks_drawn_as(report: CountReport, anatomy: str) -> list[BlockRow]:
    """The blocks whose type is drawn as `anatomy` ("variants": the UIB's four variants,
    "attention": an attention block): the capability the block type declares in its record,
    so no lesson names a block type."""
    return [b for b in report.blocks if b.kind in REGISTRY and REGISTRY[b.kind].anatomy == anatomy]


def has_depthwise(report: CountReport) -> bool:
    return any(layer.kind == "dwconv" for layer in report.layers)  # a layer kind of the counter


def has_expansion(report: CountReport) -> bool:
    return bool(expansion_blocks(report))


def has_se(report: CountReport) -> bool:
    return any(layer.kind == "se" for layer in report.layers)


def has_uib_variants(report: CountReport) -> bool:
    return bool(blocks_drawn_as(report, "variants"))


def has_attention(report: CountReport) -> bool:
    return bool(blocks_drawn_as(report, "attention"))

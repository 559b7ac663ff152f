"""V3's hard activations and efficient last stage (arXiv:1905.02244, Sections 5.2 and 5.4)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..count import CountReport
from ..errors import ConfigError
from . import Lesson

LESSON = Lesson(__name__, "V3", 2019, "arXiv:1905.02244", position=2)


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
    if conv_head is None or [x.kind for x in final.layers] != ["pwconv"]:  # one 1x1 conv, nothing else
        raise ConfigError(f"{report.model} has no conv-pool-conv head to compare")
    f = conv_head.out_channels
    original = 9 * e * h * w + e * projected * h * w + projected * f * h * w
    efficient = e * f
    return LastStage(h, w, e, projected, f, original, efficient, 9 * e + e * projected + projected * f, e * f)

"""The reference data copied from ../shared/reference into tests/fixtures/reference."""

from __future__ import annotations

import csv
import json
import math
import zlib
from functools import lru_cache
from pathlib import Path

import torch

REFERENCE = Path(__file__).parent / "fixtures" / "reference"

# reference model name -> (our model, alpha)
REFERENCE_MODELS = {
    "tv_mobilenet_v2": ("v2", 1.0),
    "tv_mobilenet_v3_large": ("v3_large", 1.0),
    "tv_mobilenet_v3_small": ("v3_small", 1.0),
    "timm_mobilenetv1_100": ("v1", 1.0),
    "timm_mobilenetv1_125": ("v1", 1.25),
    "timm_mobilenetv2_035": ("v2", 0.35),
    "timm_mobilenetv2_050": ("v2", 0.5),
    "timm_mobilenetv2_075": ("v2", 0.75),
    "timm_mobilenetv2_100": ("v2", 1.0),
    "timm_mobilenetv2_140": ("v2", 1.4),
    "timm_mobilenetv3_large_075": ("v3_large", 0.75),
    "timm_mobilenetv3_large_100": ("v3_large", 1.0),
    "timm_mobilenetv3_small_050": ("v3_small", 0.5),
    "timm_mobilenetv3_small_075": ("v3_small", 0.75),
    "timm_mobilenetv3_small_100": ("v3_small", 1.0),
    "timm_mobilenetv4_conv_small_035": ("v4_conv_small", 0.35),
    "timm_mobilenetv4_conv_small_050": ("v4_conv_small", 0.5),
    "timm_mobilenetv4_conv_small": ("v4_conv_small", 1.0),
    "timm_mobilenetv4_conv_medium": ("v4_conv_medium", 1.0),
    "timm_mobilenetv4_conv_large": ("v4_conv_large", 1.0),
    "timm_mobilenetv4_hybrid_medium": ("v4_hybrid_medium", 1.0),
    "timm_mobilenetv4_hybrid_large": ("v4_hybrid_large", 1.0),
    "timm_mobilenetv5_base": ("v5_base", 1.0),
    "timm_mobilenetv5_300m": ("v5_300m", 1.0),
}


@lru_cache
def reference_counts() -> dict:
    return json.loads((REFERENCE / "reference_counts.json").read_text())


@lru_cache
def manifest(name: str) -> dict:
    return json.loads((REFERENCE / "checkpoints" / f"{name}.json").read_text())


def published_rows() -> list[dict]:
    with open(REFERENCE / "published.csv", newline="") as f:
        return list(csv.DictReader(f))


def deterministic_state_dict(keys: dict[str, list[int]]) -> dict[str, torch.Tensor]:
    """The fill rule of the reference README, per key and shape."""
    state = {}
    for key, shape in keys.items():
        g = torch.Generator().manual_seed(zlib.crc32(key.encode()))
        if key.endswith("num_batches_tracked"):
            t = torch.zeros(shape, dtype=torch.int64)
        elif key.endswith("running_var"):
            t = 0.5 + torch.rand(shape, generator=g)
        elif key.endswith("running_mean"):
            t = 0.1 * torch.randn(shape, generator=g)
        elif len(shape) >= 2:
            t = torch.randn(shape, generator=g) / math.sqrt(math.prod(shape[1:]))
        elif key.endswith("bias"):
            t = 0.1 * torch.randn(shape, generator=g)
        else:
            t = 1 + 0.1 * torch.randn(shape, generator=g)
        state[key] = t
    return state


def probe_input(resolution: int) -> torch.Tensor:
    return torch.randn(1, 3, resolution, resolution, generator=torch.Generator().manual_seed(0))


def float32_tolerance(module: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, float]:
    """(exact logits, tolerance) for comparing a float32 path (the BN-folded ONNX runner, an export)
    with `module` on `x`: the logits computed in float64, and the larger of 1e-4 of their largest
    magnitude and 10x the error of torch's own float32 eager pass against them.

    The second term is there for the untrained hybrids: a random network with attention amplifies
    rounding differences (V4 Hybrid-L: a change of 1e-5 in the input moves the logits by 2.6e-3),
    so two float32 computations of the same function legitimately differ by more than 1e-4 on
    one machine and by another amount on the next. "No further from the exact answer than torch's
    float32 is, within 10x" holds on any CPU."""
    import copy

    with torch.inference_mode():
        exact = copy.deepcopy(module).double()(x.double())
        eager = module(x).double()
    return exact, max(1e-4 * float(exact.abs().max()), 10 * float((eager - exact).abs().max()))


def steady(measure, holds, tries: int = 3):
    """`measure()` again (at most `tries` times) until `holds(result)`; the last result otherwise.

    For the few tests that assert a physical fact about measured times (a layer is not faster than
    the machine's peak; depthwise layers take a larger share of the time than of the MACs): on a
    loaded machine another process can disturb one measurement, never three in a row in the same
    direction, so the fact must show in one of them. The caller asserts on the result."""
    result = measure()
    for _ in range(tries - 1):
        if holds(result):
            break
        result = measure()
    return result

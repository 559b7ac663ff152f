"""ONNX export of a built model, for Netron or deployment."""

from __future__ import annotations

import io
import os
import threading
import warnings

import torch
from torch import nn

OPSET = 17
# PyTorch's exporter keeps process-wide state (torch.onnx's GLOBALS.in_onnx_export): two threads
# exporting at once failed ("in_onnx_export must be False") and a runner fell back to eager. A
# server's sessions export one at a time (in the export worker, mobilenet_core.isolate, or here).
EXPORT_LOCK = threading.RLock()


def export_onnx(
    module: nn.Module,
    path: str | os.PathLike | None = None,
    resolution: int | None = None,
    dynamic_size: bool = False,
    outputs: tuple[str, ...] = ("logits",),
) -> bytes:
    """Serialise `module` to ONNX (input "image" N x 3 x R x R, output "logits" N x 1000, dynamic
    batch; with dynamic_size also dynamic height and width). Writes `path` when given; returns
    the bytes either way. Needs the `onnx` package.

    `outputs` names what the module returns, in order, when it returns more than the logits (a
    tuple: the fast runner's block taps); every output has a dynamic batch."""
    resolution = resolution or getattr(module, "resolution", 224)
    example = torch.randn(1, 3, resolution, resolution)
    buffer = io.BytesIO()
    with EXPORT_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript-based exporter announces its deprecation
        torch.onnx.export(
            module.eval(), example, buffer, dynamo=False, opset_version=OPSET,
            input_names=["image"], output_names=list(outputs),
            dynamic_axes={"image": {0: "batch", **({2: "height", 3: "width"} if dynamic_size else {})},
                          **{name: {0: "batch"} for name in outputs}},
        )  # fmt: skip
    data = buffer.getvalue()
    if path is not None:
        with open(path, "wb") as f:
            f.write(data)
    return data

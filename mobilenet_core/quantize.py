"""INT8: static quantization of the BN-folded export with ONNX Runtime's quantization tools.

Weights are quantized per output channel (signed 8 bit), activations per tensor (unsigned 8 bit)
with ranges calibrated on real photos run through the float model: the user's, or a bundled set
(crops and mirrors of the sample photos). The result is a QDQ ONNX model that ONNX Runtime runs
with integer kernels (VNNI on CPUs that have it). This is what the MobileNetV4 paper measures
its CPUs, DSP and EdgeTPU at (INT8, arXiv:2404.10518, Appendix B).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch

from . import isolate
from .errors import MobileNetError
from .export import export_onnx
from .fast import fold_batchnorm, session_options

SAMPLES = Path(__file__).resolve().parent.parent / "assets" / "samples"


def bundled_calibration_images(resolution: int, count: int = 16) -> list[torch.Tensor]:
    """`count` normalised inputs made from the bundled sample photos: crops at several scales and
    positions, and their mirror images (ImageNet mean/std, like the default recipe)."""
    from PIL import ImageOps

    from .predict import load_image, preprocess_image
    from .registry import default_preprocess

    photos = [load_image(p) for p in sorted(SAMPLES.glob("*")) if p.suffix in (".png", ".jpg")]
    if not photos:
        raise MobileNetError("no bundled sample photos to calibrate with; give calibration images")
    recipe = default_preprocess(resolution)
    inputs = []
    for i in range(count):
        photo = photos[i % len(photos)]
        w, h = photo.size
        scale = 1.0 - 0.08 * (i // (2 * len(photos)))
        cw, ch = max(2, int(w * scale)), max(2, int(h * scale))
        left, top = (w - cw) * (i % 3) // 2, (h - ch) * ((i // 3) % 3) // 2
        crop = photo.crop((left, top, left + cw, top + ch))
        if (i // len(photos)) % 2:
            crop = ImageOps.mirror(crop)
        inputs.append(preprocess_image(crop, recipe)[0])
    return inputs


class _Reader:
    """ONNX Runtime's CalibrationDataReader protocol: one input dict per call, then None."""

    def __init__(self, inputs: Iterable[torch.Tensor]):
        self._items = iter([{"image": x.detach().cpu().numpy().astype(np.float32)} for x in inputs])

    def get_next(self):
        return next(self._items, None)

    def rewind(self):  # not needed by quantize_static's single pass
        raise NotImplementedError


# The first conv (3 input channels, a tiny share of the MACs) and the classifier, whose
# outputs are the logits themselves, stay in float: the usual practice, and the part of the
# network where 8-bit rounding moves the top-1 most for the least speed.
KEEP_FLOAT = ("/conv_stem/", "/classifier/")


def quantize_onnx(module: torch.nn.Module, calibration: list[torch.Tensor] | None = None,
                  resolution: int | None = None) -> bytes:  # fmt: skip
    """The INT8 QDQ ONNX model of `module` (BN folded), calibrated on `calibration` (normalised
    1x3xHxW tensors; the bundled photos when None). The stem conv and the classifier stay float."""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    resolution = resolution or getattr(module, "resolution", 224)
    calibration = calibration or bundled_calibration_images(resolution)
    with tempfile.TemporaryDirectory() as tmp:
        float_path, prepared, int8_path = (Path(tmp) / n for n in ("float.onnx", "prep.onnx", "int8.onnx"))
        float_path.write_bytes(export_onnx(fold_batchnorm(module), resolution=resolution))
        quant_pre_process(str(float_path), str(prepared), skip_symbolic_shape=True)
        nodes = [n.name for n in onnx.load(str(prepared)).graph.node]
        quantize_static(
            str(prepared), str(int8_path), _Reader(calibration),
            quant_format=QuantFormat.QDQ, per_channel=True,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            nodes_to_exclude=[n for n in nodes if n.startswith(KEEP_FLOAT)],
        )  # fmt: skip
        return int8_path.read_bytes()


class Int8Model(torch.nn.Module):
    """An INT8 runner, called like the eager module: logits as a torch tensor. ONNX Runtime
    sessions may be run from several threads at once, so one runner can be shared."""

    def __init__(self, module: torch.nn.Module, calibration: list[torch.Tensor] | None = None,
                 threads: int = 0, isolated: bool = False):  # fmt: skip
        super().__init__()
        import onnxruntime

        self.model_name = getattr(module, "model_name", None)
        self.resolution = getattr(module, "resolution", 224)
        # exported and quantized in the worker process when isolated, as FastModel(isolated=True)
        quantize = isolate.run_or_here if isolated else lambda job, *args: job(*args)
        self.onnx = quantize(quantize_onnx, module, calibration, self.resolution)
        options = session_options(threads)
        self.session = onnxruntime.InferenceSession(self.onnx, options, providers=["CPUExecutionProvider"])
        self.backend = "onnxruntime-int8"
        self.session_bytes = int(2.5 * len(self.onnx))

    @torch.inference_mode()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.session.run(None, {"image": x.detach().cpu().contiguous().numpy()})[0]
        return torch.from_numpy(out)

"""The roofline argument of the MobileNetV4 paper (arXiv:2404.10518, Sec. 3): per layer,
arithmetic intensity (FLOPs per byte moved) against the machine's peak compute and memory
bandwidth. Depthwise convolutions move nearly as many bytes as they compute, so they sit far
left of the ridge point and cost more time than their MACs suggest.

Bytes moved per layer (float32, batch 1, no cache reuse across layers): its input feature map,
its weights and its output feature map. Time estimate: max(FLOPs / peak FLOP/s, bytes / bandwidth).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from .count import CountReport

BYTES = 4  # float32


@dataclass(frozen=True)
class MachinePeaks:
    flops_per_s: float  # measured: a large float32 matrix multiply
    bytes_per_s: float  # measured: a large tensor copy (read + write)
    threads: int
    method: str

    @property
    def ridge(self) -> float:
        """Arithmetic intensity (FLOP/byte) where compute and memory limits meet."""
        return self.flops_per_s / self.bytes_per_s


def measure_peaks(seconds: float = 0.5, threads: int | None = None) -> MachinePeaks:
    """Short micro-benchmarks of this CPU: 1024x1024 float32 matmuls for compute, 64 MiB copies
    for bandwidth, best of repeated runs within about `seconds` each."""
    threads = threads or torch.get_num_threads()
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        n = 1024
        a, b = torch.randn(n, n), torch.randn(n, n)
        best_flops = 0.0
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            torch.mm(a, b)
            best_flops = max(best_flops, 2 * n**3 / (time.perf_counter() - start))
        src = torch.empty(16 * 2**20)  # 64 MiB of float32
        dst = torch.empty_like(src)
        best_bw = 0.0
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            dst.copy_(src)
            best_bw = max(best_bw, 2 * src.numel() * BYTES / (time.perf_counter() - start))
    finally:
        torch.set_num_threads(previous)
    method = (f"best of repeated 1024x1024 float32 matmuls (FLOP/s) and 64 MiB tensor copies counted as "
              f"read + write (bytes/s), {threads} threads, torch {torch.__version__}")  # fmt: skip
    return MachinePeaks(best_flops, best_bw, threads, method)


@dataclass(frozen=True)
class RooflinePoint:
    name: str
    kind: str
    flops: int
    bytes: int
    intensity: float
    estimated_ms: float
    bound: str  # "memory" or "compute"


def roofline_points(report: CountReport, peaks: MachinePeaks) -> list[RooflinePoint]:
    """One point per conv / linear / attention layer with MACs."""
    points = []
    for layer in report.layers:
        if not layer.macs:
            continue
        flops = 2 * layer.macs
        in_h, in_w = layer.out_height * layer.stride, layer.out_width * layer.stride
        if layer.kind == "attention":  # q (N x h d) or scores (h x N x M), and the output
            moved = BYTES * (layer.in_channels * in_h * in_w + layer.activations)
        else:
            weights = layer.params - layer.norm_params - layer.bias_params
            inputs = layer.in_channels * (in_h * in_w if layer.kind != "linear" else 1)
            moved = BYTES * (inputs + weights + layer.activations)
        compute_s, memory_s = flops / peaks.flops_per_s, moved / peaks.bytes_per_s
        points.append(RooflinePoint(layer.name, layer.kind, flops, moved, flops / moved,
                                    1e3 * max(compute_s, memory_s),
                                    "memory" if memory_s > compute_s else "compute"))  # fmt: skip
    return points

"""The roofline argument of the MobileNetV4 paper (arXiv:2404.10518, Sec. 3): per layer,
arithmetic intensity (FLOPs per byte moved) against the machine's peak compute and memory
bandwidth. Depthwise convolutions move nearly as many bytes as they compute, so they sit far
left of the ridge point and cost more time than their MACs suggest.

Bytes moved per layer (float32, batch 1, no cache reuse across layers): its input feature map,
its weights and its output feature map. Time estimate: max(FLOPs / peak FLOP/s, bytes / bandwidth).
Measured time: each layer timed inside real forward passes of the built network (BN folded),
median over repeated runs (measure_layer_times).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

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
    measured_ms: float | None = None

    @property
    def achieved_flops_per_s(self) -> float | None:
        return self.flops / (self.measured_ms / 1e3) if self.measured_ms else None


@dataclass(frozen=True)
class LayerTimes:
    """Per-layer times measured in real forward passes, and the whole pass for comparison."""

    ms: dict[str, float] = field(default_factory=dict)  # layer name -> median ms
    forward_ms: float = 0.0  # median of the same (hooked) forward passes, whole
    runs: int = 0
    threads: int = 0
    method: str = ""

    def by_block(self, report: CountReport) -> dict[str, float]:
        """The measured layer times summed per block of `report` (ms)."""
        totals: dict[str, float] = {}
        for layer in report.layers:
            if layer.name in self.ms:
                totals[layer.block] = totals.get(layer.block, 0.0) + self.ms[layer.name]
        return totals

    @property
    def coverage(self) -> float:
        """Sum of the layer times over a whole pass (the rest: activations, adds, pooling, hooks)."""
        return sum(self.ms.values()) / self.forward_ms if self.forward_ms else 0.0


def measure_layer_times(module: torch.nn.Module, report: CountReport, runs: int = 20,
                        warmup: int = 3) -> LayerTimes:  # fmt: skip
    """Time every layer of `report` that has MACs inside forward passes of `module` (built for the
    same configuration): BN folded into the convs as for inference, forward hooks around each
    layer's module (its conv with the activation that follows), median over `runs` passes.
    Attention products that are not modules of their own (Q K^T, A V) share what is left of
    their attention module's time after its projections, in proportion to their FLOPs."""
    from .fast import fold_batchnorm

    net = fold_batchnorm(module).eval()
    modules = dict(net.named_modules())
    layers = [layer for layer in report.layers if layer.macs]
    owner: dict[str, str] = {}  # layer without a module -> nearest ancestor module
    for layer in layers:
        if layer.name not in modules:
            parent = layer.name
            while parent and parent not in modules:
                parent = parent.rpartition(".")[0]
            owner[layer.name] = parent
    timed = [layer.name for layer in layers if layer.name in modules] + sorted(set(owner.values()))
    samples: dict[str, list[float]] = {name: [] for name in timed}
    starts: dict[str, float] = {}
    handles = []

    def before(name):
        return lambda _module, _inputs: starts.__setitem__(name, time.perf_counter())

    def after(name):
        return lambda _module, _inputs, _output: samples[name].append(time.perf_counter() - starts[name])

    for name in timed:
        handles.append(modules[name].register_forward_pre_hook(before(name)))
        handles.append(modules[name].register_forward_hook(after(name)))
    x = torch.randn(1, 3, report.resolution, report.resolution)
    try:
        with torch.inference_mode():
            for _ in range(warmup):
                net(x)
            for values in samples.values():
                values.clear()
            forward = []
            for _ in range(runs):
                start = time.perf_counter()
                net(x)
                forward.append(time.perf_counter() - start)
    finally:
        for handle in handles:
            handle.remove()
    median = {name: 1e3 * statistics.median(values) for name, values in samples.items()}
    ms = {layer.name: median[layer.name] for layer in layers if layer.name in modules}
    for parent in set(owner.values()):
        inside = [n for n in ms if n.startswith(parent + ".")]
        rest = max(median[parent] - sum(ms[n] for n in inside), 0.0)
        orphans = [layer for layer in layers if owner.get(layer.name) == parent]
        total = sum(layer.macs for layer in orphans)
        for layer in orphans:
            ms[layer.name] = rest * layer.macs / total
    threads = torch.get_num_threads()
    method = (
        "each layer timed by forward hooks inside real forward passes of the BN-folded network in eager "
        f"PyTorch, median of {runs} passes after {warmup} warm-ups, batch 1, {threads} threads"
    )
    return LayerTimes(ms, 1e3 * statistics.median(forward), runs, threads, method)


def roofline_points(report: CountReport, peaks: MachinePeaks, measured: LayerTimes | None = None
                    ) -> list[RooflinePoint]:  # fmt: skip
    """One point per conv / linear / attention layer with MACs (with its measured time if given)."""
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
                                    "memory" if memory_s > compute_s else "compute",
                                    measured.ms.get(layer.name) if measured else None))  # fmt: skip
    return points

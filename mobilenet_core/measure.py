"""Measurements of this machine: its roofline (peak compute of the kernels our fast path runs,
memory bandwidth of a large copy: measure_peaks) and each layer's time inside real forward passes
of the built, BN-folded network (measure_layer_times). The roofline *model* that turns a layer's
MACs and bytes into a time is `latency`; this module only measures.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

import torch
from torch import nn

from . import isolate
from .count import CountReport

BYTES = 4  # float32


@dataclass(frozen=True)
class MachinePeaks:
    flops_per_s: float  # measured: the fastest of the kernels in `kernels`
    bytes_per_s: float  # measured: a 64 MiB tensor copy (read + write), main memory
    threads: int
    method: str
    kernels: tuple[tuple[str, float], ...] = ()  # (kernel, FLOP/s) as measured, for the page
    copies: tuple[tuple[int, float], ...] = ()  # (bytes copied, bytes/s)

    @property
    def ridge(self) -> float:
        """Arithmetic intensity (FLOP/byte) where compute and memory limits meet."""
        return self.flops_per_s / self.bytes_per_s


def block_shares(report: CountReport, per_block_ms: dict[str, float]) -> dict[str, tuple[float, float]]:
    """Each timed block's (share of the MACs, share of the measured time), over the blocks timed."""
    blocks = [b for b in report.blocks if b.name in per_block_ms]
    total_macs = sum(b.macs for b in blocks) or 1
    total_ms = sum(per_block_ms[b.name] for b in blocks) or 1.0
    return {b.name: (b.macs / total_macs, per_block_ms[b.name] / total_ms) for b in blocks}


def _best_rate(run, work: float, seconds: float) -> float:
    """work / time of the fastest of repeated calls of `run` within about `seconds`."""
    run()  # warm-up: first calls allocate and pick kernels
    best = 0.0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        run()
        best = max(best, work / (time.perf_counter() - start))
    return best


def _onnxruntime_kernels(threads: int) -> dict[str, tuple[object, float]]:
    """ONNX Runtime's GEMM and 1x1 convolution, the kernels our fast path spends its time in:
    {name: (callable, FLOPs per call)}. Empty when onnxruntime is missing."""
    try:
        import numpy as np
        import onnx
        import onnxruntime
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        return {}
    rng = np.random.default_rng(0)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1

    def session(node, inputs, output, initializers):
        graph = helper.make_graph([node], "peak", inputs, [output], initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        return onnxruntime.InferenceSession(model.SerializeToString(), options,
                                            providers=["CPUExecutionProvider"])  # fmt: skip

    n = 1024
    b = numpy_helper.from_array(rng.standard_normal((n, n), dtype=np.float32), "b")
    gemm = session(helper.make_node("MatMul", ["a", "b"], ["y"]),
                   [helper.make_tensor_value_info("a", TensorProto.FLOAT, [n, n])],
                   helper.make_tensor_value_info("y", TensorProto.FLOAT, [n, n]), [b])  # fmt: skip
    a = rng.standard_normal((n, n), dtype=np.float32)
    c, hw = 512, 28  # a 1x1 conv the size of V2's / V4's late stages, batch 1
    w = numpy_helper.from_array(rng.standard_normal((c, c, 1, 1), dtype=np.float32), "w")
    conv = session(helper.make_node("Conv", ["x", "w"], ["y"]),
                   [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, hw, hw])],
                   helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, c, hw, hw]), [w])  # fmt: skip
    x = rng.standard_normal((1, c, hw, hw), dtype=np.float32)
    del onnx
    return {
        f"onnxruntime {onnxruntime.__version__} MatMul {n}x{n}": (lambda: gemm.run(None, {"a": a}), 2 * n**3),
        f"onnxruntime 1x1 Conv {c}->{c} at {hw}x{hw}": (
            lambda: conv.run(None, {"x": x}),
            2 * c * c * hw * hw,
        ),
    }


def measure_peaks(seconds: float = 0.5, threads: int | None = None, isolated: bool = False) -> MachinePeaks:
    """Short micro-benchmarks of this CPU. Compute: the fastest of torch's 1024x1024 float32
    matmul and ONNX Runtime's MatMul and 1x1 Conv (the kernels our inference runs), so that no
    layer we run sits above the roof. Bandwidth: a large (64 MiB) tensor copy, main memory,
    counted as read + write; the smaller copies (caches) are measured and reported beside it.
    Measured here: no layer of V2, V3-L or V4 Conv-S is above this roof (at most 0.73 of it).
    About `seconds` per kernel and size; `threads` defaults to this process's torch threads.

    `isolated`: measured in the export worker process when it can (mobilenet_core.isolate): the
    kernels' models are built with `import onnx`, which holds the interpreter lock for most of a
    second the first time, and the timing loops run Python between kernels; in a server, every
    other session would wait meanwhile."""
    threads = threads or torch.get_num_threads()
    if isolated:
        return isolate.run_or_here(_peaks_job, nn.Module(), seconds, threads)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        n = 1024
        a, b = torch.randn(n, n), torch.randn(n, n)
        kernels = {f"torch {torch.__version__} matmul {n}x{n}": (lambda: torch.mm(a, b), 2 * n**3)}
        kernels.update(_onnxruntime_kernels(threads))
        rates = tuple((name, _best_rate(run, work, seconds)) for name, (run, work) in kernels.items())
        copies = []
        for mib in (1, 4, 16, 64):
            src = torch.empty(mib * 2**20 // BYTES)
            dst = torch.empty_like(src)
            copies.append((mib * 2**20, _best_rate(lambda s=src, d=dst: d.copy_(s), 2 * mib * 2**20,
                                                   seconds / 2)))  # fmt: skip
    finally:
        torch.set_num_threads(previous)
    best_kernel, best_flops = max(rates, key=lambda r: r[1])
    memory_bw = copies[-1][1]  # the 64 MiB copy: main memory
    caches = ", ".join(f"{size >> 20} MiB {rate / 1e9:.0f} GB/s" for size, rate in copies[:-1])
    method = (f"compute: fastest of {', '.join(name for name, _ in rates)} (best: {best_kernel}); "
              f"bandwidth: 64 MiB float32 copies counted as read + write (smaller copies, in caches: "
              f"{caches}); {threads} threads")  # fmt: skip
    return MachinePeaks(best_flops, memory_bw, threads, method, rates, tuple(copies))


def _peaks_job(_no_module: nn.Module, seconds: float, threads: int) -> MachinePeaks:
    """measure_peaks as an isolate job (a job is handed a module: this one needs none)."""
    return measure_peaks(seconds, threads)


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
    their attention module's time after its projections, in proportion to their FLOPs. Not
    handed to the export worker (isolate), unlike measure_peaks: beside V3-Large's timing a thread
    waking every millisecond waited 20 ms at most, and 120-130 ms when the module and the report
    were handed over."""
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

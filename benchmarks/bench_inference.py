"""Eager PyTorch vs our fast path vs ONNX Runtime on the plain export: batch 1, 2 threads.

Our path (mobilenet_core.fast.FastModel) folds BN into the convs and runs the result in an
ONNX Runtime session; its TorchScript fallback is timed too. The ORT column runs the unfolded
export, as a user exporting the eager model would.

Run: .venv/bin/python benchmarks/bench_inference.py [--runs N]
Median latency per model at its base resolution, all paths measured in interleaved rounds (so
machine noise hits them alike); ratios against eager and ORT measured in the same run.
Logits of every path are checked against eager (1e-4 relative) before timing.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import mobilenet_core as mc
from mobilenet_core.export import export_onnx
from mobilenet_core.fast import FastModel


def interleaved_ms(fns: dict, runs: int, rounds: int = 10) -> dict:
    """Median latency (ms) of each callable, measured in interleaved rounds (a few runs of each
    in turn) so that a noisy neighbour on this shared machine slows every path alike."""
    for fn in fns.values():
        for _ in range(5):
            fn()
    times: dict = {name: [] for name in fns}
    per_round = max(runs // rounds, 1)
    for _ in range(rounds):
        for name, fn in fns.items():
            for _ in range(per_round):
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) * 1e3 for name, values in times.items()}


@torch.inference_mode()
def _eager(module, x):
    return module(x)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    torch.set_num_threads(2)
    try:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 2
        options.inter_op_num_threads = 1
    except ImportError:
        onnxruntime = None
    print(
        f"{'model':<15} {'eager ms':>9} {'TorchScript':>11} {'ours ms':>8} {'ORT ms':>7} "
        f"{'ours vs eager':>14} {'ours / ORT':>11}"
    )
    for name in ("v2", "v3_large", "v4_conv_small"):
        module = mc.build(name)
        x = torch.randn(1, 3, module.resolution, module.resolution)
        fast = FastModel(module)  # our path: ONNX Runtime when installed, else TorchScript
        script = FastModel(module, backend="torchscript")
        with torch.inference_mode():
            reference = module(x)
            for path in (fast, script):
                torch.testing.assert_close(
                    path(x), reference, rtol=1e-4, atol=1e-4 * float(reference.abs().max())
                )
        fns = {"eager": lambda m=module, x=x: _eager(m, x), "fast": lambda m=fast, x=x: m(x),
               "script": lambda m=script, x=x: m(x)}  # fmt: skip
        if onnxruntime is not None:
            session = onnxruntime.InferenceSession(
                export_onnx(module), options, providers=["CPUExecutionProvider"]
            )
            feed = {"image": x.numpy()}
            got = torch.from_numpy(session.run(None, feed)[0])
            torch.testing.assert_close(got, reference, rtol=1e-4, atol=1e-4 * float(reference.abs().max()))
            fns["ort"] = lambda s=session, f=feed: s.run(None, f)
        ms = interleaved_ms(fns, args.runs)
        eager_ms, fast_ms, script_ms, ort_ms = ms["eager"], ms["fast"], ms["script"], ms.get("ort")
        ort = f"{ort_ms:7.2f}" if ort_ms else "    n/a"
        ratio = f"{fast_ms / ort_ms:10.2f}x" if ort_ms else "        n/a"
        print(
            f"{name:<15} {eager_ms:9.2f} {script_ms:11.2f} {fast_ms:8.2f} {ort} "
            f"{eager_ms / fast_ms:13.2f}x {ratio}"
            f"   ({fast.backend})"
        )


if __name__ == "__main__":
    main()

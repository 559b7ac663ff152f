"""Server CPU per classification: the runners Classify serves a class with (one thread a run,
app.models.RUN_THREADS) against the library's default (every core, ONNX Runtime's pool threads
spinning between runs), both built in the same run.

Run: .venv/bin/python benchmarks/bench_serving_cpu.py [--passes N]
Per model at its base resolution: the float runner (FastModel) and the INT8 runner, a pass every
10 ms (a class's runs arrive apart, not back to back): the process's CPU time and the wall time
per pass, the two runners of a row measured in interleaved quarters.
"""

from __future__ import annotations

import argparse
import time

import torch

import mobilenet_core as mc
from mobilenet_core.fast import FastModel
from mobilenet_core.quantize import Int8Model

MODELS = [("v2", 224), ("v3_large", 224), ("v4_conv_medium", 256)]
GAP_S = 0.010


def per_pass(runner, x: torch.Tensor, passes: int) -> tuple[float, float]:
    """(core-ms, ms) per pass, a pass every GAP_S."""
    cpu, wall = time.process_time(), 0.0
    for _ in range(passes):
        start = time.perf_counter()
        runner(x)
        wall += time.perf_counter() - start
        time.sleep(GAP_S)
    return 1000 * (time.process_time() - cpu) / passes, 1000 * wall / passes


def compared(one, every, x: torch.Tensor, passes: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """((core-ms, ms) of `one`, the same of `every`), measured in interleaved quarters."""
    for runner in (one, every):
        per_pass(runner, x, 5)  # warm
    sums = [[0.0, 0.0], [0.0, 0.0]]
    for _ in range(4):
        for total, runner in zip(sums, (one, every), strict=True):
            cpu, wall = per_pass(runner, x, max(passes // 4, 1))
            total[0] += cpu / 4
            total[1] += wall / 4
    return tuple(sums[0]), tuple(sums[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--passes", type=int, default=60)
    args = parser.parse_args()
    cores = torch.get_num_threads()
    print(f"a pass every {GAP_S * 1000:.0f} ms, {args.passes} passes each; one thread against {cores}")
    head = f"core-ms a pass: 1 thread | {cores} threads | ratio | ms a pass: 1 thread | {cores} threads"
    print(f"| model | runner | {head} |")
    print("|---|---|---|---|---|---|---|")
    for model, resolution in MODELS:
        module = mc.build(model, 1.0, resolution)
        x = torch.randn(1, 3, resolution, resolution)
        for kind, make in (("float (FastModel)", FastModel), ("INT8 (Int8Model)", Int8Model)):
            (c1, w1), (cn, wn) = compared(make(module, threads=1), make(module), x, args.passes)
            cells = f"{c1:.1f} | {cn:.1f} | {cn / c1:.2f}x | {w1:.1f} | {wn:.1f}"
            print(f"| {model} {resolution} | {kind} | {cells} |")


if __name__ == "__main__":
    main()

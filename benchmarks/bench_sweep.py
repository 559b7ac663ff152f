"""The design lab's sweep: V2 over 6 alphas x 5 resolutions, counts and measured latency.

Run: .venv/bin/python benchmarks/bench_sweep.py
Prints the wall time of the counts alone and of the whole sweep with latency (target: under a
minute on this machine), and the Pareto front of MACs vs published top-1.
"""

import time

import torch

from mobilenet_core.sweep import pareto_front, sweep, with_latency

ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)
RESOLUTIONS = (96, 128, 160, 192, 224)

if __name__ == "__main__":
    torch.set_num_threads(2)
    start = time.perf_counter()
    points = sweep(["v2"], ALPHAS, RESOLUTIONS)
    counted = time.perf_counter() - start
    timed = with_latency(points)
    total = time.perf_counter() - start
    print(f"{'alpha':>5} {'res':>4} {'MACs':>13} {'params':>10} {'top-1':>6} {'latency ms':>10}")
    for p in timed:
        top1 = f"{p.top1:.1f}" if p.top1 is not None else "-"
        print(f"{p.alpha:>5} {p.resolution:>4} {p.macs:>13,} {p.params:>10,} {top1:>6} {p.latency_ms:>10.2f}")
    front = pareto_front(timed, "macs", "top1")
    print(
        f"{len(points)} points: counts in {counted * 1e3:.1f} ms, with latency {total:.1f} s (target < 60 s)"
    )
    print("Pareto front (MACs vs top-1): " + ", ".join(f"a{p.alpha:g}@{p.resolution}" for p in front))

"""The design lab's sweep: V2 over 6 alphas x 5 resolutions, counts and measured latency.

Run: .venv/bin/python benchmarks/bench_sweep.py
Prints the wall time of the counts alone and of the whole sweep with latency, measured by the
background job the Trade-offs view runs (target: under a minute on this machine), the Pareto
front of MACs vs published top-1, and, on a 10-point subset measured in the same run, our runner
reuse (one dynamic-size export per model and alpha) against a baseline that exports one runner
per point.
"""

import time

import torch

from mobilenet_core.sweep import LatencyJob, iter_latency, measure_latency, pareto_front, sweep

ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)
RESOLUTIONS = (96, 128, 160, 192, 224)

if __name__ == "__main__":
    torch.set_num_threads(2)
    start = time.perf_counter()
    points = sweep(["v2"], ALPHAS, RESOLUTIONS)
    counted = time.perf_counter() - start
    job = LatencyJob(points).start()
    while not job.wait(1):
        print(f"  background job: {job.done}/{job.total} points", flush=True)
    total = time.perf_counter() - start
    assert job.state == "done", job.error
    timed = [p.__class__(**{**p.__dict__, "latency_ms": job.measured[(p.model, p.alpha, p.resolution)]})
             for p in points]  # fmt: skip
    print(f"{'alpha':>5} {'res':>4} {'MACs':>13} {'params':>10} {'top-1':>6} {'latency ms':>10}")
    for p in timed:
        top1 = f"{p.top1:.1f}" if p.top1 is not None else "-"
        print(f"{p.alpha:>5} {p.resolution:>4} {p.macs:>13,} {p.params:>10,} {top1:>6} {p.latency_ms:>10.2f}")
    front = pareto_front(timed, "macs", "top1")
    print(f"{len(points)} points: counts in {counted * 1e3:.1f} ms, with latency (background job) "
          f"{total:.1f} s (target < 60 s)")  # fmt: skip
    print("Pareto front (MACs vs top-1): " + ", ".join(f"a{p.alpha:g}@{p.resolution}" for p in front))

    subset = [p for p in points if p.alpha in (0.5, 1.0)]
    start = time.perf_counter()
    for p in subset:
        measure_latency(p.model, p.alpha, p.resolution)
    baseline = time.perf_counter() - start
    start = time.perf_counter()
    list(iter_latency(subset))
    ours = time.perf_counter() - start
    print(f"\n{'way (10 points, same run)':<44} {'wall s':>7} {'ratio':>6}")
    print(f"{'baseline: one ONNX export per point':<44} {baseline:>7.1f} {1.0:>6.2f}")
    print(f"{'ours: one dynamic-size export per alpha':<44} {ours:>7.1f} {baseline / ours:>6.2f}x")

"""Our analytic counter vs torchinfo.summary on every model at its base resolution (V5-300M
at 768 px makes torchinfo's side take minutes: each of its runs is a 30 s forward pass here).

Run: .venv/bin/python benchmarks/bench_count.py [--repeats N]
Both sides are timed from the model name to the totals: ours resolves the specs and walks
them (no cache); torchinfo's baseline builds the module and runs its forward pass with hooks.
Params must agree exactly; torchinfo's MACs are printed for comparison (it misses the
attention products of the hybrids and counts differently, see the app's MAC convention).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torchinfo

import mobilenet_core as mc
from mobilenet_core.count import count_resolved
from mobilenet_core.resolve import resolve
from mobilenet_core.specs import GENERATIONS


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(2)
    print(
        f"{'model':<18} {'res':>4} {'params':>12} {'ours MACs':>15} {'torchinfo MACs':>15} "
        f"{'ours ms':>9} {'torchinfo ms':>13} {'speed-up':>9}"
    )
    ratios = []
    for name, generation in GENERATIONS.items():
        res = generation.base_resolution

        def ours(generation=generation, res=res):
            return count_resolved(resolve(generation, 1.0), res)

        def theirs(name=name, res=res):
            return torchinfo.summary(mc.build(name, 1.0, res), input_size=(1, 3, res, res), verbose=0)

        report, stats = ours(), theirs()
        if stats.total_params != report.params:
            raise SystemExit(f"{name}: params differ: ours {report.params}, torchinfo {stats.total_params}")
        t_ours = median_time(ours, args.repeats * 20)
        t_theirs = median_time(theirs, args.repeats)
        ratios.append(t_theirs / t_ours)
        print(
            f"{name:<18} {res:>4} {report.params:>12,} {report.macs:>15,} {stats.total_mult_adds:>15,} "
            f"{t_ours * 1e3:>9.2f} {t_theirs * 1e3:>13.1f} {t_theirs / t_ours:>8.0f}x"
        )
    print(
        f"geometric-mean speed-up {statistics.geometric_mean(ratios):.0f}x, "
        f"slowest {min(ratios):.0f}x (target: at least 20x)"
    )


if __name__ == "__main__":
    main()

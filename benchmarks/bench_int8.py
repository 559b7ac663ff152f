"""Float fast path vs INT8 (static, per-channel, ONNX Runtime): batch 1, 2 threads.

The float path is mobilenet_core.fast.FastModel (BN folded, ONNX Runtime); the INT8 path is
mobilenet_core.quantize.Int8Model (the same export, quantized, calibrated on the bundled sample
photos). Both are measured in alternating blocks, round after round, in the same run; the
ratio is float / INT8.

Agreement: top-1 and top-5 of both on the photos in tests/data and assets/samples, with the
seeded untrained network (no weights can be downloaded here). Its top two logits are often
nearly tied, so a column counts the disagreements that are such ties (the float gap between
the two classes below the largest INT8 logit error).

Run: .venv/bin/python benchmarks/bench_int8.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

import mobilenet_core as mc
from mobilenet_core.fast import FastModel
from mobilenet_core.predict import load_image, preprocess_image
from mobilenet_core.quantize import Int8Model
from mobilenet_core.registry import default_preprocess

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = sorted(p for d in ("tests/data", "assets/samples") for p in (ROOT / d).iterdir()
                if p.suffix in (".png", ".jpg"))  # fmt: skip


def blocks_ms(fns: dict, runs: int, rounds: int = 10) -> dict:
    """Median latency (ms) of each callable in alternating blocks: each round runs every path in
    turn, a pause and two untimed calls first. Two ONNX Runtime sessions called one after the
    other compete (the idle one's threads keep spinning for a while): measured here, that
    doubles both latencies, so the paths must not be interleaved call by call."""
    times: dict = {name: [] for name in fns}
    per_round = max(runs // rounds, 1)
    for _ in range(rounds):
        for name, fn in fns.items():
            time.sleep(0.05)
            fn(), fn()
            for _ in range(per_round):
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) * 1e3 for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    torch.set_num_threads(2)
    print(f"{len(PHOTOS)} photos; untrained seeded networks; 2 threads; alternating blocks")
    print(f"{'model':<15} {'float ms':>9} {'INT8 ms':>8} {'speed-up':>9} {'top-1 agree':>12} "
          f"{'ties':>5} {'top-5 overlap':>14}")  # fmt: skip
    for name in ("v2", "v3_large", "v4_conv_small"):
        module = mc.build(name)
        fast, int8 = FastModel(module), Int8Model(module)
        recipe = default_preprocess(module.resolution)
        inputs = [preprocess_image(load_image(p), recipe)[0] for p in PHOTOS]
        agree = ties = 0
        overlap = []
        for x in inputs:
            ref, got = fast(x)[0], int8(x)[0]
            error = float((got - ref).abs().max())
            if int(got.argmax()) == int(ref.argmax()):
                agree += 1
            elif float(ref.max() - ref[int(got.argmax())]) <= error:
                ties += 1
            overlap.append(len(set(ref.topk(5).indices.tolist()) & set(got.topk(5).indices.tolist())))
        x = inputs[0]
        ms = blocks_ms({"float": lambda m=fast, x=x: m(x), "int8": lambda m=int8, x=x: m(x)}, args.runs)
        print(f"{name:<15} {ms['float']:9.2f} {ms['int8']:8.2f} {ms['float'] / ms['int8']:8.2f}x "
              f"{agree:>6}/{len(inputs):<5} {ties:>5} {sum(overlap) / len(overlap):>11.1f}/5")  # fmt: skip


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()

"""Command line: `python -m mobilenet_core list | summary MODEL [...]`."""

from __future__ import annotations

import argparse
import json
import sys

from .api import count, get_generation, list_models
from .count import MAC_CONVENTION, CountReport
from .errors import MobileNetError


def _human(n: int) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.2f}{unit}"
    return str(n)


def format_table(report: CountReport) -> str:
    header = (
        f"{'block':<12} {'type':<10} {'in':>5} {'exp':>5} {'out':>5} {'k':>5} {'s':>2} "
        f"{'output':>11} {'params':>12} {'MACs':>15}"
    )
    lines = [
        f"{get_generation(report.model).title} ({report.model}), alpha {report.alpha:g}, "
        f"{report.resolution} x {report.resolution} px",
        header,
        "-" * len(header),
    ]
    for b in report.blocks:
        out = f"{b.out_channels}x{b.out_height}x{b.out_width}" if b.kind != "head" else str(b.out_channels)
        lines.append(
            f"{b.name:<12} {b.variant:<10} {b.in_channels:>5} {b.expanded_channels:>5} "
            f"{b.out_channels:>5} {b.kernel:>5} {b.stride:>2} {out:>11} {b.params:>12,} {b.macs:>15,}"
        )
    lines.append("-" * len(header))
    lines.append(f"{'total':<12} {'':<53} {report.params:>12,} {report.macs:>15,}")
    lines.append(f"params {_human(report.params)}, MACs {_human(report.macs)} (FLOPs {_human(report.flops)})")
    lines.append(MAC_CONVENTION)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mobilenet_core", description="Explore the MobileNet family from the command line."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the nine models")
    summary = sub.add_parser("summary", help="per-block table with params and MACs")
    summary.add_argument("model", help="one of: " + ", ".join(list_models()))
    summary.add_argument("--alpha", type=float, default=1.0, help="width multiplier, 0.25 to 2.0")
    size = summary.add_mutually_exclusive_group()
    size.add_argument("--resolution", type=int, help="input side in px (32 to 2 x base)")
    size.add_argument("--rho", type=float, help="resolution multiplier (rounded to 32 px)")
    summary.add_argument("--json", action="store_true", help="print JSON instead of a table")
    summary.add_argument("--layers", action="store_true", help="with --json: include layer rows")
    args = parser.parse_args(argv)

    try:
        if args.command == "list":
            for name in list_models():
                g = get_generation(name)
                print(f"{name:<18} {g.title:<22} base {g.base_resolution} px  {g.paper}")
            return 0
        report = count(args.model, args.alpha, args.resolution, args.rho)
    except MobileNetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_dict(layers=args.layers), indent=1))
    else:
        print(format_table(report))
    return 0

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


def _progress_bar(label: str):
    """A one-line progress bar on stderr for downloads."""
    state = {"last": -1}

    def show(done: int, total: int | None) -> None:
        if total:
            percent = int(100 * done / total)
            if percent != state["last"]:
                state["last"] = percent
                bar = "#" * (percent // 4)
                print(f"\r{label} [{bar:<25}] {percent:3d}% {done / 2**20:.1f} MiB", end="", file=sys.stderr)
        else:
            print(f"\r{label} {done / 2**20:.1f} MiB", end="", file=sys.stderr)
        if total and done >= total:
            print(file=sys.stderr)

    return show


def _model_for_prediction(args):
    """(module, preprocessing recipe, description) for `predict`."""
    from .api import build, resolve_model
    from .registry import default_preprocess, get_weights, weights_for
    from .weights import load_checkpoint, load_pretrained

    if args.weights:
        entry = get_weights(args.weights)
        return load_pretrained(entry, _progress_bar(entry.name)), entry.preprocess, entry.name
    _, config = resolve_model(args.model, args.alpha, args.resolution)
    if args.checkpoint:
        module = load_checkpoint(build(args.model, config.alpha, config.resolution), args.checkpoint)
        return module, default_preprocess(config.resolution), f"checkpoint {args.checkpoint}"
    if args.untrained:
        module = build(args.model, config.alpha, config.resolution)
        return module, default_preprocess(config.resolution), "UNTRAINED (random weights)"
    entries = weights_for(args.model, config.alpha, config.resolution)
    if not entries:
        from .registry import nearest_weights

        near = nearest_weights(args.model, config.alpha, config.resolution)
        raise MobileNetError(
            f"no published checkpoint for {args.model} at alpha {config.alpha:g}, {config.resolution} px "
            f"(nearest: {near.model} alpha {near.alpha:g} at {near.resolution} px, --weights {near.name}); "
            "use --checkpoint FILE or --untrained"
        )
    entry = entries[0]
    return load_pretrained(entry, _progress_bar(entry.name)), entry.preprocess, entry.name


def _predict(args) -> int:
    from .fast import FastModel
    from .predict import ImageError, classify, load_image

    module, recipe, description = _model_for_prediction(args)
    runner = FastModel(module, recipe.crop)
    results, failed = [], 0
    for path in args.images:
        try:
            prediction = classify(runner, load_image(path), recipe, name=path, k=args.top)
        except ImageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        results.append(prediction)
        if not args.json:
            print(f"{path}  ({description}, {prediction.latency_ms:.1f} ms)")
            for c in prediction.top:
                own = c.label_in(args.language)
                print(
                    f"  {c.probability:7.2%}  {c.index:4d}  {c.label}"
                    + (f" / {own}" if own != c.label else "")
                )
    if args.json:
        print(json.dumps([p.to_dict() for p in results], ensure_ascii=False, indent=1))
    return 1 if failed else 0


def _export(args) -> int:
    from .api import build
    from .export import export_onnx

    module = build(args.model, args.alpha, args.resolution, args.rho)
    if args.checkpoint:
        from .weights import load_checkpoint

        load_checkpoint(module, args.checkpoint)
    export_onnx(module, args.onnx)
    print(f"wrote {args.onnx} ({module.model_name}, alpha {module.alpha:g}, {module.resolution} px)")
    return 0


def _weights(args, parser) -> int:
    from .registry import WEIGHTS, get_weights
    from .weights import import_weights

    if args.weights_command == "list":
        return _weights_list(WEIGHTS)
    if args.weights_command == "download":
        if args.all == bool(args.names):
            parser.error("give checkpoint names (see `weights list`) or --all")
        return _weights_download(list(WEIGHTS) if args.all else [get_weights(n) for n in args.names])
    entry, path = import_weights(args.file, args.name)
    print(f"imported {args.file} as {entry.name} -> {path}")
    return 0


def _weights_sources() -> list[str]:
    """The download settings in effect, for the top of `weights list` and `weights download`."""
    import os

    from .weights import HF_ENDPOINT_ENV, MIRROR_ENV, TORCHVISION_URL_ENV, cache_dir

    lines = [f"cache: {cache_dir()} (set TORCH_HOME to move it)"]
    for variable in (MIRROR_ENV, HF_ENDPOINT_ENV, TORCHVISION_URL_ENV):
        if os.environ.get(variable, "").strip():
            lines.append(f"{variable}={os.environ[variable].strip()}")
    return lines


def _weights_list(entries) -> int:
    from .weights import cached_file, partial_file

    print("\n".join(_weights_sources()))
    cached_bytes = cached_count = 0
    for e in entries:
        path, part = cached_file(e), partial_file(e)
        if path.exists():
            size = path.stat().st_size
            cached_bytes, cached_count = cached_bytes + size, cached_count + 1
            state = f"cached {size / 1e6:.1f} MB"
        elif part.exists():
            state = f"partial {part.stat().st_size / 1e6:.1f} of ~{e.approx_mb} MB"
        else:
            state = f"- (~{e.approx_mb} MB)"
        top1 = f"{e.top1:.2f}" if e.top1 is not None else "see card"
        print(f"{e.name:<58} {e.model:<17} a{e.alpha:<5g} {e.resolution:>4}px top-1 {top1:<8} {state}")
    print(f"{cached_count} of {len(entries)} cached, {cached_bytes / 1e6:.1f} MB")
    return 0


def _weights_download(entries) -> int:
    """Fetch checkpoints ahead of a class: the total size first, then one progress bar each."""
    from .errors import CheckpointError
    from .weights import cached_file, ensure_weights

    print("\n".join(_weights_sources()))
    missing = [e for e in entries if not cached_file(e).exists()]
    print(
        f"{len(missing)} of {len(entries)} checkpoints to fetch, about "
        f"{sum(e.approx_mb for e in missing)} MB in all ({len(entries) - len(missing)} already cached)",
        flush=True,
    )
    failed = 0
    for number, entry in enumerate(entries, 1):
        try:
            path = ensure_weights(entry, _progress_bar(f"[{number}/{len(entries)}] {entry.name}"))
        except CheckpointError as exc:
            print(f"\nerror: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(f"{entry.name}: {path}", flush=True)
    if failed:
        print(f"{failed} of {len(entries)} checkpoints could not be fetched", file=sys.stderr)
    return 1 if failed else 0


def _quantize(args) -> int:
    from pathlib import Path

    from .api import build
    from .predict import load_image, preprocess_image
    from .quantize import quantize_onnx
    from .registry import default_preprocess

    module = build(args.model, args.alpha, args.resolution, args.rho)
    if args.checkpoint:
        from .weights import load_checkpoint

        load_checkpoint(module, args.checkpoint)
    calibration = None
    if args.calibration:
        recipe = default_preprocess(module.resolution)
        calibration = [preprocess_image(load_image(path), recipe)[0] for path in args.calibration]
    data = quantize_onnx(module, calibration)
    Path(args.onnx).write_bytes(data)
    source = f"{len(calibration)} photos" if calibration else "the bundled sample photos"
    print(
        f"wrote {args.onnx} ({module.model_name}, alpha {module.alpha:g}, {module.resolution} px, INT8, "
        f"calibrated on {source}, {len(data) / 2**20:.1f} MiB)"
    )
    return 0


def _latency(args, parser) -> int:
    from .latency import DEVICE_NAMES, estimate_latency, get_device, paper_devices

    if args.list_devices:
        for device in paper_devices().values():
            print(
                f"{device.name:<15} {device.title:<24} {device.precision:<7} ridge {device.ridge_point:6.1f} "
                f"MACs/byte  {device.peak_macs_per_s / 1e9:8.1f} GMAC/s  {device.bytes_per_s / 1e9:6.2f} GB/s"
            )
            print(f"{'':<15} {device.source}; {device.calibration}")
        print(
            f"{'host':<15} {'this machine':<24} float32 measured when asked for (peak compute and bandwidth)"
        )
        return 0
    if not args.model:
        parser.error("give a model (or --list-devices)")
    if args.device not in DEVICE_NAMES:
        raise MobileNetError(f"unknown device {args.device!r}; choose one of {', '.join(DEVICE_NAMES)}")
    report = count(args.model, args.alpha, args.resolution, args.rho)
    estimate = estimate_latency(report, get_device(args.device))
    if args.json:
        print(json.dumps(estimate.to_dict(), indent=1))
        return 0
    d = estimate.device
    print(
        f"{get_generation(report.model).title}, alpha {report.alpha:g}, {report.resolution} px on {d.title} "
        f"({d.precision}, ridge point {d.ridge_point:.1f} MACs/byte)"
    )
    print(f"{'layer':<34} {'kind':<9} {'MACs':>13} {'bytes':>11} {'ms':>9}  bound")
    for x in estimate.layers:
        print(f"{x.name:<34} {x.kind:<9} {x.macs:>13,} {x.bytes:>11,} {x.ms:>9.4f}  {x.bound}")
    print(f"estimated {estimate.ms:.3f} ms; {estimate.memory_bound_share:.0%} of it in memory-bound layers")
    print(f"device: {d.source}" + (f"; {d.calibration}" if d.calibration else ""))
    return 0


def _diff(args) -> int:
    """Two configurations block by block, aligned by output stride (mobilenet_core.diff)."""
    from .diff import diff
    from .latency import DEVICE_NAMES

    device = None if args.device == "none" else args.device
    if device is not None and device not in DEVICE_NAMES:
        raise MobileNetError(f"unknown device {device!r}; choose one of {', '.join(DEVICE_NAMES)}, none")
    d = diff((args.a, args.alpha_a, args.res_a), (args.b, args.alpha_b, args.res_b), device=device)
    if args.json:
        print(json.dumps(d.to_dict(), indent=1, ensure_ascii=False))
        return 0
    print(f"A: {d.a.label}\nB: {d.b.label}")
    if d.device:
        print(f"latency estimated on {d.device.title}")
    ms = d.device is not None
    header = f"{'row':<8} {'Δ params':>12} {'Δ MACs':>15}" + (f" {'Δ ms':>9}" if ms else "")
    print(header + "  share of Δ MACs")
    for r in d.rows:
        share = d.share(r, "macs")
        line = f"{r.key:<8} {r.d_params:>+12,} {r.d_macs:>+15,}" + (f" {r.d_ms:>+9.4f}" if ms else "")
        print(line + (f"  {share:.0%}" if share is not None else ""))
        for side, part in (("A", r.a), ("B", r.b)):
            print(f"{'':<8} {side} {part.size:>9}  {part.text or '-'}")
        if r.changes:
            print(f"{'':<8} changed: " + "; ".join(c.words() for c in r.changes))
    print(f"{'total':<8} {d.d_params:>+12,} {d.d_macs:>+15,}" + (f" {d.d_ms:>+9.4f}" if ms else ""))
    return 0


def main(argv: list[str] | None = None) -> int:
    from .errors import MobileNetError as _Error

    try:
        return _main(argv)
    except _Error as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _config_args(parser, model_help: str | None = None) -> None:
    """model, --alpha and one of --resolution / --rho."""
    parser.add_argument("model", help=model_help or "one of: " + ", ".join(list_models()))
    parser.add_argument("--alpha", type=float, default=1.0, help="width multiplier, 0.25 to 2.0")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--resolution", type=int, help="input side in px (32 to 2 x base)")
    size.add_argument("--rho", type=float, help="resolution multiplier (rounded to 32 px)")


def _add_summary(sub) -> None:
    summary = sub.add_parser("summary", help="per-block table with params and MACs")
    _config_args(summary)
    summary.add_argument("--json", action="store_true", help="print JSON instead of a table")
    summary.add_argument("--layers", action="store_true", help="with --json: include layer rows")


def _add_predict(sub) -> None:
    predict = sub.add_parser("predict", help="classify images")
    predict.add_argument("images", nargs="+")
    predict.add_argument("--model", default="v2", help="one of: " + ", ".join(list_models()))
    predict.add_argument("--alpha", type=float, default=1.0)
    predict.add_argument("--resolution", type=int)
    source = predict.add_mutually_exclusive_group()
    source.add_argument("--checkpoint", help="a .pth / .safetensors file (timm or torchvision layout)")
    source.add_argument("--weights", help="a published checkpoint by name (see `weights list`)")
    source.add_argument("--untrained", action="store_true", help="random weights, clearly labelled")
    predict.add_argument("--top", type=int, default=5)
    predict.add_argument("--language", default="en", help="class names also in this language (e.g. zh)")
    predict.add_argument("--json", action="store_true")


def _add_export_and_quantize(sub) -> None:
    export = sub.add_parser("export", help="export a built model to ONNX")
    _config_args(export)
    export.add_argument("--checkpoint")
    export.add_argument("--onnx", required=True, help="output file")
    quantize = sub.add_parser("quantize", help="INT8 ONNX model (static, per-channel, ONNX Runtime)")
    _config_args(quantize)
    quantize.add_argument("--checkpoint", help="weights to quantize (default: the seeded untrained network)")
    calibration = "photos to calibrate activation ranges on (default: the bundled samples)"
    quantize.add_argument("--calibration", nargs="+", metavar="IMAGE", help=calibration)
    quantize.add_argument("--onnx", required=True, help="output file")


def _add_weights(sub):
    weights = sub.add_parser("weights", help="published checkpoints: list, download, import")
    weights_sub = weights.add_subparsers(dest="weights_command", required=True)
    weights_sub.add_parser("list", help="every published checkpoint, and whether it is cached")
    download = weights_sub.add_parser(
        "download", help="fetch checkpoints ahead of a class (mirrors: see README, 'Weights for a class')"
    )
    download.add_argument("names", nargs="*", metavar="NAME", help="registry names (see `weights list`)")
    download.add_argument("--all", action="store_true", help="every published checkpoint")
    imported = weights_sub.add_parser("import", help="put a checkpoint file you have into the cache")
    imported.add_argument("file")
    imported.add_argument("--name", help="registry name; found automatically when omitted")
    return download


def _add_latency(sub):
    latency = sub.add_parser("latency", help="estimated latency on a device (the V4 paper's roofline model)")
    latency.add_argument("model", nargs="?", help="one of: " + ", ".join(list_models()))
    latency.add_argument("--alpha", type=float, default=1.0)
    latency_size = latency.add_mutually_exclusive_group()
    latency_size.add_argument("--resolution", type=int)
    latency_size.add_argument("--rho", type=float)
    latency.add_argument("--device", default="pixel6_cpu", help="a name from --list-devices")
    latency.add_argument("--json", action="store_true")
    latency.add_argument("--list-devices", action="store_true", help="the device profiles and their sources")
    return latency


def _add_diff(sub) -> None:
    diff = sub.add_parser("diff", help="two configurations block by block, aligned by output stride")
    diff.add_argument("a", help="model A, one of: " + ", ".join(list_models()))
    diff.add_argument("b", help="model B")
    diff.add_argument("--alpha-a", type=float, default=1.0)
    diff.add_argument("--alpha-b", type=float, default=1.0)
    diff.add_argument("--res-a", type=int, help="A's input side in px (default: its base)")
    diff.add_argument("--res-b", type=int, help="B's input side in px (default: its base)")
    diff.add_argument(
        "--device", default="pixel6_cpu", help="latency device (see latency --list-devices), or none"
    )
    diff.add_argument("--json", action="store_true")


def _list() -> int:
    for name in list_models():
        g = get_generation(name)
        print(f"{name:<18} {g.title:<22} base {g.base_resolution} px  {g.paper}")
    return 0


def _summary(args) -> int:
    report = count(args.model, args.alpha, args.resolution, args.rho)  # errors: main() says them
    print(json.dumps(report.to_dict(layers=args.layers), indent=1) if args.json else format_table(report))
    return 0


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mobilenet_core", description="Explore the MobileNet family from the command line."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the models")
    _add_summary(sub)
    _add_predict(sub)
    _add_export_and_quantize(sub)
    download = _add_weights(sub)
    latency = _add_latency(sub)
    _add_diff(sub)
    args = parser.parse_args(argv)
    commands = {
        "list": _list,
        "summary": lambda: _summary(args),
        "predict": lambda: _predict(args),
        "export": lambda: _export(args),
        "weights": lambda: _weights(args, download),
        "latency": lambda: _latency(args, latency),
        "quantize": lambda: _quantize(args),
        "diff": lambda: _diff(args),
    }
    return commands[args.command]()

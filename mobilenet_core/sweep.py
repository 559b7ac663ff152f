"""Trade-off sweeps: alpha x resolution grids with exact counts, measured CPU latency and the
published top-1 where a configuration was published, plus the Pareto front."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import torch

from .api import build, count
from .published import find_published
from .registry import weights_for


@dataclass(frozen=True)
class SweepPoint:
    model: str
    alpha: float
    resolution: int
    params: int
    macs: int
    top1: float | None  # paper / release figure, else the best published checkpoint's, else None
    latency_ms: float | None = None
    estimated_ms: float | None = None  # roofline estimate on a chosen device (with_estimates)


def published_top1(model: str, alpha: float, resolution: int) -> float | None:
    figure = find_published(model, alpha, resolution)
    if figure is not None:
        return figure.top1
    entries = [e for e in weights_for(model, alpha, resolution) if e.top1 is not None]
    return entries[0].top1 if entries else None


def sweep(models: Iterable[str], alphas: Iterable[float], resolutions: Iterable[int]) -> list[SweepPoint]:
    """Every (model, alpha, resolution) that is valid for its model, counted exactly."""
    points = []
    for model in models:
        for alpha in alphas:
            for resolution in resolutions:
                try:
                    report = count(model, alpha, resolution)
                except ValueError:  # a resolution outside this model's range
                    continue
                points.append(SweepPoint(model, report.alpha, report.resolution, report.params, report.macs,
                                         published_top1(model, report.alpha, report.resolution)))  # fmt: skip
    return points


def with_estimates(points: list[SweepPoint], device) -> list[SweepPoint]:
    """The points with `estimated_ms` on `device` (a latency.DeviceProfile), from the counter's
    layers and the V4 paper's roofline model."""
    from dataclasses import replace

    from .latency import estimate_latency

    return [replace(p, estimated_ms=estimate_latency(count(p.model, p.alpha, p.resolution), device).ms)
            for p in points]  # fmt: skip


def measure_latency(model: str, alpha: float, resolution: int, runs: int = 15, warmup: int = 3) -> float:
    """Median latency (ms) of one image through the fast path (batch 1, this process's threads)."""
    from .fast import FastModel

    # exported in the worker process: a server's other sessions go on meanwhile (mobilenet_core.isolate)
    runner = FastModel(build(model, alpha, resolution), isolated=True)
    return median_latency_ms(runner, resolution, runs, warmup)


def median_latency_ms(runner, resolution: int, runs: int = 15, warmup: int = 3) -> float:
    """Median latency (ms) of `runner` on one random image of `resolution` px, after `warmup`."""
    x = torch.randn(1, 3, resolution, resolution)
    for _ in range(warmup):
        runner(x)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        runner(x)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def iter_latency(points: Iterable[SweepPoint], runs: int = 15, warmup: int = 3) -> Iterator[SweepPoint]:
    """The points with measured latency, one at a time. One runner per (model, alpha), exported
    with a dynamic input size so that every resolution reuses it (one export instead of one per
    point); where a dynamic export fails, one runner per point."""
    from .fast import FastModel

    key = runner = None  # one runner alive at a time; points come grouped by model and alpha
    for p in points:
        if (p.model, p.alpha) != key:
            key, runner = (p.model, p.alpha), None  # let the previous runner go before building
            runner = FastModel(build(p.model, p.alpha, p.resolution), dynamic_size=True, isolated=True)
        try:
            latency = median_latency_ms(runner, p.resolution, runs, warmup)
        except Exception:  # noqa: BLE001 - a model that does not export with dynamic sizes
            latency = measure_latency(p.model, p.alpha, p.resolution, runs, warmup)
        yield SweepPoint(**{**p.__dict__, "latency_ms": latency})


def with_latency(points: list[SweepPoint], progress: Callable[[int, int], None] | None = None,
                 runs: int = 15, warmup: int = 3) -> list[SweepPoint]:  # fmt: skip
    """iter_latency() as a list, with an optional progress(done, total) callback."""
    out = []
    for point in iter_latency(points, runs, warmup):
        out.append(point)
        if progress:
            progress(len(out), len(points))
    return out


class LatencyJob:
    """Latency of sweep points measured in a background thread. Progress and the points measured
    so far can be read from any thread while it runs; cancel() stops it after the current point.
    Jobs of one process run one after another (a shared lock), so that two measurements never
    compete for the same cores and distort each other."""

    _machine = threading.Lock()

    def __init__(self, points: Iterable[SweepPoint], runs: int = 15, warmup: int = 3,
                 on_point: Callable[[SweepPoint], None] | None = None):  # fmt: skip
        # grouped by (model, alpha) so that each dynamic-size runner is built once
        self.points = sorted(points, key=lambda p: (p.model, p.alpha, p.resolution))
        self.runs, self.warmup, self.on_point = runs, warmup, on_point
        self.measured: dict[tuple[str, float, int], float] = {}
        self.error: str | None = None
        self.state = "queued"  # queued -> running -> done | cancelled | failed
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name="latency-sweep", daemon=True)

    @property
    def total(self) -> int:
        return len(self.points)

    @property
    def done(self) -> int:
        return len(self.measured)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "cancelled", "failed")

    def start(self) -> LatencyJob:
        self._thread.start()
        return self

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return self.finished

    def _run(self) -> None:
        with self._machine:
            if self._cancel.is_set():
                self.state = "cancelled"
                return
            self.state = "running"
            try:
                for point in iter_latency(self.points, self.runs, self.warmup):
                    self.measured[(point.model, point.alpha, point.resolution)] = point.latency_ms
                    if self.on_point:
                        self.on_point(point)
                    if self._cancel.is_set():
                        self.state = "cancelled"
                        return
            except Exception as exc:  # noqa: BLE001 - reported to whoever watches the job
                self.error = f"{type(exc).__name__}: {exc}"
                self.state = "failed"
                return
            self.state = "done"


def pareto_front(points: list[SweepPoint], cost: str = "macs", gain: str = "top1") -> list[SweepPoint]:
    """Points no other point beats on both: lower (or equal) cost and higher (or equal) gain."""
    usable = [p for p in points if getattr(p, cost) is not None and getattr(p, gain) is not None]
    front = []
    for p in usable:
        dominated = any(
            getattr(q, cost) <= getattr(p, cost) and getattr(q, gain) >= getattr(p, gain)
            and (getattr(q, cost), getattr(q, gain)) != (getattr(p, cost), getattr(p, gain))
            for q in usable
        )  # fmt: skip
        if not dominated:
            front.append(p)
    return sorted(front, key=lambda p: getattr(p, cost))

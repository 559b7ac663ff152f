"""V4's roofline model (arXiv:2404.10518, Section 3.1): where a network is memory bound."""

from __future__ import annotations

from ..count import CountReport
from ..latency import PAPER_RIDGE_POINTS, LatencyEstimate, custom_device, estimate_latency
from . import Lesson

LESSON = Lesson(__name__, "V4", 2024, "arXiv:2404.10518", position=3)

ILLUSTRATIVE_PEAK = 1e12  # MACs/s: the ridge-point slider keeps the peak and moves the bandwidth


def ridge_device(ridge: float, peak: float = ILLUSTRATIVE_PEAK):
    """A device with this ridge point (MACs/byte) and the illustrative peak, INT8 like the
    V4 paper's. Ridge 0 is unlimited bandwidth: time is MACs / peak."""
    return custom_device(title=f"ridge {ridge:g}", peak_macs_per_s=peak, ridge_point=ridge)


def ridge_sweep(report: CountReport, ridges) -> list[LatencyEstimate]:
    """The roofline estimate of the model at each ridge point."""
    return [estimate_latency(report, ridge_device(r)) for r in ridges]


def slowdown(estimate: LatencyEstimate) -> float:
    """The estimated time over the time of the MACs alone (the same device with unlimited
    bandwidth): how much memory traffic stretches the network's time. It depends on the ridge
    point only, never on the peak, so it compares ridge points truthfully."""
    compute = sum(x.compute_ms for x in estimate.layers)
    return estimate.ms / compute if compute else 1.0


def work(layer, ridge: float) -> float:
    """max(MACs, ridge x bytes): the layer's time in units of 1 / peak (MAC-equivalents)."""
    return max(layer.macs, ridge * layer.bytes)


def paper_device_estimates(report: CountReport) -> list[LatencyEstimate]:
    """The configuration on the V4 paper's four devices, each with its own peak, calibrated on
    MobileNetV2 (latency.paper_devices): the absolute times, fastest device first."""
    from ..latency import paper_devices

    return sorted((estimate_latency(report, d) for d in paper_devices().values()), key=lambda e: e.ms)


def bottlenecks(estimate: LatencyEstimate, top: int = 5) -> list:
    """The layers that take the most estimated time, slowest first."""
    return sorted(estimate.layers, key=lambda x: x.ms, reverse=True)[:top]


PAPER_DEVICE_RIDGES = {title: ridge for _, (title, ridge) in PAPER_RIDGE_POINTS.items()}

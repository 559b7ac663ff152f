"""Estimated latency on real devices: the roofline model of the MobileNetV4 paper
(Qin et al., arXiv:2404.10518, Sec. 3, Eq. 1), layer by layer, for any configuration.

    ModelTime = sum_i max(MACTime_i, MemTime_i)
    MACTime_i = LayerMACs_i / PeakMACs
    MemTime_i = (WeightBytes_i + ActivationBytes_i) / PeakMemBW

A device is its peak MACs/s and its memory bandwidth; their ratio is its ridge point (MACs per
byte). Bytes are counted at the device's precision: the layer's weights (BN folded, as deployed)
plus its input and output activations, batch 1, no reuse across layers. Layers without MACs
(pooling, activations, residual adds) are not in the sum, as in the paper.

The paper gives only the ridge points of its devices (Table 16), not their peaks. The absolute
scale of each is calibrated honestly and visibly: the peak is set so that the estimate for one
baseline model, MobileNetV2 1.0 at 224 px, equals the latency the paper measured for it on that
device (Table 6); the bandwidth follows from the ridge point. Every other model's estimate is then
a prediction, compared with the paper's measurement in `PAPER_LATENCY_MS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from .count import CountReport, LayerRow
from .errors import ConfigError

Precision = Literal["int8", "float16", "float32"]
BYTES_PER_VALUE: dict[str, int] = {"int8": 1, "float16": 2, "float32": 4}
PAPER = "arXiv:2404.10518"


@dataclass(frozen=True)
class DeviceProfile:
    """A roofline device: peak compute (MACs/s), memory bandwidth (bytes/s), the precision its
    numbers were measured at, and where they come from."""

    name: str
    title: str
    precision: Precision
    peak_macs_per_s: float
    bytes_per_s: float
    source: str
    calibration: str = ""

    @property
    def ridge_point(self) -> float:
        """MACs per byte at which compute and memory time are equal."""
        return self.peak_macs_per_s / self.bytes_per_s if self.bytes_per_s else math.inf

    @property
    def bytes_per_value(self) -> int:
        return BYTES_PER_VALUE[self.precision]


@dataclass(frozen=True)
class LayerTraffic:
    """What one layer with MACs computes and moves, in values (multiply by bytes per value)."""

    name: str
    block: str
    kind: str
    macs: int
    weight_values: int  # conv / linear weights after BN folding (no BN, no biases)
    activation_values: int  # its input and its output feature maps


def layer_traffic(layer: LayerRow) -> LayerTraffic:
    """Weights and activations one layer reads and writes, batch 1."""
    in_h, in_w = layer.out_height * layer.stride, layer.out_width * layer.stride
    if layer.kind == "attention":  # reads q (N x h d) or the scores (h x N x M); writes its output
        return LayerTraffic(layer.name, layer.block, layer.kind, layer.macs, 0,
                            layer.in_channels * in_h * in_w + layer.activations)  # fmt: skip
    weights = layer.params - layer.norm_params - layer.bias_params
    inputs = layer.in_channels * (in_h * in_w if layer.kind != "linear" else 1)
    return LayerTraffic(layer.name, layer.block, layer.kind, layer.macs, weights, inputs + layer.activations)


def traffic(report: CountReport) -> list[LayerTraffic]:
    """Every layer of `report` that has MACs (convs, SE convs, attention products, classifier)."""
    return [layer_traffic(layer) for layer in report.layers if layer.macs]


@dataclass(frozen=True)
class LayerLatency:
    name: str
    block: str
    kind: str
    macs: int
    bytes: int
    compute_ms: float
    memory_ms: float

    @property
    def ms(self) -> float:
        return max(self.compute_ms, self.memory_ms)

    @property
    def bound(self) -> str:
        return "memory" if self.memory_ms > self.compute_ms else "compute"

    @property
    def intensity(self) -> float:
        """MACs per byte moved."""
        return self.macs / self.bytes if self.bytes else math.inf


@dataclass(frozen=True)
class LatencyEstimate:
    model: str
    alpha: float
    resolution: int
    device: DeviceProfile
    layers: tuple[LayerLatency, ...]

    @property
    def ms(self) -> float:
        return sum(layer.ms for layer in self.layers)

    @property
    def memory_bound_share(self) -> float:
        """Share of the estimated time spent in memory-bound layers."""
        total = self.ms
        return sum(x.ms for x in self.layers if x.bound == "memory") / total if total else 0.0

    def by_block(self) -> dict[str, float]:
        """Estimated ms per block, in network order."""
        totals: dict[str, float] = {}
        for layer in self.layers:
            totals[layer.block] = totals.get(layer.block, 0.0) + layer.ms
        return totals

    def by_block_bound(self) -> dict[str, tuple[float, float]]:
        """Estimated (compute-bound ms, memory-bound ms) per block, in network order."""
        totals: dict[str, tuple[float, float]] = {}
        for layer in self.layers:
            compute, memory = totals.get(layer.block, (0.0, 0.0))
            if layer.bound == "memory":
                memory += layer.ms
            else:
                compute += layer.ms
            totals[layer.block] = (compute, memory)
        return totals

    def to_dict(self) -> dict:
        d = self.device
        return {
            "model": self.model, "alpha": self.alpha, "resolution": self.resolution, "device": d.name,
            "precision": d.precision, "ridge_point": d.ridge_point, "peak_macs_per_s": d.peak_macs_per_s,
            "bytes_per_s": d.bytes_per_s, "ms": self.ms,
            "layers": [{"name": x.name, "macs": x.macs, "bytes": x.bytes, "ms": x.ms, "bound": x.bound}
                       for x in self.layers],
        }  # fmt: skip


def estimate_latency(report: CountReport, device: DeviceProfile) -> LatencyEstimate:
    """The roofline estimate of `report`'s configuration on `device`, layer by layer."""
    size = device.bytes_per_value
    layers = []
    for t in traffic(report):
        moved = size * (t.weight_values + t.activation_values)
        compute_ms = 1e3 * t.macs / device.peak_macs_per_s
        memory_ms = 1e3 * moved / device.bytes_per_s if math.isfinite(device.bytes_per_s) else 0.0
        layers.append(LayerLatency(t.name, t.block, t.kind, t.macs, moved, compute_ms, memory_ms))
    return LatencyEstimate(report.model, report.alpha, report.resolution, device, tuple(layers))


@dataclass(frozen=True)
class RooflinePoint:
    """One layer on a roofline plot: FLOPs, bytes moved, its estimate and (if timed) its measurement."""

    name: str
    kind: str
    flops: int
    bytes: int
    intensity: float  # FLOPs per byte
    estimated_ms: float
    bound: str  # "memory" or "compute"
    measured_ms: float | None = None

    @property
    def achieved_flops_per_s(self) -> float | None:
        return self.flops / (self.measured_ms / 1e3) if self.measured_ms else None


def roofline_points(
    report: CountReport, device: DeviceProfile, measured_ms: dict[str, float] | None = None
) -> list[RooflinePoint]:
    """`estimate_latency` layer by layer, in FLOPs per byte for a roofline plot (the Roofline view
    draws this machine: `host_device`), with each layer's measured time where given."""
    measured_ms = measured_ms or {}
    return [
        RooflinePoint(
            x.name,
            x.kind,
            2 * x.macs,
            x.bytes,
            2 * x.macs / x.bytes if x.bytes else math.inf,
            x.ms,
            x.bound,
            measured_ms.get(x.name),
        )
        for x in estimate_latency(report, device).layers
    ]


def custom_device(
    title: str = "custom",
    precision: Precision = "int8",
    peak_macs_per_s: float | None = None,
    bytes_per_s: float | None = None,
    ridge_point: float | None = None,
    name: str = "custom",
) -> DeviceProfile:
    """A device a user describes with two of: peak MACs/s, bandwidth (bytes/s), ridge point
    (MACs/byte). A ridge point of 0 is a device with unlimited bandwidth: time is MACs / peak."""
    if precision not in BYTES_PER_VALUE:
        raise ConfigError(
            f"precision must be one of {', '.join(BYTES_PER_VALUE)}, got {precision!r}", "device"
        )
    given = {k: v for k, v in (("peak", peak_macs_per_s), ("bandwidth", bytes_per_s), ("ridge", ridge_point))
             if v is not None}  # fmt: skip
    for key, value in given.items():
        if not isinstance(value, int | float) or math.isnan(value) or value < 0 or math.isinf(value):
            raise ConfigError(f"the {key} must be a number of at least 0, got {value!r}", "device")
    if len(given) != 2:
        raise ConfigError(
            "give two of: peak MACs per second, bandwidth in bytes per second, ridge point", "device"
        )
    if "peak" in given and given["peak"] <= 0:
        raise ConfigError("the peak must be more than 0 MACs per second", "device")
    if "bandwidth" in given and given["bandwidth"] <= 0:
        raise ConfigError("the bandwidth must be more than 0 bytes per second", "device")
    if "peak" not in given:
        if given["ridge"] == 0:
            raise ConfigError("with a ridge point of 0, give the peak MACs per second", "device")
        peak = given["ridge"] * given["bandwidth"]
    else:
        peak = given["peak"]
    if "bandwidth" in given:
        bandwidth = given["bandwidth"]
    else:
        bandwidth = peak / given["ridge"] if given["ridge"] > 0 else math.inf
    return DeviceProfile(name, title, precision, float(peak), float(bandwidth), "entered by the user")


# --- the devices of the MobileNetV4 paper ---------------------------------------------------------

# Table 16: ridge points fitted to measured latencies, all INT8 (TFLite, XNNPACK on CPUs).
PAPER_RIDGE_POINTS: dict[str, tuple[str, float]] = {
    "pixel6_cpu": ("Pixel 6 CPU", 31.2),
    "s23_cpu": ("Samsung Galaxy S23 CPU", 39.7),
    "pixel4_dsp": ("Pixel 4 DSP (Hexagon)", 347.3),
    "pixel8_edgetpu": ("Pixel 8 EdgeTPU", 433.8),
}

# Table 6: measured latency (ms), INT8, at each model's own resolution (V1, V2 and Conv-S at 224,
# Conv-M and Hybrid-M at 256, Conv-L and Hybrid-L at 384). None: the paper reports "Failed"
# (hybrid models do not run on the DSP). V1-V3 were retrained by the paper's authors; latency is
# a property of the architecture, so it applies to ours.
PAPER_LATENCY_MS: dict[tuple[str, int], dict[str, float | None]] = {
    ("v1", 224): {"pixel6_cpu": 6.1, "pixel8_edgetpu": 0.8, "pixel4_dsp": 3.2, "s23_cpu": 4.6},
    ("v2", 224): {"pixel6_cpu": 5.0, "pixel8_edgetpu": 0.7, "pixel4_dsp": 3.9, "s23_cpu": 4.1},
    ("v4_conv_small", 224): {"pixel6_cpu": 2.4, "pixel8_edgetpu": 0.7, "pixel4_dsp": 2.4, "s23_cpu": 1.8},
    ("v4_conv_medium", 256): {"pixel6_cpu": 11.4, "pixel8_edgetpu": 1.1, "pixel4_dsp": 7.3, "s23_cpu": 8.6},
    ("v4_conv_large", 384): {"pixel6_cpu": 59.9, "pixel8_edgetpu": 2.4, "pixel4_dsp": 20.8, "s23_cpu": 43.0},
    ("v4_hybrid_medium", 256): {
        "pixel6_cpu": 14.3,
        "pixel8_edgetpu": 1.5,
        "pixel4_dsp": None,
        "s23_cpu": 10.8,
    },
    ("v4_hybrid_large", 384): {
        "pixel6_cpu": 87.6,
        "pixel8_edgetpu": 3.8,
        "pixel4_dsp": None,
        "s23_cpu": 61.8,
    },
}
CALIBRATION_MODEL = ("v2", 1.0, 224)


def paper_latency_ms(model: str, alpha: float, resolution: int, device: str) -> float | None:
    """The latency the V4 paper measured for this configuration on `device` (Table 6), or None."""
    if alpha != 1.0:
        return None
    return PAPER_LATENCY_MS.get((model, resolution), {}).get(device)


def paper_failed(model: str, alpha: float, resolution: int, device: str) -> bool:
    """True where the paper reports that the model does not run on the device ("Failed")."""
    row = PAPER_LATENCY_MS.get((model, resolution), {}) if alpha == 1.0 else {}
    return device in row and row[device] is None


def calibrated_device(name: str, title: str, ridge_point: float, baseline: CountReport, baseline_ms: float,
                      precision: Precision = "int8", source: str = "") -> DeviceProfile:  # fmt: skip
    """A device known only by its ridge point, scaled so that `baseline` takes `baseline_ms`.

    With bandwidth = peak / ridge, the estimate is (1 / peak) * sum_i max(MACs_i, ridge * bytes_i),
    so the peak that reproduces the measurement is that sum divided by the measured time."""
    size = BYTES_PER_VALUE[precision]
    work = sum(max(t.macs, ridge_point * size * (t.weight_values + t.activation_values))
               for t in traffic(baseline))  # fmt: skip
    peak = work / (baseline_ms / 1e3)
    how = (f"peak set so that {baseline.model} α {baseline.alpha:g} at {baseline.resolution} px is "
           f"estimated at the {baseline_ms:g} ms the paper measured on this device ({PAPER}, Table 6); "
           "bandwidth = peak / ridge point")  # fmt: skip
    return DeviceProfile(name, title, precision, peak, peak / ridge_point, source, how)


@lru_cache(maxsize=1)
def paper_devices() -> dict[str, DeviceProfile]:
    """The four INT8 devices of the V4 paper, calibrated on MobileNetV2 (see the module doc)."""
    from .api import count

    baseline = count(*CALIBRATION_MODEL)
    devices = {}
    for name, (title, ridge) in PAPER_RIDGE_POINTS.items():
        measured = PAPER_LATENCY_MS[(CALIBRATION_MODEL[0], CALIBRATION_MODEL[2])][name]
        source = f"ridge point {ridge} MACs/byte, INT8: {PAPER}, Table 16"
        devices[name] = calibrated_device(name, title, ridge, baseline, measured, "int8", source)
    return devices


@dataclass(frozen=True)
class DeviceRow:
    """One device's estimate for a configuration, beside what the V4 paper measured there."""

    device: DeviceProfile
    estimated_ms: float
    paper_ms: float | None

    @property
    def ratio(self) -> float | None:
        """estimate / measurement: how far the roofline model is from the phone."""
        return self.estimated_ms / self.paper_ms if self.paper_ms else None


def device_rows(report: CountReport, extra: tuple[DeviceProfile, ...] = ()) -> list[DeviceRow]:
    """The configuration on every paper device (and `extra` ones, such as the host)."""
    rows = []
    for device in (*paper_devices().values(), *extra):
        measured = paper_latency_ms(report.model, report.alpha, report.resolution, device.name)
        rows.append(DeviceRow(device, estimate_latency(report, device).ms, measured))
    return rows


def host_device(peak_flops_per_s: float, bytes_per_s: float, method: str) -> DeviceProfile:
    """This machine, from its measured peaks (measure.measure_peaks), float32 as we run it."""
    return DeviceProfile("host", "this machine (measured)", "float32", peak_flops_per_s / 2, bytes_per_s,
                         f"measured here: {method}")  # fmt: skip


DEVICE_NAMES = (*PAPER_RIDGE_POINTS, "host")


def get_device(name: str, host: DeviceProfile | None = None) -> DeviceProfile:
    """A device by name: pixel6_cpu, s23_cpu, pixel4_dsp, pixel8_edgetpu, or host (measured now
    unless given)."""
    if name == "host":
        if host is None:
            from .measure import measure_peaks

            peaks = measure_peaks()
            host = host_device(peaks.flops_per_s, peaks.bytes_per_s, peaks.method)
        return host
    devices = paper_devices()
    if name not in devices:
        raise ConfigError(f"unknown device {name!r}; choose one of {', '.join(DEVICE_NAMES)}")
    return devices[name]

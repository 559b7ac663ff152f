"""Hardware-aware latency: the V4 paper's roofline model (arXiv:2404.10518, Eq. 1) per layer,
its devices (Table 16) calibrated on its measurements (Table 6), the host measured right."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import mobilenet_core as mc
from mobilenet_core.latency import (
    PAPER_LATENCY_MS,
    PAPER_RIDGE_POINTS,
    custom_device,
    estimate_latency,
    get_device,
    host_device,
    paper_devices,
    paper_latency_ms,
    traffic,
)


def test_each_layer_is_the_max_of_its_two_terms_and_the_model_is_their_sum():
    device = custom_device("test", "int8", peak_macs_per_s=100e9, bytes_per_s=4e9)
    report = mc.count("v3_large", 0.75, 192)
    estimate = estimate_latency(report, device)
    assert len(estimate.layers) == sum(1 for layer in report.layers if layer.macs)
    assert sum(x.macs for x in estimate.layers) == report.macs  # every MAC is in some layer
    for layer, t in zip(estimate.layers, traffic(report)):
        compute = 1e3 * t.macs / 100e9
        memory = 1e3 * (t.weight_values + t.activation_values) / 4e9  # int8: one byte a value
        assert layer.compute_ms == pytest.approx(compute, rel=1e-12)
        assert layer.memory_ms == pytest.approx(memory, rel=1e-12)
        assert layer.ms == max(compute, memory) or layer.ms == pytest.approx(max(compute, memory), rel=1e-12)
        assert layer.bound == ("memory" if memory > compute else "compute")
    assert estimate.ms == pytest.approx(sum(x.ms for x in estimate.layers), rel=1e-12)


def test_bytes_follow_the_precision():
    report = mc.count("v2", 0.5, 160)
    int8 = estimate_latency(report, custom_device("a", "int8", peak_macs_per_s=1e9, bytes_per_s=1e9))
    fp32 = estimate_latency(report, custom_device("b", "float32", peak_macs_per_s=1e9, bytes_per_s=1e9))
    assert all(b.bytes == 4 * a.bytes for a, b in zip(int8.layers, fp32.layers))


def test_a_ridge_point_near_zero_ranks_models_exactly_by_macs():
    device = custom_device("MACs only", "int8", peak_macs_per_s=1e11, ridge_point=1e-9)
    configs = [(m, a, r) for m in ("v1", "v2", "v3_small", "v4_conv_small", "v4_hybrid_medium")
               for a, r in ((0.5, 160), (1.0, 224))]  # fmt: skip
    reports = [mc.count(*c) for c in configs]
    by_time = sorted(reports, key=lambda r: estimate_latency(r, device).ms)
    assert [r.macs for r in by_time] == sorted(r.macs for r in reports)
    zero = custom_device("zero", "int8", peak_macs_per_s=1e11, ridge_point=0)
    assert math.isinf(zero.bytes_per_s)
    assert estimate_latency(reports[0], zero).ms == pytest.approx(1e3 * reports[0].macs / 1e11, rel=1e-12)


def test_a_high_ridge_point_makes_depthwise_and_the_classifier_memory_bound():
    report = mc.count("v2")
    estimate = estimate_latency(report, paper_devices()["pixel8_edgetpu"])
    kinds = {x.kind: x.bound for x in estimate.layers}
    assert kinds["dwconv"] == "memory" and kinds["linear"] == "memory"
    cpu = estimate_latency(report, paper_devices()["pixel6_cpu"])
    assert cpu.memory_bound_share < estimate.memory_bound_share


def test_paper_devices_keep_their_ridge_points_and_reproduce_the_calibration_model():
    devices = paper_devices()
    assert set(devices) == {"pixel6_cpu", "s23_cpu", "pixel4_dsp", "pixel8_edgetpu"}
    for name, (_, ridge) in PAPER_RIDGE_POINTS.items():
        device = devices[name]
        assert device.ridge_point == pytest.approx(ridge, rel=1e-12) and device.precision == "int8"
        assert "Table 16" in device.source and "Table 6" in device.calibration
        assert estimate_latency(mc.count("v2"), device).ms == pytest.approx(
            PAPER_LATENCY_MS[("v2", 224)][name]
        )


def test_estimates_against_the_papers_measurements_stay_within_a_factor_of_three():
    # a model, not a measurement: this pins how far it is, so that a change that breaks it shows
    devices = paper_devices()
    for (model, resolution), row in PAPER_LATENCY_MS.items():
        report = mc.count(model, 1.0, resolution)
        for name, measured in row.items():
            if measured is None:
                assert model.startswith("v4_hybrid") and name == "pixel4_dsp"  # "Failed" in the paper
                continue
            ratio = estimate_latency(report, devices[name]).ms / measured
            assert 1 / 3 < ratio < 3, (model, name, ratio)
    assert paper_latency_ms("v4_conv_large", 1.0, 384, "pixel8_edgetpu") == 2.4
    assert paper_latency_ms("v4_conv_large", 0.5, 384, "pixel8_edgetpu") is None


def test_custom_devices_need_two_of_three_numbers_with_clear_messages():
    d = custom_device("x", "float16", ridge_point=50, bytes_per_s=2e9)
    assert d.peak_macs_per_s == 100e9 and d.bytes_per_value == 2
    with pytest.raises(mc.ConfigError, match="give two of"):
        custom_device("x", "int8", peak_macs_per_s=1e9)
    with pytest.raises(mc.ConfigError, match="at least 0"):
        custom_device("x", "int8", peak_macs_per_s=-1, ridge_point=3)
    with pytest.raises(mc.ConfigError, match="precision"):
        custom_device("x", "int4", peak_macs_per_s=1e9, ridge_point=3)
    with pytest.raises(mc.ConfigError, match="unknown device"):
        get_device("iphone")


def test_host_peaks_are_the_fastest_kernel_we_run_and_no_layer_or_model_is_above_the_roof():
    from mobilenet_core.fast import FastModel
    from mobilenet_core.latency import roofline_points
    from mobilenet_core.measure import measure_layer_times, measure_peaks
    from mobilenet_core.sweep import median_latency_ms
    from reference import steady

    peaks = measure_peaks(0.3)
    names = [name for name, _ in peaks.kernels]
    assert any("onnxruntime" in n and "Conv" in n for n in names) and any(
        n.startswith("torch") for n in names
    )
    assert peaks.flops_per_s == max(rate for _, rate in peaks.kernels)
    assert peaks.bytes_per_s == dict(peaks.copies)[64 * 2**20]  # main memory, from a large copy
    host = host_device(peaks.flops_per_s, peaks.bytes_per_s, peaks.method)

    def worst(model: str) -> float:
        """The largest achieved / roof of the model and its layers, in one measurement: the peaks
        are measured again with it, since a process that held the CPU while they were measured
        once put every later model above that roof (1.40x, with a one-core hog beside the suite)."""
        peaks = measure_peaks(0.3)
        report = mc.count(model, 1.0, 224)
        module = mc.build(model, 1.0, 224)
        whole_ms = median_latency_ms(FastModel(module), 224, runs=15, warmup=3)
        ratios = [2 * report.macs / (whole_ms / 1e3) / peaks.flops_per_s]
        times = measure_layer_times(module, report, runs=8, warmup=2)
        for p in roofline_points(report, host, times.ms):
            roof = min(peaks.flops_per_s, p.intensity * peaks.bytes_per_s)
            ratios.append(p.achieved_flops_per_s / roof)
        return max(ratios)

    for model in ("v2", "v4_conv_small"):
        assert steady(lambda: worst(model), lambda ratio: ratio <= 1.0, tries=5) <= 1.0, model  # noqa: B023
    host = host_device(peaks.flops_per_s, peaks.bytes_per_s, peaks.method)
    assert host.precision == "float32" and host.peak_macs_per_s == peaks.flops_per_s / 2


def cli(*args):
    return subprocess.run([sys.executable, "-m", "mobilenet_core", *args], capture_output=True, text=True,
                          timeout=300)  # fmt: skip


def test_cli_latency_json_and_device_list():
    result = cli("latency", "v4_conv_medium", "--device", "pixel8_edgetpu", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"model", "alpha", "resolution", "device", "precision", "ridge_point",
                         "peak_macs_per_s", "bytes_per_s", "ms", "layers"}  # fmt: skip
    assert (data["model"], data["resolution"], data["device"], data["precision"]) == (
        "v4_conv_medium",
        256,
        "pixel8_edgetpu",
        "int8",
    )
    assert data["ridge_point"] == pytest.approx(433.8)
    assert set(data["layers"][0]) == {"name", "macs", "bytes", "ms", "bound"}
    assert data["ms"] == pytest.approx(sum(x["ms"] for x in data["layers"]))
    expected = estimate_latency(mc.count("v4_conv_medium"), paper_devices()["pixel8_edgetpu"])
    assert data["ms"] == pytest.approx(expected.ms)
    text = cli("latency", "v2", "--alpha", "0.5", "--rho", "0.75", "--device", "pixel6_cpu")
    assert text.returncode == 0 and "Pixel 6 CPU" in text.stdout and "memory" in text.stdout
    listing = cli("latency", "--list-devices")
    assert listing.returncode == 0
    for name in ("pixel6_cpu", "s23_cpu", "pixel4_dsp", "pixel8_edgetpu", "host"):
        assert name in listing.stdout
    bad = cli("latency", "v2", "--device", "iphone")
    assert bad.returncode != 0 and "unknown device" in bad.stderr and "Traceback" not in bad.stderr


# --- the app --------------------------------------------------------------------------------------

MAIN = str(Path(__file__).resolve().parent.parent / "app" / "main.py")


def _page(view: str, **query) -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=180)
    for key, value in query.items():
        at.query_params[key] = str(value)
    at.run()
    at.switch_page(f"views/{view}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_roofline_view_estimates_the_selection_on_every_paper_device():
    at = _page("roofline", model="v4_conv_large", alpha="1.0", resolution="384")
    at.selectbox(key="roofline_device").set_value("pixel8_edgetpu").run()
    device = paper_devices()["pixel8_edgetpu"]
    expected = estimate_latency(mc.count("v4_conv_large", 1.0, 384), device)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["estimated latency"] == f"{expected.ms:.2f} ms"
    assert metrics["measured in the paper"] == "2.4 ms"
    assert metrics["ridge point (MACs/byte)"] == "433.8"  # the unit in the label: not clipped on a projector
    ratio = f"estimate / measured = {expected.ms / 2.4:.2f}×"
    assert any(c.value == ratio for c in at.caption)  # a caption, not a delta arrow
    table = at.table[-1].value
    row = table[table.iloc[:, 0] == "Pixel 8 EdgeTPU"].iloc[0]
    assert row.iloc[3] == f"{expected.ms:.2f}" and row.iloc[4] == "2.4"
    hybrid = _page("roofline", model="v4_hybrid_medium", alpha="1.0", resolution="256")
    table = hybrid.table[-1].value
    assert "does not run" in table[table.iloc[:, 0] == "Pixel 4 DSP (Hexagon)"].iloc[0].iloc[4]
    at.selectbox(key="roofline_device").set_value("custom").run()
    at.number_input(key="roofline_device_peak").set_value(50.0).run()
    at.number_input(key="roofline_device_bw").set_value(2.0).run()
    custom = estimate_latency(mc.count("v4_conv_large", 1.0, 384),
                              custom_device("c", "int8", peak_macs_per_s=50e9, bytes_per_s=2e9))  # fmt: skip
    assert {m.label: m.value for m in at.metric}["estimated latency"] == f"{custom.ms:.2f} ms"
    assert not at.exception


def test_compare_has_a_latency_column_per_paper_device():
    at = _page("compare", model="v4_conv_small", alpha="1.0", resolution="224")
    table = at.table[0].value  # a column per configuration, a row per figure
    row = "est. ms on Pixel 6 CPU"
    expected = estimate_latency(mc.count("v4_conv_small", 1.0, 224), paper_devices()["pixel6_cpu"])
    assert table.loc[row].iloc[0] == f"{expected.ms:.2f} (2.4)"
    assert all(f"est. ms on {d.title}" in table.index for d in paper_devices().values())


def test_tradeoffs_can_use_the_estimated_latency_on_a_device_as_the_cost_axis():
    at = _page("tradeoffs", model="v2")
    at.radio(key="sweep_x").set_value("estimated_ms").run()
    at.selectbox(key="sweep_device").set_value("s23_cpu").run()
    table = at.dataframe[0].value
    device = paper_devices()["s23_cpu"]
    for _, row in table.iterrows():
        expected = estimate_latency(mc.count("v2", row["α"], int(row["px"])), device).ms
        assert row["estimated latency on a device (ms)"] == pytest.approx(expected)
    assert not at.exception


def test_layer_graph_colours_blocks_by_estimated_time_share():
    from mobilenet_core.graph import HEAT, layer_graph

    report = mc.count("v2")
    estimate = estimate_latency(report, paper_devices()["pixel8_edgetpu"])
    share = {block: ms / estimate.ms for block, ms in estimate.by_block().items()}
    assert sum(share.values()) == pytest.approx(1.0)
    dot = layer_graph(report, time_share=share)
    top = max(share, key=share.get)
    node = next(
        line for line in dot.splitlines() if line.strip().startswith("n_" + top.replace(".", "_") + " ")
    )
    assert f"{share[top]:.1%} of the time" in node and HEAT[-1] in node
    at = _page("graph", model="v2")
    at.radio(key="graph_color").set_value("time").run()
    at.selectbox(key="graph_device").set_value("pixel8_edgetpu").run()
    assert not at.exception

"""Roofline: why depthwise convolutions cost more time than their MACs suggest, on this CPU."""

import time

import numpy as np
import plotly.graph_objects as go
import streamlit as st

import mobilenet_core as mc
from app.common import (
    device_origin,
    device_picker,
    device_title,
    file_stem,
    page_title,
    report_for,
    show_figure,
    title_line,
)
from app.figures import LEGEND_BELOW
from app.i18n import t
from app.measured import HOST, Measured
from app.state import current_selection
from mobilenet_core.graph import LAYER_MARK_COLORS
from mobilenet_core.latency import (
    device_rows,
    estimate_latency,
    host_device,
    paper_failed,
    paper_latency_ms,
    roofline_points,
)
from mobilenet_core.measure import LayerTimes, MachinePeaks, measure_layer_times, measure_peaks


def _when(measured: Measured) -> str:
    minutes = int((time.time() - measured.at) // 60)
    return t("measured_at", time=time.strftime("%H:%M:%S", time.localtime(measured.at)), ago=minutes)


def measurements_ui(sel) -> tuple[MachinePeaks, LayerTimes | None]:
    """This machine's peaks and, once asked for, the selection's layer times: measured once per
    server for everyone (app.measured), said with the time they were taken; "Measure again"
    replaces both for everyone."""
    again = st.button(t("remeasure"), key="roofline_remeasure")
    # the first visit of the server (or "Measure again") measures for a few seconds: said, not blank
    with st.spinner(t("measuring_peaks")):
        # in the export worker (isolated): the measuring stops no other session
        machine = HOST.get("peaks", lambda: measure_peaks(0.5, isolated=True), again=again)
    key = ("layers", sel.model, sel.alpha, sel.resolution)
    known = HOST.peek(key)
    asked = st.button(t("measure_layers"), key="roofline_measure_layers", disabled=known is not None)
    times = None
    if asked or known is not None:
        with st.spinner(t("measuring_layers")):
            build = lambda: measure_layer_times(mc.build(*key[1:]), mc.count(*key[1:]))  # noqa: E731
            times = HOST.get(key, build, again=again and known is not None)
    st.caption(" ".join(_when(m) for m in (machine, times) if m is not None))
    return machine.value, times.value if times else None


def roofline_page():
    """Draw the roofline view for the shared selection; returns that selection."""
    sel = current_selection()
    page_title(f"{t('page_roofline')} · {title_line(sel)}")
    st.caption(t("roofline_intro"))
    machine, times = measurements_ui(sel)
    report = report_for(sel)
    host = host_device(machine.flops_per_s, machine.bytes_per_s, machine.method)
    points = roofline_points(report, host, times.ms if times else None)
    peaks_ui(machine)
    mode = points_mode_ui(times)
    roofline_chart_ui(sel, machine, points, mode)
    kinds_table_ui(points, times)
    st.markdown(f"## {t('device_latency')}")  # on a device: the V4 paper's roofline model
    st.caption(t("device_latency_intro"))
    device = device_picker("roofline_device", host=host)
    if device is not None:
        device_estimate_ui(sel, report, device)
    all_devices_ui(report, host)
    return sel


def peaks_ui(machine: MachinePeaks) -> None:
    cols = st.columns(3)
    cols[0].metric(t("peak_compute"), f"{machine.flops_per_s / 1e9:.1f} GFLOP/s")
    cols[1].metric(t("peak_bandwidth"), f"{machine.bytes_per_s / 1e9:.1f} GB/s")
    cols[2].metric(t("ridge"), f"{machine.ridge:.1f} FLOP/byte")
    st.caption(t("measured_how", method=measured_method(machine)))


def measured_method(machine: MachinePeaks) -> str:
    """How the peaks were measured, in the interface's language (MachinePeaks.method says it in
    English, for the API)."""
    kernels = ", ".join(name for name, _ in machine.kernels)
    best = max(machine.kernels, key=lambda k: k[1])[0] if machine.kernels else "—"
    caches = ", ".join(f"{size >> 20} MiB {rate / 1e9:.0f} GB/s" for size, rate in machine.copies[:-1])
    return t("measured_method", kernels=kernels, best=best, caches=caches or "—", threads=machine.threads)


def points_mode_ui(times: LayerTimes | None) -> str:
    """Place the layers by their estimate or, once measured, by their measured rate."""
    if times is None:
        return "estimated"
    labels = {m: t(f"points_{m}") for m in ("measured", "estimated")}  # fixed now, not read later
    return st.radio(
        t("roofline_points_of"), list(labels), horizontal=True, key="roofline_mode", format_func=labels.get
    )


def roofline_chart_ui(sel, machine: MachinePeaks, points: list, mode: str) -> None:
    def y_of(p) -> float:
        if mode == "measured":
            return p.achieved_flops_per_s / 1e9
        return min(machine.flops_per_s, p.intensity * machine.bytes_per_s) / 1e9

    biggest = max(p.flops for p in points)
    fig = go.Figure()
    x = np.logspace(-1.5, 3, 200)
    roof = np.minimum(machine.flops_per_s, x * machine.bytes_per_s) / 1e9
    fig.add_trace(go.Scatter(x=x, y=roof, mode="lines", name=t("roof"), line=dict(color="#111111")))
    for kind in dict.fromkeys(p.kind for p in points):
        mine = [p for p in points if p.kind == kind]
        measured = ["–" if p.measured_ms is None else f"{p.measured_ms:.3f}" for p in mine]
        fig.add_trace(
            go.Scatter(
                x=[p.intensity for p in mine],
                y=[y_of(p) for p in mine],
                mode="markers",
                name=kind,
                marker=dict(
                    color=LAYER_MARK_COLORS.get(kind, "#999999"),
                    size=[5 + 20 * (p.flops / biggest) ** 0.5 for p in mine],
                ),  # fmt: skip
                customdata=[
                    [p.name, f"{p.flops // 2:,}", f"{p.bytes:,}", f"{p.estimated_ms:.3f}", p.bound, m]
                    for p, m in zip(mine, measured)
                ],  # fmt: skip
                hovertemplate="%{customdata[0]}<br>MACs %{customdata[1]} · bytes %{customdata[2]}<br>"
                "%{x:.2f} FLOP/byte · %{y:.2f} GFLOP/s<br>est. %{customdata[3]} ms "
                "(%{customdata[4]}-bound) · measured %{customdata[5]} ms<extra></extra>",
            )
        )
    fig.add_vline(x=machine.ridge, line_dash="dot", annotation_text=t("ridge"))
    fig.update_layout(
        xaxis=dict(type="log", dtick=1),
        yaxis=dict(type="log", dtick=1),
        legend=LEGEND_BELOW,  # beside the plot, it squeezed it on a phone and ran into the ridge's label
        xaxis_title=t("intensity"),
        yaxis_title=t("attainable") if mode == "estimated" else t("axis_measured"),
    )
    show_figure(fig, file_stem(sel, "fig"), key="roofline_chart", height=520)


def kinds_table_ui(points: list, times: LayerTimes | None) -> None:
    """Per layer kind: its share of the MACs, of the estimated and of the measured time."""
    total_flops = sum(p.flops for p in points)
    total_ms = sum(p.estimated_ms for p in points)
    total_measured = sum(p.measured_ms for p in points) if times is not None else None
    summary = []
    for kind in dict.fromkeys(p.kind for p in points):
        mine = [p for p in points if p.kind == kind]
        row = {
            t("layer_kind"): kind,
            t("layers"): len(mine),
            t("mac_share"): f"{sum(p.flops for p in mine) / total_flops:.1%}",
            t("time_share"): f"{sum(p.estimated_ms for p in mine) / total_ms:.1%}",
        }
        if total_measured:
            row[t("measured_time_share")] = f"{sum(p.measured_ms for p in mine) / total_measured:.1%}"
            row[t("measured_ms")] = f"{sum(p.measured_ms for p in mine):.2f}"
        row[t("memory_bound")] = f"{sum(p.bound == 'memory' for p in mine)}/{len(mine)}"
        summary.append(row)
    st.table(summary)
    if times is not None:
        st.caption(t("layers_how", method=t("layers_method", runs=times.runs, threads=times.threads),
                     layers=total_measured, forward=times.forward_ms,
                     coverage=times.coverage))  # fmt: skip
    st.caption(t("roofline_note"))


def device_estimate_ui(sel, report, device) -> None:
    """The estimate on one device, its measurement in the paper, and the time per block."""
    estimate = estimate_latency(report, device)
    measured = paper_latency_ms(report.model, report.alpha, report.resolution, device.name)
    cols = st.columns(4)
    cols[0].metric(t("estimated_ms"), f"{estimate.ms:.2f} ms")
    cols[1].metric(t("ridge_macs"), f"{device.ridge_point:.1f}")  # the unit is in the label (projector)
    cols[2].metric(t("memory_bound_time"), f"{estimate.memory_bound_share:.0%}")
    # a plain caption, not a metric delta: a delta draws an up / down arrow, which reads as
    # "better" / "worse" for what is a ratio of estimate to measurement
    cols[3].metric(t("paper_measured"), f"{measured:g} ms" if measured is not None else "—")
    if measured is not None:
        cols[3].caption(t("estimate_over_measured", ratio=f"{estimate.ms / measured:.2f}"))
    else:
        cols[3].caption(t("not_in_paper"))
    split = estimate.by_block_bound()
    blocks = list(split)
    bars = go.Figure()
    bars.add_trace(go.Bar(x=blocks, y=[split[b][0] for b in blocks], name=t("compute_bound_ms"),
                          marker_color="#2ca02c"))  # fmt: skip
    bars.add_trace(go.Bar(x=blocks, y=[split[b][1] for b in blocks], name=t("memory_bound_ms"),
                          marker_color="#1f77b4"))  # fmt: skip
    bars.update_layout(barmode="stack", title=t("device_block_chart", device=device_title(device)),
                       yaxis_title="ms", legend=LEGEND_BELOW)  # fmt: skip
    show_figure(bars, file_stem(sel, "fig"), key="device_blocks", height=420)
    st.caption(t("device_source", source=device_origin(device)))


def all_devices_ui(report, host) -> None:
    st.markdown(f"**{t('all_devices')}**")
    rows = []
    for row in device_rows(report, extra=(host,)):
        failed = paper_failed(report.model, report.alpha, report.resolution, row.device.name)
        paper = f"{row.paper_ms:g}" if row.paper_ms is not None else (t("paper_failed") if failed else "—")
        rows.append({
            t("device"): device_title(row.device),
            t("precision"): row.device.precision,
            t("ridge_macs"): f"{row.device.ridge_point:.1f}",
            t("estimated_ms"): f"{row.estimated_ms:.2f}",
            t("paper_measured"): paper,
            t("estimate_vs_paper"): f"{row.ratio:.2f}×" if row.ratio else "—",
        })  # fmt: skip
    st.table(rows)
    st.caption(t("device_model_note"))

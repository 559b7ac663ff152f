"""Lesson: V4's fused inverted bottleneck, one dense k x k conv instead of 1x1 + depthwise, timed on
the paper's devices with the roofline model.

Streamlit runs page.py beside this file; the page is `show()` here (an imported module, so its
widget callbacks never hold a page script's globals)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app.i18n import t
from app.lessons.common import choose_model, close_lesson, open_lesson, show_shared_chart, show_table
from mobilenet_core import lessons as L
from mobilenet_core.latency import paper_devices

BUILT, FUSED = "#0072b2", "#e69f00"  # blue and orange: apart for colour-blind readers


def show() -> None:
    path, figure, settings = open_lesson("lesson-fused-ib")
    with settings:
        model, alpha, res, report = choose_model(path)
        devices = paper_devices()
        # each device with its ridge point (the roofline's knee), words chosen now, in this run's language
        names = {
            d: t("ls_fi_device_option", device=v.title, ridge=f"{v.ridge_point:.1f}")
            for d, v in devices.items()
        }
        device = st.selectbox(
            t("ls_fi_device"), list(devices), index=2, key="fi_device", format_func=names.get
        )
    net = L.fused_network(report, devices[device])
    with figure:
        show_shared_chart(("fused_timings", model, alpha, res, device), lambda: _blocks_figure(net),
                          f"fused_{model}_{device}", height=360)  # fmt: skip
        _network_metrics(net)
    by = {x.trade.block: x for x in net.timings}
    name = st.selectbox(t("pick_block"), list(by), key="fi_block",
                        format_func=lambda b: f"{b} · {by[b].trade.separate[0].in_channels}→"
                        f"{by[b].trade.separate[0].out_channels} · {by[b].trade.separate[1].kernel}×"
                        f"{by[b].trade.separate[1].kernel} · s{by[b].trade.separate[1].stride}")  # fmt: skip
    _block_detail(by[name])
    st.caption(t("ls_fi_note"))
    close_lesson(path)


def _blocks_figure(net) -> go.Figure:
    """Each fusable block's expansion: estimated time as built and fused, in microseconds."""
    names = [x.trade.block for x in net.timings]
    fig = go.Figure()
    fig.add_bar(
        x=names, y=[1e3 * x.separate_ms for x in net.timings], name=t("ls_fi_built"), marker_color=BUILT
    )
    fig.add_bar(x=names, y=[1e3 * x.fused.ms for x in net.timings], name=t("ls_fi_fused"), marker_color=FUSED)
    fig.update_layout(title=t("ls_fi_chart", device=net.device.title), yaxis_title="µs", barmode="group")
    return fig


def _network_metrics(net) -> None:
    paying = sum(x.pays for x in net.timings)
    m = st.columns(3)
    m[0].metric(t("ls_fi_as_built"), f"{net.built_ms:.2f} ms", f"{net.built_macs / 1e6:,.0f} M MACs",
                delta_color="off", delta_arrow="off")  # fmt: skip
    m[1].metric(t("ls_fi_all_fused"), f"{net.all_fused_ms:.2f} ms", f"{net.all_fused_macs / 1e6:,.0f} M MACs",
                delta_color="off", delta_arrow="off")  # fmt: skip
    m[2].metric(t("ls_fi_where_it_pays", n=paying, total=len(net.timings)), f"{net.best_ms:.2f} ms",
                f"{net.best_macs / 1e6:,.0f} M MACs", delta_color="off", delta_arrow="off")  # fmt: skip


def _block_detail(timing) -> None:
    """The block's layers both ways (counter's rows, roofline times) and the MAC formulas."""
    bound = {"compute": t("ls_compute_bound"), "memory": t("ls_memory_bound")}
    rows = [(t("ls_fi_built"), x) for x in timing.separate] + [(t("ls_fi_fused"), timing.fused)]
    show_table(pd.DataFrame([
        {"": way, t("ls_layer"): x.name, t("macs"): x.macs, t("ls_bytes"): x.bytes,
         t("ls_intensity"): f"{x.intensity:.1f}", t("ls_bound"): bound[x.bound], "µs": f"{1e3 * x.ms:.2f}"}
        for way, x in rows
    ]))  # fmt: skip
    pw, dw = timing.trade.separate
    f = timing.trade.fused
    c, e, k = pw.in_channels, pw.out_channels, dw.kernel
    h, h2 = pw.out_height, dw.out_height
    st.latex(
        rf"C E H^2 + k^2 E H'^2 = {c}\cdot{e}\cdot{h}^2 + {k}^2\cdot{e}\cdot{h2}^2 = {timing.trade.separate_macs:,}"
    )
    st.latex(rf"k^2 C E H'^2 = {k}^2\cdot{c}\cdot{e}\cdot{h2}^2 = {f.macs:,}"
             rf"\quad ({f.macs / timing.trade.separate_macs:.1f}\times)")  # fmt: skip
    times = dict(fused=f"{1e3 * timing.fused.ms:.2f}", built=f"{1e3 * timing.separate_ms:.2f}")
    st.markdown(t("ls_fi_pays", **times) if timing.pays else t("ls_fi_does_not_pay", **times))

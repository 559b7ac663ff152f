"""Lesson: V4's roofline, where the selected network's time goes as the ridge point moves.

Streamlit runs page.py beside this file; the page is `show()` here (an imported module, so its
widget callbacks never hold a page script's globals)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import mobilenet_core as mc
from app.figures import FigureCache
from app.i18n import t
from app.lessons.common import (
    close_lesson,
    open_lesson,
    show_shared_chart,
    show_table,
)
from app.state import current_selection
from mobilenet_core import lessons as L

COMPUTE_BOUND, MEMORY_BOUND = "#2ca02c", "#1f77b4"  # the Roofline view's colours


# two figures per ridge the slider stops at (5,001 values): their own bounded cache, not the
# pages' shared one (app.figures), so a class exploring the slider pushes nothing else out
RIDGE_FIGURES = FigureCache(64)


def show() -> None:
    path, figure, settings = open_lesson("lesson-roofline")
    sel = current_selection()
    report = mc.count(sel.model, sel.alpha, sel.resolution)
    where = (sel.model, sel.alpha, sel.resolution)
    settings.caption(t("ls_on_model", model=sel.generation.title, alpha=sel.alpha, res=sel.resolution))
    with figure:
        ridge = st.slider(
            t("ls_ridge"), 0.0, 500.0, 31.2, step=0.1, key="lesson_ridge", help=t("ls_ridge_help")
        )
        xs = sorted({*np.linspace(0, 500, 51), ridge})
        sweep = L.ridge_sweep(report, xs)
        here = sweep[xs.index(ridge)]
        # the charts depend on the configuration, the ridge and the language only: built once for
        # the class (a teacher's slider moves every student's page through the same ridges)
        show_shared_chart(("ridge_sweep", *where, ridge), lambda: _ridge_figure(xs, sweep, ridge),
                          f"ridge_sweep_{sel.model}", height=380, cache=RIDGE_FIGURES)  # fmt: skip
    devices = L.paper_device_estimates(report)
    show_shared_chart(("ridge_devices", *where), lambda: _device_figure(report, devices),
                      f"ridge_devices_{sel.model}", height=300)  # fmt: skip
    st.caption(t("ls_devices_note", fastest=devices[0].device.title,
                 times=f"{devices[0].device.peak_macs_per_s / devices[-1].device.peak_macs_per_s:.0f}"))  # fmt: skip
    total = here.ms
    show_shared_chart(("ridge_blocks", *where, ridge), lambda: _blocks_figure(here, ridge),
                      f"ridge_blocks_{sel.model}", height=340, cache=RIDGE_FIGURES)  # fmt: skip
    top = L.bottlenecks(here, 5)
    bound = {"compute": t("ls_compute_bound"), "memory": t("ls_memory_bound")}
    st.markdown(f"**{t('ls_bottlenecks')}**")
    show_table(pd.DataFrame([
        {t("ls_layer"): x.name, t("ls_kind"): x.kind, t("macs"): x.macs, t("ls_bytes"): x.bytes,
         t("ls_intensity"): f"{x.intensity:.1f}", t("ls_bound"): bound[x.bound], t("ls_share"): f"{x.ms / total:.1%}"}
        for x in top
    ]))  # fmt: skip
    slowest = top[0]
    name = slowest.name.split(".")[-1].replace("_", r"\ ")
    everything = sum(L.work(x, ridge) for x in here.layers)
    st.latex(
        rf"t_\text{{{name}}} = \max\left(\frac{{\text{{MACs}}}}{{P}}, \frac{{\text{{bytes}}}}{{B}}\right)"
        rf" = \frac{{\max({slowest.macs:,},\ {ridge:g} \times {slowest.bytes:,})}}{{P}}"
        rf" = \frac{{{L.work(slowest, ridge):,.0f}}}{{P}}"
    )
    st.latex(
        rf"\sum_\text{{{t('ls_layers')}}} = \frac{{{everything:,.0f}}}{{P}}"
        rf" = {L.slowdown(here):.2f} \times \frac{{\sum \text{{MACs}}}}{{P}}"
    )
    st.caption(t("ls_roofline_note"))
    close_lesson(path)


def _blocks_figure(here, ridge: float) -> go.Figure:
    """Each block's share of the time at this ridge, split into compute- and memory-bound."""
    split = here.by_block_bound()
    blocks = list(split)
    total = here.ms
    bars = go.Figure()
    bars.add_bar(x=blocks, y=[100 * split[b][0] / total for b in blocks], name=t("ls_compute_bound"),
                 marker_color=COMPUTE_BOUND)  # fmt: skip
    bars.add_bar(x=blocks, y=[100 * split[b][1] / total for b in blocks], name=t("ls_memory_bound"),
                 marker_color=MEMORY_BOUND)  # fmt: skip
    bars.update_layout(barmode="stack", title=t("ls_time_by_block", ridge=f"{ridge:g}"), yaxis_title="%")
    return bars


def _ridge_figure(xs: list[float], sweep, ridge: float) -> go.Figure:
    """Time over compute-only time and the memory-bound share against the ridge point, the
    paper's devices marked: each line numbered at its top (on either side of it in turn: the
    two CPUs' lines are 8 MACs/byte apart) and named in the legend (their names beside the lines
    overlapped each other and the curves on a phone)."""
    curve = go.Figure()
    curve.add_scatter(x=xs, y=[L.slowdown(e) for e in sweep], name=t("ls_slowdown"), mode="lines",
                      line=dict(color="#333333", width=3))  # fmt: skip
    curve.add_scatter(x=xs, y=[100 * e.memory_bound_share for e in sweep], name=t("ls_memory_share"), yaxis="y2",
                      mode="lines", line=dict(dash="dot", color=MEMORY_BOUND, width=3))  # fmt: skip
    for i, (title, r) in enumerate(sorted(L.PAPER_DEVICE_RIDGES.items(), key=lambda d: d[1])):
        mark = "①②③④⑤⑥⑦⑧"[i]
        curve.add_scatter(x=[r, r], y=[0, 100], yaxis="y2", mode="lines", name=t("ls_device_line", mark=mark, device=title, ridge=f"{r:g}"),
                          line=dict(color="#888", dash="dash"), hoverinfo="name")  # fmt: skip
        curve.add_annotation(x=r, y=0.97 - 0.1 * i, yref="paper", text=mark, showarrow=False,  # left, right, ...
                             xanchor="right" if i % 2 == 0 else "left", xshift=-3 if i % 2 == 0 else 3,
                             bgcolor="rgba(255,255,255,0.85)")  # fmt: skip
    curve.add_vline(x=ridge, line=dict(color="#e4002b", width=3))
    curve.update_layout(title=t("ls_time_vs_ridge"), xaxis_title=t("ls_ridge"), yaxis_title=t("ls_slowdown_axis"),
                        yaxis=dict(rangemode="tozero"),
                        yaxis2=dict(overlaying="y", side="right", range=[0, 100], tickmode="linear", tick0=0,
                                    dtick=25, title="%", showgrid=False))  # fmt: skip
    return curve


def _device_figure(report, devices) -> go.Figure:
    """The configuration on the paper's four calibrated devices: time split into compute- and
    memory-bound layers, and the paper's measurement where there is one."""
    from mobilenet_core.latency import paper_latency_ms

    names = [e.device.title for e in devices]
    fig = go.Figure()
    fig.add_bar(y=names, x=[sum(x.ms for x in e.layers if x.bound == "compute") for e in devices], orientation="h",
                name=t("ls_compute_bound"), marker_color=COMPUTE_BOUND)  # fmt: skip
    fig.add_bar(y=names, x=[sum(x.ms for x in e.layers if x.bound == "memory") for e in devices], orientation="h",
                name=t("ls_memory_bound"), marker_color=MEMORY_BOUND)  # fmt: skip
    measured = [(e.device.title, paper_latency_ms(report.model, report.alpha, report.resolution, e.device.name))
                for e in devices]  # fmt: skip
    measured = [(n, ms) for n, ms in measured if ms is not None]
    if measured:
        fig.add_scatter(y=[n for n, _ in measured], x=[ms for _, ms in measured], mode="markers",
                        name=t("ls_paper_measured"), marker=dict(symbol="diamond", size=14, color="#e4002b"))  # fmt: skip
    fig.update_layout(barmode="stack", title=t("ls_devices_title"), xaxis_title="ms",
                      yaxis=dict(autorange="reversed"))  # fmt: skip
    return fig

"""Trade-off explorer: alpha x resolution sweeps with exact counts, measured latency on this
machine, published top-1 where it exists, and the Pareto front."""

import plotly.graph_objects as go
import streamlit as st

import mobilenet_core as mc
from app import jobs
from app.common import (
    device_origin,
    device_picker,
    device_title,
    file_stem,
    log_axis,
    number_column_config,
    page_title,
    show_figure,
)
from app.figures import LEGEND_BELOW
from app.i18n import t
from app.state import PAPER_ALPHAS, current_selection
from mobilenet_core.rules import ALPHA_MAX, RESOLUTION_MIN, RESOLUTION_STEP, resolution_range
from mobilenet_core.sweep import SweepPoint, pareto_front, sweep, with_estimates


def tradeoffs_page():
    """Draw the tradeoffs view for the shared selection; returns that selection."""
    sel = current_selection()
    page_title(t("page_tradeoffs"))
    st.caption(t("tradeoffs_intro"))
    models, alphas, resolutions = grid_ui(sel)
    points = sweep(models, sorted(alphas), sorted(resolutions))
    x_axis, axis_title, points = cost_axis_ui(points)
    accuracy_chart_ui(sel, models, points, x_axis, axis_title)
    if x_axis == "latency_ms":
        latency_vs_macs_ui(sel, models, points)
    points_table_ui(points, x_axis)
    return sel


def grid_ui(sel) -> tuple[list[str], list[float], list[int]]:
    """The models, widths and input sizes to sweep."""
    cols = st.columns(3)
    models = cols[0].multiselect(t("model"), mc.list_models(), default=[sel.model], key="sweep_models")
    alpha_options = sorted(set(PAPER_ALPHAS) | {1.3, ALPHA_MAX})
    alphas = cols[1].multiselect(
        t("alpha"), alpha_options, default=[0.35, 0.5, 0.75, 1.0, 1.4], key="sweep_alphas"
    )
    # the grid follows the chosen models' base resolutions (Conv-L and Hybrid-L are at home at 384)
    bases = sorted({mc.get_generation(m).base_resolution for m in models} or {224})
    # every size the chosen models accept (the library's range), from 64 px: smaller says little here
    ranges = [resolution_range(mc.get_generation(m)) for m in models] or [(RESOLUTION_MIN, 448)]
    resolution_options = list(
        range(max(64, min(r[0] for r in ranges)), max(r[1] for r in ranges) + 1, RESOLUTION_STEP)
    )
    # rho = 3/7 ... 7/7 of each base: 96, 128, 160, 192, 224 for a 224 px model, up to 384 for Conv-L
    default_resolutions = sorted({32 * round(base * k / 7 / 32) for base in bases for k in range(3, 8)})
    if st.session_state.get("_sweep_bases") != bases:  # other models chosen: their own sizes
        st.session_state["_sweep_bases"] = bases
        st.session_state["sweep_resolutions"] = default_resolutions
    resolutions = cols[2].multiselect(t("resolution"), resolution_options, key="sweep_resolutions")
    return models, alphas, resolutions


def cost_axis_ui(points: list[SweepPoint]) -> tuple[str, str, list[SweepPoint]]:
    """The cost axis (MACs, params, measured or estimated latency), its title, and the points with
    that cost filled in."""
    x_labels = {
        "macs": "MACs (M)",
        "params": t("params") + " (M)",
        "latency_ms": t("latency"),
        "estimated_ms": t("sweep_estimated"),
    }
    x_axis = st.radio(t("sweep_x"), list(x_labels), horizontal=True, key="sweep_x", format_func=x_labels.get)
    axis_title = x_labels[x_axis]
    if x_axis == "estimated_ms":
        device = device_picker("sweep_device")
        if device is not None:
            points = with_estimates(points, device)
            axis_title = f"{t('estimated_ms')}, {device_title(device)} (ms)"
            st.caption(t("device_source", source=device_origin(device)))
    if x_axis == "latency_ms":
        points = measured_latency_ui(points)
    return x_axis, axis_title, points


def measured_latency_ui(points: list[SweepPoint]) -> list[SweepPoint]:
    """Latency measured on this machine in the background (shared by every session)."""
    job = jobs.get(st.session_state.get("sweep_job"))
    pending = jobs.unmeasured(points)
    if st.session_state.pop("sweep_job_error", None):  # its detail is in the server's log
        st.error(t("measure_failed"))
    if job is None and pending:
        if st.button(t("measure_latency", n=len(pending)), key="sweep_measure"):
            st.session_state["sweep_job"] = jobs.start(pending)
            st.rerun()
    if job is not None:
        jobs.progress("sweep_job")
    points = jobs.with_known_latency(points)
    measured = sum(p.latency_ms is not None for p in points)
    st.caption(t("latency_how", measured=measured, total=len(points)))
    return points


def _x_value(p: SweepPoint, x_axis: str):
    if x_axis in ("latency_ms", "estimated_ms"):
        return getattr(p, x_axis)
    return getattr(p, x_axis) / 1e6


def accuracy_chart_ui(sel, models, points: list[SweepPoint], x_axis: str, axis_title: str) -> None:
    """Published top-1 against the cost, with the Pareto front."""
    front = pareto_front(points, x_axis, "top1")
    fig = go.Figure()
    for model in models:
        mine = [
            p for p in points if p.model == model and p.top1 is not None and _x_value(p, x_axis) is not None
        ]
        fig.add_trace(
            go.Scatter(
                x=[_x_value(p, x_axis) for p in mine],
                y=[p.top1 for p in mine],
                mode="markers",
                name=model,
                marker=dict(size=[7 + 2 * p.params / 1e6 for p in mine]),
                customdata=[
                    [f"α {p.alpha:g} @ {p.resolution}", f"{p.macs:,}", f"{p.params:,}"] for p in mine
                ],
                hovertemplate="%{customdata[0]}<br>MACs %{customdata[1]}<br>params %{customdata[2]}<br>"
                "top-1 %{y}<extra></extra>",
            )
        )
    if front:
        fig.add_trace(go.Scatter(x=[_x_value(p, x_axis) for p in front], y=[p.top1 for p in front],
                                 mode="lines+markers", name=t("pareto"),
                                 line=dict(dash="dash", color="#d62728")))  # fmt: skip
    fig.update_layout(
        xaxis_title=axis_title,
        yaxis_title=t("top1"),
        xaxis=log_axis([_x_value(p, x_axis) for p in points]),
        legend=LEGEND_BELOW,  # beside the plot, it left it half a phone's width
    )
    show_figure(fig, file_stem(sel, "fig"), key="sweep_chart", height=520)
    if not any(p.top1 is not None for p in points):
        st.caption(t("no_top1_in_sweep"))


def latency_vs_macs_ui(sel, models, points: list[SweepPoint]) -> None:
    """What MACs do not tell you: every measured point, published or not, latency against MACs."""
    timed = [p for p in points if p.latency_ms is not None]
    if not timed:
        return
    st.markdown(f"**{t('latency_vs_macs')}**")
    lat = go.Figure()
    for model in models:
        mine = [p for p in timed if p.model == model]
        lat.add_trace(
            go.Scatter(
                x=[p.macs / 1e6 for p in mine],
                y=[p.latency_ms for p in mine],
                mode="markers",
                name=model,
                customdata=[
                    [
                        f"α {p.alpha:g} @ {p.resolution}",
                        f"{p.macs:,}",
                        f"{p.latency_ms:.2f}",
                        f"{p.latency_ms * 1e9 / p.macs:.2f}",
                    ]
                    for p in mine
                ],  # fmt: skip
                hovertemplate="%{customdata[0]}<br>MACs %{customdata[1]}<br>%{customdata[2]} ms · "
                "%{customdata[3]} ms per GMAC<extra></extra>",
            )
        )
    lat.update_layout(
        xaxis_title="MACs (M)",
        yaxis_title=t("latency"),
        xaxis=log_axis([p.macs / 1e6 for p in timed]),
        yaxis=log_axis([p.latency_ms for p in timed]),
        legend=LEGEND_BELOW,
    )
    show_figure(lat, file_stem(sel, "fig"), key="sweep_latency_macs", height=420)
    per_gmac = [p.latency_ms * 1e9 / p.macs for p in timed]
    st.caption(t("latency_vs_macs_note", low=min(per_gmac), high=max(per_gmac)))


def points_table_ui(points: list[SweepPoint], x_axis: str) -> None:
    """Every point with exact counts (separators) and an empty cell, not "None", where there is no figure."""
    on_front = {(p.model, p.alpha, p.resolution) for p in pareto_front(points, x_axis, "top1")}
    rows = [
        {
            "model": p.model,
            "α": p.alpha,
            "px": p.resolution,
            t("params"): p.params,
            "MACs": p.macs,
            t("top1"): p.top1,
            t("latency"): p.latency_ms,
            t("sweep_estimated"): p.estimated_ms,
            t("pareto"): (p.model, p.alpha, p.resolution) in on_front,
        }
        for p in points
    ]
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        column_config={
            **number_column_config([t("params"), "MACs"]),
            t("top1"): st.column_config.NumberColumn(t("top1"), format="%.1f"),
            t("latency"): st.column_config.NumberColumn(t("latency"), format="%.2f"),
            t("sweep_estimated"): st.column_config.NumberColumn(t("sweep_estimated"), format="%.2f"),
        },
    )

"""Lesson: V1's width and resolution multipliers, the alpha² rho² rule against the exact counts.

Streamlit runs page.py beside this file; the page is `show()` here (an imported module, so its
widget callbacks never hold a page script's globals)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

import mobilenet_core as mc
from app.i18n import t
from app.lessons.common import (
    close_lesson,
    open_lesson,
    show_shared_chart,
    show_table,
)
from app.state import current_selection, selection_in_page
from mobilenet_core import lessons as L


def _scaling_figure(sel, points, by_size, now) -> go.Figure:
    """Exact MACs against the alpha² rho² rule, along alpha and along rho, the selection marked."""
    alpha, res = sel.alpha, sel.resolution
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.08, subplot_titles=(
        t("ls_macs_vs_alpha", res=res), t("ls_macs_vs_rho", alpha=f"{alpha:g}")))  # fmt: skip
    for col, xs, pts, x_now in ((1, [p.alpha for p in points], points, alpha),
                                (2, [p.resolution / sel.base for p in by_size], by_size, res / sel.base)):  # fmt: skip
        fig.add_scatter(x=xs, y=[p.macs / 1e6 for p in pts], name=t("ls_exact"), mode="lines+markers",
                        line=dict(color="#4C78A8"), showlegend=col == 1, row=1, col=col)  # fmt: skip
        fig.add_scatter(x=xs, y=[p.predicted_macs / 1e6 for p in pts], name=t("ls_rule"), mode="lines",
                        line=dict(dash="dash", color="#F58518"), showlegend=col == 1, row=1, col=col)  # fmt: skip
        fig.add_scatter(x=[x_now], y=[now.macs / 1e6], name=t("current"), mode="markers", showlegend=col == 1,
                        marker=dict(size=16, color="#e4002b", symbol="diamond"), row=1, col=col)  # fmt: skip
    fig.update_xaxes(title_text="α", row=1, col=1)
    fig.update_xaxes(title_text=f"ρ ({t('ls_rho_pixels', base=sel.base)})", row=1, col=2)
    fig.update_yaxes(title_text=t("ls_mmacs"), row=1, col=1)
    return fig


def _accuracy_figure(model: str, now) -> go.Figure:
    """The published accuracy points of the model, a line per resolution, the selection's MACs marked."""
    from mobilenet_core.published import published_figures

    pub = [f for f in published_figures() if f.model == model]
    acc = go.Figure()
    # one line per resolution, α along it: twenty labels on the points overlapped and were cut
    for size in sorted({f.resolution for f in pub}, reverse=True):
        row = sorted((f for f in pub if f.resolution == size), key=lambda f: f.alpha)
        acc.add_scatter(x=[f.macs_millions for f in row], y=[f.top1 for f in row], mode="lines+markers",
                        name=f"{size} px", customdata=[[f"{f.alpha:g}", f.source] for f in row],
                        hovertemplate="α %{customdata[0]} · " + f"{size} px" +
                        "<br>%{y}%<br>%{customdata[1]}<extra></extra>")  # fmt: skip
    acc.add_vline(x=now.macs / 1e6, line=dict(color="#e4002b", dash="dot"), annotation_text=t("current"))
    acc.update_layout(title=t("ls_published_points"), xaxis_title=t("ls_mmacs"), yaxis_title=t("top1"),
                      legend_title_text=t("ls_published_by_res"))  # fmt: skip
    return acc


def show() -> None:
    path, figure, settings = open_lesson("lesson-multipliers")
    sel = current_selection()
    model, alpha, res = sel.model, sel.alpha, sel.resolution
    settings.caption(t("ls_on_model", model=sel.generation.title, alpha=alpha, res=res))
    selection_in_page(settings, sel)  # the lesson's knobs are α and ρ: beside its curves
    from mobilenet_core.rules import ALPHA_MIN, RESOLUTION_STEP, resolution_range

    alphas = [round(a, 2) for a in np.arange(ALPHA_MIN, max(1.4, alpha) + 1e-9, 0.05)]
    points = L.scaling_points(model, alphas, [res])
    low, high = resolution_range(sel.generation)
    sizes = sorted({*range(max(low, 2 * RESOLUTION_STEP), high + 1, RESOLUTION_STEP), res})
    by_size = L.scaling_points(model, [alpha], sizes)
    now = L.scaling_points(model, [alpha], [res])[0]
    # both charts depend on the configuration and the language only: built once for the class
    with figure:
        show_shared_chart(("multipliers", model, alpha, res), lambda: _scaling_figure(sel, points, by_size, now),
                          f"multipliers_{model}_{alpha:g}_{res}", height=380)  # fmt: skip
    show_shared_chart(("multipliers_accuracy", model, alpha, res), lambda: _accuracy_figure(model, now),
                      f"multipliers_accuracy_{model}", height=380)  # fmt: skip
    if now.top1 is not None:
        st.caption(t("ls_published_here", top1=now.top1, source=now.top1_source))
    rho = res / sel.base
    base = mc.count(model, 1.0, sel.base)
    st.latex(
        rf"\text{{MACs}}(\alpha,\rho) \approx \alpha^2\rho^2\,\text{{MACs}}(1,1) = {alpha:g}^2 \times {rho:.3f}^2"
        rf" \times {base.macs:,} = {now.predicted_macs:,.0f}"
    )
    st.latex(rf"\text{{{t('ls_exact')}}} = {now.macs:,} \quad ({now.macs / now.predicted_macs:.3f}\times)")
    kinds = L.macs_by_kind(model, alpha, res)
    kind_names = {"conv": t("ls_kind_conv"), "dwconv": t("ls_kind_dwconv"), "pwconv": t("ls_kind_pwconv"),
                  "se": t("ls_kind_se"), "attention": t("ls_kind_attention"), "linear": t("ls_kind_linear")}  # fmt: skip
    st.markdown(f"**{t('ls_by_kind')}**")
    show_table(pd.DataFrame([
        {t("ls_kind"): kind_names.get(k, k), t("ls_at_alpha"): a,
         t("ls_at_one"): b, t("ls_scale"): f"{a / b:.3f}", "α²": f"{alpha**2:.3f}"}
        for k, (a, b) in kinds.items()
    ]))  # fmt: skip
    breaks = L.width_breaks(model, alpha, res)
    reasons = {"rounded": t("ls_rounded"), "fixed": t("ls_fixed")}
    if breaks:
        st.markdown(f"**{t('ls_breaks')}**")
        show_table(pd.DataFrame([
            {t("block"): b.block, t("ls_width"): b.channels, "α × c": f"{b.scaled:g}", t("ls_reason"): reasons[b.reason]}
            for b in breaks
        ]))  # fmt: skip
    else:
        st.caption(t("ls_no_breaks"))
    close_lesson(path)

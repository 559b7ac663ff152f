"""Lesson: V3's hard activations and its efficient last stage.

Streamlit runs page.py beside this file; the page is `show()` here (an imported module, so its
widget callbacks never hold a page script's globals)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

import mobilenet_core as mc
from app.common import short
from app.i18n import t
from app.lessons.common import (
    close_lesson,
    open_lesson,
    show_shared_chart,
)
from app.state import current_selection
from mobilenet_core import lessons as L

COLOURS = {"relu6": "#4C78A8", "swish": "#F58518", "h-swish": "#e4002b", "sigmoid": "#54A24B",
           "hard-sigmoid": "#B279A2"}  # fmt: skip
ACT_COLOURS = {"hard_swish": "#e4002b", "relu": "#4C78A8", "relu6": "#4C78A8", "gelu": "#F58518"}
XS = np.linspace(-6, 6, 481)
XS.setflags(write=False)  # shared by every session's curves


def curves_figure() -> go.Figure:
    """The five activations and their derivatives (the same for everyone: built once per language)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(t("ls_values"), t("ls_derivatives")))
    for name, (y, dy) in L.activation_curves(XS).items():
        line = dict(color=COLOURS[name], dash="dash" if name in ("swish", "sigmoid") else "solid")
        fig.add_scatter(x=XS, y=y, name=name, line=line, row=1, col=1)
        fig.add_scatter(x=XS, y=dy, name=name, line=line, showlegend=False, row=1, col=2)
    return fig


def used_figure(used) -> go.Figure:
    """Which activation each block of the selected network uses, as a strip."""
    strip = go.Figure(go.Bar(x=[b for b, _, _ in used], y=[1] * len(used), text=[a for _, _, a in used],
                             marker_color=[ACT_COLOURS.get(a, "#bbb") for _, _, a in used],
                             hovertext=[v for _, v, _ in used]))  # fmt: skip
    strip.update_yaxes(visible=False)
    return strip


def show() -> None:
    path, figure, _ = open_lesson("lesson-activations")
    curves = L.activation_curves(XS)
    with figure:
        show_shared_chart(("activations",), curves_figure, "activations", height=360)
    gap = float(np.abs(curves["h-swish"][0] - curves["swish"][0]).max())
    st.latex(rf"\text{{h-swish}}(x) = x\,\frac{{\mathrm{{ReLU6}}(x+3)}}{{6}},\quad"
             rf"\max_{{x}} |\text{{h-swish}}(x) - \text{{swish}}(x)| = {gap:.3f}")  # fmt: skip
    sel = current_selection()
    report = mc.count(sel.model, sel.alpha, sel.resolution)
    used = L.activations_used(report)
    st.markdown(f"**{t('ls_where_used', model=sel.generation.title)}**")
    show_shared_chart(("activations_used", sel.model, sel.alpha, sel.resolution), lambda: used_figure(used),
                      f"activations_used_{sel.model}", height=220)  # fmt: skip
    se_count = len(L.se_blocks(report))
    st.caption(t("ls_hsig_used", n=se_count) if se_count else t("ls_hsig_none", model=sel.generation.title))
    st.markdown(f"**{t('ls_last_stage')}**")
    # the paper's Figure 5 is V3-Large's last stage (projection to 320): counted on V3-Large, at the
    # selection's alpha and resolution when V3-Large is selected
    model = "v3_large"
    alpha = sel.alpha if sel.model == model else 1.0
    res = sel.resolution if sel.model == model else 224
    stage = L.last_stage(mc.count(model, alpha, res), projected=mc.make_divisible(320 * alpha))
    c = st.columns(3)
    c[0].metric(t("ls_original"), short(stage.original_macs) + " MACs")
    c[1].metric(t("ls_efficient"), short(stage.efficient_macs) + " MACs")
    c[2].metric(t("ls_saved"), short(stage.original_macs - stage.efficient_macs) + " MACs")
    h = stage.height
    st.latex(
        rf"9\cdot{stage.expanded}\cdot{h}^2 + {stage.expanded}\cdot{stage.projected}\cdot{h}^2 + "
        rf"{stage.projected}\cdot{stage.features}\cdot{h}^2 - {stage.expanded}\cdot{stage.features}"
        rf" = {stage.original_macs - stage.efficient_macs:,}"
    )
    st.caption(t("ls_last_stage_note", model=mc.get_generation(model).title))
    close_lesson(path)

"""Lesson: V1's depthwise separable convolution, stepped through on the learner's photo.

Streamlit runs page.py beside this file; the page is `show()` here (an imported module, so its
widget callbacks never hold a page script's globals)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from app.common import exact
from app.i18n import t
from app.lessons.common import (
    choose_model,
    close_lesson,
    network,
    next_step,
    open_lesson,
    photo_picker,
    shared_demo,
    show_chart,
    show_table,
    to_tensor,
)
from mobilenet_core import lessons as L


def _window_figure(demo: L.SeparableDemo, channel: int, out_channel: int, step: int) -> go.Figure:
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.06, subplot_titles=(
        t("ls_input_channel", c=channel), t("ls_dw_out", c=channel), t("ls_pw_out", n=out_channel)))  # fmt: skip
    feats = demo.features[channel]
    fig.add_heatmap(z=feats, coloraxis="coloraxis", row=1, col=1)
    top, left, bottom, right = demo.window(step)
    fig.add_shape(type="rect", x0=left - 0.5, x1=right - 0.5, y0=top - 0.5, y1=bottom - 0.5,
                  line=dict(color="#e4002b", width=3), row=1, col=1)  # fmt: skip
    shown = np.full(demo.depthwise.shape[1:], np.nan)
    flat = shown.reshape(-1)
    flat[: step + 1] = demo.depthwise[channel].reshape(-1)[: step + 1]
    fig.add_heatmap(z=flat.reshape(shown.shape), coloraxis="coloraxis2", row=1, col=2)
    pw = np.full(demo.pointwise.shape[1:], np.nan).reshape(-1)
    pw[: step + 1] = demo.pointwise[out_channel].reshape(-1)[: step + 1]
    fig.add_heatmap(z=pw.reshape(shown.shape), coloraxis="coloraxis3", row=1, col=3)
    row, col = divmod(step, demo.depthwise.shape[2])
    for c in (2, 3):
        fig.add_scatter(x=[col], y=[row], mode="markers", marker=dict(symbol="square-open", size=14, color="#e4002b"),
                        showlegend=False, row=1, col=c)  # fmt: skip
    # every panel at its whole size from the first step (the outputs' empty rows had been left out:
    # at step 0 an output was one cell under a few grid lines), what is not computed yet grey, the
    # three panels level at the top
    for c, (height, width) in ((1, feats.shape), (2, shown.shape), (3, shown.shape)):
        fig.update_yaxes(range=[height - 0.5, -0.5], scaleanchor=f"x{'' if c == 1 else c}", constrain="domain",
                         constraintoward="top", showticklabels=False, showgrid=False, zeroline=False,
                         row=1, col=c)  # fmt: skip
        fig.update_xaxes(range=[-0.5, width - 0.5], constrain="domain", showticklabels=False, showgrid=False,
                         zeroline=False, row=1, col=c)  # fmt: skip
        if c > 1:  # the output not computed yet
            fig.add_shape(type="rect", x0=-0.5, x1=width - 0.5, y0=-0.5, y1=height - 0.5, layer="below",
                          fillcolor="#ececec", line=dict(width=0), row=1, col=c)  # fmt: skip
    fig.update_layout(coloraxis=dict(colorscale="Greys", showscale=False),
                      coloraxis2=dict(colorscale="Blues", showscale=False),
                      coloraxis3=dict(colorscale="Oranges", showscale=False))  # fmt: skip
    return fig


def show() -> None:
    path, figure, settings = open_lesson("lesson-separable")
    with settings:
        model, alpha, res, report = choose_model(path, runs=True)
        name, image = photo_picker()
        pairs = L.separable_pairs(report)
        blocks = list(dict.fromkeys(b for b, _, _ in pairs))
        by = {b: (dw, pw) for b, dw, pw in reversed(pairs)}
        block = st.selectbox(t("pick_block"), blocks, index=min(1, len(blocks) - 1), key="sep_block",
                             format_func=lambda b: f"{b} · {by[b][0].in_channels}→{by[b][1].out_channels} · "
                             f"{by[b][0].out_height}×{by[b][0].out_width}")  # fmt: skip
        net, recipe, weights = network(model, alpha, res)
    x, _ = to_tensor(image, recipe)
    where = (report.model, report.alpha, report.resolution, block)
    demo = shared_demo("separable", weights, x, *where, build=lambda: L.separable_demo(net, x, report, block))
    c = demo.cost
    with figure:
        step_through(demo)
    diff = float(np.abs(demo.pointwise - demo.standard).max())
    st.caption(t("ls_same_map", diff=f"{diff:.1e}"))
    k2 = c.kernel**2
    st.latex(
        rf"\frac{{D_K^2 M D_F^2 + M N D_F^2}}{{D_K^2 M N D_F^2}} = \frac{{1}}{{N}} + \frac{{1}}{{D_K^2}}"
        rf" = \frac{{1}}{{{c.out_channels}}} + \frac{{1}}{{{k2}}} = {c.formula_ratio:.4f}"
    )
    st.latex(
        rf"\frac{{{c.depthwise_macs:,} + {c.pointwise_macs:,}}}{{{c.standard_macs:,}}} = {c.exact_ratio:.4f}"
        rf"\quad\text{{({t('ls_counter_ratio')})}}"
    )
    whole = L.whole_net_standard(report)
    rows = [
        {"": t("ls_as_built"), t("params"): whole.separable_params, t("macs"): whole.separable_macs},
        {"": t("ls_all_standard"), t("params"): whole.standard_params, t("macs"): whole.standard_macs},
    ]
    if model == "v1" and alpha == 1.0 and res == 224:
        rows += [
            {"": t("ls_paper_separable"), t("params"): 4_200_000, t("macs"): 569_000_000},
            {"": t("ls_paper_standard"), t("params"): 29_300_000, t("macs"): 4_866_000_000},
        ]
    st.markdown(f"**{t('ls_whole_net')}**")
    show_table(pd.DataFrame(rows))
    close_lesson(path)


@st.fragment
def step_through(demo: L.SeparableDemo) -> None:
    """The step-through: its controls rerun this function only (a fragment), not the page."""
    c = demo.cost
    last = demo.positions - 1
    step_key = f"sep_step_{demo.block}"
    cols = st.columns([4, 1, 1, 1], vertical_alignment="bottom")
    step = cols[0].slider(t("ls_step"), 0, last, key=step_key, help=t("ls_step_help"))
    cols[1].button(t("ls_next"), on_click=next_step, args=(step_key, last), key="sep_next", width="stretch")
    channel = int(cols[2].number_input(t("ls_channel"), 0, c.in_channels - 1, 0, key="sep_channel"))
    out_channel = int(
        cols[3].number_input(t("ls_out_channel"), 0, c.out_channels - 1, 0, key="sep_out_channel")
    )
    show_chart(_window_figure(demo, channel, out_channel, step), f"separable_{demo.block}", height=340)
    if demo.positions < c.out_height * c.out_width:
        st.caption(t("ls_cropped", side=demo.depthwise.shape[1], h=c.out_height, w=c.out_width))
    standard, depthwise, pointwise = demo.macs_after(step + 1)
    m = st.columns(4)
    m[0].metric(t("ls_macs_standard"), exact(standard))
    m[1].metric(t("ls_macs_depthwise"), exact(depthwise))
    m[2].metric(t("ls_macs_pointwise"), exact(pointwise))
    m[3].metric(t("ls_macs_ratio"), f"{(depthwise + pointwise) / standard:.4f}")
    patch, kernel, value = demo.dot_product(channel, step)
    # the window's zero inputs (padding, or values a ReLU zeroed) add nothing: the terms shown are
    # the first three that do
    live = [(a, b) for a, b in zip(patch.reshape(-1), kernel.reshape(-1), strict=True) if a != 0]
    terms = " + ".join(f"({a:.2f})({b:.2f})" for a, b in live[:3]) or "0"
    more = r" + \dots" if len(live) > 3 else ""
    st.latex(rf"\text{{{t('ls_dot')}}}: \sum_{{i,j}} x_{{ij}} k_{{ij}} = {terms}{more} = {value:.4f}")
    if zeros := patch.size - len(live):
        st.caption(t("ls_dot_zeros", n=zeros, size=patch.size))

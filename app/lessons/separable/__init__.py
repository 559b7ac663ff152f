"""Lesson: V1's depthwise separable convolution, stepped through on the learner's photo.

Streamlit runs page.py beside this file; the page is `show()` here (an imported module, so its
widget callbacks never hold a page script's globals)."""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from app.common import draw_figure, exact, style_figure, with_table
from app.figures import FigureCache, frozen, frozen_spec
from app.i18n import current_language, t
from app.lessons.common import (
    CHART_LAYOUT,
    choose_model,
    close_lesson,
    digest,
    network,
    next_step,
    open_lesson,
    photo_picker,
    shared_demo,
    show_table,
    to_tensor,
)
from mobilenet_core import lessons as L


def _window_figure(demo: L.SeparableDemo, channel: int, out_channel: int, step: int) -> go.Figure:
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.06, subplot_titles=(
        t("ls_input_channel", c=channel), t("ls_dw_out", c=channel), t("ls_pw_out", n=out_channel)))  # fmt: skip
    feats = demo.features[channel]
    parts = _window_parts(demo, channel, out_channel, step)
    fig.add_heatmap(z=feats, coloraxis="coloraxis", row=1, col=1)
    fig.add_shape(type="rect", **parts["window"], line=dict(color="#e4002b", width=3), row=1, col=1)
    shown = parts["depthwise"]
    fig.add_heatmap(z=shown, coloraxis="coloraxis2", row=1, col=2)
    fig.add_heatmap(z=parts["pointwise"], coloraxis="coloraxis3", row=1, col=3)
    col, row = parts["cell"]
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


WINDOW_HEIGHT = 340

# The step-through's figure at step 0, per (demo, channel, output channel, language), for every
# session: a "Next step" then changes only what the step moves (the window, the two outputs so
# far, the marked cell) in a copy of its dict, instead of building and validating the whole Plotly
# figure again (about 75 ms a step of a 0.2-s step on a slow server, issue 24). Sharing is safe:
# the figure is a pure function of its key (the demo is the shared, read-only demonstration of
# (weights, photo, configuration, block)), it is frozen (app.figures.frozen) and never changed,
# and FigureCache builds a key once under its lock. Bounded: a class's own photos and channels.
WINDOWS = FigureCache(64)


def _window_parts(demo: L.SeparableDemo, channel: int, out_channel: int, step: int) -> dict:
    """What a step changes in the step-through's figure: the window on the input (a rectangle),
    the outputs computed so far (NaN: not yet) and the cell being computed."""
    top, left, bottom, right = demo.window(step)
    shape = demo.depthwise.shape[1:]
    dw = np.full(shape, np.nan).reshape(-1)
    dw[: step + 1] = demo.depthwise[channel].reshape(-1)[: step + 1]
    pw = np.full(shape, np.nan).reshape(-1)
    pw[: step + 1] = demo.pointwise[out_channel].reshape(-1)[: step + 1]
    row, col = divmod(step, demo.depthwise.shape[2])
    return {"window": dict(x0=left - 0.5, x1=right - 0.5, y0=top - 0.5, y1=bottom - 0.5),
            "depthwise": dw.reshape(shape), "pointwise": pw.reshape(shape), "cell": (col, row)}  # fmt: skip


def window_figure(demo: L.SeparableDemo, key: tuple, channel: int, out_channel: int, step: int) -> go.Figure:
    """The step-through's figure at `step`: step 0's shared figure, with the step's parts put into
    a copy of its dict (the same JSON as _window_figure at that step, test_lessons_fragments)."""

    def build() -> go.Figure:
        fig = _window_figure(demo, channel, out_channel, 0)
        style_figure(fig, WINDOW_HEIGHT, **CHART_LAYOUT)
        return with_table(frozen(fig), _step_table(demo, channel, out_channel, 0))

    base = WINDOWS.get((current_language(), *key, channel, out_channel), build)
    if step == 0:
        return base
    parts = _window_parts(demo, channel, out_channel, step)
    spec = base.to_dict()  # new top-level dicts; below them, step 0's, shared and only read
    data = spec["data"]
    data[1] = {**data[1], "z": _typed_array(parts["depthwise"])}
    data[2] = {**data[2], "z": _typed_array(parts["pointwise"])}
    for i in (3, 4):
        data[i] = {**data[i], "x": [parts["cell"][0]], "y": [parts["cell"][1]]}
    shapes = list(spec["layout"]["shapes"])
    shapes[0] = {**shapes[0], **parts["window"]}
    spec["layout"] = {**spec["layout"], "shapes": shapes}
    return with_table(frozen_spec(spec), _step_table(demo, channel, out_channel, step))


def _typed_array(a: np.ndarray) -> dict:
    """A float array as Plotly's figures carry it (plotly.js's typed-array form: base64 of the
    little-endian doubles, and the shape), as plotly.py 6+ writes every numpy array."""
    a = np.ascontiguousarray(a, dtype="<f8")
    return {
        "dtype": "f8",
        "bdata": base64.b64encode(a.tobytes()).decode("ascii"),
        "shape": ", ".join(map(str, a.shape)),
    }


def _step_table(demo: L.SeparableDemo, channel: int, out_channel: int, step: int) -> pd.DataFrame:
    """The figure's text alternative: the cell this step computes and its two outputs."""
    row, col = divmod(step, demo.depthwise.shape[2])
    return pd.DataFrame([{t("ls_step"): step, "x": col, "y": row,
                          t("ls_dw_out", c=channel): float(demo.depthwise[channel, row, col]),
                          t("ls_pw_out", n=out_channel): float(demo.pointwise[out_channel, row, col])}])  # fmt: skip


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
        step_through(demo, (weights, digest(x), *where))
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
def step_through(demo: L.SeparableDemo, key: tuple) -> None:
    """The step-through: its controls rerun this function only (a fragment), not the page. `key`
    names the demo: (weights, the photo's digest, model, α, resolution, block)."""
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
    draw_figure(window_figure(demo, key, channel, out_channel, step), f"separable_{demo.block}")
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

"""Lesson: V2's inverted residual, the tensors alive during a block.

Streamlit runs page.py beside this file; the page is `show()` here (an imported module, so its
widget callbacks never hold a page script's globals)."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from app.common import kib
from app.i18n import t
from app.lessons.common import (
    choose_model,
    close_lesson,
    open_lesson,
    show_shared_chart,
)
from mobilenet_core import lessons as L

# the library's step names (residual_memory) in the page's language
STEP_WORDS = {"input": "ls_ir_step_input", "expand 1×1": "ls_ir_step_expand", "depthwise": "ls_ir_step_depthwise",
              "project 1×1": "ls_ir_step_project", "output": "ls_ir_step_output", "reduce 1×1": "ls_ir_step_reduce",
              "3×3 conv": "ls_ir_step_conv"}  # fmt: skip


def _tensor_figure(steps: list[L.TensorStep], title: str, scale: float) -> go.Figure:
    fig = go.Figure()
    x = top = 0.0
    colours = {"input": "#4C78A8", "expanded": "#F58518", "depthwise out": "#F58518", "output": "#54A24B",
               "reduced": "#4C78A8", "conv out": "#4C78A8"}  # fmt: skip
    for i, step in enumerate(steps):
        y = 0.0
        for role, c, h, _ in step.tensors:
            width, height = h * scale, c * scale
            colour = "#9e9e9e" if "⊕" in role else colours.get(role, "#888")
            fig.add_shape(type="rect", x0=x, x1=x + width, y0=y, y1=y + height, fillcolor=colour, opacity=0.75,
                          line=dict(color="#333", width=1))  # fmt: skip
            fig.add_annotation(
                x=x + width / 2, y=y + height / 2, text=f"{c}×{h}", showarrow=False, font=dict(size=11)
            )
            y += height + 4 * scale
        words = t(STEP_WORDS[step.step]) if step.step in STEP_WORDS else step.step
        fig.add_annotation(x=x, y=-4 * scale, text=f"<b>{i + 1}</b> {words.replace(' ', '<br>', 1)}<br>{kib(step.values)}",
                           showarrow=False, xanchor="left", yanchor="top", align="left", font=dict(size=10))  # fmt: skip
        x += max(h * scale for _, _, h, _ in step.tensors) + 30 * scale
        top = max(top, y)
    # shapes do not widen the axes: give the ranges (and room for the step labels below: their
    # three lines, the size on the last, were cut at -30)
    fig.update_xaxes(visible=False, range=[-2 * scale, x])
    fig.update_yaxes(visible=False, range=[-56 * scale, top], scaleanchor="x")
    fig.update_layout(title=title, plot_bgcolor="white")
    return fig


def _handoff_figure(handoffs) -> go.Figure:
    """The tensor each block hands to the next, inverted residual against ResNet's bottleneck."""
    hand = go.Figure()
    mib = 4 / 2**20  # float32 values -> MiB
    hand.add_bar(x=[h.block for h in handoffs], y=[h.narrow * mib for h in handoffs], name=t("ls_ir_short"),
                 marker_color="#54A24B")  # fmt: skip
    hand.add_bar(x=[h.block for h in handoffs], y=[h.wide * mib for h in handoffs], name=t("ls_resnet_short"),
                 marker_color="#F58518")  # fmt: skip
    hand.update_layout(title=t("ls_handoff_title"), yaxis_title="MiB", barmode="group")
    return hand


def show() -> None:
    path, figure, settings = open_lesson("lesson-inverted-residual")
    with settings:
        model, alpha, res, report = choose_model(path)
        blocks = L.expansion_blocks(report)
        by = {b.name: b for b in blocks}
        default = next((i for i, b in enumerate(blocks) if b.residual), 0)
        name = st.selectbox(t("pick_block"), list(by), index=default, key="ir_block",
                            format_func=lambda n: f"{n} · {by[n].in_channels}→{by[n].expanded_channels}→"
                            f"{by[n].out_channels} · {by[n].in_height}×{by[n].in_width}"
                            f"{' · ⊕' if by[n].residual else ''}")  # fmt: skip
    block = by[name]
    steps = L.residual_memory(block)
    # first what differs: the tensor each block hands to the next (and keeps for the shortcut)
    handoffs = L.handoffs(report)
    narrow, wide = L.between_blocks(report)
    with figure:
        # every chart here depends on the configuration, the block and the language only: built
        # once for the class (app.figures.shared_figure)
        show_shared_chart(("handoffs", model, alpha, res), lambda: _handoff_figure(handoffs),
                          f"handoffs_{model}", height=340)  # fmt: skip
        m = st.columns(3)
        m[0].metric(t("ls_between_ir"), kib(narrow))
        m[1].metric(t("ls_between_resnet"), kib(wide), t("ls_times_more", x=f"{wide / max(narrow, 1):.1f}"),
                    delta_color="off", delta_arrow="off")  # fmt: skip
        peak_ir, peak_rn = L.peak_step(steps["inverted"]), L.peak_step(steps["bottleneck"])
        m[2].metric(t("ls_peak_both", block=name), f"{kib(peak_ir.values)} / {kib(peak_rn.values)}")
        roles = {"inverted": peak_ir, "bottleneck": peak_rn}
        held = {k: " + ".join(f"{c}×{h}×{w}" for _, c, h, w in v.tensors) for k, v in roles.items()}
        st.caption(t("ls_peaks_tie", ir=held["inverted"], resnet=held["bottleneck"]))
    biggest = max(max(c for _, c, _, _ in s.tensors) for s in steps["bottleneck"])
    scale = 1.0 / max(biggest, 1) * 100
    where = (model, alpha, res, name)
    show_shared_chart(("ir_tensors", "inverted", *where), lambda: _tensor_figure(steps["inverted"], t("ls_ir_title"),
                      scale), f"inverted_{name}", height=380)  # fmt: skip
    show_shared_chart(("ir_tensors", "bottleneck", *where), lambda: _tensor_figure(steps["bottleneck"],
                      t("ls_resnet_title"), scale), f"resnet_{name}", height=380)  # fmt: skip
    alive = (block.in_channels + block.expanded_channels) * block.in_height * block.in_width
    st.latex(
        rf"\text{{{t('ls_alive')}}} = {block.in_channels}\cdot{block.in_height}^2 + "
        rf"{block.expanded_channels}\cdot{block.in_height}^2 = {alive:,}\ \text{{{t('ls_values_unit')}}}"
    )
    st.caption(t("ls_ir_note"))
    close_lesson(path)

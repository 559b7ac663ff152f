"""Lesson: V3's squeeze-and-excitation, its gates on two photos and its cost.

Streamlit runs page.py beside this file; the page is `show()` here (an imported module, so its
widget callbacks never hold a page script's globals)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from app.common import draw_figure, exact
from app.i18n import t
from app.lessons.common import (
    choose_model,
    close_lesson,
    digest,
    lesson_figure,
    network,
    open_lesson,
    photo_picker,
    sample_image,
    sample_photos,
    shared_demo,
    to_tensor,
)
from mobilenet_core import lessons as L


def show() -> None:
    path, figure, settings = open_lesson("lesson-se")
    with settings:
        model, alpha, res, report = choose_model(path, runs=True)
        first_name, first = photo_picker()
        samples = sample_photos()
        others = [s for s in samples if s != first_name] or list(samples)
        second_name = st.selectbox(t("ls_second_photo"), others, key="se_second")
        net, recipe, weights = network(model, alpha, res)
    photos = [
        (first_name, to_tensor(first, recipe)[0]),
        (second_name, to_tensor(sample_image(samples[second_name]), recipe)[0]),
    ]
    with figure:
        gates_demo(net, weights, report, photos)
    close_lesson(path)


@st.fragment
def gates_demo(net, weights: str, report, photos) -> None:
    """The block picker, its gates on the two photos and its cost: the picker reruns this function
    only (a fragment); the gates of a (weights, photo, block) are computed once for everyone."""
    blocks = L.se_blocks(report)
    by = {b.name: b for b in blocks}
    chart = st.container()  # above its picker: on a projector the gates fill the first screen
    name = st.selectbox(t("pick_block"), list(by), key="se_block",
                        format_func=lambda n: f"{n} · {by[n].variant} · {by[n].expanded_channels or by[n].in_channels}"
                        f" → {by[n].se_channels} → {by[n].expanded_channels or by[n].in_channels}")  # fmt: skip
    where = (report.model, report.alpha, report.resolution, name)
    gates = [
        shared_demo("se_gates", weights, x, *where, build=lambda x=x: L.se_gates(net, x, name))
        for _, x in photos
    ]

    def build() -> go.Figure:
        fig = go.Figure()
        for (label, _), g in zip(photos, gates, strict=True):
            fig.add_bar(x=list(range(len(g))), y=g, name=label)
        fig.update_layout(title=t("ls_gates_title", block=name), xaxis_title=t("ls_channel"),
                          yaxis_title=t("ls_gate"), yaxis_range=[0, 1], barmode="group")  # fmt: skip
        return fig

    # the same gates on the same photos draw the same chart: built once for everyone (a class on
    # the sample photos), as the gates are; styling it was a quarter of a first visit's server CPU
    key = ("se_gates", weights, *where, *((label, digest(x)) for label, x in photos))
    draw_figure(lesson_figure(key, build), f"se_gates_{name}", where=chart)
    diff = np.abs(gates[0] - gates[1])
    chart.caption(
        t("ls_gate_diff", mean=f"{diff.mean():.3f}", top=", ".join(str(i) for i in np.argsort(-diff)[:5]))
    )
    cost = L.se_cost(report, name)
    c = st.columns(3)
    c[0].metric(t("ls_se_params"), exact(cost.params), f"{cost.params / cost.block_params:.1%} {t('ls_of_block')}",
                delta_color="off", delta_arrow="off")  # fmt: skip
    c[1].metric(t("ls_se_macs"), exact(cost.macs), f"{cost.macs / cost.block_macs:.2%} {t('ls_of_block')}",
                delta_color="off", delta_arrow="off")  # fmt: skip
    total = sum(L.se_cost(report, b.name).params for b in blocks)
    c[2].metric(t("ls_se_all"), exact(total), f"{total / report.params:.1%} {t('ls_of_model')}",
                delta_color="off", delta_arrow="off")  # fmt: skip
    ch = by[name].expanded_channels or by[name].in_channels
    sq = by[name].se_channels
    st.latex(rf"s = \text{{hsigmoid}}(W_2\,\text{{ReLU}}(W_1\,\bar x)),\ W_1 \in \mathbb{{R}}^{{{sq}\times{ch}}},"
             rf"\ W_2 \in \mathbb{{R}}^{{{ch}\times{sq}}}:\ 2\cdot{ch}\cdot{sq} + {ch} + {sq} = {cost.params:,}")  # fmt: skip

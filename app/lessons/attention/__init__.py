"""Lesson: V4's Mobile MQA, the attention map of a query on the photo and the cost of sharing K/V.

Streamlit runs page.py beside this file; the page is `show()` here (an imported module, so its
widget callbacks never hold a page script's globals)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from app.common import draw_figure
from app.figures import FigureCache
from app.i18n import t
from app.lessons.common import (
    choose_model,
    close_lesson,
    digest,
    lesson_figure,
    network,
    open_lesson,
    photo_picker,
    shared_demo,
    show_table,
    to_tensor,
)
from mobilenet_core import lessons as L

# One figure per query the class moves to (16 x 16 on V4 Hybrid-M's blocks), each with the photo's
# crop in it (about 0.4 MB): their own bounded cache, not the pages' shared one (app.figures).
QUERY_FIGURES = FigureCache(32)


def show() -> None:
    path, figure, settings = open_lesson("lesson-attention")
    with settings:
        model, alpha, res, report = choose_model(path, runs=True)
        blocks = L.blocks_drawn_as(report, "attention")
        by = {b.name: b for b in blocks}
        name = st.selectbox(t("pick_block"), list(by), key="attn_block",
                            format_func=lambda n: f"{n} · {by[n].in_channels} · {by[n].in_height}×{by[n].in_width}")  # fmt: skip
        photo_name, image = photo_picker()
        net, recipe, weights = network(model, alpha, res)
    from mobilenet_core.api import resolve_model

    spec = next(b for b in resolve_model(model, alpha, res)[0].blocks if b.name == name).spec
    row = by[name]
    cost = L.attention_cost(row, spec.heads, spec.key_dim, spec.kv_stride)
    n, m = cost.queries, cost.kv_positions_mqa
    d, h = spec.key_dim, spec.heads
    x, crop = to_tensor(image, recipe)
    with figure:
        query_demo(net, weights, x, crop, (model, alpha, res, name), row, h)
    show_table(pd.DataFrame([
        {"": "MHSA", "Q": f"{h} × {n} × {d}", "K": f"{h} × {n} × {d}", "V": f"{h} × {n} × {d}",
         "QKᵀ": f"{h} × {n} × {n}", t("macs"): cost.mha_macs, t("ls_kv_values"): cost.mha_kv_values},
        {"": "Mobile MQA", "Q": f"{h} × {n} × {d}", "K": f"1 × {m} × {d}", "V": f"1 × {m} × {d}",
         "QKᵀ": f"{h} × {n} × {m}", t("macs"): cost.mqa_macs, t("ls_kv_values"): cost.mqa_kv_values},
    ]))  # fmt: skip
    st.latex(
        rf"\frac{{\text{{K/V}}_\text{{MHSA}}}}{{\text{{K/V}}_\text{{MQA}}}} = \frac{{2\cdot{h}\cdot{n}\cdot{d}}}"
        rf"{{2\cdot{m}\cdot{d}}} = {cost.mha_kv_values / cost.mqa_kv_values:g}"
        rf"\qquad \frac{{\text{{MACs}}_\text{{MHSA}}}}{{\text{{MACs}}_\text{{MQA}}}} = {cost.mha_macs / cost.mqa_macs:.2f}"
    )
    st.caption(t("ls_mha_note"))
    close_lesson(path)


def _attention_figure(crop, weights: np.ndarray, row, qr: int, qc: int) -> go.Figure:
    """The photo with the query marked, then each head's weights over the K/V grid, four heads a
    row; the cells under the photo are empty (no title), and the colour scale starts at 0 (a
    softmax weight is never negative)."""
    h = len(weights)
    cols = min(h, 4)
    rows = 1 + (h - 1) // cols
    specs = [[{}] * (cols + 1)] + [[None] + [{}] * cols for _ in range(rows - 1)]
    titles = [t("ls_query")] + [f"{t('ls_head')} {i}" for i in range(h)]
    fig = make_subplots(rows=rows, cols=cols + 1, specs=specs, subplot_titles=titles)
    fig.add_image(z=np.asarray(crop), row=1, col=1)
    size = crop.size[0]
    fig.add_scatter(x=[(qc + 0.5) * size / row.in_width], y=[(qr + 0.5) * size / row.in_height], mode="markers",
                    marker=dict(size=14, color="#e4002b", symbol="x"), showlegend=False, row=1, col=1)  # fmt: skip
    for i in range(h):
        r_, c_ = divmod(i, cols)
        fig.add_heatmap(z=weights[i], coloraxis="coloraxis", row=r_ + 1, col=c_ + 2)
        # square cells at every width: on a phone the five columns made each head a thin strip
        x_axis = fig.get_subplot(r_ + 1, c_ + 2).yaxis.anchor
        fig.update_yaxes(autorange="reversed", scaleanchor=x_axis, constrain="domain", constraintoward="top",
                         row=r_ + 1, col=c_ + 2)  # fmt: skip
        fig.update_xaxes(constrain="domain", row=r_ + 1, col=c_ + 2)
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    fig.update_yaxes(constraintoward="top", row=1, col=1)  # the photo level with the heads' first row
    # the colour scale below the maps, not beside them: beside, it took a fifth of a phone's width
    # from the heads (35 px each at 390 px)
    fig.update_layout(coloraxis=dict(colorscale="Viridis", cmin=0, cmax=float(weights.max()),
                                     colorbar=dict(title=dict(text=t("ls_weight"), side="top"), orientation="h",
                                                   x=0.5, xanchor="center", y=-0.04, yanchor="top",
                                                   len=0.6, thickness=12)))  # fmt: skip
    return fig


@st.fragment
def query_demo(net, weights: str, x, crop, where: tuple, row, h: int) -> None:
    """The attention map of one query: its row and column sliders rerun this function only (a
    fragment), not the page. Every query's map of a (weights, photo, configuration, block) comes
    from one pass to the block, computed once for everyone, and each query's figure is built once
    per language: a class moving the sliders runs no network and builds each figure once."""
    name = where[-1]
    chart = st.container()  # above the sliders that move its query: the map is what the class sees
    c = st.columns(2)
    qr = c[0].slider(t("ls_query_row"), 0, row.in_height - 1, row.in_height // 2, key=f"attn_row_{name}")
    qc = c[1].slider(t("ls_query_col"), 0, row.in_width - 1, row.in_width // 2, key=f"attn_col_{name}")
    maps = shared_demo("attention", weights, x, *where, build=lambda: L.attention_maps(net, x, name))
    key = ("attention", weights, digest(x), *where, qr, qc)
    fig = lesson_figure(key, lambda: _attention_figure(crop, maps[qr, qc], row, qr, qc),
                        height=260 * (1 + (h - 1) // min(h, 4)), cache=QUERY_FIGURES)  # fmt: skip
    draw_figure(fig, f"attention_{name}", where=chart)

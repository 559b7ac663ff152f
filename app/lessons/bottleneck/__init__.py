"""Lesson: V2's linear bottleneck, the spiral of the paper's Figure 1 and the zeros of a real network.

Streamlit runs page.py beside this file; the page is `show()` here (an imported module, so its
widget callbacks never hold a page script's globals)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from app.common import with_table
from app.i18n import LANGUAGES, speaking, t
from app.lessons.common import (
    choose_model,
    close_lesson,
    digest,
    lesson_figure,
    network,
    open_lesson,
    photo_picker,
    shared_demo,
    show_shared_chart,
    to_tensor,
)
from mobilenet_core import lessons as L

SPIRAL_DIMS = [2, 3, 4, 5, 8, 10, 15, 20, 30]  # the slider's n
SPIRAL_PANELS = (2, 3, 5, 15, 30)  # the paper's Figure 1 (the chosen n has its own panel)
ERROR_NS, ERROR_SEEDS = tuple(range(2, 31)), 8  # the error curve: n = 2..30, the mean over 8 seeds


SPIRAL_HEIGHT, ERROR_HEIGHT = 300, 280


def warm() -> None:
    """What the spiral needs before its first page (app.figures' warm-up): the error curve, the
    same for every n and every session, takes seconds to compute (2.5 s here) and is then kept
    by the library for the process. Then the figures a page opens with (seed 0) and those of every
    n of the slider, in every language: the paper's panels, the chosen n's panel and the error
    curve, which a class moving the slider for the first time waited for (issue 24); the same
    shared figures (app.figures.shared_figure) the page would build, so the page draws these."""
    L.spiral_errors(ERROR_NS, seeds=ERROR_SEEDS, readout="linear")
    for lang in LANGUAGES:
        with speaking(lang):
            lesson_figure(("spiral", 0), lambda: spiral_figure(0), SPIRAL_HEIGHT)
            for n in SPIRAL_DIMS:
                lesson_figure(("spiral_chosen", n, 0), lambda n=n: chosen_figure(n, 0), ERROR_HEIGHT)
                lesson_figure(("spiral_error", n), lambda n=n: error_figure(n), ERROR_HEIGHT)


def show() -> None:
    path, figure, _ = open_lesson("lesson-bottleneck")
    with figure:
        spiral_demo()

    st.markdown(f"## {t('ls_real_network')}")
    model, alpha, res, report = choose_model(path, runs=True)
    name, image = photo_picker()
    net, recipe, weights = network(model, alpha, res)
    x, _ = to_tensor(image, recipe)
    where = (report.model, report.alpha, report.resolution)
    shares = shared_demo("zero_shares", weights, x, *where, build=lambda: L.relu_zero_shares(net, x, report))
    # the shares and their chart are the same for everyone on this photo: built once for the class
    key = ("zero_shares", weights, digest(x), *where, name)
    show_shared_chart(key, lambda: zero_shares_figure(shares, name), f"zero_shares_{model}")
    close_lesson(path)


def zero_shares_figure(shares, photo: str) -> go.Figure:
    """The share of values ReLU zeroes in each block's expansion and in its bottleneck."""
    bars = go.Figure()
    bars.add_bar(
        x=[s.block for s in shares], y=[100 * s.expansion_zeroed for s in shares], name=t("ls_zero_expansion")
    )
    bars.add_bar(
        x=[s.block for s in shares],
        y=[100 * s.bottleneck_zeroed for s in shares],
        name=t("ls_zero_bottleneck"),
    )
    bars.update_layout(title=t("ls_zero_title", photo=photo), yaxis_title="%", barmode="group")
    return bars


@st.fragment
def spiral_demo() -> None:
    """The spiral experiment: its n and seed rerun this function only (a fragment), not the page
    with its network run below. The paper's panels do not depend on n, so moving n leaves that
    figure as it was (the browser does not draw it again: 7 panels were most of a move, issue 24);
    the chosen n gets its own panel beside the error curve."""
    cols = st.columns([3, 1])
    n = cols[0].select_slider(t("ls_dims"), options=SPIRAL_DIMS, value=5, key="spiral_n")
    seed = int(cols[1].number_input(t("ls_seed"), 0, 999, 0, key="spiral_seed"))
    show_shared_chart(("spiral", seed), lambda: spiral_figure(seed), "spiral", height=SPIRAL_HEIGHT)
    chosen = L.spiral_relu(n, seed, readout="linear")
    st.latex(rf"\hat x = B\,\mathrm{{ReLU}}(T x),\; T \in \mathbb{{R}}^{{{n}\times 2}}:\quad"
             rf"\frac{{\lVert \hat x - x\rVert^2}}{{\lVert x\rVert^2}} = {chosen.error:.3f}")  # fmt: skip
    st.caption(t("ls_readout"))
    left, right = st.columns([1, 2])
    with left:
        show_shared_chart(("spiral_chosen", n, seed), lambda: chosen_figure(n, seed), "spiral_chosen",
                          height=ERROR_HEIGHT)  # fmt: skip
    with right:
        show_shared_chart(("spiral_error", n), lambda: error_figure(n), "spiral_error", height=ERROR_HEIGHT)


SPIRAL_SEGMENTS = 8  # the colour steps of a drawn spiral


def add_spiral(fig: go.Figure, xy: np.ndarray, row: int = 1, col: int = 1) -> None:
    """A spiral (2 x points) as one line in SPIRAL_SEGMENTS pieces coloured from the centre outwards
    (Viridis), so where ReLU folds the spiral the colours show which parts met. A line, not a
    marker per point: 400 markers a panel were SVG elements the browser drew again on every move
    of the slider (issue 24); the shape is the same."""
    colours = sample_colorscale("Viridis", list(np.linspace(0, 1, SPIRAL_SEGMENTS)))
    edges = np.linspace(0, xy.shape[1] - 1, SPIRAL_SEGMENTS + 1).round().astype(int)
    for colour, a, b in zip(colours, edges[:-1], edges[1:], strict=True):
        fig.add_scatter(x=xy[0, a : b + 1], y=xy[1, a : b + 1], mode="lines", line=dict(color=colour, width=2),
                        showlegend=False, hoverinfo="skip", row=row, col=col)  # fmt: skip


def error_label(fig: go.Figure, error: float, axis: str = "") -> None:
    """A panel's error inside the panel, under its spiral: below the axis it fell outside the
    figure (the lesson's margin) and no one saw it."""
    fig.add_annotation(text=f"{t('ls_error')} {error:.2f}", showarrow=False, xref=f"x{axis} domain",
                       yref=f"y{axis} domain", x=0.5, y=0.01, yanchor="bottom")  # fmt: skip


def same_scale(fig: go.Figure, panels: int) -> None:
    """One scale for every panel (the input's): a shrunken or bent spiral looks it."""
    span = float(np.abs(L.spiral()).max()) * 1.15
    for i in range(1, panels + 1):
        fig.update_xaxes(showticklabels=False, range=[-span, span], row=1, col=i)
        fig.update_yaxes(showticklabels=False, range=[-span, span], scaleanchor=f"x{'' if i == 1 else i}",
                         row=1, col=i)  # fmt: skip


def spiral_figure(seed: int) -> go.Figure:
    """The paper's Figure 1 panels (the input, then n = 2, 3, 5, 15, 30): a pure function of the
    seed, built once for the class."""
    fig = make_subplots(
        rows=1,
        cols=len(SPIRAL_PANELS) + 1,
        subplot_titles=[t("ls_input")] + [f"n = {k}" for k in SPIRAL_PANELS],
    )
    add_spiral(fig, L.spiral())
    errors = {}
    for i, k in enumerate(SPIRAL_PANELS, start=2):
        r = L.spiral_relu(k, seed, readout="linear")
        errors[k] = r.error
        add_spiral(fig, r.recovered, col=i)
        error_label(fig, r.error, str(i))
    same_scale(fig, len(SPIRAL_PANELS) + 1)
    # its text alternative: each panel's n and error, not the points
    return with_table(fig, pd.DataFrame({"n": list(errors), t("ls_error"): list(errors.values())}))


def chosen_figure(n: int, seed: int) -> go.Figure:
    """The slider's n on its own panel, over the input spiral in grey: what ReLU lost is the grey
    left uncovered."""
    r = L.spiral_relu(n, seed, readout="linear")
    fig = make_subplots(rows=1, cols=1)
    source = L.spiral()
    fig.add_scatter(x=source[0], y=source[1], mode="lines", line=dict(color="#c8c8c8", width=5),
                    showlegend=False, hoverinfo="skip")  # fmt: skip
    add_spiral(fig, r.recovered)
    error_label(fig, r.error)
    same_scale(fig, 1)
    fig.update_layout(title=t("ls_chosen", n=n))
    return with_table(fig, pd.DataFrame({"n": [n], t("ls_error"): [r.error]}))


def error_figure(n: int) -> go.Figure:
    """The mean error over 8 seeds against n, with the chosen n marked."""
    errors = L.spiral_errors(ERROR_NS, seeds=ERROR_SEEDS, readout="linear")
    err = go.Figure(go.Scatter(x=list(errors), y=list(errors.values()), mode="lines+markers"))
    err.add_vline(x=n, line=dict(color="#e4002b", dash="dot"))
    err.update_layout(title=t("ls_error_vs_n"), xaxis_title="n", yaxis_title=t("ls_error"))
    return err

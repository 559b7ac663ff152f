"""The story page: every model of the family on one table and one chart, and a link to every lesson.

Streamlit runs page.py beside this file; the page is `show()` here (an imported module, so its
widget callbacks never hold a page script's globals)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app.i18n import t
from app.lessons import PAGE_FILES
from app.lessons.common import (
    close_lesson,
    lesson_title,
    open_lesson,
    show_shared_chart,
    show_table,
)
from mobilenet_core import lessons as L

GEN_COLOURS = {"V1": "#4C78A8", "V2": "#F58518", "V3": "#54A24B", "V4": "#B279A2"}


def show() -> None:
    path, _, _ = open_lesson("lessons", fold=False)  # the story is the overview: shown whole
    rows = L.timeline()
    table = pd.DataFrame(
        [
            {
                t("ls_year"): r.year, t("model"): r.title, t("ls_paper"): r.paper, t("resolution"): r.resolution,
                t("params"): r.params, t("macs"): r.macs,
                t("top1"): f"{r.top1:.1f}" if r.top1 is not None else t("ls_no_top1"),
                t("ls_source"): r.top1_source,
            }
            for r in rows
        ]
    )  # fmt: skip
    show_table(table)
    show_shared_chart(("story",), lambda: _story_figure(rows), "lessons_timeline", height=460)
    st.caption(t("ls_story_note"))
    # one link a line: three columns cut the titles ("V4 · The Universal Inverted Bottle…")
    for lesson in L.LESSONS:
        st.page_link(PAGE_FILES[lesson.path], label=f"{lesson.generation} · {lesson_title(lesson.path)}")
    close_lesson(path)


def _story_figure(rows) -> go.Figure:
    """Published top-1 against MACs, a label beside every point: neighbours (by MACs) alternate
    above and below, and the axes leave room so that no label is cut at the edge."""
    fig = go.Figure()
    points = sorted((r for r in rows if r.top1 is not None), key=lambda r: r.macs)
    where = {r.model: ("top center" if i % 2 == 0 else "bottom center") for i, r in enumerate(points)}
    for gen in GEN_COLOURS:
        pts = [r for r in points if r.generation == gen]
        if not pts:
            continue
        fig.add_scatter(
            x=[r.macs / 1e6 for r in pts], y=[r.top1 for r in pts], mode="markers+text", name=gen,
            text=[r.title.replace("MobileNet", "") for r in pts], textposition=[where[r.model] for r in pts],
            marker=dict(size=12, color=GEN_COLOURS[gen]), cliponaxis=False,
        )  # fmt: skip
    macs = [r.macs / 1e6 for r in points]
    top1 = [r.top1 for r in points]
    fig.update_layout(title=t("ls_story_chart"), xaxis_title=t("ls_mmacs"), yaxis_title=t("top1"))
    fig.update_xaxes(type="log", range=[np.log10(min(macs) / 1.6), np.log10(max(macs) * 1.6)])
    fig.update_yaxes(range=[min(top1) - 2.5, max(top1) + 2.5])
    return fig

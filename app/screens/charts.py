"""Per-block charts: params, MACs, cumulative shares, resolution/channel profile, memory."""

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from app.common import draw_figure, file_stem, page_title, report_for, title_line
from app.figures import LEGEND_BELOW as FIGURE_LEGEND_BELOW
from app.figures import shared_figure
from app.i18n import t
from app.state import current_selection
from mobilenet_core.blocktypes import HEAD_COLOR, REGISTRY
from mobilenet_core.count import CountReport

# name and colour per block type, from the block types' records
KIND_NAMES = {**{k: bt.short for k, bt in REGISTRY.items()}, "head": "Head"}
COLORS = {**{k: bt.color for k, bt in REGISTRY.items()}, "head": HEAD_COLOR}
# legends under the plot: above it they run into the title at laptop widths
LEGEND_BELOW = dict(legend=FIGURE_LEGEND_BELOW)


def charts_page():
    """Draw the charts view for the shared selection; returns that selection. The figures depend
    only on the selection and the language, so they are built once for every session
    (app.figures)."""
    sel = current_selection()
    page_title(f"{t('page_charts')} · {title_line(sel)}")
    config = (sel.model, sel.alpha, sel.resolution)

    def show(what: str, build) -> None:
        fig = shared_figure(("charts", what, *config), lambda: build(report_for(sel)))
        draw_figure(fig, file_stem(sel, what), key=f"chart_{what}")

    left, right = st.columns(2)
    with left:
        show("params", params_figure)
    with right:
        show("macs", macs_figure)
    left, right = st.columns(2)
    with left:
        show("cumulative", cumulative_figure)
    with right:
        show("profile", profile_figure)
    show("memory", memory_figure)
    return sel


def _kind_bars(blocks, values: list, custom: list, hover: str, title: str, **layout) -> go.Figure:
    """One bar per block, one trace per block type, so that the colours have a legend."""
    names = [b.name for b in blocks]
    fig = go.Figure()
    for kind in dict.fromkeys(b.kind for b in blocks):
        mine = [i for i, b in enumerate(blocks) if b.kind == kind]
        fig.add_trace(
            go.Bar(
                x=[names[i] for i in mine],
                y=[values[i] for i in mine],
                name=KIND_NAMES.get(kind, kind),
                marker_color=COLORS.get(kind, "#999999"),
                customdata=[custom[i] for i in mine],
                hovertemplate=hover,
            )
        )
    order = dict(categoryorder="array", categoryarray=names)
    fig.update_layout(
        title=title, xaxis_tickangle=-60, barmode="relative", xaxis=order, **LEGEND_BELOW, **layout
    )
    return fig


def _count_bars(blocks, values: list[int], title: str, unit: str) -> go.Figure:
    custom = [
        [b.variant, f"{v:,}", f"{b.out_channels}×{b.out_height}×{b.out_width}"]
        for b, v in zip(blocks, values)
    ]
    hover = (
        "<b>%{x}</b> · %{customdata[0]}<br>"
        + unit
        + ": %{customdata[1]}<br>"
        + t("col_output")
        + " %{customdata[2]}<extra></extra>"
    )
    return _kind_bars(blocks, values, custom, hover, title)


def params_figure(report: CountReport) -> go.Figure:
    return _count_bars(report.blocks, [b.params for b in report.blocks], t("chart_params"), t("params"))


def macs_figure(report: CountReport) -> go.Figure:
    return _count_bars(report.blocks, [b.macs for b in report.blocks], t("chart_macs"), "MACs")


def cumulative_figure(report: CountReport) -> go.Figure:
    blocks = report.blocks
    names = [b.name for b in blocks]
    fig = go.Figure()
    for label, values, total in (
        (t("cumulative_params"), [b.params for b in blocks], report.params),
        (t("cumulative_macs"), [b.macs for b in blocks], report.macs),
    ):
        running, ys, exact = 0, [], []
        for v in values:
            running += v
            ys.append(100 * running / total)
            exact.append(f"{running:,}")
        fig.add_trace(
            go.Scatter(
                x=names,
                y=ys,
                mode="lines+markers",
                name=label,
                customdata=exact,
                hovertemplate="<b>%{x}</b><br>%{y:.1f}% · %{customdata}<extra>" + label + "</extra>",
            )
        )
    fig.update_layout(
        title=t("chart_cumulative"), yaxis_title=t("share"), xaxis_tickangle=-60, **LEGEND_BELOW
    )
    return fig


def profile_figure(report: CountReport) -> go.Figure:
    blocks = report.blocks
    names = [b.name for b in blocks]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Scatter(
            x=names,
            y=[b.out_channels for b in blocks],
            name=t("channels"),
            mode="lines+markers",
            line_shape="hv",
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=names,
            y=[b.out_height for b in blocks],
            name=t("spatial"),
            mode="lines+markers",
            line_shape="hv",
        ),
        secondary_y=True,
    )
    # both axes from 0: a map is never smaller than 1 px (Plotly's autorange ticked -1.7 px)
    fig.update_yaxes(title_text=t("channels"), secondary_y=False, rangemode="tozero")
    fig.update_yaxes(title_text=t("spatial"), secondary_y=True, rangemode="tozero", tickformat="d")
    fig.update_layout(title=t("chart_profile"), xaxis_tickangle=-60, **LEGEND_BELOW)
    return fig


def memory_figure(report: CountReport) -> go.Figure:
    blocks = report.blocks
    memory = [b.activations * 4 / 1024 for b in blocks]
    custom = [[f"{b.activations:,}", f"{b.out_channels}×{b.out_height}×{b.out_width}"] for b in blocks]
    hover = (
        "<b>%{x}</b><br>%{y:,.1f} KiB · %{customdata[0]}<br>"
        + t("col_output")
        + " %{customdata[1]}<extra></extra>"
    )
    return _kind_bars(blocks, memory, custom, hover, t("chart_memory"), yaxis_title=t("memory_kib"))

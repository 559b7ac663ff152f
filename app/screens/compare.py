"""Compare two to four configurations; published configurations on a MACs / top-1 scatter.

The view an engineer puts in a report: one table (a row per figure, a column per configuration,
so that it fits a laptop and a projector), each model's MACs and parameters split by stage as
shares of its own total (a linear stack hid MobileNetV3's 0.2 G beside MobileNetV5-Base's 20 G),
and every top-1 that is missing explained.
"""

import functools

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import mobilenet_core as mc
from app.common import device_title, draw_figure, exact, file_stem, kib, page_title, short
from app.figures import LEGEND_BELOW, shared_figure, shared_table
from app.i18n import GRAPH_WORDS, current_language, t
from app.state import current_selection, held_index
from mobilenet_core.count import CountReport
from mobilenet_core.latency import device_rows
from mobilenet_core.published import find_published, published_figures
from mobilenet_core.rules import ALPHA_MAX, ALPHA_MIN, nearest_resolution, resolution_range
from mobilenet_core.specs import GENERATIONS

OTHER_MODELS = ("v2", "v3_large", "v4_conv_small", "v4_conv_medium")  # beside the sidebar's model
RESOLUTION_STEP = 32
NUMBERS = "①②③④"  # the configurations' numbers in the table (not "1.": a cell is Markdown)
# one colour per stage in both charts; the qualitative palette Plotly uses by default
STAGE_COLOURS = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880",
                 "#ff97ff", "#fecb52")  # fmt: skip


def compare_page():
    """Draw the compare view for the shared selection; returns that selection."""
    sel = current_selection()
    page_title(t("page_compare"))
    st.caption(t("compare_intro"))
    comparison_ui(sel)
    published_scatter(sel)
    return sel


@st.fragment
def comparison_ui(sel) -> None:
    """The configurations, their table and charts. A fragment: a configuration changed here
    reruns this part only, not the sidebar, its navigation and the published-models scatter,
    which depend on the sidebar's selection alone (issue 24)."""
    count = st.segmented_control(t("configurations"), [2, 3, 4], default=3, key="cmp_count") or 3
    configs = [report for report in configurations_ui(sel, count) if report is not None]
    if configs:
        comparison_table(configs)
        stage_share_charts(configs, file_stem(sel, "fig"))


# --- the configurations: a resolution follows its model's base until the user sets one ----------


def _res_key(i: int) -> str:
    return f"cmp_res_{i}"


def _set_key(i: int) -> str:
    return f"cmp_res_set_{i}"  # True once the user chose this configuration's resolution


def _on_model_change(i: int) -> None:
    generation = mc.get_generation(st.session_state[f"cmp_model_{i}"])
    if st.session_state.get(_set_key(i)):  # the user's resolution, brought into the new range
        st.session_state[_res_key(i)] = nearest_resolution(generation, st.session_state[_res_key(i)])
    else:
        st.session_state[_res_key(i)] = generation.base_resolution


def _on_resolution_change(i: int) -> None:
    st.session_state[_set_key(i)] = True


def _follow_base(i: int) -> None:
    st.session_state[_set_key(i)] = False
    st.session_state[_res_key(i)] = mc.get_generation(st.session_state[f"cmp_model_{i}"]).base_resolution


def _first_visit(i: int, sel) -> None:
    """The widgets' starting values (once; Streamlit forgets them when the page is left): the
    first configuration is the sidebar's, the others a model at its base resolution."""
    model = [sel.model, *(m for m in OTHER_MODELS if m != sel.model)][i]
    base = mc.get_generation(model).base_resolution
    resolution = sel.resolution if i == 0 else base
    st.session_state[f"cmp_model_{i}"] = model
    st.session_state[f"cmp_alpha_{i}"] = float(sel.alpha if i == 0 else 1.0)
    st.session_state[_res_key(i)] = resolution
    st.session_state[_set_key(i)] = resolution != base  # a resolution set in the sidebar is kept


def configurations_ui(sel, count: int) -> list[CountReport | None]:
    """One column per configuration: model, alpha, resolution. Returns each one's counts (None
    where the configuration is not valid; the column says why)."""
    models = mc.list_models()
    # any model's range (the widest: twice the largest base); each configuration checks its own
    low = min(resolution_range(g)[0] for g in GENERATIONS.values())
    high = max(resolution_range(g)[1] for g in GENERATIONS.values())
    reports = []
    for i, column in enumerate(st.columns(count)):
        if f"cmp_model_{i}" not in st.session_state:
            _first_visit(i, sel)
        with column:
            st.markdown(f"**{t('config_n', n=i + 1)}**")
            key = f"cmp_model_{i}"
            model = st.selectbox(t("model"), models, index=held_index(models, key), key=key,
                                 on_change=_on_model_change, args=(i,),
                                 format_func=lambda m: mc.get_generation(m).title)  # fmt: skip
            left, right = st.columns(2, gap="small")
            alpha = left.number_input(t("alpha"), ALPHA_MIN, ALPHA_MAX, step=0.05, key=f"cmp_alpha_{i}",
                                      format="%.2f")  # fmt: skip
            resolution = right.number_input(t("resolution"), low, high, step=RESOLUTION_STEP, key=_res_key(i),
                                            on_change=_on_resolution_change, args=(i,))  # fmt: skip
            generation = mc.get_generation(model)
            base = generation.base_resolution
            if st.session_state.get(_set_key(i)):
                st.caption(t("cmp_res_set", base=base))
                if resolution != base:
                    st.button(t("cmp_res_follow", base=base), key=f"cmp_follow_{i}", on_click=_follow_base,
                              args=(i,), type="tertiary")  # fmt: skip
            else:
                st.caption(t("cmp_res_follows", base=base))
            res_low, res_high = resolution_range(generation)
            if not res_low <= resolution <= res_high:
                st.error(
                    t("cmp_res_range", model=generation.title, low=res_low, high=res_high, res=resolution)
                )
                reports.append(None)
                continue
            reports.append(mc.count(model, round(alpha, 2), int(resolution)))
    return reports


# --- the table: a row per figure, a column per configuration ------------------------------------


def config_label(report: CountReport) -> str:
    # no-break spaces inside "α 1" and "224 px": a narrow column wraps between them, not within
    title = mc.get_generation(report.model).title
    return f"{title} · α\u00a0{report.alpha:g} · {report.resolution}\u00a0px"


def top1_text(report: CountReport) -> str:
    """The published top-1, or why there is none: no figure for this model at all, or none at
    this alpha and resolution (with the nearest published configuration of the model)."""
    published = find_published(report.model, report.alpha, report.resolution)
    if published:
        return f"{published.top1}"
    title = mc.get_generation(report.model).title
    figures = [f for f in published_figures() if f.model == report.model]
    if not figures:
        return t("cmp_top1_none", model=title)
    near = min(figures, key=lambda f: (abs(f.alpha - report.alpha), abs(f.resolution - report.resolution)))
    return t("cmp_top1_nearest", alpha=report.alpha, res=report.resolution, near_alpha=near.alpha,
             near_res=near.resolution, top1=near.top1)  # fmt: skip


def _with_change(value: int, first: int) -> str:
    return exact(value) if value == first else f"{exact(value)} ({(value - first) / first:+.1%})"


def comparison_table(configs: list[CountReport]) -> None:
    """Transposed (a column per configuration): four configurations and their figures fit
    1440 px and a projector's 1280 px, and long cells wrap instead of being cut. Built and
    converted once per (configurations, language) for everyone (app.figures.shared_table)."""
    key = ("compare_table", *((r.model, r.alpha, r.resolution) for r in configs))
    st.table(shared_table(key, lambda: _comparison_frame(configs)), hide_index=False)  # the named index
    st.caption(t("compare_latency_note"))


def _comparison_frame(configs: list[CountReport]) -> pd.DataFrame:
    first = configs[0]
    columns = {}
    for n, r in enumerate(configs):
        column = {
            t("delta_vs_first", what=t("params")): _with_change(r.params, first.params),
            t("delta_vs_first", what=t("macs")): _with_change(r.macs, first.macs),
            t("activations"): kib(r.activation_elements),
            t("top1"): top1_text(r),
        }
        for row in device_rows(r):
            paper = f" ({row.paper_ms:g})" if row.paper_ms is not None else ""
            column[t("est_on", device=device_title(row.device))] = f"{row.estimated_ms:.2f}{paper}"
        columns[f"{NUMBERS[n]} {config_label(r)}"] = column  # numbered: two may be the same
    table = pd.DataFrame(columns)
    table.index.name = t("configuration")
    return table


# --- where the cost sits: each model's stages as shares of its own total -----------------------


def stage_name(label: str) -> str:
    """The library's stage label ("stem", "stage 3", "head") in the page's language."""
    words = GRAPH_WORDS[current_language()]
    if label in ("stem", "head"):
        return words[label]
    return f"{words['stage']} {label.removeprefix('stage ')}"


def _stage_order(label: str) -> int:
    return {"stem": -1, "head": 10_000}.get(label) or int(label.removeprefix("stage "))


def stage_share_charts(configs: list[CountReport], stem: str) -> None:
    """MACs and parameters per stage, each bar a model's 100 %, its total written above it."""
    labels = []
    for r in configs:
        labels += [s[0] for s in r.stage_totals() if s[0] not in labels]
    labels.sort(key=_stage_order)
    # short labels under the bars ("① V4-Conv-M"), so that four fit a projector's half width
    x = [f"{NUMBERS[n]} {mc.get_generation(r.model).title.removeprefix('MobileNet')}"
         f"<br>α {r.alpha:g} · {r.resolution} px" for n, r in enumerate(configs)]  # fmt: skip
    left, right = st.columns(2)
    key = tuple((r.model, r.alpha, r.resolution) for r in configs)
    for where, index, title in ((left, 2, t("stacked_macs")), (right, 1, t("stacked_params"))):
        # built once per (configurations, chart, language) for every session (app.figures)
        build = functools.partial(_stage_chart, configs, labels, x, index, title)
        fig = shared_figure(
            ("compare_stages", index, key), build, height=480, margin=dict(l=10, r=10, t=70, b=10)
        )
        draw_figure(fig, stem, where=where)


def _stage_chart(configs: list[CountReport], labels: list[str], x: list[str], index: int, title: str):
    total_of = (lambda r: r.macs) if index == 2 else (lambda r: r.params)
    fig = go.Figure()
    for k, label in enumerate(labels):
        values = [next((s[index] for s in r.stage_totals() if s[0] == label), 0) for r in configs]
        shares = [100 * v / total_of(r) for v, r in zip(values, configs)]
        fig.add_trace(
            go.Bar(
                x=x,
                y=shares,
                name=stage_name(label),
                marker_color=STAGE_COLOURS[k % len(STAGE_COLOURS)],
                text=[f"{s:.0f}%" if s >= 4 else "" for s in shares],
                textposition="inside",
                insidetextanchor="middle",
                customdata=[exact(v) for v in values],
                hovertemplate="%{x}<br>" + stage_name(label) + ": %{customdata} (%{y:.1f}%)<extra></extra>",
            )
        )
    for xi, r in zip(x, configs):  # the total, which the shares no longer show
        fig.add_annotation(x=xi, y=100, text=f"<b>{short(total_of(r))}</b>", showarrow=False,
                           yanchor="bottom", font=dict(size=14))  # fmt: skip
    fig.update_layout(
        barmode="stack",
        title=dict(text=f"{title}<br><sup>{t('stage_share_note')}</sup>"),
        yaxis=dict(title=t("stage_share"), range=[0, 112], tickvals=[0, 25, 50, 75, 100]),
        legend=dict(LEGEND_BELOW, traceorder="normal"),
        uniformtext=dict(minsize=11, mode="hide"),
        bargap=0.35,
    )
    return fig


# --- every published configuration, counted exactly, against its published top-1 ---------------


def published_scatter(sel) -> None:
    # built once per (selection, language) for every session (app.figures)
    key = ("compare_published", sel.model, sel.alpha, sel.resolution)
    draw_figure(shared_figure(key, lambda: _published_figure(sel), height=520), file_stem(sel, "fig"))


def _published_figure(sel):
    figures = published_figures()
    fig = go.Figure()
    for model in dict.fromkeys(f.model for f in figures):
        points = [f for f in figures if f.model == model]
        reports = [mc.count(f.model, f.alpha, f.resolution) for f in points]
        fig.add_trace(
            go.Scatter(
                x=[r.macs / 1e6 for r in reports],
                y=[f.top1 for f in points],
                mode="markers",
                name=mc.get_generation(model).title,
                marker=dict(
                    size=[6 + 3 * r.params / 1e6 for r in reports],
                    opacity=0.8,
                    line=dict(width=1, color="#333"),
                ),
                customdata=[
                    [f"α {f.alpha:g} @ {f.resolution}", f"{r.macs:,}", f"{r.params:,}"]
                    for f, r in zip(points, reports)
                ],
                hovertemplate="%{customdata[0]}<br>MACs %{customdata[1]}<br>params %{customdata[2]}"
                "<br>top-1 %{y}%<extra>%{fullData.name}</extra>",
            )
        )
    current = mc.count(sel.model, sel.alpha, sel.resolution)
    published = find_published(sel.model, sel.alpha, sel.resolution)
    if published:
        fig.add_trace(
            go.Scatter(
                x=[current.macs / 1e6],
                y=[published.top1],
                mode="markers",
                name=t("current"),
                marker=dict(symbol="star", size=22, color="#d62728", line=dict(width=1, color="#000")),
            )
        )
    else:
        fig.add_vline(
            x=current.macs / 1e6,
            line_dash="dash",
            line_color="#d62728",
            annotation_text=f"{t('current')}: {current.macs / 1e6:.1f} M MACs",
        )
    fig.update_layout(
        title=t("scatter_title"),
        xaxis_title="MACs (M)",
        yaxis_title=t("top1"),
        xaxis_type="log",
        legend=LEGEND_BELOW,  # beside the plot, nine names left it a third of a phone's width
    )
    return fig

"""Compare two to four configurations; published configurations on a MACs / top-1 scatter."""

import plotly.graph_objects as go
import streamlit as st

import mobilenet_core as mc
from app.common import delta, exact, file_stem, kib, show_figure
from app.i18n import t
from app.state import current_selection
from mobilenet_core.latency import device_rows
from mobilenet_core.published import find_published, published_figures
from mobilenet_core.specs import GENERATIONS
from mobilenet_core.specs.width import ALPHA_MAX, ALPHA_MIN, resolution_range


def compare_page():
    """Draw the compare view for the shared selection; returns that selection."""
    sel = current_selection()
    st.subheader(t("page_compare"))
    st.caption(t("compare_intro"))
    defaults = [
        (sel.model, sel.alpha, sel.resolution),
        ("v2", 1.0, 224),
        ("v3_large", 1.0, 224),
        ("v4_conv_small", 1.0, 224),
    ]
    count = st.segmented_control(t("configurations"), [2, 3, 4], default=3, key="cmp_count") or 3
    models = mc.list_models()
    columns = st.columns(count)
    configs = []
    for i, col in enumerate(columns):
        model0, alpha0, res0 = defaults[i]
        with col:
            st.markdown(f"**{t('config_n', n=i + 1)}**")
            model = st.selectbox(
                t("model"),
                models,
                index=models.index(model0),
                key=f"cmp_model_{i}",
                format_func=lambda m: mc.get_generation(m).title,
            )
            alpha = st.number_input(
                t("alpha"), ALPHA_MIN, ALPHA_MAX, float(alpha0), 0.05, key=f"cmp_alpha_{i}", format="%.2f"
            )
            # any model's range (the widest: twice the largest base);
            # mc.count says when one is outside its own
            low = min(resolution_range(g)[0] for g in GENERATIONS.values())
            high = max(resolution_range(g)[1] for g in GENERATIONS.values())
            resolution = st.number_input(t("resolution"), low, high, int(res0), 32, key=f"cmp_res_{i}")
            try:
                report = mc.count(model, round(alpha, 2), int(resolution))
            except mc.ConfigError as exc:
                st.error(str(exc))
                continue
            configs.append(report)

    if len(configs) >= 1:
        first = configs[0]

        def label(r):
            return f"{mc.get_generation(r.model).title} α{r.alpha:g} @{r.resolution}"

        rows = []
        for r in configs:
            published = find_published(r.model, r.alpha, r.resolution)
            rows.append(
                {
                    t("configuration"): label(r),
                    t("params"): exact(r.params),
                    f"{t('params')} {t('delta_vs_first')}": delta(r.params, first.params) or "—",
                    t("macs"): exact(r.macs),
                    f"MACs {t('delta_vs_first')}": delta(r.macs, first.macs) or "—",
                    t("activations"): kib(r.activation_elements),
                    t("top1"): f"{published.top1}" if published else "—",
                }
            )
            for device_row in device_rows(r):
                paper = f" ({device_row.paper_ms:g})" if device_row.paper_ms is not None else ""
                rows[-1][t("est_on", device=device_row.device.title)] = (
                    f"{device_row.estimated_ms:.2f}{paper}"
                )
        st.dataframe(rows, hide_index=True, width="stretch")
        st.caption(t("compare_latency_note"))

        left, right = st.columns(2)
        for column, index, title in ((left, 2, t("stacked_macs")), (right, 1, t("stacked_params"))):
            fig = go.Figure()
            stage_labels = []
            for r in configs:
                for stage in r.stage_totals():
                    if stage[0] not in stage_labels:
                        stage_labels.append(stage[0])
            for stage_label in stage_labels:
                values = [
                    next((s[index] for s in r.stage_totals() if s[0] == stage_label), 0) for r in configs
                ]
                fig.add_trace(
                    go.Bar(
                        x=[label(r) for r in configs],
                        y=values,
                        name=stage_label,
                        customdata=[f"{v:,}" for v in values],
                        hovertemplate="%{x}<br>" + stage_label + ": %{customdata}<extra></extra>",
                    )
                )
            fig.update_layout(barmode="stack", title=title)
            show_figure(fig, file_stem(sel, "fig"), height=460, where=column)

    # every published configuration, counted exactly, against its published top-1
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
        title=t("scatter_title"), xaxis_title="MACs (M)", yaxis_title=t("top1"), xaxis_type="log"
    )
    show_figure(fig, file_stem(sel, "fig"), height=520)
    return sel

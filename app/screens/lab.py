"""Design lab: edit a generation's block table live; counts, graph and charts follow; invalid
edits are explained and the last valid architecture stays on screen."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import mobilenet_core as mc
from app.common import exact, file_stem, graph_downloads, page_title, show_figure, show_graph
from app.i18n import error_text, graph_words, t
from app.state import current_selection
from mobilenet_core.api import build_generation, count_generation
from mobilenet_core.fast import FastModel
from mobilenet_core.graph import layer_graph
from mobilenet_core.lab import (
    COLUMNS,
    MAX_REPEATS,
    block_types,
    check_resolution,
    from_json,
    from_url_token,
    generation_from_rows,
    generation_rows,
    to_json,
    to_url_token,
)
from mobilenet_core.measure import block_shares, measure_layer_times
from mobilenet_core.rules import nearest_resolution
from mobilenet_core.specs.blocks import Activation
from mobilenet_core.sweep import median_latency_ms


def lab_page():
    """Draw the lab view for the shared selection; returns that selection."""
    sel = current_selection()
    page_title(t("page_lab"))
    st.caption(t("lab_intro"))
    if "lab_rows" not in st.session_state:
        _load(*(link_ui() or (sel.model, generation_rows(mc.get_generation(sel.model)))))
    base_ui()
    base = mc.get_generation(st.session_state["lab_base"])
    rows = editor_ui()
    # the lab counts at the selection's size when its base accepts it (V2 stops at 448 px when
    # V4 Conv-L at 512 px is selected), else at the nearest size the base accepts
    resolution = nearest_resolution(base, sel.resolution)
    if resolution != sel.resolution:
        st.caption(t("lab_resolution_clamped", res=sel.resolution, new=resolution, base=base.title))
    generation, report, error = counted_ui(base, rows, sel.alpha, resolution)
    totals_ui(base, report, sel.alpha, resolution, error)
    dot = layer_graph(
        report, title=f"{generation.title} · α {sel.alpha:g} · {resolution} px", words=graph_words()
    )
    show_graph(dot)
    graph_downloads(dot, f"custom_{base.name}_graph", key="lab_graph")
    per_block_chart_ui(sel, report)
    if st.button(t("lab_anatomy"), key="lab_to_anatomy"):
        st.session_state["anatomy_source"] = "lab"
        st.switch_page("views/anatomy.py")
    token = share_ui(base)
    benchmark_ui(sel, generation, report, (token, sel.alpha, resolution))
    return sel


def _load(base: str, rows: list[dict]) -> None:
    st.session_state["lab_base"] = base
    st.session_state["lab_rows"] = rows
    st.session_state["lab_valid"] = rows
    st.session_state["lab_editor_version"] = st.session_state.get("lab_editor_version", 0) + 1


def link_ui() -> tuple[str, list[dict]] | None:
    """The architecture a shared link (?lab=...) carries, or None (said when it is damaged)."""
    token = st.query_params.get("lab")
    if not token:
        return None
    try:
        loaded = from_url_token(token)
        if loaded[0] not in mc.list_models():
            message = f"unknown base model {loaded[0]!r}"
            raise mc.ConfigError(message, "unknown_model", value=loaded[0])
    except mc.ConfigError as exc:
        st.warning(t("lab_bad_link", error=error_text(exc)))
        return None
    return loaded


def base_ui() -> None:
    """The base model, a reset, and an architecture file to load."""
    cols = st.columns([2, 1, 2])
    models = mc.list_models()
    base_choice = cols[0].selectbox(
        t("lab_base"), models, index=models.index(st.session_state["lab_base"]), key="lab_base_choice"
    )
    if cols[1].button(t("lab_reset"), key="lab_reset") or base_choice != st.session_state["lab_base"]:
        _load(base_choice, generation_rows(mc.get_generation(base_choice)))
        st.rerun()
    uploaded = cols[2].file_uploader(t("lab_load"), type=["json"], key="lab_upload")
    if uploaded is not None and st.session_state.get("lab_loaded_name") != (uploaded.name, uploaded.size):
        st.session_state["lab_loaded_name"] = (uploaded.name, uploaded.size)
        try:
            name, rows = from_json(uploaded.getvalue().decode("utf-8", errors="replace"))
            _load(name if name in mc.list_models() else st.session_state["lab_base"], rows)
            st.rerun()
        except mc.ConfigError as exc:
            st.error(error_text(exc))


# the editor's numeric columns: their limits (others: 0 and up)
LIMITS = {"stage": (0, 15), "out": (1, 4096), "stride": (1, 2), "kv_stride": (1, 2), "kernel": (1, 9),
          "start": (0, 9), "mid": (0, 9), "heads": (1, 32), "key_dim": (8, 256)}  # fmt: skip


def column(name: str):
    """The editor column `name`, labelled and explained in the current language (the English
    label is the key, so error messages that name a column match what the user sees)."""
    label = t(f"labcol_{name}")
    help_text = t("lab_repeats_help") if name == "repeats" else t(f"labhelp_{name}")
    if name == "type":
        return st.column_config.SelectboxColumn(
            label, help=help_text, options=list(block_types()), required=True
        )
    if name == "activation":
        return st.column_config.SelectboxColumn(label, help=help_text, options=[a.value for a in Activation])
    if name in ("se", "pw_act", "residual"):
        return st.column_config.CheckboxColumn(label, help=help_text)
    if name == "repeats":
        return st.column_config.NumberColumn(
            label, help=help_text, min_value=1, max_value=MAX_REPEATS, step=1
        )
    if name == "expand":
        return st.column_config.NumberColumn(label, help=help_text, min_value=1.0, step=0.5)
    low, high = LIMITS.get(name, (0, None))
    return st.column_config.NumberColumn(label, help=help_text, min_value=low, max_value=high, step=1)


def editor_ui() -> list[dict]:
    """The block table, one row per block (or per repeated run), as the user edits it."""
    frame = pd.DataFrame(st.session_state["lab_rows"], columns=list(COLUMNS))
    edited = st.data_editor(
        frame,
        num_rows="dynamic",
        width="stretch",
        hide_index=False,
        key=f"lab_editor_{st.session_state.get('lab_editor_version', 0)}",
        column_config={c: column(c) for c in COLUMNS},
    )
    return [
        {k: (None if pd.isna(v) else v) for k, v in record.items()} for record in edited.to_dict("records")
    ]


def counted_ui(base, rows: list[dict], alpha: float, resolution: int):
    """(generation, report, error) of the edit, or of the last valid edit with the error said."""
    try:
        generation = generation_from_rows(base, rows)
        report = count_generation(generation, alpha, resolution)
        check_resolution(report, rows)
        st.session_state["lab_valid"] = rows
        return generation, report, None
    except mc.ConfigError as exc:
        error = error_text(exc)
        st.error(t("lab_invalid", error=error))
        generation = generation_from_rows(base, st.session_state["lab_valid"])
        return generation, count_generation(generation, alpha, resolution), error


def totals_ui(base, report, alpha: float, resolution: int, error: str | None) -> None:
    reference = mc.count(base.name, alpha, resolution)
    cols = st.columns(3)
    cols[0].metric(
        t("params"), exact(report.params), f"{report.params - reference.params:+,}", delta_color="off"
    )
    cols[1].metric(t("macs"), exact(report.macs), f"{report.macs - reference.macs:+,}", delta_color="off")
    rows = len(st.session_state["lab_valid"])
    cols[2].metric(t("lab_blocks"), f"{len(report.blocks) - 2} · {rows} {t('lab_rows')}")
    st.caption(
        t("lab_against", model=base.title, alpha=alpha, res=resolution)
        + (" · " + t("lab_showing_valid") if error else "")
    )


def per_block_chart_ui(sel, report) -> None:
    chart_labels = {m: t("chart_" + m) for m in ("macs", "params")}  # fixed now, not read later
    measure = st.radio(
        t("lab_chart_of"),
        list(chart_labels),
        horizontal=True,
        key="lab_chart_of",
        format_func=chart_labels.get,
    )
    values = [getattr(b, measure) for b in report.blocks]
    unit = "MACs" if measure == "macs" else t("params")
    fig = go.Figure(
        go.Bar(
            x=[b.name for b in report.blocks],
            y=values,
            customdata=[f"{v:,}" for v in values],
            hovertemplate=f"%{{x}}<br>%{{customdata}} {unit}<extra></extra>",
        )
    )
    fig.update_layout(title=t("chart_" + measure), xaxis_tickangle=-60)
    show_figure(fig, file_stem(sel, "fig"), key="lab_macs", height=320)


def share_ui(base) -> str:
    """Save the edit as a file, or as a link; returns the link's token."""
    valid_rows = st.session_state["lab_valid"]
    cols = st.columns(2)
    cols[0].download_button(t("lab_save"), to_json(base.name, valid_rows), f"custom_{base.name}.json",
                            "application/json", on_click="ignore", key="lab_save")  # fmt: skip
    token = to_url_token(base.name, valid_rows)
    if len(token) <= 1800:
        cols[1].code(f"?lab={token}", language=None, wrap_lines=True)  # no scrolled region (WCAG 2.1.1)
    else:
        cols[1].caption(t("lab_too_long"))
    return token


def benchmark_ui(sel, generation, report, bench_key: tuple) -> None:
    """Build and time the edit on this machine; each block's share of the MACs against its share
    of the measured time."""
    _, alpha, resolution = bench_key
    if st.button(t("lab_benchmark"), key="lab_benchmark"):
        with st.spinner(t("lab_benchmarking")):
            module = build_generation(generation, alpha, resolution)
            runner = FastModel(module, isolated=True)  # the class goes on meanwhile
            latency = median_latency_ms(runner, resolution, runs=10, warmup=1)
            per_block = measure_layer_times(module, report, runs=10, warmup=2).by_block(report)
            # plain values only: the session keeps them, never the module
            st.session_state["lab_bench"] = {
                "key": bench_key,
                "ms": latency,
                "backend": runner.backend,
                "params": sum(p.numel() for p in module.parameters()),
                "per_block": per_block,
            }
            del module, runner
    bench = st.session_state.get("lab_bench")
    if not bench or bench["key"] != bench_key:
        return
    st.success(t("lab_latency", ms=bench["ms"], backend=bench["backend"], params=bench["params"]))
    shares = block_shares(report, bench["per_block"])
    names = list(shares)
    share = go.Figure()
    share.add_trace(
        go.Bar(x=names, y=[shares[n][0] for n in names], name=t("mac_share"), marker_color="#7f7f7f")
    )
    share.add_trace(go.Bar(x=names, y=[shares[n][1] for n in names], name=t("measured_time_share"),
                           marker_color="#d62728"))  # fmt: skip
    share.update_layout(
        title=t("lab_time_vs_macs"), barmode="group", yaxis_tickformat=".0%", xaxis_tickangle=-60
    )
    show_figure(share, file_stem(sel, "fig"), key="lab_time_share", height=340)
    st.caption(t("lab_time_vs_macs_note"))

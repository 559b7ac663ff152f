"""Layer graph: block level by default, one block or every block at layer level."""

import streamlit as st

from app.common import (
    device_picker,
    file_stem,
    graph_downloads,
    has_dot,
    page_title,
    render_dot,
    report_for,
    show_graph,
    title_line,
)
from app.graph_viewer import graph_viewer
from app.i18n import graph_words, t, viewer_words
from app.present import presenting
from app.state import current_selection, remember_choice, url_choice
from mobilenet_core.graph import layer_graph, node_details, node_id
from mobilenet_core.latency import estimate_latency


def graph_page():
    """Draw the graph view for the shared selection; returns that selection."""
    sel = current_selection()
    report = report_for(sel)

    page_title(f"{t('page_graph')} · {title_line(sel)}")
    cols = st.columns([2, 2, 3])
    # labels fixed now: a format_func must not read the language later, outside the run
    level_labels = {v: t(f"level_{v}") for v in ("blocks", "layers", "one")}
    url_choice(
        "detail", list(level_labels), state_key="graph_level"
    )  # survives a reload and a language switch
    level = cols[0].radio(
        t("graph_level"), list(level_labels), horizontal=True, key="graph_level", format_func=level_labels.get
    )
    remember_choice("detail", level)
    fold = cols[1].toggle(t("fold"), value=True, key="graph_fold", disabled=level == "layers")
    expand: list[str] | str = []
    if level == "layers":
        expand = "all"
    elif level == "one":
        names = [b.name for b in report.blocks if b.name.startswith("blocks.")]
        variants = {b.name: b.variant for b in report.blocks}
        url_choice("block", names, state_key="graph_block")
        choice = cols[2].selectbox(
            t("expand_which"), names, key="graph_block", format_func=lambda n: f"{n} · {variants[n]}"
        )
        remember_choice("block", choice)
        expand = [choice]

    color_labels = {"type": t("color_block_type"), "time": t("color_time")}
    color_cols = st.columns([2, 3])
    color_by = color_cols[0].radio(
        t("color_by"), list(color_labels), horizontal=True, key="graph_color", format_func=color_labels.get
    )
    time_share = None
    if color_by == "time":
        device = device_picker("graph_device", custom=False, container=color_cols[1])
        estimate = estimate_latency(report, device)
        time_share = {block: ms / estimate.ms for block, ms in estimate.by_block().items()}
    dot = layer_graph(
        report, title=title_line(sel), fold=fold, expand=expand, words=graph_words(), time_share=time_share
    )
    st.caption(t("graph_help"))
    details = node_details(report, words=graph_words(), fold=fold and level != "layers")
    block_details_ui(report, details)  # above the graph: a click's details are on the first screen
    if has_dot():
        graph_viewer(
            render_dot(dot, "svg").decode(),
            details,
            viewer_words(),
            key="graph_viewer",
            height=780 if presenting() else 620,
            selected=st.session_state.get("graph_selected_node"),
            on_select=lambda node: _clicked(node, details),
        )
    else:
        show_graph(dot)  # without Graphviz's dot: the browser lays the graph out, without pan and zoom
    graph_downloads(dot, file_stem(sel, "graph"), key="graph")
    return sel


def block_details_ui(report, details: dict[str, dict]) -> str:
    """The selected block (clicked in the graph, found by search, or picked here): its details in
    one line, and a way to its anatomy. Returns the block's name."""
    blocks = [b.name for b in report.blocks]
    if st.session_state.get("graph_details_block") not in blocks:
        st.session_state["graph_details_block"] = blocks[len(blocks) // 2]
    detail_cols = st.columns([2, 5, 2], vertical_alignment="bottom")
    picked = detail_cols[0].selectbox(t("graph_pick"), blocks, key="graph_details_block", on_change=_picked)
    detail_cols[1].markdown(f"**{details[node_id(picked)]['text']}**")
    if picked.startswith("blocks.") and detail_cols[2].button(t("open_in_anatomy"), key="graph_to_anatomy"):
        st.session_state["anatomy_block"] = picked
        st.session_state["anatomy_source"] = "model"
        st.switch_page("views/anatomy.py")
    return picked


def _clicked(node: str | None, details: dict[str, dict]) -> None:
    """A node clicked or found in the graph (a callback: before the run draws the details)."""
    if node and node in details:
        st.session_state["graph_selected_node"] = node
        st.session_state["graph_details_block"] = details[node]["block"]


def _picked() -> None:
    """A block picked in the list is selected (and centred) in the graph too."""
    st.session_state["graph_selected_node"] = node_id(st.session_state["graph_details_block"])

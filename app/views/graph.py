"""Layer graph: block level by default, one block or every block at layer level."""

import streamlit as st

from app.common import device_picker, file_stem, graph_downloads, report_for, show_graph, title_line
from app.i18n import graph_words, t
from app.state import current_selection, remember_choice, url_choice
from mobilenet_core.graph import layer_graph
from mobilenet_core.latency import estimate_latency

sel = current_selection()
report = report_for(sel)

st.subheader(f"{t('page_graph')} · {title_line(sel)}")
cols = st.columns([2, 2, 3])
# labels fixed now: a format_func must not read the language later, outside the run
level_labels = {v: t(f"level_{v}") for v in ("blocks", "layers", "one")}
url_choice("detail", list(level_labels), state_key="graph_level")  # survives a reload and a language switch
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
color_by = color_cols[0].radio(t("color_by"), list(color_labels), horizontal=True, key="graph_color",
                               format_func=color_labels.get)  # fmt: skip
time_share = None
if color_by == "time":
    device = device_picker("graph_device", custom=False, container=color_cols[1])
    estimate = estimate_latency(report, device)
    time_share = {block: ms / estimate.ms for block, ms in estimate.by_block().items()}
dot = layer_graph(report, title=title_line(sel), fold=fold, expand=expand, words=graph_words(),
                  time_share=time_share)  # fmt: skip
st.caption(t("graph_help"))
show_graph(dot)
graph_downloads(dot, file_stem(sel, "graph"), key="graph")

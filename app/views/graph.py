"""Layer graph: block level by default, one block or every block at layer level."""

import streamlit as st

from app.common import file_stem, graph_downloads, report_for, show_graph, title_line
from app.i18n import current_language, graph_words, t
from app.state import current_selection
from mobilenet_core.graph import layer_graph

sel = current_selection()
report = report_for(sel)

st.subheader(f"{t('page_graph')} · {title_line(sel)}")
cols = st.columns([2, 2, 3])
# labels fixed now: a format_func must not read the language later, outside the run
level_labels = {v: t(f"level_{v}") for v in ("blocks", "layers", "one")}
level = cols[0].radio(
    t("graph_level"),
    ["blocks", "layers", "one"],
    horizontal=True,
    key=f"graph_level_{current_language()}",
    format_func=level_labels.get,
)
fold = cols[1].toggle(t("fold"), value=True, key="graph_fold", disabled=level == "layers")
expand: list[str] | str = []
if level == "layers":
    expand = "all"
elif level == "one":
    names = [b.name for b in report.blocks if b.name.startswith("blocks.")]
    variants = {b.name: b.variant for b in report.blocks}
    choice = cols[2].selectbox(
        t("expand_which"), names, key="graph_block", format_func=lambda n: f"{n} · {variants[n]}"
    )
    expand = [choice]

dot = layer_graph(report, title=title_line(sel), fold=fold, expand=expand, words=graph_words())
st.caption(t("graph_help"))
show_graph(dot)
graph_downloads(dot, file_stem(sel, "graph"), key="graph")

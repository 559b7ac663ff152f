"""Block anatomy: a block of the current model (or of the design lab's edited architecture) drawn
with its real shapes, next to what it replaces, and the papers' cost formulas computed with its
numbers."""

import streamlit as st

import mobilenet_core as mc
from app.common import (
    exact,
    file_stem,
    graph_downloads,
    lab_generation,
    page_title,
    report_for,
    show_graph,
    title_line,
)
from app.i18n import error_text, graph_words, t
from app.state import current_selection, remember_choice, url_choice
from mobilenet_core import anatomy
from mobilenet_core.anatomy import (
    block_diagram,
    bottleneck_diagram,
    scaling_terms,
    separable_saving,
    standard_conv_diagram,
    uib_variants_of,
)
from mobilenet_core.api import count_generation
from mobilenet_core.blocktypes import REGISTRY
from mobilenet_core.rules import nearest_resolution


def anatomy_page():
    """Draw the anatomy view for the shared selection; returns that selection."""
    sel = current_selection()
    generation, report, resolution = source_ui(sel)
    stem = ("custom_" if generation is not sel.generation else "") + file_stem(sel, "")
    page_title(f"{t('page_anatomy')} · {title_line(sel).replace(sel.generation.title, generation.title, 1)}")
    block = block_ui(report)
    drawn = REGISTRY[block.kind].anatomy  # which counterpart and formulas this block type has
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{t('this_block')}**")
        dot = block_diagram(block, title=f"{block.name} · {block.variant}", words=graph_words())
        show_graph(dot)
        graph_downloads(dot, stem + block.name.replace(".", "_"), key="anatomy_block_dl")
    with right:
        counterpart_ui(block, drawn, generation, sel.alpha, resolution, stem)
    formulas_ui(block, drawn)
    scaling_ui(generation, report)
    return sel


def source_ui(sel):
    """(generation, report, resolution): the selected model, or the design lab's edit of it."""
    generation, report, resolution = sel.generation, report_for(sel), sel.resolution
    lab = lab_generation()
    if lab is None:
        return generation, report, resolution
    # no widget key: the choice is kept in "anatomy_source" across pages (the lab's button sets it)
    sources = ["model", "lab"]
    source = st.radio(
        t("anatomy_source"),
        sources,
        horizontal=True,
        index=sources.index(st.session_state.get("anatomy_source", "model")),
        format_func={"model": sel.generation.title, "lab": t("anatomy_lab", base=lab.title)}.get,
    )
    st.session_state["anatomy_source"] = source
    if source == "lab":
        try:
            # a lab built on another model counts at the nearest size its own base accepts
            lab_resolution = nearest_resolution(lab, sel.resolution)
            return lab, count_generation(lab, sel.alpha, lab_resolution), lab_resolution
        except mc.ConfigError as exc:
            st.warning(t("anatomy_lab_unusable", error=error_text(exc)))
    return generation, report, resolution


def block_ui(report):
    """The block to dissect (kept in the link); by default the first with a counterpart."""
    candidates = [b for b in report.blocks if b.name.startswith("blocks.")]
    by_name = {b.name: b for b in candidates}
    family = {b.name: REGISTRY[b.kind].anatomy for b in candidates}
    default = next(
        (b.name for b in candidates if family[b.name] != "plain" and b.residual),
        next((b.name for b in candidates if family[b.name] != "plain"), candidates[0].name),
    )
    url_choice("block", list(by_name), default=default, state_key="anatomy_block")  # a reload keeps the block
    name = st.selectbox(
        t("pick_block"),
        list(by_name),
        key="anatomy_block",
        format_func=lambda n: (
            f"{n} · {by_name[n].variant} · {by_name[n].in_channels}→"
            f"{by_name[n].out_channels} · {by_name[n].out_height}×{by_name[n].out_width}"
        ),
    )
    remember_choice("block", name)
    return by_name[name]


def counterpart_ui(block, drawn: str, generation, alpha: float, resolution: int, stem: str) -> None:
    """What the block replaces (a standard conv, a classic bottleneck), or UIB's variants, counted."""
    if drawn == "separable":
        st.markdown(f"**{t('counterpart')}** — {t('counterpart_ds')}")
        other = standard_conv_diagram(block, words=graph_words())
        show_graph(other)
        graph_downloads(other, stem + "standard_conv", key="anatomy_other_dl")
    elif drawn == "bottleneck":
        st.markdown(f"**{t('counterpart')}**")
        st.caption(t("counterpart_ir"))
        other = bottleneck_diagram(block, words=graph_words())
        show_graph(other)
        graph_downloads(other, stem + "bottleneck", key="anatomy_other_dl")
    elif drawn == "variants":
        uib_variants_ui(block, generation, alpha, resolution)
    elif drawn == "attention":
        st.info(t("mqa_note"))


def uib_variants_ui(block, generation, alpha: float, resolution: int) -> None:
    st.markdown(f"**{t('uib_variants')}**")
    rows = uib_variants_of(generation, alpha, resolution, block.name)
    st.table(
        {
            t("col_variant"): [r.variant + (" ◀" if r.variant == block.variant else "") for r in rows],
            t("col_kernel_uib"): [r.kernel for r in rows],
            t("col_params"): [exact(r.params) for r in rows],
            t("col_macs"): [exact(r.macs) for r in rows],
        }
    )
    picked = st.radio(
        "variant", [r.variant for r in rows], horizontal=True, key="uib_variant", label_visibility="collapsed"
    )
    variant_row = next(r for r in rows if r.variant == picked)
    title = f"{picked} · {variant_row.in_channels}→{variant_row.out_channels}"
    show_graph(block_diagram(variant_row, title=title, words=graph_words()))


def formulas_ui(block, drawn: str) -> None:
    """The papers' cost formulas of this block type, with the block's own numbers."""
    st.markdown(f"## {t('formulas')}")
    formulas = REGISTRY[block.kind].formulas
    if formulas:
        terms = getattr(anatomy, formulas)(block)
    else:
        terms = []
        st.caption(t("no_formula"))
    for term in terms:
        value = f"{term.value:.4f}" if term.key == "ratio" else exact(int(term.value))
        st.markdown(f"**{t('cost_' + term.key)}**")
        st.latex(f"{term.formula} = {term.substituted} = {value}")
    if drawn == "separable":
        separable, standard, ratio = separable_saving(terms)
        st.caption(f"{separable:,.0f} / {standard:,.0f} = {ratio:.4f}")


def scaling_ui(generation, report) -> None:
    st.markdown(f"## {t('scaling')}")
    reference = count_generation(generation, 1.0, generation.base_resolution)  # rho of the shown generation
    for term in scaling_terms(report, reference):
        st.markdown(f"**{t('cost_' + term.key)}**")
        st.latex(f"{term.formula} = {term.substituted} = {term.value:.4f}")
    st.caption(t("scaling_note"))

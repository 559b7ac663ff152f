"""Overview: exact totals, deltas, the MAC convention, published figures, the block table."""

import functools

import streamlit as st

import mobilenet_core as mc
from app.common import (
    block_table,
    delta,
    exact,
    file_stem,
    kib,
    layer_table,
    number_column_config,
    report_for,
    short,
    title_line,
)
from app.figures import shared_table
from app.i18n import current_language, t
from app.state import current_selection
from mobilenet_core.published import find_published, published_figures
from mobilenet_core.registry import weights_for


def checkpoint_words(entry) -> str:
    """Where a checkpoint's top-1 comes from, in the interface's language (the library's
    checkpoint_source says it in English)."""
    if entry.layout == "torchvision":
        return t("source_torchvision")
    return t("source_timm", name=entry.name)


def overview_page():
    """Draw the overview view for the shared selection; returns that selection."""
    sel = current_selection()
    report = report_for(sel)
    st.title(t("app_title"))
    st.header(title_line(sel))  # h2 under the h1 (axe heading-order: an h3 skipped a level)
    totals_ui(sel, report)
    published_ui(sel)
    convention_ui(report)
    blocks_ui(sel)
    return sel


def totals_ui(sel, report) -> None:
    """Exact params, MACs, FLOPs and activations, each with its change from α 1 at the base size."""
    reference = mc.count(sel.model, 1.0, sel.base)
    # four in a row; V5's twelve-digit MACs and FLOPs would be cut off there, so two rows of two
    cols = st.columns(4) if len(exact(report.flops)) <= 13 else [*st.columns(2), *st.columns(2)]
    for col, name in zip(cols, ("params", "macs", "flops")):
        value, base = getattr(report, name), getattr(reference, name)
        col.metric(t(name), exact(value), delta(value, base), delta_color="off", help=short(value))
    cols[3].metric(
        t("activations"),
        kib(report.activation_elements),
        help=t("activations_help", peak=kib(report.peak_activation_elements)),
    )
    last, outputs = report.blocks[-2], report.blocks[-1].out_channels  # classes, or features (an encoder)
    st.caption(
        t("delta_caption", model=sel.generation.title, base=sel.base)
        + f" · {t('output_shape')}: {last.out_channels}×{last.out_height}×{last.out_width} → {outputs}"
    )


def published_ui(sel) -> None:
    """The published top-1 with its source (the paper, and the checkpoints' own cards), or why not."""
    published = find_published(sel.model, sel.alpha, sel.resolution)
    st.markdown(f"**{t('published_top1')}**")
    if published:
        st.success(t("published_row", top1=published.top1, macs=published.macs_millions,
                     params=published.params_millions, source=published.source))  # fmt: skip
    checkpoints = [e for e in weights_for(sel.model, sel.alpha, sel.resolution) if e.top1 is not None]
    for entry in checkpoints:  # a second source: the published checkpoints' own cards
        st.success(t("checkpoint_top1", top1=entry.top1, name=entry.name, source=checkpoint_words(entry)))
    if not published and not checkpoints:
        configs = ", ".join(
            f"α {f.alpha:g} @ {f.resolution}" for f in published_figures() if f.model == sel.model
        )
        if sel.generation.family == "V5":  # no paper and no ImageNet table: say where V5 comes from
            st.info(t("published_none_v5"))
        else:
            st.info(t("published_none", configs=configs or "—"))


def convention_ui(report) -> None:
    """What a MAC is here, and what other tools report for the same network."""
    with st.expander(t("mac_convention_title"), expanded=False):
        st.markdown(t("mac_convention"))
        st.markdown(f"**{t('other_tools')}**")
        key = ("tools", report.model, report.alpha, report.resolution)
        # one conversion for everyone; hide_index given, or st.table converts the Arrow table back
        # to pandas on every run to find out whether the index is a plain range
        st.table(shared_table(key, lambda: tools_table(report)), hide_index=True)


def tools_table(report) -> dict:
    attention = report.attention_macs
    return {
        t("tool"): ["MobileNet Explorer", "torchinfo", "fvcore", "thop / ptflops"],
        t("reports"): [
            exact(report.macs),
            exact(report.torchinfo_mult_adds),
            "≈ " + exact(report.fvcore_macs),
            "> " + exact(report.thop_macs),
        ],
        t("why"): [
            t("tool_ours"),
            t("tool_torchinfo", attn=exact(attention)),
            t("tool_fvcore", bn=exact(report.norm_output_elements)),
            t("tool_thop", attn=exact(attention)),
        ],
    }


def blocks_ui(sel) -> None:
    """The block table, and both tables as CSV (written when clicked, not on every run)."""
    st.markdown(f"### {t('blocks_table')}")
    # the frame when it is needed: its first conversion, a click on its CSV (st.cache_data hands
    # out an unpickled copy on every call: 7 % of an Overview run, cProfile, issue 24)
    table = functools.partial(block_table, sel.model, sel.alpha, sel.resolution, current_language())
    # drawn from Arrow converted once for everyone (app.figures.shared_table); the CSV from the frame
    st.dataframe(
        shared_table(("blocks", sel.model, sel.alpha, sel.resolution), table),
        height="content",
        hide_index=True,
        width="stretch",
        column_config={
            **number_column_config([t("col_params"), t("col_macs")]),
            t("col_type"): st.column_config.TextColumn(t("col_type"), width="medium"),
        },  # "Mobile MQA"
    )
    buttons = st.columns(2)
    buttons[0].download_button(t("download_csv"), lambda: table().to_csv(index=False).encode(),
                               f"{file_stem(sel, 'blocks')}.csv", "text/csv", on_click="ignore",
                               key="blocks_csv")  # fmt: skip
    buttons[1].download_button(
        t("download_layers_csv"),
        lambda: layer_table(sel.model, sel.alpha, sel.resolution).to_csv(index=False).encode(),
        f"{file_stem(sel, 'layers')}.csv",
        "text/csv",
        on_click="ignore",
        key="layers_csv",
    )

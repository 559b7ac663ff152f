"""Diff: two configurations block by block (issue 25).

The stages of A and B aligned by output stride, what the design changed in each row, where the
parameters, MACs and estimated latency went (a waterfall per measure), the two networks side by
side in one picture, and the whole diff exported as one SVG or PNG in the page's language. Both
configurations live in the link (?a=v2&alpha_a=1.0&res_a=224&b=v3_large&...), so a link
reproduces the view. Every number comes from mobilenet_core.diff.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import mobilenet_core as mc
from app.common import device_title, exact, has_dot, lab_generation, page_title, render_dot, show_figure
from app.graph_viewer import graph_viewer
from app.i18n import graph_words, t, viewer_words
from app.state import current_selection, held_index, set_link
from mobilenet_core.api import count_generation
from mobilenet_core.diff import (
    WATERFALL,
    WORDS,
    Diff,
    config_label,
    diff,
    diff_graph,
    export_png,
    export_svg,
    graph_details,
    share_text,
    waterfall_steps,
)
from mobilenet_core.latency import DEVICE_NAMES, get_device, paper_devices
from mobilenet_core.rules import ALPHA_MAX, ALPHA_MIN, nearest_resolution, resolution_range

LAB = "lab"  # the model choice that stands for this session's design-lab edit
# the one-click pairs: each generation against the one that followed it
PAIRS = (
    ("v1", "v2"),
    ("v2", "v3_large"),
    ("v3_large", "v4_conv_medium"),
    ("v4_conv_medium", "v4_hybrid_medium"),
    ("v4_conv_large", "v5_base"),
)
NEXT = dict(PAIRS)
SIDES = ("a", "b")


@dataclass(frozen=True)
class Choice:
    """One side of the diff as the user chose it: a model (or LAB), alpha and resolution."""

    model: str
    alpha: float
    resolution: int


def diff_page():
    """Draw the diff view; returns the two configurations it shows."""
    sel = current_selection()
    page_title(t("page_diff"))
    st.caption(t("diff_intro"))
    lab = lab_generation()
    pairs_ui(lab, sel)
    choices = configurations_ui(sel, lab)
    device = device_ui()
    reports = [side_report(c, lab) for c in choices]
    if None in reports:
        return choices
    d = diff_of(reports, choices, device, lab)
    summary_ui(d)
    diff_table_ui(d)
    waterfall_ui(d)
    words = diff_words()
    graph_ui(d, words)
    export_ui(d, words, choices)
    return choices


def diff_words() -> dict[str, str]:
    """The library's words for tables and pictures, in the page's language."""
    return {**(graph_words() or {}), **{key: t(f"diffword_{key}") for key in WORDS}}


# --- the two configurations: from the link once, then from the widgets ----------------------------


def _base(model: str, lab) -> int:
    return (lab if model == LAB and lab else mc.get_generation(model)).base_resolution


def _generation(model: str, lab):
    return lab if model == LAB else mc.get_generation(model)


def _set_side(side: str, model: str, alpha: float, resolution: int) -> None:
    st.session_state[f"diff_model_{side}"] = model
    st.session_state[f"diff_alpha_{side}"] = float(alpha)
    st.session_state[f"diff_res_{side}"] = int(resolution)


def _from_link(side: str, default: Choice, lab) -> Choice:
    """The link's configuration for `side` (a, b), or `default` with a notice when it is invalid."""
    query = st.query_params
    model = query.get(side, default.model)
    notices = st.session_state.setdefault("diff_notices", [])
    if model == LAB and lab is None:
        notices.append(t("diff_lab_gone", model=mc.get_generation(default.model).title))
        return default
    if model != LAB and model not in mc.list_models():
        notices.append(t("invalid_query", name=side, value=model))
        return default
    generation = _generation(model, lab)
    alpha, resolution = 1.0, generation.base_resolution
    try:
        alpha = float(query.get(f"alpha_{side}", 1.0))
        if not ALPHA_MIN <= alpha <= ALPHA_MAX:
            raise ValueError
    except ValueError:
        notices.append(t("invalid_query", name=f"alpha_{side}", value=query.get(f"alpha_{side}")))
        alpha = 1.0
    try:
        resolution = int(query.get(f"res_{side}", generation.base_resolution))
        low, high = resolution_range(generation)
        if not low <= resolution <= high:
            raise ValueError
    except ValueError:
        notices.append(t("invalid_query", name=f"res_{side}", value=query.get(f"res_{side}")))
        resolution = generation.base_resolution
    return Choice(model, round(alpha, 2), resolution)


def _lab_choice(sel, lab) -> Choice:
    # the lab counts at the selection's alpha and at the nearest resolution its base accepts
    return Choice(LAB, sel.alpha, nearest_resolution(lab, sel.resolution))


def _first_visit(sel, lab) -> None:
    """Starting values, once per session: the link's, else the sidebar's model against the one
    that followed it."""
    a = Choice(sel.model, sel.alpha, sel.resolution)
    b_model = NEXT.get(sel.model, "v2" if sel.model != "v2" else "v3_large")
    b = Choice(b_model, 1.0, mc.get_generation(b_model).base_resolution)
    for side, default in zip(SIDES, (a, b)):
        linked = any(k in st.query_params for k in (side, f"alpha_{side}", f"res_{side}"))
        choice = _from_link(side, default, lab) if linked else default
        _set_side(side, choice.model, choice.alpha, choice.resolution)


def _pick_pair(a: str, b: str) -> None:
    for side, model in zip(SIDES, (a, b)):
        _set_side(side, model, 1.0, mc.get_generation(model).base_resolution)


def _pick_lab(sel) -> None:
    lab = lab_generation()
    base = st.session_state["lab_base"]
    choice = _lab_choice(sel, lab)
    _set_side("a", base, choice.alpha, choice.resolution)
    _set_side("b", LAB, choice.alpha, choice.resolution)


def _swap() -> None:
    a = [st.session_state[f"diff_{k}_a"] for k in ("model", "alpha", "res")]
    b = [st.session_state[f"diff_{k}_b"] for k in ("model", "alpha", "res")]
    _set_side("a", *b)
    _set_side("b", *a)


def _on_model_change(side: str) -> None:
    model = st.session_state[f"diff_model_{side}"]
    st.session_state[f"diff_res_{side}"] = _base(model, lab_generation())


def pairs_ui(lab, sel) -> None:
    """The useful pairs, one click each, and the swap."""
    with st.container(horizontal=True, key="diff_pairs"):
        st.markdown(t("diff_pairs"))
        for a, b in PAIRS:
            label = f"{_short_title(a)} → {_short_title(b)}"
            st.button(label, key=f"diff_pair_{a}_{b}", on_click=_pick_pair, args=(a, b))
        st.button(t("diff_pair_lab"), key="diff_pair_lab", on_click=_pick_lab, args=(sel,),
                  disabled=lab is None, help=t("diff_pair_lab_help"))  # fmt: skip
        st.button(t("diff_swap"), key="diff_swap", on_click=_swap, icon=":material/swap_horiz:")


def _short_title(model: str) -> str:
    return mc.get_generation(model).title.removeprefix("MobileNet")


def configurations_ui(sel, lab) -> tuple[Choice, Choice]:
    """A's and B's model, alpha and resolution side by side; written to the link."""
    if "diff_model_a" not in st.session_state:
        _first_visit(sel, lab)
    for notice in st.session_state.pop("diff_notices", []):
        st.warning(notice)
    models = mc.list_models() + ([LAB] if lab is not None else [])
    choices = []
    for side, column in zip(SIDES, st.columns(2)):
        if st.session_state[f"diff_model_{side}"] not in models:  # the lab edit is gone
            _set_side(side, "v2", 1.0, 224)
        with column:
            st.markdown(f"**{t('diff_side', side=side.upper())}**")
            key = f"diff_model_{side}"
            model = st.selectbox(t("model"), models, index=held_index(models, key), key=key,
                                 on_change=_on_model_change, args=(side,),
                                 format_func=lambda m: _model_title(m, lab))  # fmt: skip
            left, right = st.columns(2, gap="small")
            alpha = left.number_input(t("alpha"), ALPHA_MIN, ALPHA_MAX, step=0.05, key=f"diff_alpha_{side}",
                                      format="%.2f")  # fmt: skip
            resolution = right.number_input(t("resolution"), 32, 1536, step=32, key=f"diff_res_{side}")
        choice = Choice(model, round(float(alpha), 2), int(resolution))
        choices.append(choice)
        set_link(side, choice.model)
        set_link(f"alpha_{side}", f"{choice.alpha:g}")
        set_link(f"res_{side}", choice.resolution)
    return choices[0], choices[1]


def _model_title(model: str, lab) -> str:
    if model == LAB:
        return t("diff_lab_option", base=mc.get_generation(st.session_state["lab_base"]).title)
    return mc.get_generation(model).title


def side_report(choice: Choice, lab):
    """The choice's counts, or None (and the reason on the page) when the resolution is outside
    what the model takes."""
    generation = _generation(choice.model, lab)
    low, high = resolution_range(generation)
    if not low <= choice.resolution <= high:
        st.error(t("cmp_res_range", model=generation.title, low=low, high=high, res=choice.resolution))
        return None
    if choice.model == LAB:
        return count_generation(lab, choice.alpha, choice.resolution)
    return mc.count(choice.model, choice.alpha, choice.resolution)


@st.cache_resource(show_spinner=False)
def _host_device():
    return get_device("host")


def device_ui():
    """The device the latency is estimated on: the V4 paper's four (INT8) or this machine."""
    devices = paper_devices()
    names = list(DEVICE_NAMES)
    if st.session_state.get("diff_device") not in names:
        linked = st.query_params.get("device")
        st.session_state["diff_device"] = linked if linked in names else names[0]
    labels = {n: t("device_host") if n == "host" else f"{devices[n].title} ({devices[n].precision.upper()})"
              for n in names}  # fmt: skip
    name = st.selectbox(t("device"), names, key="diff_device", format_func=labels.get, width=360)
    set_link("device", name)
    if name == "host":
        with st.spinner(t("diff_host_measuring")):
            return _host_device()
    return devices[name]


@st.cache_resource(show_spinner=False, max_entries=64)
def _diff_cached(a: tuple, b: tuple, device_name: str, _device) -> Diff:
    # shared by every session, read only (a Diff is frozen)
    return diff(a, b, _device)


def diff_of(reports, choices, device, lab) -> Diff:
    if LAB in (c.model for c in choices):  # an edit is this session's own: not cached for all
        base = lab.title.removesuffix(" (edited)")
        labels = tuple(
            t("diff_lab_label", base=base, alpha=f"{c.alpha:g}", res=c.resolution) if c.model == LAB
            else config_label(r)
            for c, r in zip(choices, reports)
        )  # fmt: skip
        return diff(reports[0], reports[1], device, labels=labels)
    a, b = ((c.model, c.alpha, c.resolution) for c in choices)
    return _diff_cached(a, b, device.name, device)


# --- what the page shows ---------------------------------------------------------------------------


def summary_ui(d: Diff) -> None:
    """B's totals with the difference from A."""
    cols = st.columns(3)
    cols[0].metric(t("params"), exact(d.b.report.params), f"{d.d_params:+,}", delta_color="off",
                   help=f"A: {exact(d.a.report.params)}")  # fmt: skip
    cols[1].metric(t("macs"), exact(d.b.report.macs), f"{d.d_macs:+,}", delta_color="off",
                   help=f"A: {exact(d.a.report.macs)}")  # fmt: skip
    cols[2].metric(f"{t('diff_latency')} (ms)", f"{d.b.ms:.3f}", f"{d.d_ms:+.3f}", delta_color="off",
                   help=t("diff_latency_help", device=device_title(d.device)))  # fmt: skip
    st.caption(f"A: {d.a.label}  →  B: {d.b.label}")


def diff_table_ui(d: Diff) -> None:
    """The aligned rows, changed ones shaded."""
    words = diff_words()
    st.markdown(f"**{t('diff_table_title')}**")
    rows = []
    for r in d.rows:
        rows.append({
            t("diff_col_row"): r.label(words),
            t("diff_col_a"): f"{r.a.size} {r.a.text}".strip() or words["none_here"],
            t("diff_col_b"): f"{r.b.size} {r.b.text}".strip() or words["none_here"],
            t("diff_col_changed"): "; ".join(c.words(words) for c in r.changes),
            t("diff_col_params"): f"{exact(r.a.params)} → {exact(r.b.params)}",
            t("diff_col_d_params"): f"{r.d_params:+,}" + share_text(d.share(r, "params")),
            t("diff_col_macs"): f"{exact(r.a.macs)} → {exact(r.b.macs)}",
            t("diff_col_d_macs"): f"{r.d_macs:+,}" + share_text(d.share(r, "macs")),
            t("diff_col_ms"): f"{r.a.ms:.3f} → {r.b.ms:.3f}",
            t("diff_col_d_ms"): f"{r.d_ms:+.3f}" + share_text(d.share(r, "ms")),
        })  # fmt: skip
    frame = pd.DataFrame(rows)
    changed = [r.changed for r in d.rows]
    styled = frame.style.apply(
        lambda row: ["background-color: #fff3cd" if changed[row.name] else "" for _ in row], axis=1
    )
    st.table(styled, hide_index=True)
    st.caption(t("diff_changed_rows", n=len(d.changed_rows), total=len(d.rows)))


def waterfall_ui(d: Diff) -> None:
    """A's total, each row's difference, B's total: for params, MACs and latency."""
    words = diff_words()
    st.markdown(f"**{t('diff_waterfall_title')}**")
    st.caption(t("diff_waterfall_note"))
    stem = f"diff_{d.a.report.model}_{d.b.report.model}"
    for measure, column in zip(("params", "macs", "ms"), st.columns(3)):
        steps = waterfall_steps(d, measure, words)
        values = [end if kind == "total" else end - start for _, start, end, kind in steps]
        fmt = (lambda v: f"{v:.3f}") if measure == "ms" else (lambda v: exact(int(v)))
        fig = go.Figure(
            go.Waterfall(
                x=[label for label, *_ in steps],
                y=values,
                measure=["absolute"] + ["relative"] * (len(steps) - 2) + ["total"],
                increasing=dict(marker_color=WATERFALL["up"]),
                decreasing=dict(marker_color=WATERFALL["down"]),
                totals=dict(marker_color="#7f7f7f"),
                connector=dict(line=dict(color="#999999", width=1)),
                customdata=[fmt(v) for v in values],
                hovertemplate="%{x}: %{customdata}<extra></extra>",
            )
        )
        title = {"params": t("params"), "macs": t("macs"), "ms": f"{t('diff_latency')} (ms)"}[measure]
        fig.update_layout(title=title, showlegend=False, xaxis_tickangle=-45)
        show_figure(fig, f"{stem}_{measure}", key=f"diff_waterfall_{measure}", height=380, where=column,
                    margin=dict(l=10, r=10, t=50, b=10))  # fmt: skip


def graph_ui(d: Diff, words: dict) -> None:
    """A and B in one picture: matching stages at the same height, pan and zoom together."""
    st.markdown(f"**{t('diff_graph_title')}**")
    st.caption(t("diff_graph_note"))
    dot = diff_graph(d, words)
    if has_dot():
        svg = render_dot(dot, "svg").decode()
        graph_viewer(svg, graph_details(d, words), viewer_words(), key="diff_graph", height=640)
    else:
        st.graphviz_chart(dot, width="stretch")


def export_ui(d: Diff, words: dict, choices) -> None:
    """The table, the waterfalls and both networks as one SVG or a 2x PNG, rendered on click."""
    if not has_dot():
        st.caption(t("no_dot"))
        return
    stem = "diff_" + "_vs_".join(f"{c.model}_a{c.alpha:g}_r{c.resolution}" for c in choices)
    with st.container(horizontal=True, key="diff_export"):
        st.markdown(t("diff_export"))
        st.download_button(t("diff_export_svg"), lambda: export_svg(d, words), f"{stem}.svg", "image/svg+xml",
                           key="diff_export_svg", on_click="ignore", icon=":material/download:")  # fmt: skip
        st.download_button(t("diff_export_png"), lambda: export_png(d, words), f"{stem}.png", "image/png",
                           key="diff_export_png", on_click="ignore", icon=":material/download:")  # fmt: skip

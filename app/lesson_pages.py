"""The Lessons section: one function per lesson page (app/views/lessons/*.py only call them).

Each page: the lesson's text (app/lessons/<language>/<path>.md, split at `<!-- demo -->`), a live
demonstration computed by mobilenet_core.lessons on the current selection and the learner's photo,
the paper's formula with the live numbers, and the "try this" prompts. Pages hold no network
arithmetic. Widget callbacks live in this imported module, never in a page script (a page-level
function would keep that page's globals alive for the whole session).

Shared state: the networks come from app.models.MODEL_CACHE (read-only; the demos run the
modules' parts in order and register no hooks), the texts from an lru_cache of file contents.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

import mobilenet_core as mc
from app.common import exact, kib, number_column_config, short, show_figure
from app.i18n import current_language, t
from app.present import lesson_stage
from app.state import current_selection
from mobilenet_core import lessons as L
from mobilenet_core.predict import ImageError, load_image, preprocess_image
from mobilenet_core.registry import default_preprocess, weights_for
from mobilenet_core.weights import cached_file

TEXTS = Path(__file__).resolve().parent / "lessons"
SAMPLES = Path(__file__).resolve().parent.parent / "assets" / "samples"
MARKER = "<!-- demo -->"
PAGE_FILES = {path: f"views/lessons/{path.replace('-', '_')}.py" for path in L.LESSON_PATHS}
GEN_COLOURS = {"V1": "#4C78A8", "V2": "#F58518", "V3": "#54A24B", "V4": "#B279A2"}


# --- text, selection, photo -------------------------------------------------------------------------


@lru_cache(maxsize=64)
def lesson_text(path: str, language: str) -> tuple[str, str, str]:
    """(title, explanation, try-this) of a lesson in a language."""
    text = (TEXTS / language / f"{path}.md").read_text(encoding="utf-8")
    head, _, rest = text.partition("\n")
    before, _, after = rest.partition(MARKER)
    return head.lstrip("# ").strip(), before.strip(), after.strip()


def lesson_title(path: str) -> str:
    return lesson_text(path, current_language())[0]


def first_paragraphs(text: str) -> tuple[str, str]:
    """(what a lesson shows at once, what waits behind "more"): the first paragraph says the idea,
    and when it ends with a colon, what it announces (a list, a formula) comes with it."""
    blocks = text.split("\n\n")
    n = 1
    while n < len(blocks) and blocks[n - 1].rstrip().endswith((":", "：")):
        n += 1
    return "\n\n".join(blocks[:n]), "\n\n".join(blocks[n:])


def _open(path: str, fold: bool = True):
    """The lesson's title and idea; returns (path, figure, settings): the containers its
    demonstration and its settings go in (presenting, the figure comes first)."""
    title, before, _ = lesson_text(path, current_language())
    st.subheader(title)
    # the first paragraph says the idea; the rest waits behind "more" (complexity on request), so
    # the demonstration starts on the first screen of a projector
    first, rest = first_paragraphs(before) if fold else (before, "")
    st.markdown(first)
    figure, settings = lesson_stage()
    if rest.strip():
        with settings.expander(t("ls_more")):
            st.markdown(rest)
    return path, figure, settings


def _close(path: str) -> None:
    after = lesson_text(path, current_language())[2]
    st.divider()
    st.markdown(after)


def _model(path: str, runs: bool = False):
    """(model, alpha, resolution, report) the lesson runs on: the selection, or the lesson's
    fallback model (with a note) when the selection has no block of the lesson's kind. A lesson
    that `runs` the network on a photo takes a network too big to run live (V5-300M) as the
    smallest model of its family, and at a smaller input size when it is too slow; it says so."""
    sel = current_selection()
    report = mc.count(sel.model, sel.alpha, sel.resolution)
    model, alpha, res = sel.model, sel.alpha, sel.resolution
    notes = []
    if (fallback := L.lesson_model(path, report)) is not None:
        notes.append(t("ls_fallback", model=sel.generation.title, other=mc.get_generation(fallback).title))
        model, alpha = fallback, 1.0
        res = mc.get_generation(fallback).base_resolution
        report = mc.count(model, alpha, res)
    if runs and (small := L.live_model(model, alpha)) != model:
        notes.append(t("ls_live_model", model=mc.get_generation(model).title, params=f"{report.params / 1e6:,.0f}",
                       other=mc.get_generation(small).title))  # fmt: skip
        model, alpha = small, 1.0
        res = mc.get_generation(small).base_resolution
        report = mc.count(model, alpha, res)
    if runs and (live := L.live_resolution(model, alpha, res)) != res:
        notes.append(t("ls_live_resolution", model=mc.get_generation(model).title, res=res,
                       gmacs=f"{report.macs / 1e9:,.0f}", live=live))  # fmt: skip
        res = live
        report = mc.count(model, alpha, res)
    if notes:
        st.info("\n\n".join(notes))
    else:
        st.caption(t("ls_on_model", model=sel.generation.title, alpha=alpha, res=res))
    return model, alpha, res, report


def _samples() -> dict[str, Path]:
    return {p.name: p for p in sorted(SAMPLES.glob("*")) if p.suffix in (".png", ".jpg")}


def _photo(key: str = "lesson_photo", label: str | None = None):
    """The learner's photo for every lesson (kept in the session), or a bundled sample."""
    samples = _samples()
    with st.expander(label or t("ls_your_photo"), expanded=False):
        upload = st.file_uploader(
            t("ls_upload"), type=["png", "jpg", "jpeg", "webp", "bmp"], key=f"{key}_file"
        )
        if upload is not None:
            try:
                image = load_image(upload.getvalue(), upload.name)
                st.session_state[f"{key}_image"] = (upload.name, image)
            except ImageError as exc:
                st.warning(t(f"img_{exc.code}", **exc.params))
        sample = st.selectbox(t("ls_sample"), list(samples), key=f"{key}_sample")
    if upload is None or f"{key}_image" not in st.session_state:
        return sample, load_image(samples[sample])
    return st.session_state[f"{key}_image"]


def _net(model: str, alpha: float, resolution: int):
    """(module, preprocessing) the demo runs, said above its figure: the configuration's published
    weights when they are in the cache (a checkpoint someone downloaded in Classify, the
    pre-fetch command or this button), else the seeded untrained network, with a button that
    downloads the published weights where there are any."""
    from app.models import pretrained_model, untrained_model  # shared, read-only networks

    entries = weights_for(model, alpha, resolution)
    cached = [e for e in entries if cached_file(e).exists()]
    for entry in cached:
        try:
            module = pretrained_model(entry.name)[0]
        except mc.CheckpointError:
            continue  # a damaged file: the untrained network, and the download offered again
        st.success(t("ls_weights_published", name=entry.description, file=entry.name))
        return module, entry.preprocess
    if entries:
        _offer_download(entries[0])
    else:
        st.info(t("ls_weights_untrained_none"))
    return untrained_model(model, alpha, resolution)[0], default_preprocess(resolution)


def _offer_download(entry) -> None:
    from app.screens.classify import download_with_progress

    failure = st.session_state.get("download_failures", {}).get(entry.name)
    row = st.container(horizontal=True, vertical_alignment="center")
    row.info(t("ls_weights_untrained_offer", name=entry.description, mb=entry.approx_mb))
    if row.button(t("download_weights"), key=f"ls_download_{entry.name}"):
        if download_with_progress(entry):
            st.rerun()  # drawn again, on the published weights
        failure = st.session_state.get("download_failures", {}).get(entry.name)
    if failure:
        st.warning(t(f"weights_{failure}", config=entry.description, mb=entry.approx_mb))


def _tensor(image, recipe):
    return preprocess_image(image, recipe)


def _table(frame: pd.DataFrame) -> None:
    """A table with exact integers shown with thousands separators (years stay as they are)."""
    numbers = [
        c for c in frame.columns if pd.api.types.is_integer_dtype(frame[c]) and frame[c].abs().max() >= 10000
    ]
    st.dataframe(frame, hide_index=True, column_config=number_column_config(numbers))


def _figure(fig: go.Figure, name: str, height: int = 360, where=None) -> None:
    show_figure(fig, name, height=height, where=where, margin=dict(l=10, r=10, t=40, b=10),
                legend=dict(orientation="h", y=-0.18))  # fmt: skip


# --- the story ------------------------------------------------------------------------------------------


def story() -> None:
    path, _, _ = _open("lessons", fold=False)  # the story is the overview: shown whole
    rows = L.timeline()
    table = pd.DataFrame(
        [
            {
                t("ls_year"): r.year, t("model"): r.title, t("ls_paper"): r.paper, t("resolution"): r.resolution,
                t("params"): r.params, t("macs"): r.macs,
                t("top1"): f"{r.top1:.1f}" if r.top1 is not None else t("ls_no_top1"),
                t("ls_source"): r.top1_source,
            }
            for r in rows
        ]
    )  # fmt: skip
    _table(table)
    _figure(_story_figure(rows), "lessons_timeline", height=460)
    st.caption(t("ls_story_note"))
    # one link a line: three columns cut the titles ("V4 · The Universal Inverted Bottle…")
    for lesson in L.LESSONS:
        st.page_link(PAGE_FILES[lesson.path], label=f"{lesson.generation} · {lesson_title(lesson.path)}")
    _close(path)


def _story_figure(rows) -> go.Figure:
    """Published top-1 against MACs, a label beside every point: neighbours (by MACs) alternate
    above and below, and the axes leave room so that no label is cut at the edge."""
    fig = go.Figure()
    points = sorted((r for r in rows if r.top1 is not None), key=lambda r: r.macs)
    where = {r.model: ("top center" if i % 2 == 0 else "bottom center") for i, r in enumerate(points)}
    for gen in GEN_COLOURS:
        pts = [r for r in points if r.generation == gen]
        if not pts:
            continue
        fig.add_scatter(
            x=[r.macs / 1e6 for r in pts], y=[r.top1 for r in pts], mode="markers+text", name=gen,
            text=[r.title.replace("MobileNet", "") for r in pts], textposition=[where[r.model] for r in pts],
            marker=dict(size=12, color=GEN_COLOURS[gen]), cliponaxis=False,
        )  # fmt: skip
    macs = [r.macs / 1e6 for r in points]
    top1 = [r.top1 for r in points]
    fig.update_layout(title=t("ls_story_chart"), xaxis_title=t("ls_mmacs"), yaxis_title=t("top1"))
    fig.update_xaxes(type="log", range=[np.log10(min(macs) / 1.6), np.log10(max(macs) * 1.6)])
    fig.update_yaxes(range=[min(top1) - 2.5, max(top1) + 2.5])
    return fig


# --- V1: depthwise separable ---------------------------------------------------------------------------


def next_step(key: str, last: int) -> None:
    """The "next step" button of a step-through (a callback: kept here, not in a page)."""
    st.session_state[key] = min(st.session_state.get(key, 0) + 1, last)


def _window_figure(demo: L.SeparableDemo, channel: int, out_channel: int, step: int) -> go.Figure:
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.06, subplot_titles=(
        t("ls_input_channel", c=channel), t("ls_dw_out", c=channel), t("ls_pw_out", n=out_channel)))  # fmt: skip
    feats = demo.features[channel]
    fig.add_heatmap(z=feats, coloraxis="coloraxis", row=1, col=1)
    top, left, bottom, right = demo.window(step)
    fig.add_shape(type="rect", x0=left - 0.5, x1=right - 0.5, y0=top - 0.5, y1=bottom - 0.5,
                  line=dict(color="#e4002b", width=3), row=1, col=1)  # fmt: skip
    shown = np.full(demo.depthwise.shape[1:], np.nan)
    flat = shown.reshape(-1)
    flat[: step + 1] = demo.depthwise[channel].reshape(-1)[: step + 1]
    fig.add_heatmap(z=flat.reshape(shown.shape), coloraxis="coloraxis2", row=1, col=2)
    pw = np.full(demo.pointwise.shape[1:], np.nan).reshape(-1)
    pw[: step + 1] = demo.pointwise[out_channel].reshape(-1)[: step + 1]
    fig.add_heatmap(z=pw.reshape(shown.shape), coloraxis="coloraxis3", row=1, col=3)
    row, col = divmod(step, demo.depthwise.shape[2])
    for c in (2, 3):
        fig.add_scatter(x=[col], y=[row], mode="markers", marker=dict(symbol="square-open", size=14, color="#e4002b"),
                        showlegend=False, row=1, col=c)  # fmt: skip
    for c in (1, 2, 3):
        fig.update_yaxes(
            autorange="reversed", scaleanchor=f"x{'' if c == 1 else c}", showticklabels=False, row=1, col=c
        )
        fig.update_xaxes(showticklabels=False, row=1, col=c)
    fig.update_layout(coloraxis=dict(colorscale="Greys", showscale=False),
                      coloraxis2=dict(colorscale="Blues", showscale=False),
                      coloraxis3=dict(colorscale="Oranges", showscale=False))  # fmt: skip
    return fig


def separable() -> None:
    path, figure, settings = _open("lesson-separable")
    with settings:
        model, alpha, res, report = _model(path, runs=True)
        name, image = _photo()
        pairs = L.separable_pairs(report)
        blocks = list(dict.fromkeys(b for b, _, _ in pairs))
        by = {b: (dw, pw) for b, dw, pw in reversed(pairs)}
        block = st.selectbox(t("pick_block"), blocks, index=min(1, len(blocks) - 1), key="sep_block",
                             format_func=lambda b: f"{b} · {by[b][0].in_channels}→{by[b][1].out_channels} · "
                             f"{by[b][0].out_height}×{by[b][0].out_width}")  # fmt: skip
        net, recipe = _net(model, alpha, res)
    x, _ = _tensor(image, recipe)
    demo = L.separable_demo(net, x, report, block)
    c = demo.cost
    last = demo.positions - 1
    step_key = f"sep_step_{block}"
    with figure:
        cols = st.columns([4, 1, 1, 1], vertical_alignment="bottom")
        step = cols[0].slider(t("ls_step"), 0, last, key=step_key, help=t("ls_step_help"))
        cols[1].button(
            t("ls_next"), on_click=next_step, args=(step_key, last), key="sep_next", width="stretch"
        )
        channel = cols[2].number_input(t("ls_channel"), 0, c.in_channels - 1, 0, key="sep_channel")
        out_channel = cols[3].number_input(
            t("ls_out_channel"), 0, c.out_channels - 1, 0, key="sep_out_channel"
        )
        _figure(_window_figure(demo, int(channel), int(out_channel), step), f"separable_{block}", height=340)
        if demo.positions < c.out_height * c.out_width:
            st.caption(t("ls_cropped", side=demo.depthwise.shape[1], h=c.out_height, w=c.out_width))
        standard, depthwise, pointwise = demo.macs_after(step + 1)
        m = st.columns(4)
        m[0].metric(t("ls_macs_standard"), exact(standard))
        m[1].metric(t("ls_macs_depthwise"), exact(depthwise))
        m[2].metric(t("ls_macs_pointwise"), exact(pointwise))
        m[3].metric(t("ls_macs_ratio"), f"{(depthwise + pointwise) / standard:.4f}")
    patch, kernel, value = demo.dot_product(int(channel), step)
    # the window's zero inputs (padding, or values a ReLU zeroed) add nothing: the terms shown are
    # the first three that do
    live = [(a, b) for a, b in zip(patch.reshape(-1), kernel.reshape(-1), strict=True) if a != 0]
    terms = " + ".join(f"({a:.2f})({b:.2f})" for a, b in live[:3]) or "0"
    more = r" + \dots" if len(live) > 3 else ""
    st.latex(rf"\text{{{t('ls_dot')}}}: \sum_{{i,j}} x_{{ij}} k_{{ij}} = {terms}{more} = {value:.4f}")
    if zeros := patch.size - len(live):
        st.caption(t("ls_dot_zeros", n=zeros, size=patch.size))
    diff = float(np.abs(demo.pointwise - demo.standard).max())
    st.caption(t("ls_same_map", diff=f"{diff:.1e}"))
    k2 = c.kernel**2
    st.latex(
        rf"\frac{{D_K^2 M D_F^2 + M N D_F^2}}{{D_K^2 M N D_F^2}} = \frac{{1}}{{N}} + \frac{{1}}{{D_K^2}}"
        rf" = \frac{{1}}{{{c.out_channels}}} + \frac{{1}}{{{k2}}} = {c.formula_ratio:.4f}"
    )
    st.latex(
        rf"\frac{{{c.depthwise_macs:,} + {c.pointwise_macs:,}}}{{{c.standard_macs:,}}} = {c.exact_ratio:.4f}"
        rf"\quad\text{{({t('ls_counter_ratio')})}}"
    )
    whole = L.whole_net_standard(report)
    rows = [
        {"": t("ls_as_built"), t("params"): whole.separable_params, t("macs"): whole.separable_macs},
        {"": t("ls_all_standard"), t("params"): whole.standard_params, t("macs"): whole.standard_macs},
    ]
    if model == "v1" and alpha == 1.0 and res == 224:
        rows += [
            {"": t("ls_paper_separable"), t("params"): 4_200_000, t("macs"): 569_000_000},
            {"": t("ls_paper_standard"), t("params"): 29_300_000, t("macs"): 4_866_000_000},
        ]
    st.markdown(f"**{t('ls_whole_net')}**")
    _table(pd.DataFrame(rows))
    _close(path)


# --- V1: multipliers -----------------------------------------------------------------------------------


def multipliers() -> None:
    path, figure, settings = _open("lesson-multipliers")
    sel = current_selection()
    model, alpha, res = sel.model, sel.alpha, sel.resolution
    settings.caption(t("ls_on_model", model=sel.generation.title, alpha=alpha, res=res))
    from mobilenet_core.rules import ALPHA_MIN, RESOLUTION_STEP, resolution_range

    alphas = [round(a, 2) for a in np.arange(ALPHA_MIN, max(1.4, alpha) + 1e-9, 0.05)]
    points = L.scaling_points(model, alphas, [res])
    low, high = resolution_range(sel.generation)
    sizes = sorted({*range(max(low, 2 * RESOLUTION_STEP), high + 1, RESOLUTION_STEP), res})
    by_size = L.scaling_points(model, [alpha], sizes)
    now = L.scaling_points(model, [alpha], [res])[0]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.08, subplot_titles=(
        t("ls_macs_vs_alpha", res=res), t("ls_macs_vs_rho", alpha=f"{alpha:g}")))  # fmt: skip
    for col, xs, pts, x_now in ((1, [p.alpha for p in points], points, alpha),
                                (2, [p.resolution / sel.base for p in by_size], by_size, res / sel.base)):  # fmt: skip
        fig.add_scatter(x=xs, y=[p.macs / 1e6 for p in pts], name=t("ls_exact"), mode="lines+markers",
                        line=dict(color="#4C78A8"), showlegend=col == 1, row=1, col=col)  # fmt: skip
        fig.add_scatter(x=xs, y=[p.predicted_macs / 1e6 for p in pts], name=t("ls_rule"), mode="lines",
                        line=dict(dash="dash", color="#F58518"), showlegend=col == 1, row=1, col=col)  # fmt: skip
        fig.add_scatter(x=[x_now], y=[now.macs / 1e6], name=t("current"), mode="markers", showlegend=col == 1,
                        marker=dict(size=16, color="#e4002b", symbol="diamond"), row=1, col=col)  # fmt: skip
    fig.update_xaxes(title_text="α", row=1, col=1)
    fig.update_xaxes(title_text=f"ρ ({t('ls_rho_pixels', base=sel.base)})", row=1, col=2)
    fig.update_yaxes(title_text=t("ls_mmacs"), row=1, col=1)
    with figure:
        _figure(fig, f"multipliers_{model}_{alpha:g}_{res}", height=380)
    from mobilenet_core.published import published_figures

    pub = [f for f in published_figures() if f.model == model]
    acc = go.Figure()
    # one line per resolution, α along it: twenty labels on the points overlapped and were cut
    for size in sorted({f.resolution for f in pub}, reverse=True):
        row = sorted((f for f in pub if f.resolution == size), key=lambda f: f.alpha)
        acc.add_scatter(x=[f.macs_millions for f in row], y=[f.top1 for f in row], mode="lines+markers",
                        name=f"{size} px", customdata=[[f"{f.alpha:g}", f.source] for f in row],
                        hovertemplate="α %{customdata[0]} · " + f"{size} px" +
                        "<br>%{y}%<br>%{customdata[1]}<extra></extra>")  # fmt: skip
    acc.add_vline(x=now.macs / 1e6, line=dict(color="#e4002b", dash="dot"), annotation_text=t("current"))
    acc.update_layout(title=t("ls_published_points"), xaxis_title=t("ls_mmacs"), yaxis_title=t("top1"),
                      legend_title_text=t("ls_published_by_res"))  # fmt: skip
    _figure(acc, f"multipliers_accuracy_{model}", height=380)
    if now.top1 is not None:
        st.caption(t("ls_published_here", top1=now.top1, source=now.top1_source))
    rho = res / sel.base
    base = mc.count(model, 1.0, sel.base)
    st.latex(
        rf"\text{{MACs}}(\alpha,\rho) \approx \alpha^2\rho^2\,\text{{MACs}}(1,1) = {alpha:g}^2 \times {rho:.3f}^2"
        rf" \times {base.macs:,} = {now.predicted_macs:,.0f}"
    )
    st.latex(rf"\text{{{t('ls_exact')}}} = {now.macs:,} \quad ({now.macs / now.predicted_macs:.3f}\times)")
    kinds = L.macs_by_kind(model, alpha, res)
    kind_names = {"conv": t("ls_kind_conv"), "dwconv": t("ls_kind_dwconv"), "pwconv": t("ls_kind_pwconv"),
                  "se": t("ls_kind_se"), "attention": t("ls_kind_attention"), "linear": t("ls_kind_linear")}  # fmt: skip
    st.markdown(f"**{t('ls_by_kind')}**")
    _table(pd.DataFrame([
        {t("ls_kind"): kind_names.get(k, k), t("ls_at_alpha"): a,
         t("ls_at_one"): b, t("ls_scale"): f"{a / b:.3f}", "α²": f"{alpha**2:.3f}"}
        for k, (a, b) in kinds.items()
    ]))  # fmt: skip
    breaks = L.width_breaks(model, alpha, res)
    reasons = {"rounded": t("ls_rounded"), "fixed": t("ls_fixed")}
    if breaks:
        st.markdown(f"**{t('ls_breaks')}**")
        _table(pd.DataFrame([
            {t("block"): b.block, t("ls_width"): b.channels, "α × c": f"{b.scaled:g}", t("ls_reason"): reasons[b.reason]}
            for b in breaks
        ]))  # fmt: skip
    else:
        st.caption(t("ls_no_breaks"))
    _close(path)


# --- V2: linear bottleneck -----------------------------------------------------------------------------

SPIRAL_DIMS = [2, 3, 4, 5, 8, 10, 15, 20, 30]  # the slider's n
SPIRAL_PANELS = (2, 3, 5, 15, 30)  # the paper's Figure 1, and the chosen n beside them


def bottleneck() -> None:
    path, figure, _ = _open("lesson-bottleneck")
    with figure:
        cols = st.columns([3, 1])
        n = cols[0].select_slider(t("ls_dims"), options=SPIRAL_DIMS, value=5, key="spiral_n")
        seed = int(cols[1].number_input(t("ls_seed"), 0, 999, 0, key="spiral_seed"))
        source = L.spiral()
        shown = sorted({*SPIRAL_PANELS, n})  # the chosen n always has its panel
        fig = make_subplots(
            rows=1, cols=len(shown) + 1, subplot_titles=[t("ls_input")] + [f"n = {k}" for k in shown]
        )
        fig.add_scatter(x=source[0], y=source[1], mode="markers", marker=dict(size=3, color=np.arange(source.shape[1]),
                        colorscale="Viridis"), showlegend=False, row=1, col=1)  # fmt: skip
        for i, k in enumerate(shown, start=2):
            r = L.spiral_relu(k, seed, readout="linear")
            fig.add_scatter(x=r.recovered[0], y=r.recovered[1], mode="markers", showlegend=False, row=1, col=i,
                            marker=dict(size=3, color=np.arange(source.shape[1]), colorscale="Viridis"))  # fmt: skip
            fig.add_annotation(text=f"{t('ls_error')} {r.error:.2f}", showarrow=False, xref=f"x{i} domain",
                               yref=f"y{i} domain", x=0.5, y=-0.12)  # fmt: skip
            if k == n:
                fig.add_shape(type="rect", xref=f"x{i} domain", yref=f"y{i} domain", x0=0, x1=1, y0=0, y1=1,
                              line=dict(color="#e4002b", width=3))  # fmt: skip
        # one scale for every panel (the input's): a shrunken or bent spiral looks it
        span = float(np.abs(source).max()) * 1.15
        for i in range(1, len(shown) + 2):
            fig.update_xaxes(showticklabels=False, range=[-span, span], row=1, col=i)
            fig.update_yaxes(showticklabels=False, range=[-span, span], scaleanchor=f"x{'' if i == 1 else i}",
                             row=1, col=i)  # fmt: skip
        _figure(fig, "spiral", height=300)
    chosen = L.spiral_relu(n, seed, readout="linear")
    st.latex(rf"\hat x = B\,\mathrm{{ReLU}}(T x),\; T \in \mathbb{{R}}^{{{n}\times 2}}:\quad"
             rf"\frac{{\lVert \hat x - x\rVert^2}}{{\lVert x\rVert^2}} = {chosen.error:.3f}")  # fmt: skip
    st.caption(t("ls_readout"))
    errors = L.spiral_errors(tuple(range(2, 31)), seeds=8, readout="linear")
    err = go.Figure(go.Scatter(x=list(errors), y=list(errors.values()), mode="lines+markers"))
    err.add_vline(x=n, line=dict(color="#e4002b", dash="dot"))
    err.update_layout(title=t("ls_error_vs_n"), xaxis_title="n", yaxis_title=t("ls_error"))
    _figure(err, "spiral_error", height=280)

    st.markdown(f"#### {t('ls_real_network')}")
    model, alpha, res, report = _model(path, runs=True)
    name, image = _photo()
    net, recipe = _net(model, alpha, res)
    x, _ = _tensor(image, recipe)
    shares = L.relu_zero_shares(net, x, report)
    bars = go.Figure()
    bars.add_bar(
        x=[s.block for s in shares], y=[100 * s.expansion_zeroed for s in shares], name=t("ls_zero_expansion")
    )
    bars.add_bar(
        x=[s.block for s in shares],
        y=[100 * s.bottleneck_zeroed for s in shares],
        name=t("ls_zero_bottleneck"),
    )
    bars.update_layout(title=t("ls_zero_title", photo=name), yaxis_title="%", barmode="group")
    _figure(bars, f"zero_shares_{model}")
    _close(path)


# --- V2: inverted residual -----------------------------------------------------------------------------


# the library's step names (residual_memory) in the page's language
STEP_WORDS = {"input": "ls_ir_step_input", "expand 1×1": "ls_ir_step_expand", "depthwise": "ls_ir_step_depthwise",
              "project 1×1": "ls_ir_step_project", "output": "ls_ir_step_output", "reduce 1×1": "ls_ir_step_reduce",
              "3×3 conv": "ls_ir_step_conv"}  # fmt: skip


def _tensor_figure(steps: list[L.TensorStep], title: str, scale: float) -> go.Figure:
    fig = go.Figure()
    x = top = 0.0
    colours = {"input": "#4C78A8", "expanded": "#F58518", "depthwise out": "#F58518", "output": "#54A24B",
               "reduced": "#4C78A8", "conv out": "#4C78A8"}  # fmt: skip
    for i, step in enumerate(steps):
        y = 0.0
        for role, c, h, _ in step.tensors:
            width, height = h * scale, c * scale
            colour = "#9e9e9e" if "⊕" in role else colours.get(role, "#888")
            fig.add_shape(type="rect", x0=x, x1=x + width, y0=y, y1=y + height, fillcolor=colour, opacity=0.75,
                          line=dict(color="#333", width=1))  # fmt: skip
            fig.add_annotation(
                x=x + width / 2, y=y + height / 2, text=f"{c}×{h}", showarrow=False, font=dict(size=11)
            )
            y += height + 4 * scale
        words = t(STEP_WORDS[step.step]) if step.step in STEP_WORDS else step.step
        fig.add_annotation(x=x, y=-4 * scale, text=f"<b>{i + 1}</b> {words.replace(' ', '<br>', 1)}<br>{kib(step.values)}",
                           showarrow=False, xanchor="left", yanchor="top", align="left", font=dict(size=10))  # fmt: skip
        x += max(h * scale for _, _, h, _ in step.tensors) + 30 * scale
        top = max(top, y)
    # shapes do not widen the axes: give the ranges (and room for the step labels below)
    fig.update_xaxes(visible=False, range=[-2 * scale, x])
    fig.update_yaxes(visible=False, range=[-30 * scale, top], scaleanchor="x")
    fig.update_layout(title=title, plot_bgcolor="white")
    return fig


def inverted_residual() -> None:
    path, figure, settings = _open("lesson-inverted-residual")
    with settings:
        model, alpha, res, report = _model(path)
        blocks = L.expansion_blocks(report)
        by = {b.name: b for b in blocks}
        default = next((i for i, b in enumerate(blocks) if b.residual), 0)
        name = st.selectbox(t("pick_block"), list(by), index=default, key="ir_block",
                            format_func=lambda n: f"{n} · {by[n].in_channels}→{by[n].expanded_channels}→"
                            f"{by[n].out_channels} · {by[n].in_height}×{by[n].in_width}"
                            f"{' · ⊕' if by[n].residual else ''}")  # fmt: skip
    block = by[name]
    steps = L.residual_memory(block)
    # first what differs: the tensor each block hands to the next (and keeps for the shortcut)
    handoffs = L.handoffs(report)
    narrow, wide = L.between_blocks(report)
    with figure:
        hand = go.Figure()
        mib = 4 / 2**20  # float32 values -> MiB
        hand.add_bar(x=[h.block for h in handoffs], y=[h.narrow * mib for h in handoffs], name=t("ls_ir_short"),
                     marker_color="#54A24B")  # fmt: skip
        hand.add_bar(x=[h.block for h in handoffs], y=[h.wide * mib for h in handoffs], name=t("ls_resnet_short"),
                     marker_color="#F58518")  # fmt: skip
        hand.update_layout(title=t("ls_handoff_title"), yaxis_title="MiB", barmode="group")
        _figure(hand, f"handoffs_{model}", height=340)
        m = st.columns(3)
        m[0].metric(t("ls_between_ir"), kib(narrow))
        m[1].metric(t("ls_between_resnet"), kib(wide), t("ls_times_more", x=f"{wide / max(narrow, 1):.1f}"),
                    delta_color="off", delta_arrow="off")  # fmt: skip
        peak_ir, peak_rn = L.peak_step(steps["inverted"]), L.peak_step(steps["bottleneck"])
        m[2].metric(t("ls_peak_both", block=name), f"{kib(peak_ir.values)} / {kib(peak_rn.values)}")
        roles = {"inverted": peak_ir, "bottleneck": peak_rn}
        held = {k: " + ".join(f"{c}×{h}×{w}" for _, c, h, w in v.tensors) for k, v in roles.items()}
        st.caption(t("ls_peaks_tie", ir=held["inverted"], resnet=held["bottleneck"]))
    biggest = max(max(c for _, c, _, _ in s.tensors) for s in steps["bottleneck"])
    scale = 1.0 / max(biggest, 1) * 100
    _figure(_tensor_figure(steps["inverted"], t("ls_ir_title"), scale), f"inverted_{name}", height=380)
    _figure(_tensor_figure(steps["bottleneck"], t("ls_resnet_title"), scale), f"resnet_{name}", height=380)
    alive = (block.in_channels + block.expanded_channels) * block.in_height * block.in_width
    st.latex(
        rf"\text{{{t('ls_alive')}}} = {block.in_channels}\cdot{block.in_height}^2 + "
        rf"{block.expanded_channels}\cdot{block.in_height}^2 = {alive:,}\ \text{{{t('ls_values_unit')}}}"
    )
    st.caption(t("ls_ir_note"))
    _close(path)


# --- V3: SE --------------------------------------------------------------------------------------------


def se() -> None:
    path, figure, settings = _open("lesson-se")
    with settings:
        model, alpha, res, report = _model(path, runs=True)
        blocks = L.se_blocks(report)
        by = {b.name: b for b in blocks}
        name = st.selectbox(t("pick_block"), list(by), key="se_block",
                            format_func=lambda n: f"{n} · {by[n].variant} · {by[n].expanded_channels or by[n].in_channels}"
                            f" → {by[n].se_channels} → {by[n].expanded_channels or by[n].in_channels}")  # fmt: skip
        first_name, first = _photo()
        samples = _samples()
        others = [s for s in samples if s != first_name] or list(samples)
        second_name = st.selectbox(t("ls_second_photo"), others, key="se_second")
        net, recipe = _net(model, alpha, res)
    gates = [
        L.se_gates(net, _tensor(img, recipe)[0], name) for img in (first, load_image(samples[second_name]))
    ]
    with figure:
        fig = go.Figure()
        for label, g in ((first_name, gates[0]), (second_name, gates[1])):
            fig.add_bar(x=list(range(len(g))), y=g, name=label)
        fig.update_layout(title=t("ls_gates_title", block=name), xaxis_title=t("ls_channel"),
                          yaxis_title=t("ls_gate"), yaxis_range=[0, 1], barmode="group")  # fmt: skip
        _figure(fig, f"se_gates_{name}")
        diff = np.abs(gates[0] - gates[1])
        st.caption(
            t("ls_gate_diff", mean=f"{diff.mean():.3f}", top=", ".join(str(i) for i in np.argsort(-diff)[:5]))
        )
    cost = L.se_cost(report, name)
    c = st.columns(3)
    c[0].metric(t("ls_se_params"), exact(cost.params), f"{cost.params / cost.block_params:.1%} {t('ls_of_block')}",
                delta_color="off", delta_arrow="off")  # fmt: skip
    c[1].metric(t("ls_se_macs"), exact(cost.macs), f"{cost.macs / cost.block_macs:.2%} {t('ls_of_block')}",
                delta_color="off", delta_arrow="off")  # fmt: skip
    total = sum(L.se_cost(report, b.name).params for b in blocks)
    c[2].metric(
        t("ls_se_all"),
        exact(total),
        f"{total / report.params:.1%} {t('ls_of_model')}",
        delta_color="off",
        delta_arrow="off",
    )
    ch = by[name].expanded_channels or by[name].in_channels
    sq = by[name].se_channels
    st.latex(rf"s = \text{{hsigmoid}}(W_2\,\text{{ReLU}}(W_1\,\bar x)),\ W_1 \in \mathbb{{R}}^{{{sq}\times{ch}}},"
             rf"\ W_2 \in \mathbb{{R}}^{{{ch}\times{sq}}}:\ 2\cdot{ch}\cdot{sq} + {ch} + {sq} = {cost.params:,}")  # fmt: skip
    _close(path)


# --- V3: activations -----------------------------------------------------------------------------------


def activations() -> None:
    path, figure, _ = _open("lesson-activations")
    xs = np.linspace(-6, 6, 481)
    curves = L.activation_curves(xs)
    fig = make_subplots(rows=1, cols=2, subplot_titles=(t("ls_values"), t("ls_derivatives")))
    colours = {
        "relu6": "#4C78A8",
        "swish": "#F58518",
        "h-swish": "#e4002b",
        "sigmoid": "#54A24B",
        "hard-sigmoid": "#B279A2",
    }
    for name, (y, dy) in curves.items():
        dash = "dash" if name in ("swish", "sigmoid") else "solid"
        fig.add_scatter(x=xs, y=y, name=name, line=dict(color=colours[name], dash=dash), row=1, col=1)
        fig.add_scatter(
            x=xs, y=dy, name=name, line=dict(color=colours[name], dash=dash), showlegend=False, row=1, col=2
        )
    with figure:
        _figure(fig, "activations", height=360)
    gap = float(np.abs(curves["h-swish"][0] - curves["swish"][0]).max())
    st.latex(rf"\text{{h-swish}}(x) = x\,\frac{{\mathrm{{ReLU6}}(x+3)}}{{6}},\quad"
             rf"\max_{{x}} |\text{{h-swish}}(x) - \text{{swish}}(x)| = {gap:.3f}")  # fmt: skip
    sel = current_selection()
    report = mc.count(sel.model, sel.alpha, sel.resolution)
    used = L.activations_used(report)
    st.markdown(f"**{t('ls_where_used', model=sel.generation.title)}**")
    act_colour = {"hard_swish": "#e4002b", "relu": "#4C78A8", "relu6": "#4C78A8", "gelu": "#F58518"}
    strip = go.Figure(go.Bar(x=[b for b, _, _ in used], y=[1] * len(used), text=[a for _, _, a in used],
                             marker_color=[act_colour.get(a, "#bbb") for _, _, a in used],
                             hovertext=[v for _, v, _ in used]))  # fmt: skip
    strip.update_yaxes(visible=False)
    _figure(strip, f"activations_used_{sel.model}", height=220)
    se_count = len(L.se_blocks(report))
    st.caption(t("ls_hsig_used", n=se_count) if se_count else t("ls_hsig_none", model=sel.generation.title))
    st.markdown(f"**{t('ls_last_stage')}**")
    # the paper's Figure 5 is V3-Large's last stage (projection to 320): counted on V3-Large, at the
    # selection's alpha and resolution when V3-Large is selected
    model = "v3_large"
    alpha = sel.alpha if sel.model == model else 1.0
    res = sel.resolution if sel.model == model else 224
    stage = L.last_stage(mc.count(model, alpha, res), projected=mc.make_divisible(320 * alpha))
    c = st.columns(3)
    c[0].metric(t("ls_original"), short(stage.original_macs) + " MACs")
    c[1].metric(t("ls_efficient"), short(stage.efficient_macs) + " MACs")
    c[2].metric(t("ls_saved"), short(stage.original_macs - stage.efficient_macs) + " MACs")
    h = stage.height
    st.latex(
        rf"9\cdot{stage.expanded}\cdot{h}^2 + {stage.expanded}\cdot{stage.projected}\cdot{h}^2 + "
        rf"{stage.projected}\cdot{stage.features}\cdot{h}^2 - {stage.expanded}\cdot{stage.features}"
        rf" = {stage.original_macs - stage.efficient_macs:,}"
    )
    st.caption(t("ls_last_stage_note", model=mc.get_generation(model).title))
    _close(path)


# --- V4: UIB ------------------------------------------------------------------------------------------


def uib() -> None:
    path, figure, settings = _open("lesson-uib")
    with settings:
        model, alpha, res, report = _model(path)
        g = mc.get_generation(model)
        blocks = [b for b in report.blocks if b.kind == "uib"]
        by = {b.name: b for b in blocks}
        name = st.selectbox(t("pick_block"), list(by), key="uib_block",
                            format_func=lambda n: f"{n} · {by[n].variant} · {by[n].kernel} · s{by[n].stride}")  # fmt: skip
    from mobilenet_core.api import resolve_model

    spec = next(b for b in resolve_model(model, alpha, res)[0].blocks if b.name == name).spec
    with figure:
        cols = st.columns(4)
        start_on = cols[0].toggle(t("ls_start_dw"), value=bool(spec.start), key=f"uib_start_{name}")
        start_k = cols[1].radio(t("ls_kernel"), [3, 5], index=0 if (spec.start or 3) == 3 else 1, horizontal=True,
                                key=f"uib_start_k_{name}", disabled=not start_on)  # fmt: skip
        mid_on = cols[2].toggle(t("ls_mid_dw"), value=bool(spec.mid), key=f"uib_mid_{name}")
        mid_k = cols[3].radio(t("ls_kernel"), [3, 5], index=0 if (spec.mid or 3) == 3 else 1, horizontal=True,
                              key=f"uib_mid_k_{name}", disabled=not mid_on)  # fmt: skip
        own = L.uib_choice(g, alpha, res, name, spec.start, spec.mid)
        try:
            chosen = L.uib_choice(g, alpha, res, name, start_k if start_on else 0, mid_k if mid_on else 0)
        except mc.ConfigError:
            st.warning(t("ls_ffn_stride", stride=spec.stride))
            chosen = own
        m = st.columns(4)
        m[0].metric(t("ls_variant"), chosen.name)
        m[1].metric(t("params"), exact(chosen.row.params), delta=_delta(chosen.row.params, own.row.params),
                    delta_color="inverse")  # fmt: skip
        m[2].metric(t("macs"), exact(chosen.row.macs), delta=_delta(chosen.row.macs, own.row.macs),
                    delta_color="inverse")  # fmt: skip
        m[3].metric(t("ls_rf"), f"{chosen.receptive_field}×{chosen.receptive_field}")
    st.caption(t("ls_searched", variant=own.name, kernel=by[name].kernel))
    st.latex(
        rf"\text{{RF}} = k_\text{{start}} + (k_\text{{mid}} - 1)\,s_\text{{start}} = {chosen.start or 1} + "
        rf"({chosen.mid or 1} - 1)\cdot{spec.stride if not chosen.mid else 1} = {chosen.receptive_field}"
    )
    four = [L.uib_choice(g, alpha, res, name, s, m_) for s, m_ in ((spec.start or 3, spec.mid or 3), (0, spec.mid or 3),
                                                                      (spec.start or 3, 0))]  # fmt: skip
    if spec.stride == 1:
        four.append(L.uib_choice(g, alpha, res, name, 0, 0))
    _table(pd.DataFrame([{t("ls_variant"): v.name, t("params"): v.row.params, t("macs"): v.row.macs,
                                t("ls_rf"): v.receptive_field} for v in four]))  # fmt: skip
    st.markdown(f"**{t('ls_by_stage', model=g.title)}**")
    stages = L.uib_choices_by_stage(report)
    _table(pd.DataFrame([{t("stage"): s, t("ls_variant"): v, t("ls_count"): n} for s, v, n in stages]))  # fmt: skip
    _close(path)


def _delta(value: int, reference: int) -> str | None:
    return None if value == reference else f"{value - reference:+,}"


# --- V4: attention -------------------------------------------------------------------------------------


def attention() -> None:
    path, figure, settings = _open("lesson-attention")
    with settings:
        model, alpha, res, report = _model(path, runs=True)
        blocks = [b for b in report.blocks if b.kind == "mqa"]
        by = {b.name: b for b in blocks}
        name = st.selectbox(t("pick_block"), list(by), key="attn_block",
                            format_func=lambda n: f"{n} · {by[n].in_channels} · {by[n].in_height}×{by[n].in_width}")  # fmt: skip
        photo_name, image = _photo()
        net, recipe = _net(model, alpha, res)
    from mobilenet_core.api import resolve_model

    spec = next(b for b in resolve_model(model, alpha, res)[0].blocks if b.name == name).spec
    row = by[name]
    cost = L.attention_cost(row, spec.heads, spec.key_dim, spec.kv_stride)
    n, m = cost.queries, cost.kv_positions_mqa
    d, h = spec.key_dim, spec.heads
    x, crop = _tensor(image, recipe)
    with figure:
        chart = st.container()  # above the sliders that move its query: the map is what the class sees
        c = st.columns(2)
        qr = c[0].slider(t("ls_query_row"), 0, row.in_height - 1, row.in_height // 2, key=f"attn_row_{name}")
        qc = c[1].slider(t("ls_query_col"), 0, row.in_width - 1, row.in_width // 2, key=f"attn_col_{name}")
        weights = L.attention_map(net, x, name, qr, qc)
        _figure(_attention_figure(crop, weights, row, qr, qc), f"attention_{name}",
                height=260 * (1 + (h - 1) // min(h, 4)), where=chart)  # fmt: skip
    _table(pd.DataFrame([
        {"": "MHSA", "Q": f"{h} × {n} × {d}", "K": f"{h} × {n} × {d}", "V": f"{h} × {n} × {d}",
         "QKᵀ": f"{h} × {n} × {n}", t("macs"): cost.mha_macs, t("ls_kv_values"): cost.mha_kv_values},
        {"": "Mobile MQA", "Q": f"{h} × {n} × {d}", "K": f"1 × {m} × {d}", "V": f"1 × {m} × {d}",
         "QKᵀ": f"{h} × {n} × {m}", t("macs"): cost.mqa_macs, t("ls_kv_values"): cost.mqa_kv_values},
    ]))  # fmt: skip
    st.latex(
        rf"\frac{{\text{{K/V}}_\text{{MHSA}}}}{{\text{{K/V}}_\text{{MQA}}}} = \frac{{2\cdot{h}\cdot{n}\cdot{d}}}"
        rf"{{2\cdot{m}\cdot{d}}} = {cost.mha_kv_values / cost.mqa_kv_values:g}"
        rf"\qquad \frac{{\text{{MACs}}_\text{{MHSA}}}}{{\text{{MACs}}_\text{{MQA}}}} = {cost.mha_macs / cost.mqa_macs:.2f}"
    )
    st.caption(t("ls_mha_note"))
    _close(path)


def _attention_figure(crop, weights: np.ndarray, row, qr: int, qc: int) -> go.Figure:
    """The photo with the query marked, then each head's weights over the K/V grid, four heads a
    row; the cells under the photo are empty (no title), and the colour scale starts at 0 (a
    softmax weight is never negative)."""
    h = len(weights)
    cols = min(h, 4)
    rows = 1 + (h - 1) // cols
    specs = [[{}] * (cols + 1)] + [[None] + [{}] * cols for _ in range(rows - 1)]
    titles = [t("ls_query")] + [f"{t('ls_head')} {i}" for i in range(h)]
    fig = make_subplots(rows=rows, cols=cols + 1, specs=specs, subplot_titles=titles)
    fig.add_image(z=np.asarray(crop), row=1, col=1)
    size = crop.size[0]
    fig.add_scatter(x=[(qc + 0.5) * size / row.in_width], y=[(qr + 0.5) * size / row.in_height], mode="markers",
                    marker=dict(size=14, color="#e4002b", symbol="x"), showlegend=False, row=1, col=1)  # fmt: skip
    for i in range(h):
        r_, c_ = divmod(i, cols)
        fig.add_heatmap(z=weights[i], coloraxis="coloraxis", row=r_ + 1, col=c_ + 2)
        fig.update_yaxes(autorange="reversed", row=r_ + 1, col=c_ + 2)
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    fig.update_layout(coloraxis=dict(colorscale="Viridis", cmin=0, cmax=float(weights.max()),
                                     colorbar=dict(title=t("ls_weight"))))  # fmt: skip
    return fig


# --- V4: roofline -------------------------------------------------------------------------------------


COMPUTE_BOUND, MEMORY_BOUND = "#2ca02c", "#1f77b4"  # the Roofline view's colours


def roofline() -> None:
    path, figure, settings = _open("lesson-roofline")
    sel = current_selection()
    report = mc.count(sel.model, sel.alpha, sel.resolution)
    settings.caption(t("ls_on_model", model=sel.generation.title, alpha=sel.alpha, res=sel.resolution))
    with figure:
        ridge = st.slider(
            t("ls_ridge"), 0.0, 500.0, 31.2, step=0.1, key="lesson_ridge", help=t("ls_ridge_help")
        )
        xs = sorted({*np.linspace(0, 500, 51), ridge})
        sweep = L.ridge_sweep(report, xs)
        here = sweep[xs.index(ridge)]
        _figure(_ridge_figure(xs, sweep, ridge), f"ridge_sweep_{sel.model}", height=380)
    devices = L.paper_device_estimates(report)
    _figure(_device_figure(report, devices), f"ridge_devices_{sel.model}", height=300)
    st.caption(t("ls_devices_note", fastest=devices[0].device.title,
                 times=f"{devices[0].device.peak_macs_per_s / devices[-1].device.peak_macs_per_s:.0f}"))  # fmt: skip
    split = here.by_block_bound()
    blocks = list(split)
    total = here.ms
    bars = go.Figure()
    bars.add_bar(x=blocks, y=[100 * split[b][0] / total for b in blocks], name=t("ls_compute_bound"),
                 marker_color=COMPUTE_BOUND)  # fmt: skip
    bars.add_bar(x=blocks, y=[100 * split[b][1] / total for b in blocks], name=t("ls_memory_bound"),
                 marker_color=MEMORY_BOUND)  # fmt: skip
    bars.update_layout(barmode="stack", title=t("ls_time_by_block", ridge=f"{ridge:g}"), yaxis_title="%")
    _figure(bars, f"ridge_blocks_{sel.model}", height=340)
    top = L.bottlenecks(here, 5)
    bound = {"compute": t("ls_compute_bound"), "memory": t("ls_memory_bound")}
    st.markdown(f"**{t('ls_bottlenecks')}**")
    _table(pd.DataFrame([
        {t("ls_layer"): x.name, t("ls_kind"): x.kind, t("macs"): x.macs, t("ls_bytes"): x.bytes,
         t("ls_intensity"): f"{x.intensity:.1f}", t("ls_bound"): bound[x.bound], t("ls_share"): f"{x.ms / total:.1%}"}
        for x in top
    ]))  # fmt: skip
    slowest = top[0]
    name = slowest.name.split(".")[-1].replace("_", r"\ ")
    everything = sum(L.work(x, ridge) for x in here.layers)
    st.latex(
        rf"t_\text{{{name}}} = \max\left(\frac{{\text{{MACs}}}}{{P}}, \frac{{\text{{bytes}}}}{{B}}\right)"
        rf" = \frac{{\max({slowest.macs:,},\ {ridge:g} \times {slowest.bytes:,})}}{{P}}"
        rf" = \frac{{{L.work(slowest, ridge):,.0f}}}{{P}}"
    )
    st.latex(
        rf"\sum_\text{{{t('ls_layers')}}} = \frac{{{everything:,.0f}}}{{P}}"
        rf" = {L.slowdown(here):.2f} \times \frac{{\sum \text{{MACs}}}}{{P}}"
    )
    st.caption(t("ls_roofline_note"))
    _close(path)


def _ridge_figure(xs: list[float], sweep, ridge: float) -> go.Figure:
    """Time over compute-only time and the memory-bound share against the ridge point, the
    paper's devices marked (labels stacked so that the two CPUs' do not overlap)."""
    curve = go.Figure()
    curve.add_scatter(x=xs, y=[L.slowdown(e) for e in sweep], name=t("ls_slowdown"), mode="lines",
                      line=dict(color="#333333", width=3))  # fmt: skip
    curve.add_scatter(x=xs, y=[100 * e.memory_bound_share for e in sweep], name=t("ls_memory_share"), yaxis="y2",
                      mode="lines", line=dict(dash="dot", color=MEMORY_BOUND, width=3))  # fmt: skip
    for i, (title, r) in enumerate(sorted(L.PAPER_DEVICE_RIDGES.items(), key=lambda d: d[1])):
        curve.add_vline(x=r, line=dict(color="#888", dash="dash"))
        curve.add_annotation(x=r, y=0.97 - 0.1 * i, yref="paper", text=f"{title} ({r:g})", showarrow=False,
                             xanchor="left" if r < 250 else "right", xshift=4 if r < 250 else -4,
                             bgcolor="rgba(255,255,255,0.85)")  # fmt: skip
    curve.add_vline(x=ridge, line=dict(color="#e4002b", width=3))
    curve.update_layout(title=t("ls_time_vs_ridge"), xaxis_title=t("ls_ridge"), yaxis_title=t("ls_slowdown_axis"),
                        yaxis=dict(rangemode="tozero"),
                        yaxis2=dict(overlaying="y", side="right", range=[0, 100], tickmode="linear", tick0=0,
                                    dtick=25, title="%", showgrid=False))  # fmt: skip
    return curve


def _device_figure(report, devices) -> go.Figure:
    """The configuration on the paper's four calibrated devices: time split into compute- and
    memory-bound layers, and the paper's measurement where there is one."""
    from mobilenet_core.latency import paper_latency_ms

    names = [e.device.title for e in devices]
    fig = go.Figure()
    fig.add_bar(y=names, x=[sum(x.ms for x in e.layers if x.bound == "compute") for e in devices], orientation="h",
                name=t("ls_compute_bound"), marker_color=COMPUTE_BOUND)  # fmt: skip
    fig.add_bar(y=names, x=[sum(x.ms for x in e.layers if x.bound == "memory") for e in devices], orientation="h",
                name=t("ls_memory_bound"), marker_color=MEMORY_BOUND)  # fmt: skip
    measured = [(e.device.title, paper_latency_ms(report.model, report.alpha, report.resolution, e.device.name))
                for e in devices]  # fmt: skip
    measured = [(n, ms) for n, ms in measured if ms is not None]
    if measured:
        fig.add_scatter(y=[n for n, _ in measured], x=[ms for _, ms in measured], mode="markers",
                        name=t("ls_paper_measured"), marker=dict(symbol="diamond", size=14, color="#e4002b"))  # fmt: skip
    fig.update_layout(barmode="stack", title=t("ls_devices_title"), xaxis_title="ms",
                      yaxis=dict(autorange="reversed"))  # fmt: skip
    return fig

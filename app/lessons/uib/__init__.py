"""Lesson: V4's Universal Inverted Bottleneck, its variants counted on the searched block.

Streamlit runs page.py beside this file; the page is `show()` here (an imported module, so its
widget callbacks never hold a page script's globals)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import mobilenet_core as mc
from app.common import exact
from app.i18n import t
from app.lessons.common import (
    choose_model,
    close_lesson,
    delta,
    open_lesson,
    show_table,
)
from mobilenet_core import lessons as L


def show() -> None:
    path, figure, settings = open_lesson("lesson-uib")
    with settings:
        model, alpha, res, report = choose_model(path)
        g = mc.get_generation(model)
        blocks = L.blocks_drawn_as(report, "variants")
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
        m[1].metric(t("params"), exact(chosen.row.params), delta=delta(chosen.row.params, own.row.params),
                    delta_color="inverse")  # fmt: skip
        m[2].metric(t("macs"), exact(chosen.row.macs), delta=delta(chosen.row.macs, own.row.macs),
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
    show_table(pd.DataFrame([{t("ls_variant"): v.name, t("params"): v.row.params, t("macs"): v.row.macs,
                                t("ls_rf"): v.receptive_field} for v in four]))  # fmt: skip
    st.markdown(f"**{t('ls_by_stage', model=g.title)}**")
    stages = L.uib_choices_by_stage(report)
    show_table(pd.DataFrame([{t("stage"): s, t("ls_variant"): v, t("ls_count"): n} for s, v, n in stages]))  # fmt: skip
    close_lesson(path)

"""The selection shared by every view: model, alpha, resolution (and the language), kept in
the URL so that a link or a reload reproduces it: alpha through Streamlit's widget-to-query
binding, the model and the resolution by hand (see sidebar_selection)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import streamlit as st

import mobilenet_core as mc
from app.i18n import LANGUAGES, t
from mobilenet_core.rules import ALPHA_MAX, ALPHA_MIN, nearest_resolution, resolution_range

PAPER_ALPHAS = (0.25, 0.35, 0.5, 0.75, 1.0, 1.4)
ALPHA_STEP = 0.05
RESOLUTION_STEP = 32


@dataclass(frozen=True)
class Selection:
    model: str
    alpha: float
    resolution: int

    @property
    def generation(self):
        return mc.get_generation(self.model)

    @property
    def base(self) -> int:
        return self.generation.base_resolution

    @property
    def rho(self) -> float:
        return self.resolution / self.base


def _base(model: str) -> int:
    return mc.get_generation(model).base_resolution


def _check_query(raw: dict[str, str]) -> list[str]:
    """Messages for link values the widgets will drop (they fall back to the defaults)."""
    notices = []
    model = raw.get("model", "v2")
    if "model" in raw and model not in mc.list_models():
        notices.append(t("invalid_query", name="model", value=model))
        model = "v2"
    if "alpha" in raw:
        try:
            value = float(raw["alpha"])
            ok = math.isfinite(value) and ALPHA_MIN <= value <= ALPHA_MAX
        except ValueError:
            ok = False
        if not ok:
            notices.append(t("invalid_query", name="alpha", value=raw["alpha"]))
    if "resolution" in raw:
        try:
            value = float(raw["resolution"])
            low, high = resolution_range(mc.get_generation(model))
            ok = value.is_integer() and low <= value <= high
        except ValueError:
            ok = False
        if not ok:
            notices.append(t("invalid_query", name="resolution", value=raw["resolution"]))
    if "lang" in raw and raw["lang"] not in LANGUAGE_IN_LINKS:
        notices.append(t("invalid_query", name="lang", value=raw["lang"]))
    return notices


def _on_model_change() -> None:
    previous = st.session_state.get("_previous_model", "v2")
    model = st.session_state["model"]
    res = st.session_state.get("resolution", _base(previous))
    if res == _base(previous):
        st.session_state["resolution"] = _base(model)  # an untouched resolution follows the base
    else:
        st.session_state["resolution"] = nearest_resolution(mc.get_generation(model), res)
    st.session_state.pop("notices", None)


def _on_alpha_pick() -> None:
    picked = st.session_state.get("alpha_pick")
    if picked is not None:
        st.session_state["alpha"] = float(picked)
    st.session_state["alpha_pick"] = None
    st.session_state.pop("notices", None)


def _clear_notices() -> None:
    st.session_state.pop("notices", None)


# what a link may say for the language: the codes, and the labels older links carry
LANGUAGE_IN_LINKS = {
    **{code: code for code in LANGUAGES},
    **{label: code for code, label in LANGUAGES.items()},
}


def language_picker() -> str:
    """The language radio; returns the language chosen. The link carries the code (?lang=zh), not
    the translated label, so a link reads the same in both languages; ?lang=中文 from older links
    still works."""
    if "lang" not in st.session_state:
        st.session_state["lang"] = LANGUAGE_IN_LINKS.get(st.query_params.get("lang", "en"), "en")
    lang = st.sidebar.radio("Language / 语言", list(LANGUAGES), format_func=LANGUAGES.get, key="lang",
                            horizontal=True)  # fmt: skip
    set_link("lang", lang)
    return lang


def url_choice(name: str, options: list, default=None, state_key: str | None = None):
    """Keep a page's choice (a block, a detail level) in the link: on the first run of the
    session the link's value, when it is one of `options`, becomes the widget's state; callers
    draw the widget with key `state_key` (default `name`) and then call `remember_choice`."""
    key = state_key or name
    if key not in st.session_state or st.session_state[key] not in options:
        linked = st.query_params.get(name)
        st.session_state[key] = (
            linked if linked in options else (default if default in options else options[0])
        )
    return st.session_state[key]


def set_link(name: str, value) -> None:
    """Put a value in the link, only when it changes: every write is a message to the browser,
    and a page that writes its link on every run keeps the browser busy for nothing."""
    if st.query_params.get(name) != str(value):
        st.query_params[name] = str(value)


def remember_choice(name: str, value) -> None:
    set_link(name, value)


def held_index(options: list, key: str) -> int:
    """The index a keyed select box starts from: the session's value, not the list's first entry.
    The browser keeps a widget's value and sends it with every run; a box it draws afresh without
    that value starts from this index. Under load a session opened on V3-Large once came back on
    MobileNetV1 (the first entry) after two α steps (tests/test_load.py, stop 47; not reproduced
    since): with this default the box shows the session's model whatever lost its value."""
    value = st.session_state.get(key)
    return options.index(value) if value in options else 0


def _resolution_from_link() -> None:
    """The resolution is kept in the link by hand, not by widget binding, so that a link's value
    off the slider's 32 px grid (?resolution=100) becomes what the slider shows (96) in the link
    too. Invalid values were reported by _check_query; the slider then starts at the base."""
    raw = st.query_params.get("resolution")
    model = st.query_params.get("model", "v2")
    if raw is None or model not in mc.list_models():
        return
    try:
        wanted = float(raw)
    except ValueError:
        return
    low, high = resolution_range(mc.get_generation(model))
    if low <= wanted <= high:
        snapped = low + RESOLUTION_STEP * round((wanted - low) / RESOLUTION_STEP)
        st.session_state["resolution"] = min(max(snapped, low), high)


def sidebar_selection() -> Selection:
    """Draw the selection widgets in the sidebar and return the validated selection."""
    if "notices" not in st.session_state:
        st.session_state["notices"] = _check_query(dict(st.query_params))
    if "_resolution_linked" not in st.session_state:  # the link is read once per session
        st.session_state["_resolution_linked"] = True
        _resolution_from_link()
    models = mc.list_models()
    if "model" not in st.session_state:  # the link is read once per session
        linked = st.query_params.get("model")
        st.session_state["model"] = linked if linked in models else "v2"
    sidebar = st.sidebar
    # the list shows titles, the state and the link keep the id (?model=v3_small): a widget bound
    # to the link would write the shown title into it, so the link is kept by hand (set_link below)
    model = sidebar.selectbox(
        t("model"),
        models,
        index=held_index(models, "model"),
        key="model",
        on_change=_on_model_change,
        format_func=lambda m: mc.get_generation(m).title,
    )
    sidebar.caption(mc.get_generation(model).paper)  # the title is in the box above
    base = _base(model)
    alpha = sidebar.slider(
        t("alpha"),
        ALPHA_MIN,
        ALPHA_MAX,
        1.0,
        ALPHA_STEP,
        key="alpha",
        bind="query-params",
        format="%.2f",
        on_change=_clear_notices,
    )
    sidebar.pills(
        t("paper_alphas"),
        PAPER_ALPHAS,
        key="alpha_pick",
        on_change=_on_alpha_pick,
        format_func=lambda a: f"{a:g}",
    )
    if mc.get_generation(model).family == "V5":  # no paper, no published alpha: say whose rule this is
        sidebar.caption(t("alpha_v5"))
    low, high = resolution_range(mc.get_generation(model))  # the limits are the library's
    if "resolution" in st.session_state and not low <= st.session_state["resolution"] <= high:
        kept = st.session_state["resolution"]
        st.session_state["resolution"] = nearest_resolution(mc.get_generation(model), kept)
    resolution = sidebar.slider(
        t("resolution"),
        low,
        high,
        st.session_state.get("resolution", base),  # held, as the model's index above
        RESOLUTION_STEP,
        key="resolution",
        on_change=_clear_notices,
    )
    sidebar.caption(t("rho_caption", res=resolution, base=base, rho=resolution / base))
    for notice in st.session_state.get("notices", []):
        sidebar.warning(notice)
    st.session_state["_previous_model"] = model
    set_link("model", model)
    set_link("resolution", int(resolution))
    # the slider's float steps can carry binary noise (0.35000000000000003)
    return Selection(model, round(float(alpha), 2), int(resolution))


def selection_in_page(where, sel: Selection) -> None:
    """The model, α and resolution drawn again in a lesson whose demonstration is the selection
    itself (the multipliers): on a projector (presentation mode hides the sidebar) and on a tablet
    (its sidebar folded) the knobs the lesson asks to move are beside its curves. They are the
    sidebar's selection, not a copy: each writes the sidebar's state (before the next run draws
    it), and each is set from the selection on every run, so the two places always agree."""
    models = mc.list_models()
    low, high = resolution_range(sel.generation)
    # set before the widgets exist in this run (allowed), never passed as a default as well
    st.session_state["page_model"] = sel.model
    st.session_state["page_alpha"] = sel.alpha
    st.session_state["page_resolution"] = sel.resolution
    cols = where.columns(3)
    cols[0].selectbox(t("model"), models, key="page_model", on_change=_page_model_changed,
                      format_func=lambda m: mc.get_generation(m).title)  # fmt: skip
    cols[1].slider(t("alpha"), ALPHA_MIN, ALPHA_MAX, step=ALPHA_STEP, key="page_alpha", format="%.2f",
                   on_change=_page_alpha_changed)  # fmt: skip
    cols[2].slider(t("resolution"), low, high, step=RESOLUTION_STEP, key="page_resolution",
                   on_change=_page_resolution_changed)  # fmt: skip


def _page_model_changed() -> None:
    st.session_state["model"] = st.session_state["page_model"]
    _on_model_change()  # the resolution follows as it does from the sidebar


def _page_alpha_changed() -> None:
    st.session_state["alpha"] = round(float(st.session_state["page_alpha"]), 2)
    _clear_notices()


def _page_resolution_changed() -> None:
    st.session_state["resolution"] = int(st.session_state["page_resolution"])
    _clear_notices()


def current_selection() -> Selection:
    """For pages: the selection the sidebar drew in this run."""
    return st.session_state["selection"]


def figure_format_picker() -> None:
    """What the charts' camera button saves: PNG at 3x (print quality) or SVG (vector)."""
    st.sidebar.radio(t("figure_format"), ["png", "svg"], horizontal=True, key="figure_format",
                     format_func={"png": t("figure_png"), "svg": "SVG"}.get)  # fmt: skip

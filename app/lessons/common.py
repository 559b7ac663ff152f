"""What every lesson page shares: its texts, the model and network it runs, the photo, a table and
a chart in the one style, and the step-through's callback.

Each page (app/lessons/<name>/__init__.py, `show()`): the lesson's text (app/lessons/<name>/<language>.md,
split at `<!-- demo -->`), a live
demonstration computed by mobilenet_core.lessons on the current selection and the learner's photo,
the paper's formula with the live numbers, and the "try this" prompts. Pages hold no network
arithmetic. Widget callbacks live in this imported module, never in a page script (a page-level
function would keep that page's globals alive for the whole session).

Shared state: the networks come from app.models.MODEL_CACHE (read-only; the demos run the
modules' parts in order and register no hooks), the texts from an lru_cache of file contents.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st
import torch

import mobilenet_core as mc
from app.common import draw_figure, lost_uploads_ui, number_column_config, page_title
from app.figures import LEGEND_BELOW, FigureCache, shared_figure
from app.i18n import current_language, t
from app.lessons import folder
from app.present import lesson_stage
from app.responsive import camera_photo
from app.state import current_selection
from mobilenet_core import lessons as L
from mobilenet_core.predict import ImageError, load_image, preprocess_image
from mobilenet_core.registry import default_preprocess, weights_for
from mobilenet_core.weights import cached_file

TEXTS = Path(__file__).resolve().parent  # app/lessons/<name>/<language>.md
SAMPLES = Path(__file__).resolve().parents[2] / "assets" / "samples"
MARKER = "<!-- demo -->"


# --- text, selection, photo -------------------------------------------------------------------------


@lru_cache(maxsize=64)
def lesson_text(path: str, language: str) -> tuple[str, str, str]:
    """(title, explanation, try-this) of a lesson in a language."""
    text = (TEXTS / folder(path) / f"{language}.md").read_text(encoding="utf-8")
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


def open_lesson(path: str, fold: bool = True):
    """The lesson's title and idea; returns (path, figure, settings): the containers its
    demonstration and its settings go in (presenting, the figure comes first)."""
    title, before, _ = lesson_text(path, current_language())
    page_title(title)
    # the first paragraph says the idea; the rest waits behind "more" (complexity on request), so
    # the demonstration starts on the first screen of a projector
    first, rest = first_paragraphs(before) if fold else (before, "")
    st.markdown(first)
    figure, settings = lesson_stage()
    if rest.strip():
        with settings.expander(t("ls_more")):
            st.markdown(rest)
    return path, figure, settings


def close_lesson(path: str) -> None:
    after = lesson_text(path, current_language())[2]
    st.divider()
    st.markdown(after)


def choose_model(path: str, runs: bool = False):
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


def sample_photos() -> dict[str, Path]:
    return {p.name: p for p in sorted(SAMPLES.glob("*")) if p.suffix in (".png", ".jpg")}


def photo_picker(key: str = "lesson_photo", label: str | None = None):
    """The learner's photo for every lesson (kept in the session), or a bundled sample."""
    samples = sample_photos()
    with st.expander(label or t("ls_your_photo"), expanded=False):
        upload = st.file_uploader(
            t("ls_upload"), type=["png", "jpg", "jpeg", "webp", "bmp"], key=f"{key}_file"
        )
        lost_uploads_ui(f"{key}_file")
        shot = camera_photo(key)  # a tablet's camera (issue 26): a photo taken counts as uploaded
        # the camera's photo wins; the dropped one is decoded only while it is the one in use (a
        # phone's photo is 36 MB decoded, and the session kept both)
        chosen = learner_photo(st.session_state, f"{key}_shot", shot)
        if chosen is None:
            chosen = learner_photo(
                st.session_state, f"{key}_image", upload and (upload.name, upload.getvalue())
            )
        else:
            st.session_state.pop(f"{key}_image", None)
        # while the learner's own photo is in use the bundled one is not: the picker says so
        sample = st.selectbox(t("ls_sample"), list(samples), key=f"{key}_sample", disabled=chosen is not None,
                              help=t("ls_sample_unused") if chosen is not None else None)  # fmt: skip
    if chosen is None:
        st.session_state.pop("lesson_inputs", None)  # the learner's last photo's inputs go with it
        return sample, sample_image(samples[sample])
    return chosen


def learner_photo(state, slot: str, file: tuple[str, bytes] | None) -> tuple[str, object] | None:
    """(name, image) of the learner's own file (name, bytes), decoded once per file and kept in
    the session's `state` under `slot` (the drop zone's, the camera's: a new file replaces the
    last, no file lets it go); None without a file, and None with a message when it does not
    decode. A lesson decoded a phone's photo on every rerun (75-105 ms for 12 megapixels here),
    and resized it in to_tensor (36-40 ms), whatever widget moved (issue 24)."""
    if file is None:
        state.pop(slot, None)
        return None
    name, data = file
    fingerprint = (name, hashlib.blake2b(data, digest_size=16).digest())
    kept = state.get(slot)
    if kept is None or kept[2] != fingerprint:
        state.pop(slot, None)
        try:
            kept = state[slot] = (name, load_image(data, name), fingerprint)
        except ImageError as exc:
            st.warning(t(f"img_{exc.code}", **exc.params))
            return None
    return kept[0], kept[1]


def network(model: str, alpha: float, resolution: int):
    """(module, preprocessing, weights) the demo runs (`weights` names the weights for
    `shared_demo`: a checkpoint's file name, or the seeded untrained network of the configuration), said above its figure: the configuration's published
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
        return module, entry.preprocess, entry.name
    if entries:
        offer_download(entries[0])
    else:
        st.info(t("ls_weights_untrained_none"))
    module = untrained_model(model, alpha, resolution)[0]
    return module, default_preprocess(resolution), f"untrained/{model}/{alpha:g}/{resolution}"


def offer_download(entry) -> None:
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


# The bundled sample photos, decoded once per process, and their network inputs once per (photo,
# preprocessing), for every session: a lesson decoded and resized its photo on every run, a fifth
# of the server's CPU for a first SE lesson (py-spy, issue 24). Shared and read only: a sample's
# image goes only to to_tensor, which hands each caller its own copy of the tensor and the crop.
# The few bundled files stay for the process; the lock makes one image per file, so that
# to_tensor can know a sample by identity.
_SAMPLE_IMAGES: dict[Path, object] = {}
_SAMPLE_LOCK = threading.Lock()


def sample_image(path: Path):
    """A bundled sample photo, decoded once for every session: read it, never change it."""
    with _SAMPLE_LOCK:
        if path not in _SAMPLE_IMAGES:
            _SAMPLE_IMAGES[path] = load_image(path)
        return _SAMPLE_IMAGES[path]


@lru_cache(maxsize=32)
def _sample_input(path: Path, recipe) -> tuple[torch.Tensor, object]:
    return preprocess_image(sample_image(path), recipe)


def to_tensor(image, recipe):
    """(network input, center crop) of a photo, and each caller gets a copy of both: a bundled
    sample's are computed once for every session; the learner's own photo's once per
    preprocessing in the session (kept for the session's current photo only)."""
    with _SAMPLE_LOCK:
        path = next((p for p, sample in _SAMPLE_IMAGES.items() if sample is image), None)
    if path is None:
        kept = {r: v for r, v in st.session_state.get("lesson_inputs", {}).items() if v[0] is image}
        if recipe not in kept:
            kept[recipe] = (image, *preprocess_image(image, recipe))
        st.session_state["lesson_inputs"] = kept
        _, x, crop = kept[recipe]
    else:
        x, crop = _sample_input(path, recipe)
    return x.clone(), crop.copy()


def show_table(frame: pd.DataFrame) -> None:
    """A table with exact integers shown with thousands separators (years stay as they are)."""
    numbers = [
        c for c in frame.columns if pd.api.types.is_integer_dtype(frame[c]) and frame[c].abs().max() >= 10000
    ]
    st.dataframe(frame, hide_index=True, column_config=number_column_config(numbers))


# a lesson chart's layout, over the app's one style
CHART_LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), legend=LEGEND_BELOW)


def show_shared_chart(
    key: tuple, build, name: str, height: int = 360, cache: FigureCache | None = None
) -> None:
    """A lesson chart that depends only on `key` and the language (a chart of a network on a photo
    puts the weights' name and the input's digest in the key, as shared_demo does): built
    once for every session (app.figures.shared_figure says why that is safe), in the lessons'
    layout (CHART_LAYOUT). A slider moved through its values in front of a class costs each
    student the drawing only (issue 24)."""
    draw_figure(lesson_figure(key, build, height, cache), name)


def lesson_figure(key: tuple, build, height: int = 360, cache: FigureCache | None = None):
    """The shared figure show_shared_chart draws for `key` (built now if no session has); `cache`
    for figures indexed by a slider (app.figures.shared_figure)."""
    return shared_figure(("lesson", *key), build, height, cache=cache, **CHART_LAYOUT)


def next_step(key: str, last: int) -> None:
    """The "next step" button of a step-through (a callback: kept here, not in a page)."""
    st.session_state[key] = min(st.session_state.get(key, 0) + 1, last)


def delta(value: int, reference: int) -> str | None:
    return None if value == reference else f"{value - reference:+,}"


# --- demonstrations computed once for everyone ----------------------------------------------------

# What a lesson computes on a network and a photo (the separable pair run on the photo, the zero
# shares, the SE gates) was computed again on every rerun of every session: a "Next step" or a
# second student on the same photo paid for the network's forward again (issue 24).
#
# Why sharing them between sessions is safe:
# - a demonstration is a pure function of its key: the weights (a checkpoint's file name, or the
#   seeded untrained network of the configuration: `network`), the digest of the exact input
#   tensor, and what the lesson names (the block); the networks are shared read-only (app.models)
#   and the demos register no hooks;
# - its arrays are made read-only before it enters the table (`read_only`): a session can only
#   read what another computed, and a write would raise instead of changing everyone's copy;
# - app.figures.FigureCache reads and changes its table under its lock, builds a key once, and
#   keeps at most DEMO_ENTRIES (least recently used out first).
# Size: a separable demo holds up to ~7 MB of feature maps (V4-Conv-L; V2 ~1-2.5 MB), the zero
# shares and the gates a few kB: 32 entries stay under ~250 MB in the worst case, and a class on
# one photo and a few blocks uses a handful.
DEMO_ENTRIES = 32
DEMOS = FigureCache(DEMO_ENTRIES)


def digest(x: torch.Tensor) -> str:
    """The exact input tensor's fingerprint (the photo as the network sees it)."""
    return hashlib.blake2b(x.detach().contiguous().numpy().tobytes(), digest_size=16).hexdigest()


def read_only(value):
    """`value` with every numpy array in it (itself, a dataclass's fields, a list's items) locked."""
    if isinstance(value, np.ndarray):
        value.setflags(write=False)
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            read_only(getattr(value, f.name))
    elif isinstance(value, list | tuple):
        for item in value:
            read_only(item)
    return value


def shared_demo(name: str, weights: str, x: torch.Tensor, *key, build):
    """`build()`'s result for (name, weights, the input's digest, *key), computed once for every
    session; read it, never change it."""
    return DEMOS.get((name, weights, digest(x), *key), lambda: read_only(build()))

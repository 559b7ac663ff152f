"""Classify: drag photos in, see the top-5 of the configured model, where it looked, and how long
it took. Pretrained weights where a published checkpoint exists, clearly labelled otherwise.

What a rerun costs: the networks come from the shared cache (app/models.py), the user's own
checkpoint from the session (at most one, within SESSION_MODEL_MIB), and each photo's top-5,
Grad-CAM and feature maps are computed once per (photo, weights) and kept for the session
(RecentResults), so moving an unrelated widget computes nothing again."""

from __future__ import annotations

import functools
import hashlib
import io
import os
import tempfile
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch
from PIL import Image

import mobilenet_core as mc
from app.common import draw_figure, file_stem, lost_uploads_ui, page_title, title_line
from app.figures import FigureCache, frozen_spec, shared_figure
from app.i18n import current_language, error_text, t
from app.models import (
    RUN_THREADS,
    int8_runner,
    onnx_for,
    open_checkpoint_upload,
    pretrained_model,
    switch_to_weights,
    untrained_model,
    weights_label,
)
from app.responsive import camera_photo
from app.state import Selection, current_selection
from mobilenet_core.cache import (
    SESSION_MODEL_MIB,
    RecentResults,
    budget_from_env,
    module_bytes,
    release_dropped,
    release_memory,
)
from mobilenet_core.fast import FastModel
from mobilenet_core.predict import (
    ImageError,
    Prediction,
    classify,
    feature_map_grid,
    feature_maps,
    grad_cam,
    load_image,
    overlay_heatmap,
)
from mobilenet_core.quantize import Int8Model
from mobilenet_core.registry import Preprocess, default_preprocess, get_weights, nearest_weights, weights_for
from mobilenet_core.weights import cached_file, ensure_weights, load_checkpoint

IMAGE_TYPES = ["jpg", "jpeg", "png", "webp", "bmp", "gif", "tif", "tiff"]
SAMPLES = Path(__file__).resolve().parent.parent.parent / "assets" / "samples"
# Photos whose results a session keeps (never fewer than the page shows at once): about 3 MB each
# at 384 px (input tensor 1.8 MB, crop 0.4 MB), and the photo (at most 1,460 px wide), its Grad-CAM
# overlays and feature grids kept encoded. The decoded photo is not kept.
EXPLAINED_PHOTOS = 8
# The widest picture st.image sends (Streamlit's MAXIMUM_CONTENT_WIDTH): a wider one it shrinks.
SHOWN_WIDTH = 1460
SESSION_MODEL_VARIABLE = "MOBILENET_EXPLORER_SESSION_MODEL_MB"


@dataclass(frozen=True)
class Weights:
    """The network this run classifies with. Made again on every run from the shared cache or
    the session's upload; never stored, so it keeps no model alive."""

    kind: Literal["pretrained", "uploaded", "untrained"]
    source: tuple  # what results are keyed by: ("pretrained", name), ("uploaded", file id), ...
    label: str
    module: Any  # the eager module, for explanations
    runner: Any  # what classifies: the FastModel, or an INT8 runner
    recipe: Preprocess
    int8: bool = False


@dataclass
class UploadedModel:
    """The session's own checkpoint: one at a time, in its session_state only (Streamlit drops it
    with the session), counted against the per-session budget. The INT8 runner exists only
    while the INT8 switch is on."""

    file_id: str  # Streamlit's id of the upload: no need to hash up to 200 MB on every rerun
    name: str
    config: tuple[str, float, int]
    module: Any
    runner: FastModel
    int8: Any = None
    int8_refused: int = 0  # the bytes the INT8 runner would have brought the session to, when refused

    @property
    def nbytes(self) -> int:
        return module_bytes(tuple(m for m in (self.module, self.runner, self.int8) if m is not None))


@dataclass(frozen=True)
class Photo:
    name: str
    size: tuple[int, int]  # the decoded photo's (width, height); the session keeps no decoded photo
    shown: tuple[bytes, bytes]  # the photo and the network's crop, encoded as st.image sends them
    key: tuple  # (SHA-256 of the file, weights source): what its results are kept under
    prediction: Prediction


def classify_page() -> Selection:
    """Draw the classify view for the shared selection; returns that selection."""
    sel = current_selection()
    page_title(f"{t('page_classify')} · {title_line(sel)}")
    if not sel.generation.head.num_classes:  # an encoder (V5-300M): features, no classes to rank
        st.info(t("classify_encoder", model=sel.generation.title))
        st.stop()
    classify_ui(sel)
    return sel


@st.fragment
def classify_ui(sel: Selection) -> None:
    """The photos, the weights and what the network makes of them. A fragment: a photo dropped, a
    switch or a picker here reruns this part only, not the sidebar, its navigation and the page's
    script (about 10 core-ms of a 90 core-ms upload, issue 24). What changes the sidebar's
    selection (the nearest published checkpoint's button) reruns the whole app."""
    inputs = image_inputs()  # visible before a network is chosen: the photo waits for one
    weights = weights_ui(sel)
    if weights is None:
        if inputs:  # the photos wait in the drop zone for a network
            st.info(t("photos_waiting", n=len(inputs)))
        return
    weights = int8_ui(weights)
    photos = classified(inputs, weights, feature_map_block(sel)[1])
    for photo in photos:
        photo_ui(photo, weights, sel)
    if photos:
        feature_maps_ui(photos, weights, sel)
    onnx_download_ui(weights, sel)


# --- photos ---------------------------------------------------------------------------------------


def image_inputs() -> list[tuple[str, bytes]]:
    """The photo drop zone, the camera beside it, and the bundled samples: (name, bytes) of each."""
    drop, camera = st.columns([3, 2])
    uploads = drop.file_uploader(t("upload_images"), type=IMAGE_TYPES, accept_multiple_files=True,
                                 key="images")  # fmt: skip
    lost_uploads_ui("images", where=drop)
    use_samples = st.toggle(t("use_samples"), key="use_samples")
    inputs = [(u.name, u.getvalue()) for u in uploads or []]
    with camera:
        shot = camera_photo("classify")
    if shot is not None:
        inputs.append(shot)
    if use_samples:
        inputs += [
            (p.name, p.read_bytes()) for p in sorted(SAMPLES.glob("*")) if p.suffix in (".png", ".jpg")
        ]
    return inputs


def session_results() -> RecentResults:
    """This session's results per (photo, weights source)."""
    return st.session_state.setdefault("classify_results", RecentResults(EXPLAINED_PHOTOS))


# What the class computes on the same photo with the same weights, computed once for everyone: a
# class turning on the bundled samples, or dropping the photo the teacher shared, classified it,
# encoded its pictures and ran its Grad-CAM once per student (issue 24).
# Why sharing them between sessions is safe:
# - a result is a pure function of its key: the photo's SHA-256 (only a session holding the same
#   bytes can ask for it), the weights' source (an uploaded checkpoint's names the session's own
#   file) and what is computed (top-5 with or without INT8, the pictures, a class's Grad-CAM, a
#   block's feature maps, a chart in a language);
# - the values are read, never changed: encoded bytes, frozen figures, and the prediction, whose
#   tensors the explanations only read (predict.feature_maps) or copy (predict.grad_cam);
# - app.figures.FigureCache changes its table under its lock, computes a key once (a second
#   student dropping the same photo meanwhile waits for the first's result), and keeps at most
#   CLASSIFIED_ENTRIES and CLASSIFIED_MB as result_bytes counts them, least recently used out first.
# Size: a photo's top-5 holds its input tensor, crop and one block's maps (about 1 MB at 224 px,
# 3 MB at 384, 11 MB for V4-L untrained at 768), its encoded pictures a few hundred kB each.
# Results of an uploaded checkpoint are not shared: its source names one session's file.
CLASSIFIED_ENTRIES = 64
CLASSIFIED_MB = 256


def result_bytes(value: Any) -> int:
    """The bytes a result holds: its tensors, arrays, images and encoded pictures."""
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, Image.Image):
        return value.width * value.height * len(value.getbands())
    if isinstance(value, tuple | list):
        return sum(result_bytes(v) for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        return sum(result_bytes(getattr(value, f.name)) for f in fields(value))
    return 0  # numbers, names, a frozen figure (a few kB)


CLASSIFIED = FigureCache(CLASSIFIED_ENTRIES, CLASSIFIED_MB << 20, size=result_bytes)


def photo_result(key: tuple, what: Hashable, compute: Callable[[], Any]) -> Any:
    """A photo's result: the session's (its recent photos), else the class's, else computed."""
    if key[1][0] == "uploaded":  # one session's checkpoint: no one else can ask for it
        return session_results().get(key, what, compute)
    return session_results().get(key, what, lambda: CLASSIFIED.get((key, what), compute))


def classified(inputs: list[tuple[str, bytes]], weights: Weights, block: str | None = None) -> list[Photo]:
    """Each photo that decodes with its top-5; one message per photo that does not. The top-5 is
    computed once per (photo, weights, INT8) and kept for the session and the class
    (photo_result), with the feature maps of `block` (the one the page shows) from the same pass
    when the runner gives them."""
    session_results().max_keys = max(EXPLAINED_PHOTOS, len(inputs))  # never fewer than the page shows
    photos, computed = [], False
    for name, data in inputs:
        key = (hashlib.sha256(data).hexdigest(), weights.source)
        # Decoded only when something is computed from it, at most once a run; the session keeps
        # what was computed (the results, the pictures encoded), not the decoded photo: a phone's
        # is 36 MB as RGB at 12 megapixels and 120 MB at the 40-megapixel limit, for each photo.
        image = functools.cache(functools.partial(load_image, data, name=name))

        def top5(image=image, name=name):
            nonlocal computed
            computed = True
            return classify(weights.runner, image(), weights.recipe, name=name, k=5, block=block, count=MAPS)

        try:
            prediction = photo_result(key, ("top5", weights.int8), top5)
            size, *pictures = photo_result(key, "shown", functools.partial(_pictures, image, prediction.crop))
        except ImageError as exc:
            st.error(t(f"img_{exc.code}", **exc.params))
            continue
        photos.append(Photo(name, size, tuple(pictures), key, prediction))
    if computed:
        # give the inference's freed buffers back to the OS (glibc keeps them otherwise: a tour of
        # every model grew the server to 5.8 GB when no Grad-CAM, which trims, ran after it)
        release_memory()
    return photos


def _pictures(image, crop: Image.Image) -> tuple[tuple[int, int], bytes, bytes]:
    """The photo's size, and the photo and the network's crop encoded to be shown."""
    decoded = image()
    return decoded.size, shown(decoded), shown(crop)


def _both(c) -> str:
    """A class in the user's language, and in English when that is another one."""
    own = c.label_in(current_language())
    return own if own == c.label else f"{c.label} / {own}"


def photo_ui(photo: Photo, weights: Weights, sel: Selection) -> None:
    """One photo: the original, the crop the network saw, Grad-CAM, and the top-5 chart."""
    prediction, (shown_image, shown_crop) = photo.prediction, photo.shown
    st.markdown(f"## {photo.name}")
    cols = st.columns([1, 1, 1, 2])
    # a text alternative for each picture (axe image-alt, critical: a caption is not an alt): the
    # photo's name and what the caption says
    original, crop = (
        t("original", w=photo.size[0], h=photo.size[1]),
        t("network_input", size=weights.recipe.crop),
    )
    cols[0].image(shown_image, caption=original, width="stretch", alt=f"{photo.name} · {original}")
    cols[1].image(shown_crop, caption=crop, width="stretch", alt=f"{photo.name} · {crop}")
    if weights.kind == "untrained":  # random weights: nothing to explain, and the classes are noise
        cols[2].info(t("untrained_no_cam"))
    else:
        classes = {_both(c): c.index for c in prediction.top}
        chosen = classes[cols[2].selectbox(t("cam_class"), list(classes), key=f"cam_{photo.name}")]

        def overlay():
            cam = grad_cam(weights.module, prediction.tensor, chosen)
            return shown(overlay_heatmap(prediction.crop, cam))

        picture = photo_result(photo.key, ("cam", chosen), overlay)
        cols[2].image(picture, caption=t("grad_cam"), width="stretch", alt=f"{photo.name} · {t('grad_cam')}")
    top5_chart_ui(photo, weights, sel, where=cols[3])


def shown(picture: Image.Image) -> bytes:
    """A picture encoded in the format st.image would choose: JPEG (PNG when it may have an
    alpha channel), at most SHOWN_WIDTH wide (the same bytes as Streamlit's up to that width).
    Handed a PIL image, st.image encodes it again on every run (a 12-megapixel phone photo at
    full size, then decoded, shrunk and encoded once more: 345 ms a run here, for each such
    photo on the page, whatever widget moved); handed these bytes, kept with the photo's
    results, it only hashes them (0.3 ms)."""
    out, alpha = io.BytesIO(), picture.mode in {"RGBA", "LA", "P"}
    if picture.width > SHOWN_WIDTH:  # shrunk once, from the original (Streamlit: from its JPEG)
        size = (SHOWN_WIDTH, int(picture.height * SHOWN_WIDTH / picture.width))
        picture.resize(size, Image.Resampling.BILINEAR).save(out, "PNG" if alpha else "JPEG", quality=90)
    else:
        picture.save(out, "PNG" if alpha else "JPEG", quality=100)  # what st.image does with it
    return out.getvalue()


def top5_chart_ui(photo: Photo, weights: Weights, sel: Selection, where) -> None:
    """The top-5 bars, built and styled once per (photo, weights, INT8, language) and kept with the
    photo's results: a rerun of the page draws the same figure again (5 ms a photo saved)."""
    language = current_language()
    build = functools.partial(_top5_figure, photo.prediction, weights.kind == "untrained", language)
    fig = photo_result(photo.key, ("top5_figure", weights.int8, language), build)
    draw_figure(fig, file_stem(sel, "fig"), key=f"top5_{photo.name}", where=where)


def _top5_figure(prediction: Prediction, untrained: bool, language: str) -> go.Figure:
    """The top-5 bars: the shared top-5 figure (built, validated and styled by Plotly once per
    language for the class) with this photo's numbers and title put into a copy of its dict.
    Building and styling a Plotly figure per photo was 40 of an upload rerun's 186 profiled ms."""
    spec = shared_figure(("top5",), _top5_template, height=300, margin=dict(l=10, r=10, t=40, b=10)).to_dict()
    top = prediction.top[::-1]  # the best class on top: Plotly draws the first bar at the bottom
    probabilities = [c.probability for c in top]
    spec["data"][0].update(
        x=probabilities,
        y=[c.label_in(language) for c in top],
        text=[f"{p:.1%}" for p in probabilities],
        customdata=[f"{_both(c)} (#{c.index})" for c in top],
    )
    title = t("top5_untrained" if untrained else "top5", ms=prediction.latency_ms)
    spec["layout"] = {**spec["layout"], "title": {"text": title}}
    return frozen_spec(spec)


def _top5_template() -> go.Figure:
    """The top-5 chart without a photo's numbers (_top5_figure puts them in)."""
    hover = "%{customdata}<br>%{x:.2%}<extra></extra>"
    bars = go.Bar(x=[], y=[], orientation="h", marker_color="#1f77b4", text=[], textposition="auto",
                  customdata=[], hovertemplate=hover)  # fmt: skip
    fig = go.Figure(bars)
    fig.update_layout(xaxis=dict(range=[0, 1], tickformat=".0%"))
    return fig


MAPS = 16  # feature maps shown per photo


def feature_map_block(sel: Selection) -> tuple[list[str], str]:
    """The blocks whose feature maps can be shown, and the one shown (the reader's choice, at
    first the middle block)."""
    report = mc.count(sel.model, sel.alpha, sel.resolution)
    blocks = [b.name for b in report.blocks if b.name.startswith("blocks.")]
    chosen = st.session_state.get("fmap_block")
    return blocks, chosen if chosen in blocks else blocks[len(blocks) // 2]


def feature_maps_ui(photos: list[Photo], weights: Weights, sel: Selection) -> None:
    """The first 16 channels of a chosen block's output for a chosen photo (kept per photo)."""
    st.markdown(f"## {t('feature_maps')}")
    blocks, _ = feature_map_block(sel)
    pick_cols = st.columns(2)
    block = pick_cols[0].selectbox(t("pick_block"), blocks, index=len(blocks) // 2, key="fmap_block")
    name = pick_cols[1].selectbox(t("image"), [p.name for p in photos], key="fmap_image")
    photo = next(p for p in photos if p.name == name)

    def grid():
        known = photo.prediction.block_maps  # from the classifying pass, when it was this block
        if known is not None and known[0] == block:
            maps = known[1]
        else:
            maps = feature_maps(
                weights.module, photo.prediction.tensor, block, count=MAPS, runner=weights.runner
            )
        return shown(feature_map_grid(maps)), maps.shape[1:]

    picture, shape = photo_result(photo.key, ("maps", block), grid)
    caption = t("feature_caption", block=block, shape=shape)
    st.image(picture, caption=caption, width="stretch", alt=f"{photo.name} · {caption}")


# --- which weights ----------------------------------------------------------------------------------


def weights_ui(sel: Selection) -> Weights | None:
    """The published checkpoint (left), the user's own file (right), or the untrained network;
    None while none is chosen. The upload, when there is one, wins."""
    left, right = st.columns([3, 2])
    with right:
        uploaded = uploaded_weights_ui(sel)
    with left:
        entries = weights_for(sel.model, sel.alpha, sel.resolution)
        published = published_weights_ui(entries, load=uploaded is None) if entries else no_published_ui(sel)
    weights = uploaded or published
    # one control for the untrained network: the switch in the row of ways forward above
    if weights is None and st.session_state.get("use_untrained"):
        module, runner = untrained_model(sel.model, sel.alpha, sel.resolution)
        source = ("untrained", sel.model, sel.alpha, sel.resolution)
        weights = Weights("untrained", source, t("source_untrained"), module, runner,
                          default_preprocess(sel.resolution))  # fmt: skip
    if weights is not None:
        (st.error if weights.kind == "untrained" else st.success)(weights.label)
    return weights


def auto_download_allowed() -> bool:
    """MOBILENET_EXPLORER_OFFLINE=1 (the test suite sets it) turns the automatic first download
    off; the download button still works."""
    return os.environ.get("MOBILENET_EXPLORER_OFFLINE", "").strip() in ("", "0")


def download_with_progress(entry) -> bool:
    """Download with a progress bar; a failure is remembered for the session (what went wrong, in
    the user's words, is said once by the page) and never shown as a technical message."""
    bar = st.progress(0.0, text=t("downloading", name=entry.description))

    def show(done: int, total: int | None) -> None:
        if total:
            text = t("downloading", name=entry.description) + f" {done / 2**20:.1f} MiB"
            bar.progress(min(done / total, 1.0), text=text)

    failures = st.session_state.setdefault("download_failures", {})
    try:
        ensure_weights(entry, show)
    except mc.CheckpointError as exc:
        bar.empty()
        failures[entry.name] = exc.code or "server"
        return False
    bar.empty()
    failures.pop(entry.name, None)
    return True


def published_weights_ui(entries, load: bool = True) -> Weights | None:
    """The choice of published checkpoint, downloaded on first use (once per session and
    checkpoint; after a failure, on request). `load=False` draws the choice only."""
    choice = st.selectbox(
        t("published_weights"), [e.name for e in entries], key="weights_choice", format_func=weights_label
    )
    entry = get_weights(choice)
    tried = st.session_state.setdefault("download_tried", set())
    cached = cached_file(entry).exists()
    if not cached and entry.name not in tried and auto_download_allowed():
        tried.add(entry.name)
        cached = download_with_progress(entry)
    if not cached:
        download_failed_ui(entry, tried)
        return None
    if not load:
        return None
    try:
        module, runner = pretrained_model(entry.name)
    except mc.CheckpointError as exc:
        st.error(t("checkpoint_refused", error=error_text(exc)))
        return None
    label = t("source_pretrained", name=f"{entry.description} ({entry.name})")
    return Weights("pretrained", ("pretrained", entry.name), label, module, runner, entry.preprocess)


def download_failed_ui(entry, tried: set) -> None:
    """One message, in the user's words; the ways forward are buttons."""
    failure = st.session_state.get("download_failures", {}).get(entry.name)
    words = {"config": entry.description, "mb": entry.approx_mb}
    st.warning(t(f"weights_{failure}", **words) if failure else t("weights_not_downloaded", **words))
    ways = st.container(horizontal=True)  # buttons as wide as their words, wrapped
    label = t("retry_download") if entry.name in tried else t("download_weights")
    if ways.button(label, key="download"):
        tried.add(entry.name)
        download_with_progress(entry)
        st.rerun()  # drawn again: the weights, or the new failure said by the message above
    ways.button(t("upload_checkpoint_button"), key="open_upload", on_click=open_checkpoint_upload)
    ways.toggle(t("use_untrained"), key="use_untrained")


def no_published_ui(sel: Selection) -> None:
    near = nearest_weights(sel.model, sel.alpha, sel.resolution)
    st.warning(t("no_published", model=sel.generation.title, alpha=sel.alpha, res=sel.resolution,
                 near=near.description))  # fmt: skip
    ways = st.container(horizontal=True)  # buttons as wide as their words, wrapped
    ways.button(t("switch_nearest", name=near.description), on_click=switch_and_rerun_app, args=(near.name,),
                key="switch")  # fmt: skip
    ways.button(t("upload_checkpoint_button"), key="open_upload", on_click=open_checkpoint_upload)
    ways.toggle(t("use_untrained"), key="use_untrained")


def switch_and_rerun_app(entry_name: str) -> None:
    """The nearest checkpoint's button: the sidebar's selection becomes the checkpoint's, and the
    whole app runs once with it (st.rerun in the callback). Called after the click, the rerun ran
    this fragment first and then the whole app: two runs for one click."""
    switch_to_weights(entry_name)
    st.rerun()


def session_model_budget() -> int:
    """Bytes one session's own checkpoint may take (MOBILENET_EXPLORER_SESSION_MODEL_MB)."""
    return budget_from_env(SESSION_MODEL_VARIABLE, SESSION_MODEL_MIB)


def uploaded_weights_ui(sel: Selection) -> Weights | None:
    """The checkpoint upload. The session keeps one uploaded model, the one in the drop zone for
    this configuration: removing the file, or choosing another configuration, drops it. A refusal
    is remembered for that file and configuration, so a rerun does not build the network again."""
    with st.expander(t("upload_checkpoint"), expanded=bool(st.session_state.get("show_checkpoint_upload"))):
        file = st.file_uploader(t("upload_checkpoint"), type=["pth", "pt", "bin", "safetensors"],
                                key="checkpoint_upload", label_visibility="collapsed")  # fmt: skip
        wanted = (file.file_id, (sel.model, sel.alpha, sel.resolution)) if file is not None else None
        kept = st.session_state.get("uploaded_checkpoint")
        if kept is not None and (kept.file_id, kept.config) != wanted:
            del st.session_state["uploaded_checkpoint"]  # freed before another one is loaded
            kept = None
            release_dropped()
        refusal = st.session_state.get("checkpoint_refusal")
        if wanted is not None and kept is None:
            if refusal is None or refusal[0] != wanted:
                loaded = load_uploaded(file.name, file.getvalue(), *wanted)
                if isinstance(loaded, UploadedModel):
                    st.session_state["uploaded_checkpoint"], refusal = loaded, None
                else:
                    refusal = (wanted, *loaded)
                st.session_state["checkpoint_refusal"] = refusal
            if refusal is not None:
                st.error(t(refusal[1], **refusal[2]))
    lost_uploads_ui("checkpoint_upload")  # below the expander, which a new session shows folded
    uploaded = st.session_state.get("uploaded_checkpoint")
    if uploaded is None:
        return None
    # results are kept per file and configuration: the same file at another resolution is
    # another preprocessing, and at another α another network
    source = ("uploaded", uploaded.file_id, uploaded.config)
    return Weights("uploaded", source, t("source_uploaded", name=uploaded.name),
                   uploaded.module, uploaded.runner, default_preprocess(sel.resolution))  # fmt: skip


def load_uploaded(name: str, data: bytes, file_id: str, config: tuple) -> UploadedModel | tuple[str, dict]:
    """The uploaded checkpoint loaded into the configuration's network with its fast runner, or
    why not (a message key and its words): a file that does not fit, or a network over the
    session's budget (checked on the module before its runner is exported, and on both after)."""
    budget = session_model_budget()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(name).name
        path.write_bytes(data)
        try:
            module = load_checkpoint(mc.build(*config), path)
        except mc.CheckpointError as exc:
            return "checkpoint_refused", {"error": error_text(exc)}
    uploaded, nbytes = None, module_bytes(module)
    if nbytes <= budget:
        # exported in the worker process: the class goes on meanwhile
        runner = FastModel(module, threads=RUN_THREADS, block_taps=True, isolated=True)
        uploaded = UploadedModel(file_id, name, config, module, runner)
        nbytes = uploaded.nbytes
    if nbytes <= budget:
        return uploaded
    del module, uploaded
    release_dropped()
    return "upload_too_big", {"mib": round(nbytes / 2**20), "limit": round(budget / 2**20)}


# --- how it runs ------------------------------------------------------------------------------------


def int8_ui(weights: Weights) -> Weights:
    """The INT8 switch and the backend caption; returns the weights with the runner to use."""
    if st.toggle(t("use_int8"), key="use_int8", help=t("int8_help")):
        with st.spinner(t("quantizing")):
            runner = int8_for(weights)
        if runner is not None:
            weights = replace(weights, runner=runner, int8=True)
            st.caption(t("int8_caption"))
    else:
        uploaded = st.session_state.get("uploaded_checkpoint")
        if uploaded is not None and uploaded.int8 is not None:
            uploaded.int8 = None  # the session's INT8 runner lives only while the switch is on
            release_dropped()
    recipe = weights.recipe
    st.caption(t("backend_caption", backend=weights.runner.backend, resize=recipe.resize, crop=recipe.crop,
                 interpolation=t(f"interpolation_{recipe.interpolation}")))  # fmt: skip
    return weights


def int8_for(weights: Weights):
    """The INT8 runner: shared for published and untrained networks; the session's own for an
    upload, refused (None, said) when it would take the session over its budget."""
    if weights.kind != "uploaded":
        return int8_runner(weights.source, weights.module)
    uploaded: UploadedModel = st.session_state["uploaded_checkpoint"]
    budget = session_model_budget()
    if uploaded.int8 is None and uploaded.int8_refused <= budget:
        # quantized in the worker process: the class goes on meanwhile
        uploaded.int8 = Int8Model(uploaded.module, threads=RUN_THREADS, isolated=True)
        if uploaded.nbytes > budget:
            uploaded.int8_refused, uploaded.int8 = uploaded.nbytes, None
            release_dropped()
    if uploaded.int8 is None:  # said on every run while the switch is on, quantized once
        st.warning(t("int8_too_big", mib=round(uploaded.int8_refused / 2**20), limit=round(budget / 2**20)))
    return uploaded.int8


def onnx_download_ui(weights: Weights, sel: Selection) -> None:
    """The model as ONNX, exported when the button is pressed. Streamlit keeps the button's
    callable until a later run of any session, so it holds the configuration, or only a weak
    reference to the session's own module: it never keeps a model alive."""
    if weights.kind == "uploaded":
        export = functools.partial(uploaded_onnx, weakref.ref(weights.module))
    else:
        export = functools.partial(onnx_for, weights.source)
    st.download_button(t("download_onnx"), export, f"{file_stem(sel, 'model')}.onnx",
                       "application/octet-stream", on_click="ignore", key="onnx")  # fmt: skip


def uploaded_onnx(module_ref: weakref.ref) -> bytes:
    """ONNX bytes of the session's own module, if the session still has it."""
    module = module_ref()
    return onnx_for(("uploaded",), module) if module is not None else b""

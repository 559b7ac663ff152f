"""Classify: drag photos in, see the top-5 of the configured model, where it looked, and how long
it took. Pretrained weights where a published checkpoint exists, clearly labelled otherwise."""

import functools
import hashlib
import os
import tempfile
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

import mobilenet_core as mc
from app.common import file_stem, show_figure, title_line
from app.i18n import current_language, t
from app.models import (
    int8_runner,
    onnx_for,
    open_checkpoint_upload,
    pretrained_model,
    switch_to_weights,
    untrained_model,
    use_untrained,
    weights_label,
)
from app.state import current_selection
from mobilenet_core.cache import release_memory
from mobilenet_core.fast import FastModel
from mobilenet_core.predict import (
    ImageError,
    classify,
    feature_map_grid,
    feature_maps,
    grad_cam,
    load_image,
    overlay_heatmap,
)
from mobilenet_core.registry import default_preprocess, get_weights, nearest_weights, weights_for
from mobilenet_core.weights import cached_file, ensure_weights, load_checkpoint

IMAGE_TYPES = ["jpg", "jpeg", "png", "webp", "bmp", "gif", "tif", "tiff"]
SAMPLES = Path(__file__).resolve().parent.parent.parent / "assets" / "samples"


def classify_page():
    """Draw the classify view for the shared selection; returns that selection."""

    def download_with_progress(entry) -> bool:
        """Download with a progress bar; a failure is remembered for the session (what went wrong,
        in the user's words, is said once by the page) and never shown as a technical message."""
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

    def image_inputs() -> list[tuple[str, bytes]]:
        """The photo drop zone (and the bundled samples): (name, bytes) of each."""
        uploads = st.file_uploader(
            t("upload_images"), type=IMAGE_TYPES, accept_multiple_files=True, key="images"
        )
        use_samples = st.toggle(t("use_samples"), key="use_samples")
        inputs = [(u.name, u.getvalue()) for u in uploads or []]
        if use_samples:
            inputs += [
                (p.name, p.read_bytes()) for p in sorted(SAMPLES.glob("*")) if p.suffix in (".png", ".jpg")
            ]
        return inputs

    def _both(c) -> str:
        """A class in the user's language, and in English when that is another one."""
        own = c.label_in(current_language())
        return own if own == c.label else f"{c.label} / {own}"

    def auto_download_allowed() -> bool:
        """MOBILENET_EXPLORER_OFFLINE=1 (the test suite sets it) turns the automatic first download
        off; the download button still works."""
        return os.environ.get("MOBILENET_EXPLORER_OFFLINE", "").strip() in ("", "0")

    sel = current_selection()
    st.subheader(f"{t('page_classify')} · {title_line(sel)}")
    if not sel.generation.head.num_classes:  # an encoder (V5-300M): features, no classes to rank
        st.info(t("classify_encoder", model=sel.generation.title))
        st.stop()
    inputs = image_inputs()  # visible before a network is chosen: the photo waits for one

    # --- which weights ----------------------------------------------------------------------------
    entries = weights_for(sel.model, sel.alpha, sel.resolution)
    module = runner = None
    source_label = ""
    source_kind = None  # "pretrained", "uploaded" or "untrained": never read back from translated text
    recipe = default_preprocess(sel.resolution)
    uploaded_checkpoint = st.session_state.get("uploaded_checkpoint")
    if uploaded_checkpoint and uploaded_checkpoint["config"] != (sel.model, sel.alpha, sel.resolution):
        uploaded_checkpoint = None

    left, right = st.columns([3, 2])
    with left:
        if entries:
            names = [e.name for e in entries]
            choice = st.selectbox(
                t("published_weights"), names, key="weights_choice", format_func=weights_label
            )
            entry = get_weights(choice)
            # downloaded on first use, once per session and checkpoint; after a failure, on request
            tried = st.session_state.setdefault("download_tried", set())
            cached = cached_file(entry).exists()
            if not cached and entry.name not in tried and auto_download_allowed():
                tried.add(entry.name)
                cached = download_with_progress(entry)
            if not cached:
                failure = st.session_state.get("download_failures", {}).get(entry.name)
                words = {"config": entry.description, "mb": entry.approx_mb}
                # one message, in the user's words; the ways forward are buttons
                st.warning(
                    t(f"weights_{failure}", **words) if failure else t("weights_not_downloaded", **words)
                )
                ways = st.container(horizontal=True)  # buttons as wide as their words, wrapped
                label = t("retry_download") if entry.name in tried else t("download_weights")
                if ways.button(label, key="download"):
                    tried.add(entry.name)
                    download_with_progress(entry)
                    st.rerun()  # drawn again: the weights, or the new failure said by the message above
                ways.button(t("upload_checkpoint_button"), key="open_upload", on_click=open_checkpoint_upload)
                ways.button(t("use_untrained_button"), key="untrained_button", on_click=use_untrained)
            if cached:
                try:
                    module, runner = pretrained_model(entry.name)
                    recipe = entry.preprocess
                    source_label = t("source_pretrained", name=f"{entry.description} ({entry.name})")
                    source_kind = "pretrained"
                except mc.CheckpointError as exc:
                    st.error(t("checkpoint_refused", error=str(exc)))
        else:
            near = nearest_weights(sel.model, sel.alpha, sel.resolution)
            st.warning(
                t(
                    "no_published",
                    model=sel.generation.title,
                    alpha=sel.alpha,
                    res=sel.resolution,
                    near=near.description,
                )
            )
            ways = st.container(horizontal=True)  # buttons as wide as their words, wrapped
            ways.button(
                t("switch_nearest", name=near.description),
                on_click=switch_to_weights,
                args=(near.name,),
                key="switch",
            )
            ways.button(t("upload_checkpoint_button"), key="open_upload", on_click=open_checkpoint_upload)
            ways.button(t("use_untrained_button"), key="untrained_button", on_click=use_untrained)
    with (
        right,
        st.expander(t("upload_checkpoint"), expanded=bool(st.session_state.get("show_checkpoint_upload"))),
    ):
        checkpoint_file = st.file_uploader(
            t("upload_checkpoint"),
            type=["pth", "pt", "bin", "safetensors"],
            key="checkpoint_upload",
            label_visibility="collapsed",
        )
        if checkpoint_file is not None:
            data = checkpoint_file.getvalue()
            digest = hashlib.sha256(data).hexdigest()
            if not uploaded_checkpoint or uploaded_checkpoint["digest"] != digest:
                with tempfile.TemporaryDirectory() as tmp:
                    path = Path(tmp) / Path(checkpoint_file.name).name
                    path.write_bytes(data)
                    try:
                        loaded = load_checkpoint(mc.build(sel.model, sel.alpha, sel.resolution), path)
                        uploaded_checkpoint = {
                            "digest": digest,
                            "name": checkpoint_file.name,
                            "module": loaded,
                            "runner": FastModel(loaded),
                            "config": (sel.model, sel.alpha, sel.resolution),
                        }
                        st.session_state["uploaded_checkpoint"] = uploaded_checkpoint
                    except mc.CheckpointError as exc:
                        st.error(t("checkpoint_refused", error=str(exc)))

    if uploaded_checkpoint:
        module, runner = uploaded_checkpoint["module"], uploaded_checkpoint["runner"]
        source_label = t("source_uploaded", name=uploaded_checkpoint["name"])
        source_kind = "uploaded"
        recipe = default_preprocess(sel.resolution)
    if module is None:
        if st.toggle(t("use_untrained"), key="use_untrained"):
            module, runner = untrained_model(sel.model, sel.alpha, sel.resolution)
            source_label = t("source_untrained")
            source_kind = "untrained"

    if module is None:
        if inputs:  # the photos wait in the drop zone for a network
            st.info(t("photos_waiting", n=len(inputs)))
        st.stop()
    if source_kind == "untrained":
        st.error(source_label)
    else:
        st.success(source_label)
    if st.toggle(t("use_int8"), key="use_int8", help=t("int8_help")):
        with st.spinner(t("quantizing")):
            if source_kind == "uploaded":  # the session's own model: its INT8 runner stays in the session
                if "int8" not in uploaded_checkpoint:
                    from mobilenet_core.quantize import Int8Model

                    uploaded_checkpoint["int8"] = Int8Model(module)
                runner = uploaded_checkpoint["int8"]
            elif source_kind == "pretrained":
                runner = int8_runner(("pretrained", entry.name), module)
            else:
                runner = int8_runner(("untrained", sel.model, sel.alpha, sel.resolution), module)
        st.caption(t("int8_caption"))
    st.caption(
        t(
            "backend_caption",
            backend=runner.backend,
            resize=recipe.resize,
            crop=recipe.crop,
            interpolation=recipe.interpolation,
        )
    )

    # --- images -------------------------------------------------------------------------------------

    language = current_language()
    results = []
    for name, data in inputs:
        try:
            image = load_image(data, name=name)
        except ImageError as exc:
            st.error(t(f"img_{exc.code}", **exc.params))
            continue
        results.append((name, image, classify(runner, image, recipe, name=name, k=5)))

    if results:
        # give the inference's freed buffers back to the OS (glibc keeps them otherwise: a tour of
        # every model grew the server to 5.8 GB when no Grad-CAM, which trims, ran after it)
        release_memory()
    for name, image, prediction in results:
        st.markdown(f"#### {name}")
        cols = st.columns([1, 1, 1, 2])
        cols[0].image(image, caption=t("original", w=image.width, h=image.height), width="stretch")
        cols[1].image(prediction.crop, caption=t("network_input", size=recipe.crop), width="stretch")
        if source_kind == "untrained":  # random weights: nothing to explain, and the classes are noise
            cols[2].info(t("untrained_no_cam"))
        else:
            classes = {_both(c): c.index for c in prediction.top}
            chosen = cols[2].selectbox(t("cam_class"), list(classes), key=f"cam_{name}")
            cam = grad_cam(module, prediction.tensor, classes[chosen])
            cols[2].image(overlay_heatmap(prediction.crop, cam), caption=t("grad_cam"), width="stretch")
        labels = [c.label_in(language) for c in prediction.top][::-1]
        probabilities = [c.probability for c in prediction.top][::-1]
        fig = go.Figure(
            go.Bar(
                x=probabilities,
                y=labels,
                orientation="h",
                marker_color="#1f77b4",
                text=[f"{p:.1%}" for p in probabilities],
                textposition="auto",
                customdata=[f"{_both(c)} (#{c.index})" for c in prediction.top][::-1],
                hovertemplate="%{customdata}<br>%{x:.2%}<extra></extra>",
            )
        )
        title = (
            t("top5_untrained", ms=prediction.latency_ms)
            if source_kind == "untrained"
            else t("top5", ms=prediction.latency_ms)
        )
        fig.update_layout(title=title, xaxis=dict(range=[0, 1], tickformat=".0%"))
        show_figure(
            fig,
            file_stem(sel, "fig"),
            key=f"top5_{name}",
            height=300,
            where=cols[3],
            margin=dict(l=10, r=10, t=40, b=10),
        )

    if results:
        st.markdown(f"### {t('feature_maps')}")
        report = mc.count(sel.model, sel.alpha, sel.resolution)
        blocks = [b.name for b in report.blocks if b.name.startswith("blocks.")]
        pick_cols = st.columns(2)
        block = pick_cols[0].selectbox(t("pick_block"), blocks, index=len(blocks) // 2, key="fmap_block")
        image_name = pick_cols[1].selectbox(t("image"), [r[0] for r in results], key="fmap_image")
        prediction = next(r[2] for r in results if r[0] == image_name)
        maps = feature_maps(module, prediction.tensor, block, count=16)
        st.image(
            feature_map_grid(maps),
            caption=t("feature_caption", block=block, shape=maps.shape[1:]),
            width="stretch",
        )

    # The download's callable keeps only the configuration, never the module: Streamlit holds on
    # to such callables for the session, and a captured module would outlive the model cache.
    if uploaded_checkpoint:
        onnx_source = ("uploaded",)
    elif source_kind == "untrained":
        onnx_source = ("untrained", sel.model, sel.alpha, sel.resolution)
    else:
        onnx_source = ("pretrained", entry.name)

    st.download_button(
        t("download_onnx"),
        functools.partial(
            onnx_for, onnx_source, uploaded_checkpoint["module"] if uploaded_checkpoint else None
        ),
        f"{file_stem(sel, 'model')}.onnx",
        "application/octet-stream",
        on_click="ignore",
        key="onnx",
    )
    return sel

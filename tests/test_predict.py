"""Classification: registry, download cache (local HTTP server only), image decoding, CLI,
fast path, ONNX export, explanations. No test touches the network beyond 127.0.0.1."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import struct
import subprocess
import sys
import threading
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

import mobilenet_core as mc
from drawn import drawn_charts
from mobilenet_core import CheckpointError
from mobilenet_core.export import export_onnx
from mobilenet_core.fast import FastModel
from mobilenet_core.predict import (
    ImageError,
    class_names,
    classify,
    feature_map_grid,
    feature_maps,
    grad_cam,
    load_image,
    preprocess_image,
)
from mobilenet_core.registry import WEIGHTS, default_preprocess, get_weights, nearest_weights, weights_for
from mobilenet_core.weights import (
    cached_file,
    detect_layout,
    download,
    ensure_weights,
    import_weights,
    load_pretrained,
    read_state_dict,
)
from reference import deterministic_state_dict, float32_tolerance, manifest

DATA = Path(__file__).parent / "data"
PHOTOS = sorted(p for p in DATA.iterdir() if p.suffix in (".png", ".jpg"))


def reference_name(entry) -> str:
    if entry.layout == "torchvision":
        return entry.name.split(".")[0]
    return "timm_" + entry.name.removeprefix("timm/").split(".")[0]


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    return tmp_path / "torch_home"


# --- registry ---------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", WEIGHTS, ids=lambda e: e.name)
def test_every_registry_entry_matches_its_reference_manifest(entry):
    m = manifest(reference_name(entry))
    assert (m["layout"], m["resolution"]) == (entry.layout, entry.resolution)
    module = mc.build(entry.model, entry.alpha, entry.resolution)
    mc.weights.load_state_dict(module, deterministic_state_dict(m["keys"]))
    assert entry.preprocess.crop == entry.resolution


def test_registry_lookups():
    assert [e.name for e in weights_for("v2", 1.0, 224)] == [  # best top-1 first
        "timm/mobilenetv2_100.ra_in1k",
        "tv_mobilenet_v2.IMAGENET1K_V2",
        "tv_mobilenet_v2.IMAGENET1K_V1",
    ]
    assert weights_for("v2", 0.6, 224) == []
    near = nearest_weights("v2", 0.6, 192)
    assert (near.model, near.alpha, near.resolution) == ("v2", 0.5, 224)
    assert nearest_weights("v4_conv_large", 1.0, 256).resolution == 384
    assert get_weights("mobilenetv4_conv_small.e2400_r224_in1k").model == "v4_conv_small"
    with pytest.raises(mc.ConfigError, match="unknown weights"):
        get_weights("resnet50")


def test_every_checkpoint_has_its_published_top1_and_timms_eval_recipe():
    # top-1 at the checkpoint's own resolution: torchvision's weight tables, timm's
    # results-imagenet.csv and release notes; recipes: timm's default_cfgs (crop_pct, mean/std)
    assert all(e.top1 is not None for e in WEIGHTS)
    recipes = {  # name: (resize = floor(size / crop_pct), Inception mean/std 0.5?)
        "timm/mobilenetv1_100.ra4_e3600_r224_in1k": (256, True),  # crop_pct 0.875
        "timm/mobilenetv1_125.ra4_e3600_r224_in1k": (248, True),  # crop_pct 0.9
        "timm/mobilenetv3_large_100.ra4_e3600_r224_in1k": (235, True),  # crop_pct 0.95
        "timm/mobilenetv4_conv_small.e2400_r224_in1k": (256, False),
        "timm/mobilenetv4_conv_small_050.e3000_r224_in1k": (256, True),
        "timm/mobilenetv4_conv_medium.e500_r256_in1k": (269, False),
        "timm/mobilenetv4_conv_large.e600_r384_in1k": (404, False),
        "timm/mobilenetv4_hybrid_medium.ix_e550_r256_in1k": (269, False),
        "timm/mobilenetv4_hybrid_large.ix_e600_r384_in1k": (404, False),
    }
    for name, (resize, inception) in recipes.items():
        recipe = get_weights(name).preprocess
        assert (recipe.resize, recipe.interpolation) == (resize, "bicubic"), name
        assert recipe.mean == ((0.5, 0.5, 0.5) if inception else (0.485, 0.456, 0.406)), name
    assert get_weights("mobilenetv4_hybrid_large.ix_e600_r384_in1k").top1 == 83.990  # at 384, not 448
    assert weights_for("v3_large", 1.0, 224)[0].name == "timm/mobilenetv3_large_100.ra4_e3600_r224_in1k"


def test_class_names_in_both_languages():
    en, zh = class_names("en"), class_names("zh")
    assert len(en) == len(zh) == 1000
    assert (en[281], zh[281]) == ("tabby", "虎斑猫")
    assert (en[517], zh[517]) == ("crane", "起重机") and zh[134] == "鹤"
    assert (en[504], zh[504]) == ("coffee mug", "咖啡杯")


# --- download cache ------------------------------------------------------------------------------


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    requests: list[str] = []
    declared: dict[str, str] = {}  # path -> SHA-256 announced on HEAD, as the Hugging Face Hub does

    def do_HEAD(self):  # noqa: N802 - http.server's naming
        if self.path not in self.declared:
            self.send_error(405)
            return
        self.send_response(302)  # the Hub redirects to its CDN and puts the LFS oid on the redirect
        self.send_header("Location", self.path)
        self.send_header("X-Linked-Etag", f'"{self.declared[self.path]}"')
        self.end_headers()

    def do_GET(self):  # noqa: N802 - http.server's naming
        self.requests.append(self.headers.get("Range") or "")
        data = self.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        start = 0
        if (rng := self.headers.get("Range")) and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
            self.send_response(206)
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RangeHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _RangeHandler.files, _RangeHandler.requests, _RangeHandler.declared = {}, [], {}
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def checkpoint_bytes(reference: str, fmt: str = ".pth") -> bytes:
    state = deterministic_state_dict(manifest(reference)["keys"])
    if fmt == ".safetensors":
        from safetensors.torch import save

        return save({k: v.contiguous() for k, v in state.items()})
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def test_a_download_over_the_size_limit_is_refused_before_any_byte_is_written(
    server, torch_home, monkeypatch
):
    """The server's Content-Length is checked before the file is opened: nothing lands in the cache."""
    import mobilenet_core.weights as weights

    monkeypatch.setattr(weights, "MAX_CHECKPOINT_BYTES", 1000)
    _RangeHandler.files["/big.pth"] = b"x" * 5000
    entry = replace(get_weights("tv_mobilenet_v3_small.IMAGENET1K_V1"), url=f"{server}/big.pth")
    with pytest.raises(mc.CheckpointError) as refused:
        download(entry)
    assert refused.value.code == "too_big" and "over the limit" in str(refused.value)
    assert not (torch_home / "hub" / "checkpoints").exists() or not any(
        (torch_home / "hub" / "checkpoints").iterdir()
    )


def test_download_lands_in_the_cache_with_its_hash_checked(server, torch_home):
    data = checkpoint_bytes("tv_mobilenet_v3_small")
    digest = hashlib.sha256(data).hexdigest()
    entry = replace(
        get_weights("tv_mobilenet_v3_small.IMAGENET1K_V1"),
        url=f"{server}/m.pth",
        filename=f"mobilenet_v3_small-{digest[:8]}.pth",
        sha256_prefix=digest[:8],
    )
    _RangeHandler.files["/m.pth"] = data
    seen = []
    path = download(entry, progress=lambda done, total: seen.append((done, total)))
    assert path == torch_home / "hub" / "checkpoints" / entry.filename and path.read_bytes() == data
    assert seen[-1] == (len(data), len(data))
    module = load_pretrained(entry, allow_download=False)
    # loaded from the torchvision-layout file it downloaded
    assert detect_layout(read_state_dict(path)) == "torchvision" and module.model_name == "v3_small"


def test_corrupted_download_is_rejected_and_leaves_no_file(server, torch_home):
    data = checkpoint_bytes("tv_mobilenet_v3_small")
    entry = replace(get_weights("tv_mobilenet_v3_small.IMAGENET1K_V1"), url=f"{server}/bad.pth")
    _RangeHandler.files["/bad.pth"] = data[:-10] + b"0123456789"  # same size, wrong bytes
    with pytest.raises(CheckpointError, match="corrupt"):
        download(entry)
    assert list((torch_home / "hub" / "checkpoints").iterdir()) == []


def test_interrupted_download_resumes_with_a_range_request(server, torch_home):
    data = checkpoint_bytes("timm_mobilenetv3_small_050", ".safetensors")
    entry = replace(
        get_weights("mobilenetv3_small_050.lamb_in1k"),
        url=f"{server}/s.safetensors",
        sha256=hashlib.sha256(data).hexdigest(),
    )
    part = cached_file(entry).with_name(entry.filename + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(data[: len(data) // 3])
    _RangeHandler.files["/s.safetensors"] = data
    path = download(entry)
    assert path.read_bytes() == data and not part.exists()
    assert _RangeHandler.requests == [f"bytes={len(data) // 3}-"]


def test_first_download_of_a_timm_file_pins_its_digest(server, torch_home):
    data = checkpoint_bytes("timm_mobilenetv3_small_050", ".safetensors")
    entry = replace(get_weights("mobilenetv3_small_050.lamb_in1k"), url=f"{server}/s.safetensors")
    _RangeHandler.files["/s.safetensors"] = data
    path = ensure_weights(entry)
    pinned = path.with_name(path.name + ".sha256")
    assert pinned.read_text().strip() == hashlib.sha256(data).hexdigest()
    path.write_bytes(data[:-4] + b"evil")  # tampered after download
    with pytest.raises(CheckpointError, match="changed since it was downloaded"):
        ensure_weights(entry)


def test_a_timm_download_is_checked_against_the_digest_the_hub_declares(server, torch_home):
    data = checkpoint_bytes("timm_mobilenetv3_small_050", ".safetensors")
    entry = replace(get_weights("mobilenetv3_small_050.lamb_in1k"), url=f"{server}/hub.safetensors")
    assert entry.sha256 is None and entry.sha256_prefix is None
    _RangeHandler.files["/hub.safetensors"] = data
    _RangeHandler.declared["/hub.safetensors"] = hashlib.sha256(data + b"other bytes").hexdigest()
    with pytest.raises(CheckpointError, match="does not match .* the server declares"):
        download(entry)
    assert list((torch_home / "hub" / "checkpoints").iterdir()) == []  # no file, no .part
    _RangeHandler.declared["/hub.safetensors"] = hashlib.sha256(data).hexdigest()
    path = download(entry)
    assert path.read_bytes() == data
    assert path.with_name(path.name + ".sha256").read_text().strip() == hashlib.sha256(data).hexdigest()


def test_offline_gives_a_clear_message(torch_home):
    entry = replace(get_weights("tv_mobilenet_v2.IMAGENET1K_V2"), url="http://127.0.0.1:9/none.pth")
    with pytest.raises(CheckpointError, match="--checkpoint FILE / --untrained"):
        ensure_weights(entry)


def test_import_finds_the_entry_and_caches_the_file(tmp_path, torch_home):
    source = tmp_path / "downloaded_elsewhere.safetensors"
    source.write_bytes(checkpoint_bytes("timm_mobilenetv4_conv_small_050", ".safetensors"))
    entry, path = import_weights(source)
    assert entry.name == "timm/mobilenetv4_conv_small_050.e3000_r224_in1k"
    assert path == cached_file(entry)
    assert load_pretrained(entry, allow_download=False).alpha == 0.5
    wrong = tmp_path / "wrong.pth"
    torch.save({"conv_stem.weight": torch.zeros(3, 3, 3, 3)}, wrong)
    with pytest.raises(CheckpointError, match="fits no published"):
        import_weights(wrong)


# --- images ----------------------------------------------------------------------------------------


def encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP", "TIFF"])
def test_formats_decode_to_rgb(fmt):
    image = Image.new("RGB", (40, 30), (200, 10, 10))
    decoded = load_image(encode(image, fmt))
    assert decoded.mode == "RGB" and decoded.size == (40, 30)
    assert abs(decoded.getpixel((20, 15))[0] - 200) < 8


def test_gif_uses_the_first_frame():
    frames = [Image.new("P", (20, 20), i) for i in (1, 2)]
    frames[0].putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0] + [0] * 759)
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert load_image(data).getpixel((5, 5)) == (255, 0, 0)


@pytest.mark.parametrize(
    "mode, value, expected",
    [
        ("RGBA", (10, 20, 30, 0), (255, 255, 255)),
        ("L", 128, (128, 128, 128)),
        ("CMYK", (0, 0, 0, 0), (255, 255, 255)),
        ("I;16", 65535, (255, 255, 255)),
        ("LA", (0, 255), (0, 0, 0)),
    ],
)
def test_modes_convert_properly(mode, value, expected):
    image = Image.new(mode, (8, 8), value)
    fmt = "TIFF" if mode in ("CMYK", "I;16") else "PNG"
    assert load_image(encode(image, fmt)).getpixel((4, 4)) == expected


def test_exif_orientation_is_honoured():
    decoded = load_image(DATA / "coffee_exif_rotated.jpg")
    assert decoded.size == (600, 400)  # stored 400 x 600, displayed (and classified) upright


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width x height but carries almost no data (a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"this is text, renamed .png", "not an image"),
        (encode(Image.new("RGB", (1, 1)), "PNG"), "too small"),
        (_png_header_only(30000, 30000), "decompression bomb|megapixel"),
        (encode(Image.new("RGB", (64, 64)), "JPEG")[:300], "damaged or truncated|not an image"),
    ],
    ids=["empty", "text", "1x1", "30000x30000", "truncated-jpeg"],
)
def test_bad_uploads_give_one_message(data, message):
    with pytest.raises(ImageError, match=message):
        load_image(data, name="upload.png")


def test_preprocessing_follows_the_recipe():
    image = Image.new("RGB", (400, 300), (255, 0, 0))
    recipe = get_weights("tv_mobilenet_v2.IMAGENET1K_V2").preprocess
    tensor, crop = preprocess_image(image, recipe)
    assert tensor.shape == (1, 3, 224, 224) and crop.size == (224, 224)
    assert tensor[0, 0, 0, 0].item() == pytest.approx((1 - 0.485) / 0.229, rel=1e-5)
    assert recipe.at(160).crop == 160 and recipe.at(160).resize == int(160 / (224 / 232))


# --- inference ------------------------------------------------------------------------------------


def two_photos(resolution: int) -> torch.Tensor:
    recipe = default_preprocess(resolution)
    return torch.cat(
        [preprocess_image(load_image(DATA / n), recipe)[0] for n in ("chelsea_cat.png", "rocket.jpg")]
    )


@pytest.mark.parametrize("model", mc.list_models())
def test_fast_path_equals_eager_within_float32_rounding(model):
    """The calibrated statistics are far from identity, so folding matters. Tolerance: 1e-4 of
    the logits, or 10x torch's own float32 error where the untrained hybrids amplify rounding
    (reference.float32_tolerance)."""
    module = mc.build(model, 0.75, 128)
    x = two_photos(128)
    exact, tolerance = float32_tolerance(module, x)
    fast = FastModel(module)(x).double()
    assert float((fast - exact).abs().max()) <= tolerance


def test_onnx_export_runs_in_onnxruntime(tmp_path):
    import onnxruntime

    module = mc.build("v4_hybrid_medium", 0.5, 128)
    path = tmp_path / "m.onnx"
    export_onnx(module, path)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = two_photos(128)
    exact, tolerance = float32_tolerance(module, x)
    got = session.run(None, {"image": x.numpy()})[0]
    assert np.abs(got - exact.numpy()).max() <= tolerance


def test_classify_grad_cam_and_feature_maps_on_a_real_photo():
    module = mc.build("v3_small")
    recipe = default_preprocess(224)
    prediction = classify(module, load_image(DATA / "chelsea_cat.png"), recipe, name="cat", k=5)
    assert len(prediction.top) == 5 and prediction.crop.size == (224, 224)
    assert sum(c.probability for c in prediction.top) <= 1.0 and prediction.latency_ms > 0
    tensor, _ = preprocess_image(load_image(DATA / "chelsea_cat.png"), recipe)
    cam = grad_cam(module, tensor, prediction.top[0].index)
    assert cam.shape == (224, 224) and 0 <= cam.min() and cam.max() == pytest.approx(1.0)
    assert all(p.grad is None for p in module.parameters())  # the shared module is untouched
    maps = feature_maps(module, tensor, "blocks.2.0", count=8)
    assert maps.shape == (8, 14, 14) and maps.min() >= 0 and maps.max() <= 1


def test_feature_maps_come_from_the_fast_pass_and_look_the_same():
    """Classify's feature maps are read from the fast runner's ONNX session (every block's output
    is a graph output): the [0, 1] maps equal the eager module's within float rounding, so the
    grid a student sees is the same picture (at most one grey level on a few pixels); a stage's
    name reads its last block; the logits are unchanged; no hook is left on the shared module."""
    module = mc.build("v3_small", 1.0, 160)
    runner = FastModel(module, block_taps=True)
    assert runner.backend == "onnxruntime" and runner.block_names[0] == "blocks.0.0"
    assert FastModel(module).block_output(two_photos(160)[:1], "blocks.2.1") is None  # off by default
    x = two_photos(160)[:1]
    exact, tolerance = float32_tolerance(module, x)
    assert float((runner(x).double() - exact).abs().max()) <= tolerance
    for block in ("blocks.0.0", "blocks.2.1", "blocks.5.0", "blocks.3"):
        eager = feature_maps(module, x, block)
        fast = feature_maps(module, x, block, runner=runner)
        assert fast.shape == eager.shape and eager.std() > 0.05  # a live picture, not a flat one
        assert np.abs(fast - eager).max() < 1e-3, block
        grid_eager = np.asarray(feature_map_grid(eager), dtype=int)
        grid_fast = np.asarray(feature_map_grid(fast), dtype=int)
        assert np.abs(grid_fast - grid_eager).max() <= 1 and (grid_fast != grid_eager).mean() < 0.01
    last = module.block_outputs(x, ["blocks.3"])["blocks.3"]  # a stage: its last block's output
    assert torch.allclose(runner.block_output(x, "blocks.3"), last, rtol=1e-3, atol=1e-4)

    def no_eager_pass(*_args, **_kwargs):
        raise AssertionError("the eager module ran: the runner's block output was not used")

    eager = feature_maps(module, x, "blocks.2.1")
    module.block_outputs = no_eager_pass  # an instance attribute, this test's module only
    try:
        assert np.abs(feature_maps(module, x, "blocks.2.1", runner=runner) - eager).max() < 1e-3
    finally:
        del module.block_outputs
    assert runner.block_output(x, "blocks.9.0") is None  # no such block: the caller reads the module
    assert not any(m._forward_hooks for m in module.modules())
    scripted = FastModel(module, backend="torchscript")
    assert scripted.block_output(x, "blocks.2.1") is None  # another backend: the eager module answers
    assert np.array_equal(feature_maps(module, x, "blocks.2.1", runner=scripted),
                          feature_maps(module, x, "blocks.2.1"))  # fmt: skip


def test_classify_brings_the_shown_blocks_feature_maps_from_its_own_pass():
    """Asked for a block, classify returns that block's feature maps from the pass that gave the
    top-5 (the runner's one ONNX Runtime run): the maps a separate pass gives, the same top-5; a
    stage's name reads its last block; a runner without block outputs gives none (the page then
    makes its own pass), and so does classify asked for no block."""
    module = mc.build("v3_small", 1.0, 160)
    runner = FastModel(module, block_taps=True)
    photo, recipe = load_image(DATA / "chelsea_cat.png"), default_preprocess(160)
    alone = classify(runner, photo, recipe, k=5)
    assert alone.block_maps is None
    for block in ("blocks.2.1", "blocks.3"):
        with_maps = classify(runner, photo, recipe, k=5, block=block, count=8)
        assert [c.index for c in with_maps.top] == [c.index for c in alone.top]
        name, maps = with_maps.block_maps
        assert name == block and maps.shape[0] == 8 and maps.std() > 0.05
        assert np.array_equal(maps, feature_maps(module, with_maps.tensor, block, count=8, runner=runner))
    scripted = FastModel(module, backend="torchscript")
    assert classify(scripted, photo, recipe, block="blocks.2.1").block_maps is None
    assert classify(module, photo, recipe, block="blocks.2.1").block_maps is None


# --- CLI --------------------------------------------------------------------------------------------


def cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "mobilenet_core", *args], capture_output=True, text=True, timeout=300, env=env
    )


def test_cli_predicts_real_photos_with_a_checkpoint(tmp_path):
    path = tmp_path / "v3s.safetensors"
    save_file(
        {
            k: v.contiguous()
            for k, v in deterministic_state_dict(manifest("timm_mobilenetv3_small_100")["keys"]).items()
        },
        str(path),
    )
    result = cli("predict", *map(str, PHOTOS), "--model", "v3_small", "--checkpoint", str(path), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [d["image"] for d in data] == list(map(str, PHOTOS))
    module = mc.load_checkpoint(mc.build("v3_small"), path)
    expected = classify(module, load_image(PHOTOS[0]), default_preprocess(224))
    assert [t["index"] for t in data[0]["top"]] == [c.index for c in expected.top]
    for d in data:
        assert set(d) == {"image", "top", "latency_ms"} and len(d["top"]) == 5
        assert set(d["top"][0]) == {"index", "label", "probability"}


def test_cli_untrained_says_so_and_bad_images_fail_cleanly(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    result = cli(
        "predict", str(PHOTOS[0]), str(bad), "--model", "v4_conv_small", "--alpha", "0.5", "--untrained"
    )
    assert "UNTRAINED (random weights)" in result.stdout
    assert result.returncode != 0
    assert "notes.png is not an image we can read" in result.stderr and "Traceback" not in result.stderr


def test_cli_without_weights_offline_names_the_ways_in(tmp_path):
    env = {
        **__import__("os").environ,
        "TORCH_HOME": str(tmp_path),
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
    }
    result = cli("predict", str(PHOTOS[0]), "--model", "v2", env=env)
    assert result.returncode == 2
    assert (
        "--checkpoint" in result.stderr
        and "--untrained" in result.stderr
        and "Traceback" not in result.stderr
    )
    result = cli("predict", str(PHOTOS[0]), "--model", "v2", "--alpha", "0.6", env=env)
    assert "no published checkpoint" in result.stderr and "nearest: v2 alpha 0.5" in result.stderr


def test_cli_export_writes_onnx(tmp_path):
    out = tmp_path / "v1.onnx"
    result = cli("export", "v1", "--alpha", "0.25", "--resolution", "96", "--onnx", str(out))
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size > 100_000


# --- Classify downloads on first use ------------------------------------------------------------


def _classify_app(monkeypatch, server: str, path: str):
    """The Classify view for V3-Small 0.5x, whose published timm checkpoint is served from
    127.0.0.1 at `path`, with the automatic first download turned on."""
    from streamlit.testing.v1 import AppTest

    import mobilenet_core.registry as registry

    name = "timm/mobilenetv3_small_050.lamb_in1k"
    patched = tuple(replace(e, url=f"{server}{path}") if e.name == name else e for e in registry.WEIGHTS)
    monkeypatch.setattr(registry, "WEIGHTS", patched)
    monkeypatch.setenv("MOBILENET_EXPLORER_OFFLINE", "0")
    at = AppTest.from_file(
        str(Path(__file__).resolve().parent.parent / "app" / "main.py"), default_timeout=120
    )
    for key, value in {"model": "v3_small", "alpha": "0.5", "resolution": "224"}.items():
        at.query_params[key] = value
    at.run()
    at.switch_page("views/classify.py").run()
    return at, registry.get_weights(name)


def test_classify_downloads_the_published_weights_on_first_use(server, torch_home, monkeypatch):
    data = checkpoint_bytes("timm_mobilenetv3_small_050", ".safetensors")
    _RangeHandler.files["/v3s050.safetensors"] = data
    at, entry = _classify_app(monkeypatch, server, "/v3s050.safetensors")
    assert not at.exception and not at.error
    assert cached_file(entry).read_bytes() == data and _RangeHandler.requests == [""]  # one GET
    assert any(entry.name in s.value for s in at.success)  # "pretrained weights: ..." label
    at.file_uploader(key="images").set_value(
        [("cat.png", (DATA / "chelsea_cat.png").read_bytes(), "image/png")]
    )
    at.run()
    assert len(drawn_charts(at)) == 1 and not at.exception
    assert _RangeHandler.requests == [""]  # cached: not fetched again


def _page_text(at) -> str:
    return " ".join(e.value for kind in ("error", "warning", "info", "success", "caption", "markdown")
                    for e in getattr(at, kind))  # fmt: skip


def test_classify_offline_explains_and_offers_a_retry(server, torch_home, monkeypatch):
    at, entry = _classify_app(monkeypatch, server, "/missing.safetensors")  # the server answers 404
    assert not at.exception and not cached_file(entry).exists()
    # once, in a user's words: the configuration in words and the size, no errno, path or flags
    messages = [w.value for w in at.warning]
    assert messages == [f"The pretrained weights for {entry.description} (about {entry.approx_mb} MB) could "
                        "not be downloaded: the download server did not send them."]  # fmt: skip
    assert "MobileNetV3-Small α 0.5, 224 px, top-1" in messages[0]
    text = _page_text(at)
    for leak in ("Errno", "--checkpoint", "--untrained", "weights import", str(torch_home), "http://"):
        assert leak not in text, leak
    assert not at.error and not at.info
    at.run()  # not retried on its own: one failed attempt per session
    assert len(_RangeHandler.requests) == 1
    at.button(key="download").click().run()  # "Try the download again"
    assert len(_RangeHandler.requests) == 2 and not at.exception
    at.toggle(key="use_untrained").set_value(True).run()  # the other way forward, one switch
    assert at.toggle(key="use_untrained").value is True
    assert any("UNTRAINED" in e.value for e in at.error)


def test_classify_with_no_network_says_no_internet(torch_home, monkeypatch):
    """A server that cannot be reached (a closed port on 127.0.0.1, so nothing leaves this
    machine): "No internet", not the socket's errno."""
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    at, entry = _classify_app(monkeypatch, f"http://127.0.0.1:{closed}", "/w.safetensors")
    assert [w.value for w in at.warning] == [
        f"No internet: the pretrained weights for {entry.description} (about {entry.approx_mb} MB) could "
        "not be downloaded."]  # fmt: skip
    assert "Errno" not in _page_text(at) and not at.exception

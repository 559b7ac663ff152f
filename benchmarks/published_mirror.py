"""Checkpoints in the published layouts and a mirror on 127.0.0.1 that serves them, for
`load_protocol.py --published` (weights cannot be downloaded on our machines).

Each of the four models a class uses (V2, V3-Large, V4 Conv-S, V4 Hybrid-L) gets the file of the
checkpoint Classify picks by default for it (the first of weights_for: the best published top-1).
For all four that is a timm file, whose keys are our module's own, so the file is the seeded
untrained network's state_dict with five classifier biases raised: its top-5 on the photo is five
classes the untrained network does not rank there, so a student shown them was classified with
the downloaded weights. The mirror answers like the Hugging Face Hub (`HF_ENDPOINT`): a HEAD
declares the file's SHA-256 (X-Linked-Etag), which the app checks the download against and then
pins, as it does for the Hub's files: verification stays on. It counts GETs and bytes per file.
(torchvision's files carry the first 8 hex digits of their SHA-256 in their registry name, which a
generated file cannot match; the app picks them only when a user chooses them.)
"""

from __future__ import annotations

import hashlib
import http.server
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

MODELS = ("v2", "v3_large", "v4_conv_small", "v4_hybrid_large")
ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "assets" / "samples" / "chelsea_cat.png"


@dataclass(frozen=True)
class PublishedFile:
    model: str
    entry: str  # the registry entry Classify picks by default
    url_path: str  # where the mirror serves it (the entry's URL path on the Hub)
    path: Path
    sha256: str
    top5: list[int]  # the library's serial answer on PHOTO with this file (the expected top-5)
    untrained_top5: list[int]  # the untrained network's, which a student must not be shown


def _planted(logits, avoid: list[int], seed: int) -> list[int]:
    import random

    rng = random.Random(seed)
    pool = [c for c in range(logits.numel()) if c not in avoid]
    return rng.sample(pool, 5)


def generate(folder: Path, models=MODELS) -> dict[str, PublishedFile]:
    """Write one published-layout checkpoint per model into `folder` (reused when there)."""
    import torch
    from safetensors.torch import save_file

    import mobilenet_core as mc
    from mobilenet_core.predict import classify, load_image
    from mobilenet_core.registry import weights_for
    from mobilenet_core.weights import load_checkpoint

    folder.mkdir(parents=True, exist_ok=True)
    image = load_image(PHOTO)
    out = {}
    for seed, model in enumerate(models):
        resolution = mc.get_generation(model).base_resolution
        entry = weights_for(model, 1.0, resolution)[0]
        if entry.layout != "timm":
            raise SystemExit(f"{entry.name}: only timm-layout defaults can be generated (see the docstring)")
        module = mc.build(model, 1.0, resolution)
        untrained = classify(module, image, entry.preprocess, k=5)
        path = folder / entry.filename
        if not path.exists():
            logits = untrained.logits
            spread = max(float(logits.std()), 0.1)
            state = {k: v.detach().clone().contiguous() for k, v in module.state_dict().items()}
            top = float(logits.max())
            for rank, c in enumerate(_planted(logits, [t.index for t in untrained.top], seed)):
                state["classifier.bias"][c] += top - float(logits[c]) + 3 * spread * (5 - rank)
            tmp = path.with_suffix(".tmp")
            save_file(state, str(tmp))
            tmp.replace(path)
        # the serial answer, through the library's own loading path
        loaded = load_checkpoint(module, path)
        with torch.no_grad():
            top5 = [c.index for c in classify(loaded, image, entry.preprocess, k=5).top]
        out[model] = PublishedFile(
            model, entry.name, urlsplit(entry.url).path, path, _sha256(path), top5,
            [c.index for c in untrained.top],
        )  # fmt: skip
        del module, loaded
    return out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Mirror:
    """A Hugging Face-like file server on 127.0.0.1 for `files`; counts GETs and body bytes.

    with Mirror(files) as mirror: ... mirror.url is the HF_ENDPOINT for the servers."""

    def __init__(self, files: dict[str, PublishedFile]):
        self.files = {f.url_path: f for f in files.values()}
        self.gets: dict[str, int] = {}
        self.bytes: dict[str, int] = {}
        self.heads = 0
        self.lock = threading.Lock()
        mirror = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_HEAD(self):  # noqa: N802 - http.server's naming
                found = mirror.files.get(self.path)
                with mirror.lock:
                    mirror.heads += 1
                if found is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(found.path.stat().st_size))
                self.send_header("X-Linked-Etag", f'"{found.sha256}"')  # as the Hub declares it
                self.end_headers()

            def do_GET(self):  # noqa: N802
                found = mirror.files.get(self.path)
                with mirror.lock:
                    mirror.gets[self.path] = mirror.gets.get(self.path, 0) + 1
                if found is None:
                    self.send_error(404)
                    return
                size = found.path.stat().st_size
                start = 0
                if (asked := self.headers.get("Range", "")).startswith("bytes="):
                    start = min(int(asked[6:].split("-")[0] or 0), size)
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(size - start))
                self.end_headers()
                with open(found.path, "rb") as f:
                    f.seek(start)
                    shutil.copyfileobj(f, self.wfile, 1 << 20)
                with mirror.lock:
                    mirror.bytes[self.path] = mirror.bytes.get(self.path, 0) + size - start

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def reset(self) -> None:
        with self.lock:
            self.gets, self.bytes, self.heads = {}, {}, 0

    def summary(self) -> str:
        """e.g. "4 GETs for 4 files (at most 1 each), 203.4 MB"."""
        with self.lock:
            gets, sent = sum(self.gets.values()), sum(self.bytes.values()) / 1e6
            most = max(self.gets.values(), default=0)
            return f"{gets} GETs for {len(self.gets)} files (at most {most} each), {sent:.1f} MB"

    def __enter__(self) -> Mirror:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

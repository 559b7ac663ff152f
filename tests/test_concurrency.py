"""Shared state under many sessions at once: models that every session shares must stay
read-only. Explanations (Grad-CAM, feature maps) of one session must not see another's photo."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import torch
from PIL import ImageOps

import mobilenet_core as mc
from mobilenet_core.predict import feature_maps, grad_cam, load_image, preprocess_image
from mobilenet_core.registry import default_preprocess

DATA = Path(__file__).parent / "data"
THREADS = 16


def sixteen_photos() -> list[torch.Tensor]:
    """Sixteen different inputs made from the bundled photos: crops, mirrors and rotations."""
    recipe = default_preprocess(128)
    photos = [load_image(p) for p in sorted(DATA.iterdir()) if p.suffix in (".png", ".jpg")]
    tensors = []
    for i in range(THREADS):
        photo = photos[i % len(photos)]
        w, h = photo.size
        cut = photo.crop((i * w // 40, i * h // 50, w - i * w // 60, h))
        if i % 2:
            cut = ImageOps.mirror(cut)
        cut = cut.rotate(7 * i, expand=False) if i % 3 == 0 else cut
        tensors.append(preprocess_image(cut, recipe)[0])
    assert len({t.sum().item() for t in tensors}) == THREADS  # really sixteen different photos
    return tensors


def explain(module, tensor, block):
    return grad_cam(module, tensor, class_index=7), feature_maps(module, tensor, block, count=8)


def test_explanations_of_sixteen_sessions_at_once_equal_serial_bit_for_bit():
    module = mc.build("v2", 0.5, 128)  # one module shared by all threads, as app/models shares it
    block = "blocks.3.1"
    tensors = sixteen_photos()
    serial = [explain(module, t, block) for t in tensors]
    barrier = threading.Barrier(THREADS)
    results: list = [None] * THREADS
    errors: list = []

    def session(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            results[i] = [explain(module, tensors[i], block) for _ in range(3)]
        except Exception as exc:  # reported below: a thread's exception would otherwise vanish
            errors.append(repr(exc))

    threads = [threading.Thread(target=session, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors[:3]
    for i, runs in enumerate(results):
        for cam, maps in runs:
            assert np.array_equal(cam, serial[i][0]), f"session {i}: Grad-CAM differs from its serial run"
            assert np.array_equal(maps, serial[i][1]), f"session {i}: feature maps differ from serial"
    assert all(p.grad is None for p in module.parameters())
    # no hook was left behind on the shared module
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in module.modules())


def test_explanations_register_no_hook_on_the_shared_module():
    module = mc.build("v3_small", 0.75, 96)
    seen = []
    original = torch.nn.Module.register_forward_hook

    def spy(self, *args, **kwargs):
        seen.append(type(self).__name__)
        return original(self, *args, **kwargs)

    torch.nn.Module.register_forward_hook = spy
    try:
        tensor = torch.randn(1, 3, 96, 96, generator=torch.Generator().manual_seed(0))
        explain(module, tensor, "blocks.2.0")
    finally:
        torch.nn.Module.register_forward_hook = original
    assert seen == []


def test_no_page_script_defines_a_widget_callback():
    """Streamlit keeps a widget's callback for the session; a function defined in a page script
    keeps that page's whole namespace (models, photos, results) alive through its __globals__.
    Measured: two page-level callbacks grew the server from 1.7 to 4-5 GB over 27 Classify visits.
    Callbacks live in app/models.py, app/state.py and other modules."""
    import ast

    app = Path(__file__).resolve().parent.parent / "app"
    # the page scripts, and the page functions they call (whose nested functions would keep the
    # page's locals alive through their closure the same way)
    for page in [*(app / "views").glob("*.py"), *(app / "screens").glob("*.py")]:
        tree = ast.parse(page.read_text())
        defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        defined -= (
            {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
            if page.parent.name == "screens"
            else set()
        )
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg and node.arg.startswith("on_"):
                if isinstance(node.value, ast.Name):
                    assert node.value.id not in defined, f"{page.name}: {node.arg}={node.value.id}"


def test_measured_latencies_are_shared_between_processes(tmp_path):
    """Two server processes (replicas) see each other's measured points through one file."""
    import subprocess
    import sys

    from mobilenet_core.store import LatencyTable

    table = LatencyTable(tmp_path / "latency.sqlite")
    table[("v2", 0.5, 160)] = 3.25
    code = ("import sys; from mobilenet_core.store import LatencyTable; t = LatencyTable(sys.argv[1]); "
            "print(t[('v2', 0.5, 160)]); t[('v3_small', 1.0, 224)] = 1.5")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "latency.sqlite")], capture_output=True,
                         text=True, timeout=60)  # fmt: skip
    assert out.stdout.strip() == "3.25", out.stderr
    assert table[("v3_small", 1.0, 224)] == 1.5 and len(table) == 2
    del table[("v2", 0.5, 160)]
    assert ("v2", 0.5, 160) not in table and table.get(("v2", 0.5, 160)) is None

    errors = []

    def writer(i: int) -> None:
        try:
            for j in range(20):
                table[(f"m{i}", 1.0, j)] = float(j)
        except Exception as exc:  # reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and len(table) == 1 + 8 * 20

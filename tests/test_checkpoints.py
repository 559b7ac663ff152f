"""Checkpoint loading: every reference manifest loads and reproduces the probe logits;
files that do not fit, or are unsafe, are refused with a message and leave the model as it was."""

import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

import mobilenet_core as mc
from mobilenet_core import CheckpointError
from mobilenet_core.weights import detect_layout, read_state_dict
from reference import REFERENCE_MODELS, deterministic_state_dict, manifest, probe_input


def save(state: dict, path: Path) -> Path:
    if path.suffix == ".safetensors":
        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    else:
        torch.save(state, path)
    return path


def probe_logits(reference: str, path_format: str, tmp_path: Path):
    model, alpha = REFERENCE_MODELS[reference]
    m = manifest(reference)
    path = save(deterministic_state_dict(m["keys"]), tmp_path / f"{reference}{path_format}")
    module = mc.load_checkpoint(mc.build(model, alpha, m["resolution"]), path)
    assert detect_layout(read_state_dict(path)) == m["layout"]  # the layout the loader converted from
    with torch.inference_mode():
        out = module(probe_input(m["resolution"]))[0]
    return out, torch.tensor(m["probe"]["logits"])


def assert_close(out, expected):
    scale = expected.abs().max()
    torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-4 * float(scale))


# Hybrid-L gets its own test below: its probe cannot be met in float32 by any reimplementation.
# V5-300M (a 1.2 GB file and a 30 s pass at 768 px) is probed once, from .safetensors (test_v5.py).
PROBED = sorted(
    r for r in REFERENCE_MODELS if r not in ("timm_mobilenetv4_hybrid_large", "timm_mobilenetv5_300m")
)


@pytest.mark.parametrize("reference", PROBED)
@pytest.mark.parametrize("path_format", [".pth", ".safetensors"])
def test_manifest_loads_strictly_and_matches_probe(reference, path_format, tmp_path):
    out, expected = probe_logits(reference, path_format, tmp_path)
    assert_close(out, expected)


def test_hybrid_large_probe_within_float32_noise(tmp_path):
    """Hybrid-L under the probe's deterministic fill amplifies rounding enormously: our own
    float32 and float64 runs of the same weights differ by ~0.3-0.5% of the largest logit, and
    the reference (timm, float32) sits 0.57% from our float64 result. The 1e-4 tolerance is
    therefore out of reach for any implementation that does not repeat timm's exact kernels;
    we hold the result to 1% and the same top-5, and note it in the issue."""
    out, expected = probe_logits("timm_mobilenetv4_hybrid_large", ".safetensors", tmp_path)
    scale = float(expected.abs().max())
    assert float((out - expected).abs().max()) < 1e-2 * scale
    assert out.topk(5).indices.tolist() == expected.topk(5).indices.tolist()
    # the spread between our own float32 and float64 is of the same size (documents the cause)
    model = mc.load_checkpoint(
        mc.build("v4_hybrid_large"), tmp_path / "timm_mobilenetv4_hybrid_large.safetensors"
    )
    with torch.inference_mode():
        out64 = model.double()(probe_input(384).double())[0].float()
    assert float((out - out64).abs().max()) > 1e-3 * scale


def test_wrapped_and_prefixed_checkpoints_load(tmp_path):
    state = deterministic_state_dict(manifest("timm_mobilenetv3_small_100")["keys"])
    wrapped = {"state_dict": {f"module.{k}": v for k, v in state.items()}, "epoch": 3}
    path = save(wrapped, tmp_path / "wrapped.pth")
    module = mc.load_checkpoint(mc.build("v3_small"), path)
    assert torch.equal(module.conv_stem.weight, state["conv_stem.weight"])


def test_wrong_model_names_model_layout_and_first_mismatch(tmp_path):
    path = save(deterministic_state_dict(manifest("timm_mobilenetv2_100")["keys"]), tmp_path / "v2.pth")
    module = mc.build("v3_large")
    before = {k: v.clone() for k, v in module.state_dict().items()}
    with pytest.raises(CheckpointError) as info:
        mc.load_checkpoint(module, path)
    message = str(info.value)
    assert "v3_large" in message and "timm" in message
    assert "blocks.0.0.conv_pw.weight" in message or "missing" in message
    assert all(torch.equal(before[k], v) for k, v in module.state_dict().items())


def test_wrong_alpha_lists_shapes(tmp_path):
    path = save(
        deterministic_state_dict(manifest("timm_mobilenetv2_050")["keys"]), tmp_path / "v2_050.safetensors"
    )
    with pytest.raises(
        CheckpointError, match=r"conv_stem.weight: file \(16, 3, 3, 3\) vs model \(32, 3, 3, 3\)"
    ):
        mc.load_checkpoint(mc.build("v2", 1.0), path)


def test_torchvision_layout_for_a_model_torchvision_does_not_publish(tmp_path):
    path = save(deterministic_state_dict(manifest("tv_mobilenet_v2")["keys"]), tmp_path / "tv.pth")
    with pytest.raises(CheckpointError, match="torchvision publishes only"):
        mc.load_checkpoint(mc.build("v4_conv_small"), path)


def test_torchvision_wrong_variant_names_the_tensor(tmp_path):
    path = save(deterministic_state_dict(manifest("tv_mobilenet_v3_small")["keys"]), tmp_path / "tv.pth")
    with pytest.raises(CheckpointError, match=r"v3_large .*torchvision.*features\."):
        mc.load_checkpoint(mc.build("v3_large"), path)


class _Boom:
    def __reduce__(self):
        import os

        return (os.system, (f"touch {MARKER}",))


MARKER = Path("/tmp/mobilenet_explorer_pickle_marker")


def test_malicious_pickle_is_refused_and_runs_nothing(tmp_path):
    MARKER.unlink(missing_ok=True)
    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        pickle.dump({"conv_stem.weight": _Boom()}, f)
    torch.save({"conv_stem.weight": _Boom()}, tmp_path / "evil_zip.pth")
    for p in (path, tmp_path / "evil_zip.pth"):
        with pytest.raises(CheckpointError, match="refused"):
            mc.load_checkpoint(mc.build("v3_small"), p)
    assert not MARKER.exists()
    # control: the same bytes, unpickled without the guard, do run the payload
    pickle.loads(path.read_bytes())
    assert MARKER.exists()
    MARKER.unlink()


@pytest.mark.parametrize(
    "content, message",
    [(b"", "empty"), (b"hello, this is text", "neither"), (b"PK\x03\x04garbage", "not a readable")],
)
def test_unreadable_files_are_refused(tmp_path, content, message):
    path = tmp_path / "bad.pth"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message):
        mc.load_checkpoint(mc.build("v3_small"), path)


def test_truncated_checkpoint_is_refused(tmp_path):
    path = save(
        deterministic_state_dict(manifest("timm_mobilenetv3_small_100")["keys"]), tmp_path / "full.pth"
    )
    cut = tmp_path / "cut.pth"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError):
        mc.load_checkpoint(mc.build("v3_small"), cut)


def test_too_large_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.pth"
    with open(path, "wb") as f:
        f.truncate(2 * 2**20)  # sparse: nothing is written, and nothing may be read
    with pytest.raises(CheckpointError, match="over the 1 MiB limit"):
        mc.load_checkpoint(mc.build("v3_small"), path, max_bytes=2**20)


def test_non_tensor_content_is_refused(tmp_path):
    path = tmp_path / "list.pth"
    torch.save([1, 2, 3], path)
    with pytest.raises(CheckpointError, match="no state_dict"):
        mc.load_checkpoint(mc.build("v3_small"), path)

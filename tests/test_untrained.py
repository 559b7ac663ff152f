"""The untrained network is alive: on photos it was not calibrated on, every stage keeps its
scale, the logits spread, SE gates and attention depend on the photo, and the first layer's maps
show the photo's structure. Before `mobilenet_core.untrained`, the logits' std was 1e-10 (V2) to
1e-25 (V4 Hybrid-L) and every SE gate read 0.5."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import mobilenet_core as mc
from mobilenet_core import lessons, untrained
from mobilenet_core.predict import feature_maps, grad_cam, load_image, preprocess_image
from mobilenet_core.registry import default_preprocess

# Photos that are not among the calibration photos (mobilenet_core/data/calibration): the Hubble
# deep field, a retina and a stained tissue sample (tests/data/LICENSES.md), and the coffee cup
# stored rotated. Three unlike subjects: the stages must stay alive on each of them.
UNSEEN = sorted((Path(__file__).parent / "data" / "unseen").glob("*.jpg"))
COFFEE = Path(__file__).parent / "data" / "coffee_exif_rotated.jpg"
PHOTOS = [*UNSEEN, COFFEE]


def inputs(resolution: int) -> torch.Tensor:
    recipe = default_preprocess(resolution)
    return torch.cat([preprocess_image(load_image(p), recipe)[0] for p in PHOTOS])


def test_the_test_photos_are_not_calibration_photos():
    calibration = {p.stem for p in (Path(untrained.__file__).parent / "data" / "calibration").glob("*.png")}
    assert len(calibration) == untrained.CALIBRATION_PHOTOS
    assert not calibration & {p.stem.split("_")[0] for p in PHOTOS}  # coffee_exif_rotated -> coffee


@pytest.mark.parametrize("model", mc.list_models())
@torch.no_grad()
def test_every_stage_keeps_its_scale_and_the_output_depends_on_the_photo(model):
    resolution = 256 if model == "v5_300m" else None  # 768 px costs ~30 s a pass here
    module = mc.build(model, 1.0, resolution)
    x = inputs(module.resolution)
    stages = [f"blocks.{s}" for s in range(len(module.blocks))]
    outputs = module.block_outputs(x, stages)
    stds = [float(outputs[s].std()) for s in stages]
    assert min(stds) >= 0.02, stds
    assert stds[-1] >= stds[0] / 10, stds
    out = module(x)  # logits, or V5-300M's pooled features
    assert float(out.std(dim=1).min()) >= 0.02
    pooled = module.forward_features(x).mean((2, 3))
    for i in range(1, len(PHOTOS)):
        assert float((pooled[0] - pooled[i]).abs().mean()) > 0.01 * float(pooled.abs().mean())


@pytest.mark.parametrize("model", ["v3_large", "v3_small"])
def test_se_gates_differ_between_channels_and_between_photos(model):
    module, report = mc.build(model), mc.count(model)
    x = inputs(module.resolution)
    for block in lessons.se_blocks(report):
        a, b = (lessons.se_gates(module, x[i : i + 1], block.name) for i in (0, 3))
        assert a.std() > 0.03, block.name  # channels are gated differently (dead: all 0.5)
        assert np.abs(a - b).mean() > 0.01, block.name  # and the photo changes the gates
        assert 0.05 < a.mean() < 0.95


@pytest.mark.parametrize("model", ["v4_hybrid_medium", "v4_hybrid_large"])
def test_every_attention_head_prefers_some_keys(model):
    module, report = mc.build(model), mc.count(model)
    x = inputs(module.resolution)[3:4]
    for block in [b for b in report.blocks if b.kind == "mqa"]:
        maps = lessons.attention_map(module, x, block.name, 2, 2)
        flat = maps.reshape(maps.shape[0], -1)
        uniform = 1.0 / flat.shape[1]
        assert np.allclose(flat.sum(1), 1.0, atol=1e-4)
        # every head's best key gets at least twice the uniform weight (dead: exactly uniform)
        assert (flat.max(1) > 2 * uniform).all(), block.name


def _neighbour_correlation(maps: np.ndarray) -> float:
    """Mean correlation of each map with itself shifted by one pixel: ~0 for noise, high where
    the map follows the photo's regions and edges."""
    values = []
    for m in maps:
        a, b = m[:, :-1].ravel(), m[:, 1:].ravel()
        if a.std() > 0 and b.std() > 0:
            values.append(np.corrcoef(a, b)[0, 1])
    return float(np.mean(values))


@pytest.mark.parametrize("model", ["v1", "v3_large", "v4_conv_small"])
def test_first_layer_maps_follow_the_photo_and_grad_cam_is_a_region(model):
    module = mc.build(model)
    x = inputs(module.resolution)[3:4]
    maps = feature_maps(module, x, "blocks.0", count=16)
    assert _neighbour_correlation(maps) > 0.5
    noise = np.random.default_rng(0).random(maps.shape)
    assert _neighbour_correlation(noise) < 0.1  # what the measure says of noise
    with torch.no_grad():
        top = int(module(x)[0].argmax())
    cam = grad_cam(module, x, top)
    assert cam.max() == pytest.approx(1.0)
    assert 0.02 < (cam > 0.5).mean() < 0.9  # a region, neither a point nor everything


def test_the_untrained_network_is_deterministic_and_a_second_build_reuses_the_calibration():
    first = mc.build("v3_small", 0.75, 192)
    x = inputs(192)[:1]
    calls = []
    original = untrained.calibrate
    untrained.calibrate = lambda *a: calls.append(a) or original(*a)
    try:
        second = mc.build("v3_small", 0.75, 192)
    finally:
        untrained.calibrate = original
    assert calls == []  # the statistics and scales came from the cache
    with torch.no_grad():
        assert torch.equal(first(x), second(x))
    for (name, a), (_, b) in zip(first.state_dict().items(), second.state_dict().items()):
        assert torch.equal(a, b), name

"""Classification preprocessing equals torchvision's and timm's eval transforms pixel for pixel.

The tensors in tests/fixtures/preprocess were recorded once from torchvision 0.28 and timm
1.0.31 on odd-sized photos (scripts/record_preprocess_fixtures.py). torchvision's Resize(n)
truncates the long side (int(n * long / short)) and CenterCrop rounds its offset
(int(round((h - crop) / 2))); one pixel of shift moves the probabilities by several points."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mobilenet_core.predict import preprocess_image
from mobilenet_core.registry import IMAGENET_MEAN, IMAGENET_STD, INCEPTION_MEAN, INCEPTION_STD, Preprocess

FIXTURES = Path(__file__).parent / "fixtures" / "preprocess"
INDEX = json.loads((FIXTURES / "index.json").read_text())

# the recorded recipe -> the same recipe as our registry writes it (timm: resize = floor(crop / pct))
RECIPES = {
    "tv_bilinear_256_224": Preprocess(256, 224, "bilinear"),
    "tv_bilinear_232_224": Preprocess(232, 224, "bilinear"),
    "timm_bicubic_0.95_224": Preprocess(int(224 / 0.95), 224, "bicubic"),
    "timm_bicubic_0.9_224": Preprocess(int(224 / 0.9), 224, "bicubic"),
    "timm_bicubic_0.875_224": Preprocess(int(224 / 0.875), 224, "bicubic"),
    "timm_bicubic_0.95_256_inception": Preprocess(
        int(256 / 0.95), 256, "bicubic", INCEPTION_MEAN, INCEPTION_STD
    ),
}
CASES = [(c["photo"], c["recipe"]) for c in INDEX["cases"]]


def test_the_recipes_are_the_recorded_ones():
    assert {c["recipe"] for c in INDEX["cases"]} == set(RECIPES)
    assert (
        RECIPES["timm_bicubic_0.95_224"].resize == 235
        and RECIPES["tv_bilinear_256_224"].mean == IMAGENET_MEAN
    )
    assert RECIPES["timm_bicubic_0.875_224"].std == IMAGENET_STD


@pytest.mark.parametrize(("photo", "recipe"), CASES, ids=[f"{p[6:-4]}-{r}" for p, r in CASES])
def test_preprocessing_equals_the_recorded_transform(photo, recipe):
    size = photo.removeprefix("photo_").removesuffix(".png")
    expected = np.load(FIXTURES / f"tensors_{size}.npz")[recipe]
    image = Image.open(FIXTURES / photo).convert("RGB")
    tensor, crop = preprocess_image(image, RECIPES[recipe])
    assert tensor.shape[1:] == expected.shape
    # the same pixels: at most float32 rounding of the normalisation, never a shifted pixel
    np.testing.assert_allclose(tensor[0].numpy(), expected, rtol=0, atol=1e-6)
    assert crop.size == (expected.shape[2], expected.shape[1])

"""Record the eval transforms of torchvision and timm on odd-sized photos, once, into
tests/fixtures/preprocess/, so that tests/test_preprocess.py can hold our preprocessing to them
pixel for pixel without either library installed.

Run in a separate environment that has torchvision and timm (not part of the project's install):
    python -m venv /tmp/rec && /tmp/rec/bin/pip install torch==2.13.0 pillow numpy pyyaml \\
        huggingface_hub safetensors && /tmp/rec/bin/pip install --no-deps torchvision==0.28.0 timm
    /tmp/rec/bin/python scripts/record_preprocess_fixtures.py
torchvision's CUDA build cannot register its C++ operators next to the CPU torch; the transforms
used here are pure Python and PIL, so registration is skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.library

torch.library.register_fake = lambda *args, **kwargs: lambda function: function

import PIL  # noqa: E402
import timm  # noqa: E402
import torchvision  # noqa: E402
from PIL import Image  # noqa: E402
from timm.data import create_transform  # noqa: E402
from torchvision import transforms as T  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "preprocess"
SOURCE = ROOT / "tests" / "data" / "chelsea_cat.png"

# Odd sizes, both orientations, one smaller than the crop (upscaled), one with a long side that
# 256 * long / short truncates rather than rounds (333 * 256 / 251 = 339.6).
SIZES = [(333, 251), (251, 333), (517, 389), (150, 97), (401, 401)]

# name -> (library, recipe): torchvision's IMAGENET1K eval transform, and timm's for the crop
# fractions and statistics our registry uses (V1 ra4 0.875 / 0.9, V2/V3/V4 0.95, Conv-S 0.5x).
RECIPES = {
    "tv_bilinear_256_224": ("torchvision", dict(resize=256, crop=224)),
    "tv_bilinear_232_224": ("torchvision", dict(resize=232, crop=224)),
    "timm_bicubic_0.95_224": ("timm", dict(input_size=224, crop_pct=0.95, mean=None)),
    "timm_bicubic_0.9_224": ("timm", dict(input_size=224, crop_pct=0.9, mean=None)),
    "timm_bicubic_0.875_224": ("timm", dict(input_size=224, crop_pct=0.875, mean=None)),
    "timm_bicubic_0.95_256_inception": ("timm", dict(input_size=256, crop_pct=0.95, mean=(0.5,) * 3)),
}


def transform(library: str, recipe: dict):
    if library == "torchvision":
        return T.Compose([T.Resize(recipe["resize"]), T.CenterCrop(recipe["crop"]), T.ToTensor(),
                          T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])  # fmt: skip
    mean = recipe["mean"] or (0.485, 0.456, 0.406)
    std = (0.5,) * 3 if recipe["mean"] else (0.229, 0.224, 0.225)
    return create_transform(input_size=recipe["input_size"], crop_pct=recipe["crop_pct"],
                            interpolation="bicubic", mean=mean, std=std)  # fmt: skip


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    photo = Image.open(SOURCE).convert("RGB")
    index = {"torchvision": torchvision.__version__, "timm": timm.__version__, "pillow": PIL.__version__,
             "cases": []}  # fmt: skip
    for width, height in SIZES:
        # the photos themselves are stored, so that the test does not depend on how this was made
        picture = photo.resize((width, height), Image.Resampling.LANCZOS)
        picture_name = f"photo_{width}x{height}.png"
        picture.save(OUT / picture_name)
        arrays = {}
        for name, (library, recipe) in RECIPES.items():
            t = transform(library, recipe)
            arrays[name] = t(Image.open(OUT / picture_name).convert("RGB")).numpy().astype(np.float32)
            index["cases"].append({"photo": picture_name, "recipe": name, "library": library, **{
                k: v for k, v in recipe.items()}, "description": str(t)})  # fmt: skip
        np.savez_compressed(OUT / f"tensors_{width}x{height}.npz", **arrays)
    (OUT / "index.json").write_text(json.dumps(index, indent=1))
    print(f"recorded {len(index['cases'])} tensors into {OUT}")


if __name__ == "__main__":
    main()

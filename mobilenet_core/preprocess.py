"""Eval preprocessing recipes: resize the shorter side, centre-crop a square, normalise. Plain
data; the published checkpoints' recipes are in `registry`, the pixels are handled by `predict`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
INCEPTION_MEAN = (0.5, 0.5, 0.5)
INCEPTION_STD = (0.5, 0.5, 0.5)

Interpolation = Literal["bilinear", "bicubic"]


@dataclass(frozen=True)
class Preprocess:
    """Eval preprocessing: resize the shorter side, center-crop a square, normalise."""

    resize: int
    crop: int
    interpolation: Interpolation = "bilinear"
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD

    @property
    def crop_pct(self) -> float:
        return self.crop / self.resize

    def at(self, resolution: int) -> Preprocess:
        """The same recipe for another input size (same crop fraction)."""
        if resolution == self.crop:
            return self
        return Preprocess(
            int(resolution / self.crop_pct), resolution, self.interpolation, self.mean, self.std
        )


def default_preprocess(resolution: int) -> Preprocess:
    """For a checkpoint without a known recipe: resize 256 (bilinear), crop to the resolution."""
    return Preprocess(max(256, resolution), resolution, "bilinear")

"""Published ImageNet-1k checkpoints for our models: where they live, which configuration
they belong to, how their images were preprocessed, and their published top-1.

Facts from torchvision 0.29.1 and timm 1.0.31 (../shared/reference/README.md). timm recipes: the
`default_cfgs` of timm/models/efficientnet.py (V1, V2) and timm/models/mobilenetv3.py (V3, V4):
resize = floor(size / crop_pct), bicubic, and Inception mean/std (0.5) for the ra4 tags and for
mobilenetv4_conv_small_050. timm top-1 at the checkpoint's own resolution: results-imagenet.csv
(V2, V3 ra / lamb) and the release notes in timm's README.md (June-Sept 2024: V1 ra4, V3-Large
ra4, all V4), which the Hugging Face model cards repeat. torchvision files
carry the first 8 hex digits of their SHA-256 in the name (torch.hub's convention) and are
checked against them. timm's Hugging Face files are checked against the SHA-256 that the Hub
declares for them at download time (the Git LFS object id, weights.declared_digest), then pinned
(the digest is stored beside the file and checked on every later load); their digests are not
written here because they could not be read on the offline machine this was built on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .errors import ConfigError
from .preprocess import (  # noqa: F401 - the recipes' vocabulary, re-exported for callers
    IMAGENET_MEAN,
    IMAGENET_STD,
    INCEPTION_MEAN,
    INCEPTION_STD,
    Preprocess,
    default_preprocess,
)


@dataclass(frozen=True)
class WeightsEntry:
    name: str  # e.g. "tv_mobilenet_v2.IMAGENET1K_V2", "timm/mobilenetv4_conv_small.e2400_r224_in1k"
    model: str
    alpha: float
    resolution: int
    layout: Literal["torchvision", "timm"]
    url: str
    filename: str
    preprocess: Preprocess
    top1: float | None  # ImageNet-1k top-1 at `resolution`, None where not recorded here
    sha256: str | None = None  # full digest, where known
    sha256_prefix: str | None = None  # torchvision's 8-hex prefix in the file name

    @property
    def description(self) -> str:
        """The configuration in words, for people: "MobileNetV2 α 0.5, 224 px, top-1 65.4 %"."""
        from .api import get_generation

        top1 = f", top-1 {self.top1:g} %" if self.top1 is not None else ""
        return f"{get_generation(self.model).title} α {self.alpha:g}, {self.resolution} px{top1}"

    @property
    def approx_mb(self) -> int:
        """The download's size in MB, from the counter (float32 parameters and BN statistics)."""
        from .api import count

        report = count(self.model, self.alpha, self.resolution)
        return max(1, round(4 * (report.params + report.norm_params) / 1e6))

    @property
    def label(self) -> str:
        top1 = f", top-1 {self.top1:.1f}%" if self.top1 is not None else ""
        return f"{self.name} ({self.layout}{top1})"


def _tv(model: str, file: str, tag: str, top1: float, resize: int) -> WeightsEntry:
    return WeightsEntry(
        name=f"tv_mobilenet_{model}.{tag}", model=model, alpha=1.0, resolution=224, layout="torchvision",
        url=f"https://download.pytorch.org/models/{file}", filename=file,
        preprocess=Preprocess(resize, 224, "bilinear"), top1=top1, sha256_prefix=file.rsplit("-", 1)[1][:8],
    )  # fmt: skip


def _timm(
    timm_name: str, tag: str, model: str, alpha: float, resolution: int, crop_pct: float,
    inception: bool = False, top1: float | None = None,
) -> WeightsEntry:  # fmt: skip
    full = f"{timm_name}.{tag}"
    mean, std = (INCEPTION_MEAN, INCEPTION_STD) if inception else (IMAGENET_MEAN, IMAGENET_STD)
    return WeightsEntry(
        name=f"timm/{full}", model=model, alpha=alpha, resolution=resolution, layout="timm",
        url=f"https://huggingface.co/timm/{full}/resolve/main/model.safetensors",
        filename=f"timm_{full}.safetensors",
        preprocess=Preprocess(int(resolution / crop_pct), resolution, "bicubic", mean, std), top1=top1,
    )  # fmt: skip


WEIGHTS: tuple[WeightsEntry, ...] = (
    _tv("v2", "mobilenet_v2-7ebf99e0.pth", "IMAGENET1K_V2", 72.154, 232),
    _tv("v2", "mobilenet_v2-b0353104.pth", "IMAGENET1K_V1", 71.878, 256),
    _tv("v3_large", "mobilenet_v3_large-5c1a4163.pth", "IMAGENET1K_V2", 75.274, 232),
    _tv("v3_large", "mobilenet_v3_large-8738ca79.pth", "IMAGENET1K_V1", 74.042, 256),
    _tv("v3_small", "mobilenet_v3_small-047dcff4.pth", "IMAGENET1K_V1", 67.668, 256),
    _timm("mobilenetv1_100", "ra4_e3600_r224_in1k", "v1", 1.0, 224, 0.875, inception=True, top1=75.382),
    _timm("mobilenetv1_125", "ra4_e3600_r224_in1k", "v1", 1.25, 224, 0.9, inception=True, top1=76.924),
    _timm("mobilenetv2_050", "lamb_in1k", "v2", 0.5, 224, 0.875, top1=65.950),
    _timm("mobilenetv2_100", "ra_in1k", "v2", 1.0, 224, 0.875, top1=72.976),
    _timm("mobilenetv2_140", "ra_in1k", "v2", 1.4, 224, 0.875, top1=76.520),
    _timm("mobilenetv3_large_100", "ra_in1k", "v3_large", 1.0, 224, 0.875, top1=75.766),
    _timm(
        "mobilenetv3_large_100",
        "ra4_e3600_r224_in1k",
        "v3_large",
        1.0,
        224,
        0.95,
        inception=True,
        top1=76.310,
    ),
    _timm("mobilenetv3_small_050", "lamb_in1k", "v3_small", 0.5, 224, 0.875, top1=57.910),
    _timm("mobilenetv3_small_075", "lamb_in1k", "v3_small", 0.75, 224, 0.875, top1=65.234),
    _timm("mobilenetv3_small_100", "lamb_in1k", "v3_small", 1.0, 224, 0.875, top1=67.656),
    _timm("mobilenetv4_conv_small", "e2400_r224_in1k", "v4_conv_small", 1.0, 224, 0.875, top1=73.756),
    _timm(
        "mobilenetv4_conv_small_050",
        "e3000_r224_in1k",
        "v4_conv_small",
        0.5,
        224,
        0.875,
        inception=True,
        top1=64.760,
    ),
    _timm("mobilenetv4_conv_medium", "e500_r256_in1k", "v4_conv_medium", 1.0, 256, 0.95, top1=79.928),
    _timm("mobilenetv4_conv_large", "e600_r384_in1k", "v4_conv_large", 1.0, 384, 0.95, top1=82.952),
    _timm("mobilenetv4_hybrid_medium", "ix_e550_r256_in1k", "v4_hybrid_medium", 1.0, 256, 0.95, top1=81.446),
    _timm("mobilenetv4_hybrid_large", "ix_e600_r384_in1k", "v4_hybrid_large", 1.0, 384, 0.95, top1=83.990),
)


def get_weights(name: str) -> WeightsEntry:
    for entry in WEIGHTS:
        if entry.name == name or entry.name.removeprefix("timm/") == name:
            return entry
    raise ConfigError(f"unknown weights {name!r}; see `python -m mobilenet_core weights list`")


def weights_for(model: str, alpha: float, resolution: int) -> list[WeightsEntry]:
    """Published checkpoints of exactly this configuration, best top-1 first (unknown last)."""
    found = [
        e for e in WEIGHTS if e.model == model and abs(e.alpha - alpha) < 1e-9 and e.resolution == resolution
    ]
    return sorted(found, key=lambda e: -(e.top1 if e.top1 is not None else -1))


def nearest_weights(model: str, alpha: float, resolution: int) -> WeightsEntry:
    """The published configuration closest to this one: same model when it has any, then the
    smallest change of alpha, then of resolution."""
    same_model = [e for e in WEIGHTS if e.model == model]
    candidates = same_model or list(WEIGHTS)
    return min(
        candidates,
        key=lambda e: (abs(e.alpha - alpha), abs(e.resolution - resolution), -(e.top1 or 0), e.name),
    )


def checkpoint_source(entry: WeightsEntry) -> str:
    """Where a checkpoint's top-1 comes from, for a label beside the number."""
    if entry.layout == "torchvision":
        return "torchvision's model documentation (IMAGENET1K weights table)"
    return f"the Hugging Face model card of {entry.name} (timm release notes)"

"""Image loading, preprocessing, top-k classification and explanations (Grad-CAM, feature maps).

Every failure to read an image is an ImageError with a one-line message; nothing here lets a
PIL or torch exception reach the user.
"""

from __future__ import annotations

import io
import os
import time
import warnings
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from .cache import release_memory
from .errors import MobileNetError
from .preprocess import Preprocess

MAX_PIXELS = 40_000_000  # ~ 6300 x 6300: a bigger image is refused as a decompression bomb
MAX_IMAGE_BYTES = 50 * 2**20
SUPPORTED_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "GIF", "TIFF", "MPO")


class ImageError(MobileNetError, ValueError):
    """An upload that is not an image we can classify. `code` and `params` let a UI say the
    same thing in its own language (the message itself is English)."""

    def __init__(self, message: str, code: str = "unreadable", **params):
        super().__init__(message)
        self.code, self.params = code, params


@lru_cache(maxsize=8)
def _classes(language: str) -> tuple[str, ...] | None:
    # shared by every session of a server: a tuple, so that no caller can change the names
    path = resources.files("mobilenet_core").joinpath(f"data/classes/{language}.txt")
    if not language.isalnum() or not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(line for line in lines if not line.startswith("#"))


def class_names(language: str = "en") -> tuple[str, ...]:
    """The 1000 ImageNet-1k class names in a language: one file per language in
    data/classes/<code>.txt (a line per class, in index order); English where there is none."""
    return _classes(language) or _classes("en")


def _too_big(label: str, size: int) -> ImageError:
    mib, limit = round(size / 2**20), MAX_IMAGE_BYTES >> 20
    message = f"{label}: {mib} MiB is over the {limit} MiB limit"
    return ImageError(message, "too_many_bytes", name=label, mib=mib, limit=limit)


def load_image(source: bytes | str | os.PathLike, name: str | None = None) -> Image.Image:
    """Decode an image to 8-bit RGB: EXIF orientation applied, transparency flattened on white,
    palette / grayscale / CMYK / 16-bit converted, the first frame of an animation."""
    label = name or (Path(source).name if not isinstance(source, bytes) else "image")
    if isinstance(source, bytes):
        data = source
    else:
        try:
            if os.path.getsize(source) > MAX_IMAGE_BYTES:
                raise _too_big(label, os.path.getsize(source))
            data = Path(source).read_bytes()
        except OSError as exc:
            raise ImageError(f"{label}: cannot read the file ({exc.strerror or exc})", "unreadable",
                             name=label) from None  # fmt: skip
    if not data:
        raise ImageError(f"{label}: the file is empty", "empty", name=label)
    if len(data) > MAX_IMAGE_BYTES:
        raise _too_big(label, len(data))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in SUPPORTED_FORMATS:
                message = (
                    f"{label}: {image.format} images are not supported (use JPEG, PNG, WebP, BMP, GIF, TIFF)"
                )
                raise ImageError(message, "unsupported", name=label, format=image.format)
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageError(f"{label}: {width}×{height} pixels is over the {MAX_PIXELS // 1_000_000} "
                                 "megapixel limit", "too_many_pixels", name=label, width=width, height=height,
                                 limit=MAX_PIXELS // 1_000_000)  # fmt: skip
            if width < 2 or height < 2:
                raise ImageError(f"{label}: {width}×{height} pixels is too small to classify", "too_small",
                                 name=label, width=width, height=height)  # fmt: skip
            image.seek(0)
            image.load()
            image = ImageOps.exif_transpose(image)
            return _to_rgb(image)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"{label} is too large (decompression bomb)", "bomb", name=label) from None
    except UnidentifiedImageError:
        raise ImageError(f"{label} is not an image we can read", "not_image", name=label) from None
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError, MemoryError) as exc:
        raise ImageError(f"{label}: the image is damaged or truncated ({type(exc).__name__})", "damaged",
                         name=label) from None  # fmt: skip


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        top = array.max() if array.size and array.max() > 0 else 1.0
        image = Image.fromarray(np.clip(array / top * 255.0, 0, 255).astype(np.uint8), "L")
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        return background
    return image.convert("RGB")


def resized_size(width: int, height: int, shorter: int) -> tuple[int, int]:
    """(width, height) after resizing the shorter side to `shorter`, as torchvision's Resize(int)
    does (and timm's eval transform, which calls it): the long side is truncated,
    int(shorter * long / short), not rounded."""
    if width <= height:
        return shorter, int(shorter * height / width)
    return int(shorter * width / height), shorter


def center_crop_box(width: int, height: int, crop: int) -> tuple[int, int, int, int]:
    """torchvision's CenterCrop offsets: int(round((size - crop) / 2)), Python's round (half to
    even); a crop larger than the image reaches outside it (the outside is black)."""
    left = int(round((width - crop) / 2.0))
    top = int(round((height - crop) / 2.0))
    return left, top, left + crop, top + crop


def preprocess_image(image: Image.Image, recipe: Preprocess) -> tuple[torch.Tensor, Image.Image]:
    """(normalised 1x3xHxW tensor, the RGB crop the network sees): torchvision's and timm's eval
    transform pixel for pixel (Resize of the shorter side, CenterCrop, ToTensor, Normalize),
    held to tensors recorded from both in tests/test_preprocess.py."""
    resample = Image.Resampling.BICUBIC if recipe.interpolation == "bicubic" else Image.Resampling.BILINEAR
    resized = image.resize(resized_size(*image.size, recipe.resize), resample)
    box = center_crop_box(resized.width, resized.height, recipe.crop)
    if box[0] < 0 or box[1] < 0:  # CenterCrop pads a smaller image with zeros, centred the same way
        padded = Image.new("RGB", (max(resized.width, recipe.crop), max(resized.height, recipe.crop)))
        pad_left, pad_top = (padded.width - resized.width) // 2, (padded.height - resized.height) // 2
        padded.paste(resized, (pad_left, pad_top))
        resized, box = padded, center_crop_box(padded.width, padded.height, recipe.crop)
    crop = resized.crop(box)
    array = np.asarray(crop, dtype=np.float32) / np.float32(255.0)
    array = (array - np.array(recipe.mean, dtype=np.float32)) / np.array(recipe.std, dtype=np.float32)
    return torch.from_numpy(array.transpose(2, 0, 1).copy()).unsqueeze(0), crop


@dataclass(frozen=True)
class TopClass:
    index: int
    label: str  # English
    probability: float

    def label_in(self, language: str) -> str:
        return class_names(language)[self.index]


@dataclass(frozen=True)
class Prediction:
    image: str
    top: tuple[TopClass, ...]
    latency_ms: float
    crop: Image.Image | None = None
    logits: torch.Tensor | None = None
    tensor: torch.Tensor | None = None  # the normalised input, for explanations without redoing it
    # (block, feature maps): the block's first channels scaled as feature_maps scales them, when
    # classify was asked for them and its runner gives them from the same pass
    block_maps: tuple[str, np.ndarray] | None = None

    def to_dict(self) -> dict:
        return {
            "image": self.image,
            "top": [{"index": c.index, "label": c.label, "probability": c.probability} for c in self.top],
            "latency_ms": round(self.latency_ms, 3),
        }


def top_k(logits: torch.Tensor, k: int = 5) -> tuple[TopClass, ...]:
    probabilities = logits.float().softmax(-1)
    values, indices = probabilities.topk(min(k, probabilities.numel()))
    en = class_names("en")
    return tuple(TopClass(int(i), en[i], float(p)) for p, i in zip(values.tolist(), indices.tolist()))


def classify(module: torch.nn.Module, image: Image.Image, recipe: Preprocess, name: str = "image",
             k: int = 5, block: str | None = None, count: int = 16) -> Prediction:  # fmt: skip
    """Top-k of one image through `module` (eval mode, no autograd), timed. With `block`, and a
    runner that gives block outputs (FastModel.forward_with_block), the prediction also carries
    that block's feature maps (`count` channels) from the same pass: a second pass saved."""
    tensor, crop = preprocess_image(image, recipe)
    with_block = getattr(module, "forward_with_block", None) if block else None
    with torch.inference_mode():
        start = time.perf_counter()
        logits, output = with_block(tensor, block) if with_block else (module(tensor), None)
        latency = (time.perf_counter() - start) * 1e3
    maps = (block, _scaled(output, count)) if output is not None else None
    return Prediction(name, top_k(logits[0], k), latency, crop, logits[0], tensor, maps)


def grad_cam(module: torch.nn.Module, tensor: torch.Tensor, class_index: int) -> np.ndarray:
    """Grad-CAM (Selvaraju et al., arXiv:1610.02391) from the last convolutional stage: the
    feature map weighted by the spatially averaged gradient of the class logit, ReLU, scaled to
    [0, 1] and upsampled to the input size.

    The module may be shared by every session of a server, so it stays read-only: no hooks (a
    hook would also fire on another session's forward pass), and the gradient is taken with
    respect to the feature map only, so no parameter's .grad is written."""
    with torch.enable_grad():
        # the input asks for a gradient too, so that a module whose parameters do not still works
        x = tensor.detach().clone().requires_grad_(True)
        features = module.forward_features(x)
        logits = module.forward_head(features)
        (gradient,) = torch.autograd.grad(logits[0, class_index], features)
    weights = gradient.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * features).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam, size=tensor.shape[-2:], mode="bilinear", align_corners=False)[0, 0]
    cam = cam.detach()
    top = cam.max()
    result = (cam / top if top > 0 else cam).numpy().copy()
    del logits, features, gradient
    release_memory()  # the backward pass's activations can be hundreds of MB on the large models
    return result


def overlay_heatmap(crop: Image.Image, cam: np.ndarray, alpha: float = 0.45) -> Image.Image:
    """The heatmap (blue → red) blended over the crop the network saw."""
    cam = np.clip(cam, 0, 1)
    red = np.clip(1.5 - np.abs(4 * cam - 3), 0, 1)
    green = np.clip(1.5 - np.abs(4 * cam - 2), 0, 1)
    blue = np.clip(1.5 - np.abs(4 * cam - 1), 0, 1)
    colors = (np.stack([red, green, blue], -1) * 255).astype(np.uint8)
    heat = Image.fromarray(colors).resize(crop.size)
    return Image.blend(crop.convert("RGB"), heat, alpha)


def feature_maps(
    module: torch.nn.Module, tensor: torch.Tensor, block: str, count: int = 16, runner=None
) -> np.ndarray:
    """The first `count` channels of a block's output, each scaled to [0, 1]: (count, H, W).
    From the fast runner's pass when `runner` gives block outputs (FastModel.block_output: the
    BN-folded network, equal within float rounding), else read from the eager module with
    `block_outputs`, not a hook: the module may be shared by many sessions."""
    tap = getattr(runner, "block_output", None)
    output = tap(tensor, block) if tap is not None else None
    if output is None:
        with torch.inference_mode():
            output = module.block_outputs(tensor, [block])[block]
    maps = _scaled(output, count)
    del output
    release_memory()  # the forward pass's activations: hundreds of MB on the large models
    return maps


def _scaled(output: torch.Tensor, count: int) -> np.ndarray:
    """The first `count` channels of a block's output (1, C, H, W), each scaled to [0, 1]."""
    maps = output[0, :count].float().clone()
    low = maps.amin(dim=(1, 2), keepdim=True)
    high = maps.amax(dim=(1, 2), keepdim=True)
    return ((maps - low) / (high - low).clamp_min(1e-12)).numpy()


def feature_map_grid(maps: np.ndarray, tile: int = 96, columns: int = 8) -> Image.Image:
    """Feature maps in [0, 1] as one grayscale picture, `columns` tiles per row."""
    tiles = [
        Image.fromarray((m * 255).astype(np.uint8)).resize((tile, tile), Image.Resampling.NEAREST)
        for m in maps
    ]
    rows = -(-len(tiles) // columns)
    grid = Image.new("L", (columns * tile, rows * tile), 0)
    for i, picture in enumerate(tiles):
        grid.paste(picture, ((i % columns) * tile, (i // columns) * tile))
    return grid

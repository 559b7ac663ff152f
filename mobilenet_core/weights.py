"""Safe checkpoint loading in timm's and torchvision's key layouts.

timm's layout is our modules' own, so its keys load as they are. torchvision's (V2, V3) is
matched tensor by tensor in forward order: both layouts list a block's tensors in the order
the forward pass uses them, so sorting torchvision's keys structurally (features.2 before
features.10, weight before bias) lines them up with ours; every pair must agree in shape.
Pickles are read with weights_only=True only; safetensors files need no unpickling at all.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from .errors import CheckpointError

MAX_CHECKPOINT_BYTES = 2 << 30  # 2 GiB: V5-300M (Gemma 3n's encoder) is ~1.2 GB in float32
TORCHVISION_MODELS = {"v2", "v3_large", "v3_small"}
# torchvision's V3 uses BN eps 1e-3 (TF's default); its V2 and every timm model use 1e-5.
LAYOUT_BN_EPS = {("torchvision", "v3_large"): 1e-3, ("torchvision", "v3_small"): 1e-3}
DEFAULT_BN_EPS = 1e-5
_LEAF_ORDER = {"weight": 0, "bias": 1, "running_mean": 2, "running_var": 3, "num_batches_tracked": 4}
_TOP_ORDER = {"features": 0, "classifier": 1}
_SHOWN = 5


def read_state_dict(
    path: str | os.PathLike, max_bytes: int = MAX_CHECKPOINT_BYTES
) -> dict[str, torch.Tensor]:
    """Read a .pth / .pt / .bin (torch.save, weights_only) or .safetensors file into a flat
    state_dict of tensors. Refuses files over `max_bytes` before reading them."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {exc.strerror or exc}") from None
    if size > max_bytes:
        raise CheckpointError(
            f"checkpoint {path.name} is {size / 2**20:.0f} MiB, over the {max_bytes / 2**20:.0f} MiB limit"
        )
    if size == 0:
        raise CheckpointError(f"checkpoint {path.name} is empty")
    with open(path, "rb") as f:
        magic = f.read(8)
    if magic[:2] == b"PK" or magic[:1] == b"\x80":
        state = _read_torch(path)
    else:
        state = _read_safetensors(path)
    return _unwrap(state, path.name)


def _read_torch(path: Path) -> Mapping:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unsupported content"
        raise CheckpointError(
            f"refused {path.name}: it holds more than tensors and would run code to load "
            f"(only weights_only files are read). Details: {first}"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError) as exc:
        raise CheckpointError(f"{path.name} is not a readable PyTorch checkpoint: {exc}") from None


def _read_safetensors(path: Path) -> Mapping:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(
            f"{path.name} is neither a PyTorch checkpoint nor a safetensors file ({exc})"
        ) from None


def _unwrap(state, name: str) -> dict[str, torch.Tensor]:
    # Training scripts often save {"state_dict": ...}, {"model": ...} or EMA copies.
    for wrapper in ("state_dict_ema", "state_dict", "model_ema", "model"):
        if isinstance(state, Mapping) and isinstance(state.get(wrapper), Mapping):
            state = state[wrapper]
            break
    if not isinstance(state, Mapping) or not state:
        raise CheckpointError(f"{name} holds no state_dict (a mapping of names to tensors)")
    out = {}
    for key, value in state.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise CheckpointError(f"{name}: entry {key!r} is not a named tensor")
        out[key.removeprefix("module.")] = value
    return out


def detect_layout(state: Mapping[str, torch.Tensor]) -> str:
    """'torchvision' (features.* / classifier.*) or 'timm' (conv_stem / blocks.*)."""
    keys = list(state)
    if any(k.startswith("conv_stem.") for k in keys):
        return "timm"
    if any(k.startswith("features.") for k in keys):
        return "torchvision"
    raise CheckpointError(
        "unknown key layout: expected timm's (conv_stem.*, blocks.*) or torchvision's "
        f"(features.*, classifier.*); the file starts with {keys[:3]}"
    )


def _structural_key(key: str):
    *path, leaf = key.split(".")
    parts = [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in path]
    return (_TOP_ORDER.get(path[0] if path else leaf, 9), parts, _LEAF_ORDER.get(leaf, 9), leaf)


def convert_state_dict(
    module: nn.Module, state: Mapping[str, torch.Tensor], layout: str, model_name: str
) -> dict[str, torch.Tensor]:
    """Rename a checkpoint's keys into the module's own, checking every shape."""
    ours = module.state_dict()
    where = f"{model_name} (alpha {getattr(module, 'alpha', '?')}) from a {layout}-layout checkpoint"
    if layout == "timm":
        missing = [k for k in ours if k not in state]
        unexpected = [k for k in state if k not in ours]
        wrong = [
            f"{k}: file {tuple(state[k].shape)} vs model {tuple(ours[k].shape)}"
            for k in ours
            if k in state and state[k].shape != ours[k].shape
        ]
        if missing or unexpected or wrong:
            parts = []
            if wrong:
                parts.append(f"{len(wrong)} shape mismatches, first: " + "; ".join(wrong[:_SHOWN]))
            if missing:
                parts.append(f"{len(missing)} missing keys, first: {missing[:_SHOWN]}")
            if unexpected:
                parts.append(f"{len(unexpected)} unexpected keys, first: {unexpected[:_SHOWN]}")
            raise CheckpointError(f"checkpoint does not fit {where}: " + " | ".join(parts))
        return dict(state)
    if model_name not in TORCHVISION_MODELS:
        raise CheckpointError(
            f"checkpoint does not fit {where}: torchvision publishes only "
            f"{sorted(TORCHVISION_MODELS)} in that layout"
        )
    theirs = sorted(state, key=_structural_key)
    mapped: dict[str, torch.Tensor] = {}
    for index, (our_key, their_key) in enumerate(zip(ours, theirs)):
        tensor = state[their_key]
        target = ours[our_key].shape
        if tensor.shape != target:
            # torchvision's V3 head is a Linear where timm (and we) use a 1x1 conv
            if (
                tensor.dim() == 2
                and len(target) == 4
                and tuple(target[2:]) == (1, 1)
                and tuple(tensor.shape) == tuple(target[:2])
            ):
                tensor = tensor.reshape(target)
            else:
                raise CheckpointError(
                    f"checkpoint does not fit {where}: tensor #{index} {their_key} "
                    f"{tuple(state[their_key].shape)} should match {our_key} {tuple(target)}"
                )
        mapped[our_key] = tensor
    if len(theirs) != len(ours):
        extra = theirs[len(ours) :] if len(theirs) > len(ours) else []
        short = list(ours)[len(theirs) :] if len(ours) > len(theirs) else []
        raise CheckpointError(
            f"checkpoint does not fit {where}: it has {len(theirs)} tensors, the model "
            f"{len(ours)}"
            + (f"; extra: {extra[:_SHOWN]}" if extra else "")
            + (f"; not in the file: {short[:_SHOWN]}" if short else "")
        )
    return mapped


def load_state_dict(module: nn.Module, state: Mapping[str, torch.Tensor]) -> nn.Module:
    """Load a state_dict of either layout, strictly; sets the BN eps that layout was trained with."""
    model_name = getattr(module, "model_name", type(module).__name__)
    layout = detect_layout(state)
    mapped = convert_state_dict(module, state, layout, model_name)
    module.load_state_dict(mapped, strict=True)
    eps = LAYOUT_BN_EPS.get((layout, model_name), DEFAULT_BN_EPS)
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eps = eps
    return module.eval()


def load_checkpoint(
    module: nn.Module, path: str | os.PathLike, max_bytes: int = MAX_CHECKPOINT_BYTES
) -> nn.Module:
    """Load a .pth / .safetensors checkpoint (timm or torchvision layout, detected) into
    `module`, strictly. Raises CheckpointError naming the model, the layout and the first
    mismatching keys or shapes; the module is left untouched when the file does not fit."""
    return load_state_dict(module, read_state_dict(path, max_bytes))


# --- the download cache ---------------------------------------------------------------------


_CHUNK = 1 << 16


def cache_dir() -> Path:
    """torch.hub's checkpoint cache: $TORCH_HOME/hub/checkpoints (default ~/.cache/torch/...)."""
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints"


def cached_file(entry) -> Path:
    return cache_dir() / entry.filename


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _pinned_digest(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def verify_file(entry, path: Path) -> str:
    """Check a file against the entry's digest (full, torchvision prefix, or the digest pinned
    at first download). Returns the file's SHA-256; raises CheckpointError on a mismatch."""
    digest = _sha256(path)
    expected = entry.sha256
    pinned = _pinned_digest(cached_file(entry))
    if expected is None and entry.sha256_prefix is None and pinned.exists() and path != cached_file(entry):
        expected = pinned.read_text().strip()
    if expected is not None and digest != expected:
        raise CheckpointError(
            f"{path.name}: SHA-256 {digest[:12]}… does not match {entry.name} ({expected[:12]}…)", "corrupt"
        )
    if entry.sha256_prefix is not None and not digest.startswith(entry.sha256_prefix):
        raise CheckpointError(
            f"{path.name}: SHA-256 starts {digest[:8]}, {entry.name} needs {entry.sha256_prefix}: "
            "the download is corrupt or not this checkpoint",
            "corrupt",
        )
    return digest


def declared_digest(url: str, timeout: float = 30.0) -> str | None:
    """The SHA-256 a server declares for a file before sending it: Hugging Face answers a HEAD
    on /resolve/ with the Git LFS object id in X-Linked-Etag (the digest huggingface_hub checks
    too). None when the server declares none, or not a SHA-256 (a git SHA-1, an MD5 ETag)."""
    import re
    import urllib.error
    import urllib.request

    class _Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # the headers we want are on the redirect
            return None

    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "mobilenet-explorer"})
    try:
        with urllib.request.build_opener(_Stay).open(request, timeout=timeout) as response:
            headers = response.headers
    except urllib.error.HTTPError as exc:  # a 3xx that was not followed lands here
        headers = exc.headers
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError, ValueError):
        return None
    for name in ("X-Linked-Etag", "ETag"):
        value = (headers.get(name) or "").strip().removeprefix("W/").strip('"').lower()
        if re.fullmatch(r"[0-9a-f]{64}", value):
            return value
    return None


def download(entry, progress=None, timeout: float = 30.0) -> Path:
    """Fetch a registry entry into the cache. Resumes a partial download (HTTP Range), checks
    the hash before the file is put in place, and never leaves a half file under the final
    name. Raises CheckpointError (offline, HTTP error, hash mismatch) with what to do instead."""
    import urllib.error
    import urllib.request

    final = cached_file(entry)
    final.parent.mkdir(parents=True, exist_ok=True)
    part = final.with_name(final.name + ".part")
    declared = None
    if entry.sha256 is None and entry.sha256_prefix is None:  # e.g. timm's files: ask the server
        declared = declared_digest(entry.url, timeout)
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(entry.url, headers={"User-Agent": "mobilenet-explorer"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if have and response.status != 206:  # the server ignored the range: start over
                have = 0
            length = response.headers.get("Content-Length")
            total = have + int(length) if length is not None else None
            if total is not None and total > MAX_CHECKPOINT_BYTES:
                raise CheckpointError(
                    f"{entry.name}: the server offers {total} bytes, over the limit", "too_big"
                )
            with open(part, "ab" if have else "wb") as out:
                done = have
                if progress:
                    progress(done, total)
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        # an HTTP answer means the network works and the server said no; anything else: offline
        code = "server" if isinstance(exc, urllib.error.HTTPError) else "offline"
        raise CheckpointError(
            f"cannot download {entry.name} from {entry.url} ({reason}). Offline? Put the file in "
            f"{final.parent} with `python -m mobilenet_core weights import FILE`, upload it in the app, "
            "or run with --checkpoint FILE / --untrained",
            code,
        ) from None
    try:
        digest = verify_file(entry, part)
        if declared is not None and digest != declared:
            raise CheckpointError(
                f"{entry.name}: the download's SHA-256 {digest[:12]}… does not match the {declared[:12]}… "
                "the server declares: the download is corrupt",
                "corrupt",
            )
    except CheckpointError:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, final)
    if entry.sha256 is None and entry.sha256_prefix is None:
        _pinned_digest(final).write_text(digest + "\n")
    return final


def ensure_weights(entry, progress=None, allow_download: bool = True) -> Path:
    """The cached file of an entry, downloading it first if needed (and allowed)."""
    final = cached_file(entry)
    if final.exists():
        pinned = _pinned_digest(final)
        if entry.sha256_prefix is not None or entry.sha256 is not None:
            verify_file(entry, final)
        elif pinned.exists() and _sha256(final) != pinned.read_text().strip():
            raise CheckpointError(f"{final} changed since it was downloaded; delete it to fetch it again")
        return final
    if not allow_download:
        raise CheckpointError(f"{entry.name} is not in the cache ({final})")
    return download(entry, progress)


def load_pretrained(entry, progress=None, allow_download: bool = True) -> nn.Module:
    from .api import build

    module = build(entry.model, entry.alpha, entry.resolution)
    return load_checkpoint(module, ensure_weights(entry, progress, allow_download))


def import_weights(path: str | os.PathLike, name: str | None = None) -> tuple[object, Path]:
    """Put a checkpoint file into the cache under its registry entry, after checking that it
    loads strictly into that entry's model. Without `name`, the entry is found by trying the
    ones whose layout and tensor count fit. Returns (entry, cached path)."""
    import shutil

    from .api import build
    from .registry import WEIGHTS, get_weights

    state = read_state_dict(path)
    layout = detect_layout(state)
    candidates = [get_weights(name)] if name else [e for e in WEIGHTS if e.layout == layout]
    errors = []
    for entry in candidates:
        module = build(entry.model, entry.alpha, entry.resolution)
        if len(module.state_dict()) != len(state):
            continue
        try:
            load_state_dict(module, state)
        except CheckpointError as exc:
            errors.append(str(exc))
            continue
        final = cached_file(entry)
        final.parent.mkdir(parents=True, exist_ok=True)
        digest = _sha256(Path(path))
        if entry.sha256_prefix is not None and not digest.startswith(entry.sha256_prefix):
            # a fine-tuned or re-saved file fits the model but is not the published one
            final = final.with_name(f"imported_{digest[:8]}_{final.name}")
        tmp = final.with_name(final.name + ".part")
        shutil.copyfile(path, tmp)
        os.replace(tmp, final)
        if entry.sha256 is None and entry.sha256_prefix is None:
            _pinned_digest(final).write_text(digest + "\n")
        return entry, final
    detail = f" First mismatch: {errors[0]}" if errors else ""
    raise CheckpointError(f"{Path(path).name} fits no published {layout} checkpoint of these models.{detail}")

"""Safe checkpoint loading in timm's and torchvision's key layouts.

timm's layout is our modules' own, so its keys load as they are. torchvision's (V2, V3) is
matched tensor by tensor in forward order: both layouts list a block's tensors in the order
the forward pass uses them, so sorting torchvision's keys structurally (features.2 before
features.10, weight before bias) lines them up with ours; every pair must agree in shape.
Pickles are read with weights_only=True only; safetensors files need no unpickling at all.
"""

from __future__ import annotations

import errno
import glob
import json
import logging
import os
import pickle
import tempfile
import threading
import time
import zipfile
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from .errors import CheckpointError

try:
    import fcntl
except ImportError:  # Windows: the threads of one process are still serialised
    fcntl = None

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
        raise CheckpointError(f"cannot read checkpoint {path}: {exc.strerror or exc}", "unreadable") from None
    if size > max_bytes:
        raise CheckpointError(
            f"checkpoint {path.name} is {size / 2**20:.0f} MiB, over the {max_bytes / 2**20:.0f} MiB limit",
            "file_too_big",
            mib=round(size / 2**20),
            limit=round(max_bytes / 2**20),
        )
    if size == 0:
        raise CheckpointError(f"checkpoint {path.name} is empty", "unreadable")
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
            f"(only weights_only files are read). Details: {first}",
            "unsafe",
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError) as exc:
        raise CheckpointError(
            f"{path.name} is not a readable PyTorch checkpoint: {exc}", "unreadable"
        ) from None


def _read_safetensors(path: Path) -> Mapping:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(
            f"{path.name} is neither a PyTorch checkpoint nor a safetensors file ({exc})", "unreadable"
        ) from None


def _unwrap(state, name: str) -> dict[str, torch.Tensor]:
    # Training scripts often save {"state_dict": ...}, {"model": ...} or EMA copies.
    for wrapper in ("state_dict_ema", "state_dict", "model_ema", "model"):
        if isinstance(state, Mapping) and isinstance(state.get(wrapper), Mapping):
            state = state[wrapper]
            break
    if not isinstance(state, Mapping) or not state:
        raise CheckpointError(f"{name} holds no state_dict (a mapping of names to tensors)", "unreadable")
    out = {}
    for key, value in state.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise CheckpointError(f"{name}: entry {key!r} is not a named tensor", "unreadable")
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
        f"(features.*, classifier.*); the file starts with {keys[:3]}",
        "layout",
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
            raise CheckpointError(
                f"checkpoint does not fit {where}: " + " | ".join(parts),
                "no_fit",
                model=model_name,
                alpha=getattr(module, "alpha", None),
            )
        return dict(state)
    if model_name not in TORCHVISION_MODELS:
        raise CheckpointError(
            f"checkpoint does not fit {where}: torchvision publishes only "
            f"{sorted(TORCHVISION_MODELS)} in that layout",
            "no_fit",
            model=model_name,
            alpha=getattr(module, "alpha", None),
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
                    f"{tuple(state[their_key].shape)} should match {our_key} {tuple(target)}",
                    "no_fit",
                    model=model_name,
                    alpha=getattr(module, "alpha", None),
                )
        mapped[our_key] = tensor
    if len(theirs) != len(ours):
        extra = theirs[len(ours) :] if len(theirs) > len(ours) else []
        short = list(ours)[len(theirs) :] if len(ours) > len(theirs) else []
        raise CheckpointError(
            f"checkpoint does not fit {where}: it has {len(theirs)} tensors, the model "
            f"{len(ours)}"
            + (f"; extra: {extra[:_SHOWN]}" if extra else "")
            + (f"; not in the file: {short[:_SHOWN]}" if short else ""),
            "no_fit",
            model=model_name,
            alpha=getattr(module, "alpha", None),
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
#
# Safe with a whole class at once. Thirty students open Classify in the same minute, served by
# several replicas of scripts/serve.sh (separate processes) that share one cache folder. Each
# cache entry therefore has one lock that holds across threads and processes: fcntl.flock on
# `<file>.lock` beside the entry, plus a threading.Lock per entry in each process (flock belongs
# to an open file description, not to a thread). Only the lock holder downloads, and only it
# writes the entry's `<file>.part`; that is why a dropped download can be resumed with an HTTP
# Range request. Everyone else waits, sees the holder's progress (the size of the part and the
# total the holder writes into the lock file), and then finds the finished file (the cache is
# checked again after the lock is taken) or the failure the holder left in the lock file, so a
# class causes one download, or one failed attempt, per file. A file reaches its final name
# only by os.replace after its SHA-256 was checked: nobody ever reads half a file. Copies that
# cannot be resumed (from a mirror folder, an import, a pinned digest) go through a unique
# temporary file in the same folder. The lock file is removed by its holder (see _EntryLock),
# so after a download, or a failed one, the folder holds checkpoints only (and a part to resume).

_CHUNK = 1 << 16
_POLL_S = 0.1  # how often a waiting caller looks at the holder's progress
_ATTEMPTS = 3  # a dropped connection is resumed until this many attempts were made
HF_ENDPOINT_ENV = "HF_ENDPOINT"  # huggingface_hub's own variable, e.g. https://hf-mirror.com
HF_DEFAULT_ENDPOINT = "https://huggingface.co"
TORCHVISION_URL_ENV = "MOBILENET_EXPLORER_TORCHVISION_URL"
TORCHVISION_DEFAULT_URL = "https://download.pytorch.org/models"
MIRROR_ENV = "MOBILENET_EXPLORER_WEIGHTS_MIRROR"
_WAYS_IN = (
    "Fetch it ahead on a machine with a network (`python -m mobilenet_core weights download`), put a "
    "file you have in the cache with `python -m mobilenet_core weights import FILE`, upload it in "
    "the app, or run with --checkpoint FILE / --untrained"
)

_log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """torch.hub's checkpoint cache: $TORCH_HOME/hub/checkpoints (default ~/.cache/torch/...)."""
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints"


def cached_file(entry) -> Path:
    return cache_dir() / entry.filename


def partial_file(entry) -> Path:
    """The part of an entry's file downloaded so far (written only by the entry's lock holder)."""
    return _part(cached_file(entry))


def _part(final: Path) -> Path:
    return final.with_name(final.name + ".part")


def source_url(entry) -> str:
    """Where an entry is downloaded from, with the mirror settings applied: HF_ENDPOINT replaces
    https://huggingface.co in timm's URLs (as huggingface_hub does), and
    MOBILENET_EXPLORER_TORCHVISION_URL replaces https://download.pytorch.org/models in
    torchvision's (a server that holds the files under their names)."""
    for variable, default in (
        (HF_ENDPOINT_ENV, HF_DEFAULT_ENDPOINT),
        (TORCHVISION_URL_ENV, TORCHVISION_DEFAULT_URL),
    ):
        base = os.environ.get(variable, "").strip().rstrip("/")
        if base and entry.url.startswith(default + "/"):
            return base + entry.url[len(default) :]
    return entry.url


def mirror_file(entry) -> Path | None:
    """The entry's file in the mirror folder MOBILENET_EXPLORER_WEIGHTS_MIRROR (files under their
    cache names, e.g. another machine's cache copied to a USB stick), when it holds one."""
    folder = os.environ.get(MIRROR_ENV, "").strip()
    if not folder:
        return None
    path = Path(folder).expanduser() / entry.filename
    return path if path.is_file() else None


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


# --- one lock per cache entry -------------------------------------------------------------------

_THREAD_LOCKS: dict[str, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


class _EntryLock:
    """The lock of one cache entry, across the threads of this process and across processes.

    The lock file exists only while someone holds the lock: the holder removes it before it lets
    go, so the cache folder keeps only checkpoints. A caller that waited on a lock file that was
    removed meanwhile finds that out after taking it (the name no longer points to its file) and
    reads what that holder left in it: {} after a success, {"failed": code, "message": ...}
    after a failure, which it does not repeat. A caller that has to wait calls
    `progress(done, total)` with the holder's progress every _POLL_S seconds."""

    def __init__(self, final: Path, progress=None):
        self.final, self.progress = final, progress
        self.path = final.with_name(final.name + ".lock")
        self._file = None
        self._shown: tuple | None = None
        with _THREAD_LOCKS_GUARD:
            self._thread_lock = _THREAD_LOCKS.setdefault(str(final), threading.Lock())

    def acquire(self) -> dict | None:
        """None when this caller now holds the lock; else what the holder it waited for left."""
        # opened before waiting, so that a waiter reads the file of the holder it waited for
        self._file = open(self.path, "a+b")
        try:
            while not self._thread_lock.acquire(timeout=_POLL_S):
                self._show_progress()
        except BaseException:
            self._file.close()
            raise
        try:
            while fcntl is not None:
                try:
                    fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:  # another process holds it
                    self._show_progress()
                    time.sleep(_POLL_S)
            if fcntl is None or self._is_live():
                return None
            left = self._state()
        except BaseException:
            self._let_go(remove=False)
            raise
        self._let_go(remove=False)
        return left

    def release(self) -> None:
        self._let_go(remove=fcntl is not None)

    def record(self, **state) -> None:
        """The holder's state for the waiters: {"total": bytes or None} while it downloads,
        {"failed": code, "message": ...} after a failure, {} after a success."""
        try:
            self._file.truncate(0)  # the file is opened for appending: the write lands at 0
            self._file.write(json.dumps(state).encode())
            self._file.flush()
        except OSError:  # a full disk: the waiters then find no word from the holder and try again
            _log.warning("cannot write %s", self.path, exc_info=True)

    def _is_live(self) -> bool:
        try:
            named = os.stat(self.path)
        except FileNotFoundError:
            return False
        mine = os.fstat(self._file.fileno())
        return (named.st_dev, named.st_ino) == (mine.st_dev, mine.st_ino)

    def _let_go(self, remove: bool) -> None:
        try:
            if remove:  # before unlocking: nobody can take a lock on a file about to go
                self.path.unlink(missing_ok=True)
            if fcntl is not None:
                fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        finally:
            self._file.close()
            self._thread_lock.release()

    def _state(self) -> dict:
        if fcntl is None:  # no os.pread either; one process: nothing to read from another
            return {}
        try:
            state = json.loads(os.pread(self._file.fileno(), 1 << 16, 0) or b"{}")
        except (OSError, ValueError):  # caught while the holder writes it
            return {}
        return state if isinstance(state, dict) else {}

    def _show_progress(self) -> None:
        if self.progress is None:
            return
        try:
            done = _part(self.final).stat().st_size
        except OSError:  # not begun yet, or just put in place
            return
        shown = (done, self._state().get("total"))
        if shown != self._shown:
            self._shown = shown
            self.progress(*shown)


# --- errors in the user's words (the detail goes to the log) ------------------------------------


def _storage_error(entry, exc: OSError) -> CheckpointError:
    _log.warning("cannot store %s in the weights cache: %r", entry.name, exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return CheckpointError(
            f"not enough free disk space to store {entry.name}; nothing was kept. Free some space "
            "where the weights cache is and try again",
            "disk_full",
        )
    return CheckpointError(
        f"{entry.name} cannot be stored: the weights cache folder cannot be written. Set TORCH_HOME "
        "to a folder you can write, or ask whoever runs the server",
        "cache_unwritable",
    )


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or "the download server"


class _Dropped(Exception):
    """The connection ended before the whole file came (resumed by the next attempt)."""

    def __init__(self, done: int, total: int | None):
        super().__init__(f"{done} of {total} bytes")
        self.done, self.total = done, total


def _write_chunk(out, chunk: bytes) -> None:
    out.write(chunk)
    out.flush()  # on disk now: the waiters show the size of the part as the download's progress


def _unique_temp(final: Path):
    """A new file beside `final` that nobody else writes: (open binary file, its path)."""
    fd, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp")
    return os.fdopen(fd, "wb"), Path(name)


def _install(entry, source: Path, final: Path, digest: str) -> None:
    """Put a checked file under its final name (an atomic rename in the same folder). The digest
    of a file the registry has none for is pinned first, so the file is never there without it."""
    try:
        if entry.sha256 is None and entry.sha256_prefix is None:
            out, tmp = _unique_temp(final)
            with out:
                out.write(f"{digest}\n".encode())
            os.replace(tmp, _pinned_digest(final))
        os.replace(source, final)
    except OSError as exc:
        source.unlink(missing_ok=True)
        raise _storage_error(entry, exc) from None


def _report_done(progress, path: Path) -> None:
    if progress:
        size = path.stat().st_size
        progress(size, size)


# --- download -------------------------------------------------------------------------------------


def download(entry, progress=None, timeout: float = 30.0) -> Path:
    """Fetch a registry entry into the cache: from the mirror folder when it holds the file,
    else from source_url(entry). Safe when a whole class asks at once (see the comment above):
    one download per file, everyone waiting sees its progress and gets the file. Resumes a
    dropped download (HTTP Range; from zero when the server ignores the range), checks the
    SHA-256 before the file is put in place, and never leaves a half file under the final name.
    Raises CheckpointError with a `code` ("offline", "server", "interrupted", "corrupt",
    "too_big", "disk_full", "cache_unwritable", "mirror_corrupt") and a message that names no
    server path and no errno."""
    final = cached_file(entry)
    lock = _EntryLock(final, progress)
    while True:
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            left = lock.acquire()
        except OSError as exc:
            raise _storage_error(entry, exc) from None
        if left is None:
            break
        # the download this caller waited for is over: its file, or its failure, not a second try
        if final.exists():
            _check_cached(entry, final)
            _report_done(progress, final)
            return final
        if left.get("failed") is not None:
            raise CheckpointError(left.get("message", ""), left["failed"])
    try:
        if final.exists():  # checked again under the lock: put in place while this caller waited
            _check_cached(entry, final)
            _report_done(progress, final)
            return final
        for stale in final.parent.glob(glob.escape(f".{final.name}.") + "*.tmp"):
            stale.unlink(missing_ok=True)  # a crashed holder's: temporary files exist only under the lock
        try:
            _fetch(entry, final, progress, timeout, lock)
        except CheckpointError as exc:
            lock.record(failed=exc.code, message=str(exc))
            raise
        lock.record()
        return final
    finally:
        lock.release()


def _fetch(entry, final: Path, progress, timeout: float, lock: _EntryLock) -> None:
    mirror = mirror_file(entry)
    if mirror is not None:
        _copy_from_mirror(entry, mirror, final, progress)
        return
    url = source_url(entry)
    declared = None
    if entry.sha256 is None and entry.sha256_prefix is None:  # e.g. timm's files: ask the server
        declared = declared_digest(url, timeout)
    part = _part(final)
    resumed = part.exists() and part.stat().st_size > 0
    for last in (not resumed, True):
        _download_part(entry, url, part, progress, timeout, lock)
        try:
            digest = verify_file(entry, part)
            if declared is not None and digest != declared:
                raise CheckpointError(
                    f"{entry.name}: the download's SHA-256 {digest[:12]}… does not match the "
                    f"{declared[:12]}… the server declares: the download is corrupt",
                    "corrupt",
                )
        except CheckpointError:
            part.unlink(missing_ok=True)
            if last:
                raise
            # the part an earlier attempt left was not the start of this file: once more from zero
            _log.warning("resumed download of %s did not verify; downloading it again", entry.name)
            continue
        _install(entry, part, final, digest)
        return


def _download_part(entry, url: str, part: Path, progress, timeout: float, lock: _EntryLock) -> None:
    """Fetch `url` into `part`, continuing what is there; a connection that drops is resumed
    until _ATTEMPTS attempts were made."""
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            _get(entry, url, part, progress, timeout, lock)
            return
        except _Dropped as exc:
            _log.warning(
                "download of %s from %s dropped after %s (attempt %d)", entry.name, url, exc, attempt
            )
            if attempt == _ATTEMPTS:
                got = f"{exc.done / 1e6:.1f} MB" + (f" of {exc.total / 1e6:.1f} MB" if exc.total else "")
                raise CheckpointError(
                    f"the download of {entry.name} from {_host(url)} was cut off {_ATTEMPTS} times "
                    f"(last after {got}); try again later: it continues where it stopped",
                    "interrupted",
                ) from None


def _get(entry, url: str, part: Path, progress, timeout: float, lock: _EntryLock) -> None:
    """One GET of `url` into `part`. Raises _Dropped when the body ends early."""
    import http.client
    import urllib.error
    import urllib.request

    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "mobilenet-explorer"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # the part is longer than the file: start again from zero
            part.unlink(missing_ok=True)
            raise _Dropped(have, None) from None
        _log.warning("download of %s from %s: HTTP %s", entry.name, url, exc.code)
        raise CheckpointError(
            f"cannot download {entry.name}: {_host(url)} answered HTTP {exc.code}. {_WAYS_IN}", "server"
        ) from None
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        _log.warning("download of %s from %s: %r", entry.name, url, exc)  # an unreachable host, a timeout
        raise CheckpointError(
            f"cannot download {entry.name}: {_host(url)} cannot be reached. Offline? {_WAYS_IN}", "offline"
        ) from None
    with response:
        start, total = _body_range(response, have)
        if have and start == 0:
            _log.warning("%s ignored the Range request for %s: downloading from zero", _host(url), entry.name)
        if total is not None and total > MAX_CHECKPOINT_BYTES:
            part.unlink(missing_ok=True)
            raise CheckpointError(f"{entry.name}: the server offers {total} bytes, over the limit", "too_big")
        lock.record(total=total)
        done = start
        try:
            with open(part, "ab" if start else "wb") as out:
                if progress:
                    progress(done, total)
                while True:
                    try:
                        chunk = response.read(_CHUNK)
                    except (http.client.HTTPException, OSError, ValueError):  # reset, timeout, short chunk
                        raise _Dropped(done, total) from None
                    if not chunk:
                        break
                    done += len(chunk)
                    if done > MAX_CHECKPOINT_BYTES:  # a server that sent no length
                        raise CheckpointError(
                            f"{entry.name}: the server sends more than the limit", "too_big"
                        )
                    _write_chunk(out, chunk)
                    if progress:
                        progress(done, total)
        except OSError as exc:  # writing: a full disk, a cache folder that cannot be written
            part.unlink(missing_ok=True)
            raise _storage_error(entry, exc) from None
        except CheckpointError:
            part.unlink(missing_ok=True)
            raise
    if total is not None and done < total:  # the connection closed before the declared length
        raise _Dropped(done, total)


def _body_range(response, have: int) -> tuple[int, int | None]:
    """(where the body starts in the file, the file's size or None). A server that ignores the
    Range request answers 200 with the whole file: it starts at 0, not after the part."""
    import re

    length = response.headers.get("Content-Length", "").strip()
    length = int(length) if length.isdigit() else None
    if not have or response.status != 206:
        return 0, length
    content_range = re.fullmatch(
        r"bytes (\d+)-\d+/(\d+|\*)", response.headers.get("Content-Range", "").strip()
    )
    if content_range is None:
        return have, have + length if length is not None else None
    if int(content_range[1]) != have:  # a range we did not ask for: not usable
        raise _Dropped(have, None)
    size = content_range[2]
    return have, int(size) if size.isdigit() else (have + length if length is not None else None)


def _copy_from_mirror(entry, source: Path, final: Path, progress) -> None:
    """Copy an entry's file from the mirror folder through a unique temporary file, checked like
    a download: the registry's digest (or the pinned one), and a `<file>.sha256` beside it in the
    mirror (as in our own cache) when there is one."""

    def refuse(why: str) -> CheckpointError:
        return CheckpointError(
            f"the copy of {entry.name} in the weights mirror folder {why}; it was not used. Replace it, "
            f"or unset {MIRROR_ENV} to download it",
            "mirror_corrupt",
        )

    try:
        total = source.stat().st_size
        src = open(source, "rb")
    except OSError as exc:
        _log.warning("mirror file %s: %r", source, exc)
        raise refuse("cannot be read") from None
    if total > MAX_CHECKPOINT_BYTES:
        src.close()
        raise refuse("is over the size limit")
    tmp = None
    try:
        with src:
            out, tmp = _unique_temp(final)
            with out:
                done = 0
                if progress:
                    progress(done, total)
                while True:
                    try:
                        chunk = src.read(_CHUNK)
                    except OSError as exc:
                        _log.warning("mirror file %s: %r", source, exc)
                        raise refuse("cannot be read to the end") from None
                    if not chunk:
                        break
                    _write_chunk(out, chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
    except OSError as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise _storage_error(entry, exc) from None
    except CheckpointError:
        tmp.unlink(missing_ok=True)
        raise
    try:
        digest = verify_file(entry, tmp)
        beside = _pinned_digest(source)
        if beside.is_file() and beside.read_text().strip() != digest:
            raise CheckpointError("its digest file disagrees", "corrupt")
    except (CheckpointError, OSError) as exc:
        tmp.unlink(missing_ok=True)
        _log.warning("mirror file %s rejected: %s", source, exc)
        raise refuse("is damaged or not this checkpoint (its SHA-256 does not match)") from None
    _install(entry, tmp, final, digest)


def _check_cached(entry, final: Path) -> None:
    if entry.sha256_prefix is not None or entry.sha256 is not None:
        verify_file(entry, final)
        return
    pinned = _pinned_digest(final)
    if pinned.exists() and _sha256(final) != pinned.read_text().strip():
        raise CheckpointError(
            f"{final.name} changed since it was downloaded; delete it to fetch it again", "changed"
        )


def ensure_weights(entry, progress=None, allow_download: bool = True) -> Path:
    """The cached file of an entry, downloading it first if needed (and allowed)."""
    final = cached_file(entry)
    if final.exists():  # only ever a whole, checked file: see the comment above download()
        _check_cached(entry, final)
        return final
    if not allow_download:
        raise CheckpointError(
            f"{entry.name} is not in the cache; "
            f"`python -m mobilenet_core weights download {entry.name}` fetches it"
        )
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
        digest = _sha256(Path(path))
        if entry.sha256_prefix is not None and not digest.startswith(entry.sha256_prefix):
            # a fine-tuned or re-saved file fits the model but is not the published one
            final = final.with_name(f"imported_{digest[:8]}_{final.name}")
        lock = _EntryLock(final)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            while lock.acquire() is not None:  # someone else's lock ended meanwhile: take the new one
                pass
        except OSError as exc:
            raise _storage_error(entry, exc) from None
        tmp = None
        try:
            try:
                out, tmp = _unique_temp(final)
                with out, open(path, "rb") as source:
                    shutil.copyfileobj(source, out)
            except OSError as exc:
                if tmp is not None:
                    tmp.unlink(missing_ok=True)
                raise _storage_error(entry, exc) from None
            _install(entry, tmp, final, digest)
        finally:
            lock.release()
        return entry, final
    detail = f" First mismatch: {errors[0]}" if errors else ""
    raise CheckpointError(
        f"{Path(path).name} fits no published {layout} checkpoint of these models.{detail}",
        "no_published_fit",
    )

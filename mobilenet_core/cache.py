"""Memory bounds: a thread-safe LRU cache for built models shared read-only by every session,
its budget as a setting, and a small per-session store of results computed once per photo."""

from __future__ import annotations

import ctypes
import functools
import gc
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

_LOG = logging.getLogger(__name__)

# The shared model cache's budget, in MiB (setting: MOBILENET_EXPLORER_MODEL_CACHE_MB). An entry
# is a (module, FastModel) pair, counted by module_bytes; measured on every published
# configuration (untrained builds: the same tensors as the checkpoints), in MiB:
#   V3-Small 0.5 / 0.75 / 1.0: 21 / 27 / 34     V2 0.5 / 1.0 / 1.4: 26 / 47 / 81
#   V4 Conv-S 0.5 / 1.0: 30 / 50                V1 1.0 / 1.25: 57 / 84       V3-Large: 73
#   V4 Conv-M 256: 130    V4 Hybrid-M 256: 148    V4 Conv-L 384: 434    V4 Hybrid-L 384: 504
#   V5-Base 256 (no published weights; eager runner sharing the weights): 315
#   INT8 runners (a separate entry each): V4 Conv-L 90, V4 Hybrid-L 104.
# The old 384 MiB kept neither large V4, so each Classify rerun rebuilt, folded and exported
# them. 1024 keeps the largest with its INT8 runner and a medium model, or Conv-L and Hybrid-L
# side by side.
SHARED_MODELS_MIB = 1024
# A class works with a few configurations at once (a model, its INT8 runner, the neighbour a
# lesson compares with): small models are limited by count, large ones by the budget.
SHARED_MODELS_ITEMS = 8
# A user's own checkpoint is kept in that user's session only, one at a time, and counted
# against this (setting: MOBILENET_EXPLORER_SESSION_MODEL_MB): module, fast runner and, while
# the INT8 switch is on, the INT8 runner. 768 fits V4 Hybrid-L with its INT8 runner (504 + 104).
SESSION_MODEL_MIB = 768


def module_bytes(value: Any) -> int:
    """Bytes of the parameters and buffers of every torch module inside `value` (a module or a
    tuple of them), plus the weights an ONNX Runtime session holds (FastModel.session_bytes)."""
    import torch

    items = value if isinstance(value, tuple) else (value,)
    total, seen = 0, set()
    for item in items:
        if isinstance(item, torch.nn.Module):
            for tensor in list(item.parameters()) + list(item.buffers()):
                if tensor.data_ptr() not in seen:  # a runner may share its module's weights
                    seen.add(tensor.data_ptr())
                    total += tensor.numel() * tensor.element_size()
            total += getattr(item, "session_bytes", 0)
    return total


def whole_number_from_env(variable: str, default: int, minimum: int = 0) -> int:
    """A whole number >= `minimum` from an environment variable (`default` when it is unset or
    empty). Any other value is said in the server log and the default is used: a typo must not
    take the server down, nor leave it without a bound."""
    return _number_from_env(variable, default, minimum, int, "a whole number")


def seconds_from_env(variable: str, default: float, minimum: float = 0.0) -> float:
    """A duration in seconds (a decimal number >= `minimum`) from an environment variable, read as
    whole_number_from_env reads its numbers."""
    return _number_from_env(variable, default, minimum, float, "a number of seconds")


def _number_from_env(variable, default, minimum, parse, kind):
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    try:
        value = parse(raw)
    except ValueError:
        value = None
    # NaN compares false with everything: `not value >= minimum` turns it away too
    if value is None or not value >= minimum or value == float("inf"):
        _LOG.warning("%s=%r is not %s >= %s; using %s", variable, raw, kind, minimum, default)
        return default
    return value


def budget_from_env(variable: str, default_mib: int) -> int:
    """A memory budget in bytes from an environment variable holding MiB (whole_number_from_env)."""
    return whole_number_from_env(variable, default_mib) * 2**20


# Trimming hands every free page of the heap back to the OS, and the next inference faults them in
# again: trimming after every new photo (V2, a 451x300 photo) cost 6-8 ms of system time of an
# upload's 60 core-ms (benchmarks/bench_rerun.py --only new-photo, issue 24). So after an
# inference the heap is trimmed when the process has grown by more than TRIM_ABOVE since the last
# trim (a large model's pass: hundreds of MB go back at once), and otherwise at most every
# TRIM_EVERY_S (what was freed without the process growing: a session gone, a photo or a network
# let go, another session's pass that ended after a trim had measured it). glibc's count of free
# heap bytes cannot be the test: it keeps counting the pages a trim gave back.
TRIM_ABOVE = 64 << 20
TRIM_EVERY_S = 10.0
_last_trim = [0, -TRIM_EVERY_S]  # the resident bytes after the last trim, and when (time.monotonic)
_trim_lock = threading.Lock()  # sessions' threads trim; one at a time, and the mark stays whole


@functools.cache
def _libc():
    """glibc's malloc_trim, or None where there is none (then nothing is trimmed)."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def resident_bytes() -> int:
    """This process's resident set (0 where /proc cannot tell)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def release_memory(at_least: int = TRIM_ABOVE) -> None:
    """Give freed heap pages back to the OS (glibc's malloc_trim): with at_least=0 now; else when
    the process has grown by more than `at_least` bytes since the last trim, or TRIM_EVERY_S have
    passed since it (on every call where /proc cannot tell the resident set). Building and
    dropping models frees hundreds of MB that glibc would otherwise keep: measured here, RSS after
    27 configurations falls from 3.3 GB to 1.3 GB. A no-op where glibc is absent."""
    malloc_trim = _libc()
    if malloc_trim is None:
        return
    with _trim_lock:
        resident, now = resident_bytes(), time.monotonic()
        lowest = min(_last_trim[0], resident)  # the process shrank since: growth counts from there
        if at_least > 0 and resident and resident - lowest <= at_least and now - _last_trim[1] < TRIM_EVERY_S:
            _last_trim[0] = lowest
            return
        malloc_trim(0)
        _last_trim[:] = [resident_bytes(), time.monotonic()]


def release_dropped() -> None:
    """After a network was let go (evicted, refused, removed): collect the reference cycles its
    modules sit in (the server runs no full collection after a script run: .streamlit/config.toml),
    then give the memory back at once."""
    gc.collect()
    release_memory(at_least=0)


class ModelCache:
    """LRU by count and by memory: holds at most `max_items` entries and `max_bytes` bytes (an
    entry larger than that is still returned, just not kept). Concurrent requests for the same
    key build it once; other keys build in parallel.

    Thread safety: every read and change of the entry table happens under `_lock`; a build runs
    outside it under a per-key lock, so a slow build blocks only the sessions waiting for that
    same model. The cache hands out shared objects: callers must treat them as read-only."""

    def __init__(
        self, max_items: int = 4, max_bytes: int = 1 << 30, size: Callable[[Any], int] = module_bytes
    ):
        self.max_items, self.max_bytes, self.size = max_items, max_bytes, size
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[Hashable, threading.Lock] = {}
        self.builds = 0

    def get(self, key: Hashable, factory: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key][0]
            key_lock = self._building.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._entries:
                    self._entries.move_to_end(key)
                    return self._entries[key][0]
            value = factory()
            nbytes = self.size(value)
            with self._lock:
                self.builds += 1
                self._building.pop(key, None)
                if nbytes <= self.max_bytes:
                    self._entries[key] = (value, nbytes)
                    self._evict()
            # the build's temporaries (ONNX export, folded copies) and the entries just evicted
            release_dropped()
            return value

    def _evict(self) -> None:
        while len(self._entries) > self.max_items or self.nbytes > self.max_bytes:
            self._entries.popitem(last=False)

    @property
    def nbytes(self) -> int:
        return sum(n for _, n in self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> list[Hashable]:
        with self._lock:
            return list(self._entries)


class RecentResults:
    """Results computed for the last `max_keys` keys (a session's photos), at most `per_key` per
    key (a photo's top-5, its Grad-CAMs, its feature maps), least recently used out first: what
    an unrelated widget's rerun finds instead of computing it again.

    One per session (kept in its session_state, so it goes with the session): a session's script
    runs one at a time, so there is no lock. Keep only results here, never a model."""

    def __init__(self, max_keys: int = 8, per_key: int = 12):
        self.max_keys, self.per_key = max_keys, per_key
        self._results: OrderedDict[Hashable, OrderedDict[Hashable, Any]] = OrderedDict()

    def get(self, key: Hashable, what: Hashable, compute: Callable[[], Any]) -> Any:
        results = self._results.pop(key, None) or OrderedDict()
        self._results[key] = results  # the most recently used last
        if what in results:
            results.move_to_end(what)
        else:
            results[what] = compute()
            while len(results) > self.per_key:
                results.popitem(last=False)
        while len(self._results) > self.max_keys:
            self._results.popitem(last=False)
        return results[what]

    def __len__(self) -> int:
        return len(self._results)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._results

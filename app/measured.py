"""This machine's measurements (its roofline peaks, each configuration's layer times), kept once per
server process with the time they were taken, for every session.

A measurement describes the machine, not a session, so one table serves the class: a session that
opens the Roofline view after another measured sees that measurement and when it was taken, and
"Measure again" replaces it for everyone (before, the cache was keyed by a per-session counter, so
one session's re-measure could hand another session an old measurement as new).

Why sharing is safe: entries are immutable results (frozen dataclasses) with a time stamp,
replaced whole under `_lock`; a measurement runs under a lock of its own per key, so two sessions
asking at once measure once and the second gets the first's result; the table is bounded (LRU)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Measured:
    value: Any
    at: float  # time.time() when the measurement finished


class Measurements:
    def __init__(self, max_items: int = 32):
        self.max_items = max_items
        self._entries: OrderedDict[Hashable, Measured] = OrderedDict()
        self._lock = threading.Lock()
        self._measuring: dict[Hashable, threading.Lock] = {}

    def peek(self, key: Hashable) -> Measured | None:
        with self._lock:
            return self._entries.get(key)

    def get(self, key: Hashable, measure: Callable[[], Any], again: bool = False) -> Measured:
        """The measurement for `key`, taken now if there is none (or `again`: replacing it)."""
        with self._lock:
            before = self._entries.get(key)
            if before is not None and not again:
                self._entries.move_to_end(key)
                return before
            key_lock = self._measuring.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                now = self._entries.get(key)
            if now is not None and now is not before:  # measured by someone else while we waited
                return now
            result = Measured(measure(), time.time())
            with self._lock:
                self._entries[key] = result
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_items:
                    self._entries.popitem(last=False)
            return result


HOST = Measurements()

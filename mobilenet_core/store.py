"""A small key-value table of measured latencies that several server processes share.

Latency is a fact about the machine, not about a process: with `scripts/serve.sh --replicas N`
every replica should see a point that any of them measured. SQLite in WAL mode lets several
processes read and write one file at once; each call opens its own connection, so threads and
processes never share one. Writes are single upserts.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, MutableMapping
from pathlib import Path

Key = tuple[str, float, int]


def default_path() -> Path:
    """$MOBILENET_EXPLORER_SHARED_DIR/latency.sqlite, else a per-user cache file."""
    shared = os.environ.get("MOBILENET_EXPLORER_SHARED_DIR")
    base = Path(shared) if shared else Path.home() / ".cache" / "mobilenet-explorer"
    return base / "latency.sqlite"


class LatencyTable(MutableMapping):
    """(model, alpha, resolution) -> median latency in ms, stored in one SQLite file."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS latency (model TEXT, alpha REAL, resolution INTEGER, "
                       "ms REAL, PRIMARY KEY (model, alpha, resolution))")  # fmt: skip

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    def __getitem__(self, key: Key) -> float:
        with self._connect() as db:
            row = db.execute("SELECT ms FROM latency WHERE model=? AND alpha=? AND resolution=?",
                             (key[0], float(key[1]), int(key[2]))).fetchone()  # fmt: skip
        if row is None:
            raise KeyError(key)
        return row[0]

    def __setitem__(self, key: Key, ms: float) -> None:
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO latency VALUES (?, ?, ?, ?)",
                       (key[0], float(key[1]), int(key[2]), float(ms)))  # fmt: skip

    def __delitem__(self, key: Key) -> None:
        with self._connect() as db:
            deleted = db.execute("DELETE FROM latency WHERE model=? AND alpha=? AND resolution=?",
                                 (key[0], float(key[1]), int(key[2]))).rowcount  # fmt: skip
        if not deleted:
            raise KeyError(key)

    def __iter__(self) -> Iterator[Key]:
        with self._connect() as db:
            rows = db.execute("SELECT model, alpha, resolution FROM latency").fetchall()
        return iter([(m, a, r) for m, a, r in rows])

    def __len__(self) -> int:
        with self._connect() as db:
            return db.execute("SELECT COUNT(*) FROM latency").fetchone()[0]

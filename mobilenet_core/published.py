"""Figures the papers and the TF-slim releases published (V1, V2, V3), for display.

They round MACs to the million and params to 0.1 M, and count params their own way (TF-slim's
V2 rows leave out batch norm), so they are shown next to our exact counts, never instead.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class PublishedFigure:
    model: str
    alpha: float
    resolution: int
    macs_millions: float
    params_millions: float
    top1: float
    source: str


@lru_cache(maxsize=1)
def published_figures() -> tuple[PublishedFigure, ...]:
    text = resources.files("mobilenet_core").joinpath("data/published.csv").read_text()
    figures, source = [], ""
    for r in csv.DictReader(text.splitlines()):
        # the table writes "same" / "same (...)" for the source of the row above
        if r["source"].startswith("same"):
            note = r["source"][len("same") :].strip()
            r["source"] = f"{source.split(' (')[0]} {note}".strip() if note else source
        source = r["source"]
        figures.append(
            PublishedFigure(
                model=r["model"],
                alpha=float(r["alpha"]),
                resolution=int(r["resolution"]),
                macs_millions=float(r["macs_millions"]),
                params_millions=float(r["params_millions"]),
                top1=float(r["top1"]),
                source=r["source"],
            )  # fmt: skip
        )
    return tuple(figures)


def find_published(model: str, alpha: float, resolution: int) -> PublishedFigure | None:
    for f in published_figures():
        if f.model == model and abs(f.alpha - alpha) < 1e-9 and f.resolution == resolution:
            return f
    return None

"""The story page's table: every model of the family, counted, with its published top-1."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TimelineRow:
    model: str
    title: str
    generation: str
    year: int
    paper: str
    resolution: int
    params: int
    macs: int
    top1: float | None  # published ImageNet top-1 at alpha 1 and this resolution
    top1_source: str


def timeline() -> list[TimelineRow]:
    """Every model at alpha 1 and its default resolution: exact counts and the published top-1."""
    from ..api import count, get_generation, list_models
    from ..published import find_published

    rows = []
    for model in list_models():
        g = get_generation(model)
        report = count(model)
        generation, year, paper = g.family, g.year, g.paper
        fig = find_published(model, 1.0, report.resolution)
        top1, source = (fig.top1, fig.source) if fig else (None, "")
        rows.append(TimelineRow(model, g.title, generation, year, paper, report.resolution, report.params,
                                report.macs, top1, source))  # fmt: skip
    return rows

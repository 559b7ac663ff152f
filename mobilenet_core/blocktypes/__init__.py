"""One record per block type, registered once; every consumer looks a block type up here.

A block type is its spec class (frozen data, in `specs/blocks.py`) plus one file in this package
that holds everything else about it and ends with `register(BlockType(...))`:
- `resolve`: its widths for a given alpha (expanded width, SE width, residual, layer scale);
- `count`: its layers, params and MACs, added to the counter's Walker. This is the counter's own
  arithmetic over the spec: it never builds or runs the module, so tests can hold the two
  independent paths (count vs. the built module and FlopCounterMode) against each other;
- `module`: the torch module the builder makes from a resolved block;
- `variant`: the label and kernel text tables and graphs show; `colors`: a fill per label;
- `fold`: the (conv, norm) attribute pairs of its module, for batch-norm folding;
- `columns`, `to_row`, `from_row`: its fields in the design lab's editor.
Files here are imported when the package is, so a new file is the whole registration.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..rules import make_divisible
from ..specs.blocks import Generation


@dataclass(frozen=True)
class WidthContext:
    """What a block's width rule may look at."""

    generation: Generation
    alpha: float
    in_channels: int  # the previous block's output
    stage_channels: tuple[int, ...]  # output width of every finished stage
    name: str = ""  # the block's module path, for messages

    def scaled(self, channels: int) -> int:
        return make_divisible(channels * self.alpha)


@dataclass(frozen=True)
class Widths:
    out_channels: int
    expanded_channels: int  # width inside the block (DS: in; plain conv: out; MQA: heads x d)
    se_channels: int = 0  # squeeze width, 0 without SE
    residual: bool = False
    layer_scale: bool = False
    in_channels: int | None = None  # None: the previous block's output


@dataclass(frozen=True)
class BlockType:
    kind: str  # the spec's `kind`
    spec: type
    title: str  # what it is, in words ("Inverted residual")
    short: str  # its name in chart legends ("IR")
    color: str  # its colour in charts
    resolve: Callable  # (spec, WidthContext) -> Widths
    count: Callable  # (Walker, ResolvedBlock) -> None: add its layer rows
    module: type  # torch module class, built from a ResolvedBlock
    variant: Callable  # spec -> (label, kernel text)
    colors: Mapping[str, str]  # graph fill per variant label
    columns: tuple[str, ...]  # design-lab columns it uses besides stage/type/repeats/out/stride
    to_row: Callable  # spec -> {column: value}
    from_row: Callable  # (custom.RowReader) -> spec, raising ConfigError in the user's words
    fold: tuple[tuple[str, str], ...] = ()
    expands: bool = False  # has an expansion layer and a linear projection
    shows_kernel: bool = True  # its kernel means something in a one-line summary
    anatomy: str = (
        "plain"  # the counterpart the anatomy view draws: separable, bottleneck, variants, attention
    )
    formulas: str | None = None  # the papers' cost formulas for it: a function name in mobilenet_core.anatomy
    fuses_stages: bool = False  # takes the finished stages' outputs, not the previous block's (MSFA)
    path: str | None = None  # a fixed module path ("msfa") instead of blocks.S.I
    order: int = 100  # position in the editor's type list
    editable: bool = True  # offered in the design lab's type column


REGISTRY: dict[str, BlockType] = {}


def register(block_type: BlockType) -> BlockType:
    if block_type.kind in REGISTRY:
        raise ValueError(f"block type {block_type.kind!r} is registered twice")
    REGISTRY[block_type.kind] = block_type
    return block_type


def block_type(kind_or_spec) -> BlockType:
    """The record of a kind string ("uib") or of a spec instance."""
    kind = kind_or_spec if isinstance(kind_or_spec, str) else kind_or_spec.kind
    try:
        return REGISTRY[kind]
    except KeyError:
        raise KeyError(f"no block type {kind!r} is registered; known: {', '.join(REGISTRY)}") from None


def kinds(editable_only: bool = False) -> tuple[str, ...]:
    types = sorted(REGISTRY.values(), key=lambda t: t.order)
    return tuple(t.kind for t in types if t.editable or not editable_only)


# The network's head (pool, 1x1 conv, classifier) in charts that colour blocks by type: black, the
# one Okabe-Ito colour no block type uses (tests/test_palettes.py).
HEAD_COLOR = "#000000"


def variant_colors() -> dict[str, str]:
    return {label: color for t in REGISTRY.values() for label, color in t.colors.items()}


for _info in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_info.name}")

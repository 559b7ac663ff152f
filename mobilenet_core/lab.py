"""Custom architectures: a generation's block table as plain rows (for an editor, JSON or a URL),
checked with messages a user can act on, and turned back into a Generation that the builder and
the counter take like any other."""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import replace

from .blocktypes import REGISTRY, block_type, kinds
from .errors import ConfigError
from .resolve import resolve
from .specs.blocks import Activation, Generation

# The editor's columns: every block type's own (from its record), in a reading order; a new block
# type's new fields are appended.
_READING_ORDER = ("stage", "type", "repeats", "out", "expand", "kernel", "start", "mid", "stride", "se",
                  "activation", "pw_act", "residual", "heads", "key_dim", "kv_stride")  # fmt: skip
COLUMNS = _READING_ORDER + tuple(
    dict.fromkeys(c for t in REGISTRY.values() for c in t.columns if c not in _READING_ORDER)
)
MAX_REPEATS = 32
FORMAT = "mobilenet-explorer/architecture@1"


def _groups(stage: tuple) -> list[tuple[object, int]]:
    """Consecutive blocks that repeat the first one with stride 1, as (first, count): the papers'
    (t, c, n, s) rows, where only the first of n blocks carries the stride."""
    groups: list[list] = []
    for spec in stage:
        if groups and spec.stride == 1 and spec == replace(groups[-1][0], stride=1):
            groups[-1][1] += 1
        else:
            groups.append([spec, 1])
    return [(first, count) for first, count in groups]


def generation_rows(generation: Generation) -> list[dict]:
    """One row per group of repeated blocks (stem and head excluded), every column present;
    `repeats` blocks are built from a row, the first with its stride and the rest with stride 1.
    Stages of blocks the editor does not offer (V5's fusion adapter) stay with the base, like the
    stem and the head."""
    rows = []
    for stage_index, stage in enumerate(
        generation.stages[: len(generation.stages) - len(_fixed(generation))]
    ):
        for spec, repeats in _groups(stage):
            row = dict.fromkeys(COLUMNS)
            row.update(stage=stage_index, type=spec.kind, repeats=repeats, out=spec.out, stride=spec.stride)
            row.update(block_type(spec.kind).to_row(spec))
            activation = getattr(spec, "activation", None)
            row["activation"] = activation.value if activation else None
            rows.append(row)
    return rows


def _number(row: dict, column: str, index: int, kind=int, low=None, high=None, default=None):
    value = row.get(column)
    if value is None or (isinstance(value, float) and value != value) or value == "":
        if default is not None:
            return default
        raise ConfigError(f"row {index}: '{column}' is empty", "row_empty", row=index, column=column)
    try:
        number = kind(value)
        if kind is int and float(value) != number:
            raise ValueError
    except (TypeError, ValueError):
        raise ConfigError(
            f"row {index}: '{column}' must be a {'whole ' if kind is int else ''}number, got {value!r}",
            "row_whole" if kind is int else "row_number",
            row=index,
            column=column,
            value=value,
        ) from None
    if (low is not None and number < low) or (high is not None and number > high):
        raise ConfigError(
            f"row {index}: '{column}' must be between {low} and {high}, got {value!r}",
            "row_range",
            row=index,
            column=column,
            low=low,
            high=high,
            value=value,
        )
    return number


def _kernel(row, column, index, allow_zero=False):
    k = _number(row, column, index, low=0 if allow_zero else 1, high=9, default=0 if allow_zero else None)
    if k and k % 2 == 0:
        raise ConfigError(
            f"row {index}: '{column}' must be odd (1, 3, 5, 7, 9), got {k}",
            "row_odd",
            row=index,
            column=column,
            value=k,
        )
    return k


def _flag(row: dict, column: str, default: bool) -> bool:
    value = row.get(column)
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


class RowReader:
    """One editor row, read column by column with messages that name the row; block types'
    `from_row` rules read their fields through it."""

    def __init__(self, row: dict, index: int):
        self.row, self.index = row, index
        self.out = _number(row, "out", index, low=1, high=4096)
        self.stride = _number(row, "stride", index, low=1, high=2, default=1)
        activation = row.get("activation") or None
        if activation is not None:
            try:
                activation = Activation(activation)
            except ValueError:
                names = ", ".join(a.value for a in Activation)
                raise ConfigError(
                    f"row {index}: activation must be one of {names}, got {activation!r}",
                    "row_choice",
                    row=index,
                    column="activation",
                    choices=names,
                    value=activation,
                ) from None
        self.activation = activation

    def int(self, column: str, low=None, high=None, default=None) -> int:
        return _number(self.row, column, self.index, int, low, high, default)

    def float(self, column: str, low=None, high=None, default=None) -> float:
        return _number(self.row, column, self.index, float, low, high, default)

    def kernel(self, column: str, allow_zero: bool = False) -> int:
        return _kernel(self.row, column, self.index, allow_zero)

    def flag(self, column: str, default: bool) -> bool:
        return _flag(self.row, column, default)

    def error(self, message: str, code: str) -> ConfigError:
        return ConfigError(f"row {self.index}: {message}", code, row=self.index)


def _fixed(generation: Generation) -> tuple:
    """The trailing stages made only of blocks the editor does not offer (V5's fusion adapter)."""
    fixed: list = []
    for stage in reversed(generation.stages):
        if any(block_type(spec).editable for spec in stage):
            break
        fixed.insert(0, stage)
    return tuple(fixed)


def block_types() -> tuple[str, ...]:
    """The block types the editor offers, in the order of its type list."""
    return kinds(editable_only=True)


def spec_from_row(row: dict, index: int):
    kind = row.get("type")
    types = block_types()
    if kind not in types:
        raise ConfigError(
            f"row {index}: type must be one of {', '.join(types)}, got {kind!r}",
            "row_choice",
            row=index,
            column="type",
            choices=", ".join(types),
            value=kind,
        )
    return block_type(kind).from_row(RowReader(row, index))


def generation_from_rows(base: Generation, rows: list[dict], name: str = "custom") -> Generation:
    """A new Generation: the base's stem, head and conventions with the edited block table.
    Raises ConfigError naming the first bad row."""
    if not rows:
        raise ConfigError("the architecture needs at least one block", "lab_empty")
    stages: dict[int, list] = {}
    for index, row in enumerate(rows):
        stage = _number(row, "stage", index, low=0, high=15)
        repeats = _number(row, "repeats", index, low=1, high=MAX_REPEATS, default=1)
        spec = spec_from_row(row, index)
        stages.setdefault(stage, []).extend([spec] + [replace(spec, stride=1)] * (repeats - 1))
    ordered = tuple(tuple(stages[s]) for s in sorted(stages)) + _fixed(base)
    generation = replace(base, name=name, title=f"{base.title} (edited)", stages=ordered)
    _check_widths(generation, block_rows(rows))
    return generation


def block_rows(rows: list[dict]) -> list[int]:
    """For every block the edited table builds, in network order, the editor row it comes from."""
    origin: dict[int, list] = {}
    for index, row in enumerate(rows):
        repeats = _number(row, "repeats", index, low=1, high=MAX_REPEATS, default=1)
        origin.setdefault(_number(row, "stage", index, low=0, high=15), []).extend([index] * repeats)
    return [i for s in sorted(origin) for i in origin[s]]


def _check_widths(generation: Generation, origin: list[int]) -> None:
    """Resolve the edited table once, so that a width a block type refuses (Mobile MQA changing
    its width) is reported with the editor row it comes from, not a module path."""
    names = [f"blocks.{s}.{i}" for s, stage in enumerate(generation.stages) for i in range(len(stage))]
    try:
        resolve(generation, 1.0)
    except ConfigError as exc:
        name, _, message = str(exc).partition(": ")
        if name in names:
            row = origin[names.index(name)]
            raise ConfigError(f"row {row}: {message}", exc.code, **{**exc.params, "row": row}) from None
        raise


def check_resolution(report, rows: list[dict]) -> None:
    """A stride-2 block must have a map to halve: with padding (k - 1) // 2 a map never drops
    below 1 px, so a stride 2 on a 1 x 1 map is an edit that does nothing but mislead."""
    origin = block_rows(rows)
    for index, block in enumerate(report.blocks[1:-1]):
        if block.stride > 1 and min(block.in_height, block.in_width) <= 1:
            raise ConfigError(
                f"row {origin[index]}: stride 2 on a map that is already 1 px at {report.resolution} px "
                "input (the map cannot get smaller than 1 px)",
                "row_stride_1px",
                row=origin[index],
                res=report.resolution,
            )


def to_json(base: str, rows: list[dict]) -> str:
    compact = [{k: v for k, v in row.items() if v is not None} for row in rows]
    return json.dumps({"format": FORMAT, "base": base, "blocks": compact}, indent=1)


def from_json(text: str) -> tuple[str, list[dict]]:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"not an architecture file: {exc}", "lab_file") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("blocks"), list):
        raise ConfigError(f"not an architecture file (expected format {FORMAT!r})", "lab_file")
    rows = []
    for block in data["blocks"]:
        if not isinstance(block, dict):
            raise ConfigError("not an architecture file: every block must be an object", "lab_file")
        row = dict.fromkeys(COLUMNS)
        row.update({k: v for k, v in block.items() if k in COLUMNS})
        rows.append(row)
    return str(data.get("base", "")), rows


def to_url_token(base: str, rows: list[dict]) -> str:
    """A compact token for a URL query (zlib + urlsafe base64)."""
    return base64.urlsafe_b64encode(zlib.compress(to_json(base, rows).encode(), 9)).decode().rstrip("=")


def from_url_token(token: str) -> tuple[str, list[dict]]:
    try:
        padded = token + "=" * (-len(token) % 4)
        text = zlib.decompressobj().decompress(base64.urlsafe_b64decode(padded), 1 << 20).decode()
    except (ValueError, zlib.error, UnicodeDecodeError):
        raise ConfigError("the architecture in the link is damaged", "lab_link") from None
    return from_json(text)

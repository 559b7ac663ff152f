"""Two configurations block by block: where they differ, what the design changed, what it costs.

`diff(a, b)` aligns the two networks by output stride (the feature-map size a block writes,
relative to the input): one row for the stem, one per stride (1/2, 1/4, ... 1/32), one for a block
that fuses finished stages (V5's multi-scale fusion adapter) and one for the head. Every block of
each network lands in exactly one row, so the rows' parameters, MACs and estimated latency add up
to the totals, and the per-row differences to the totals' difference (params and MACs exactly,
latency to float precision). Numbers come from the analytic counter (`count`) and the roofline
estimate (`latency.estimate_latency`); nothing is built.

A row says what changed in the design, from the counter's block rows alone (so that a design-lab
edit, which has no name in the generation table, diffs like any model): block types that appear
or go, activation, kernel sizes, expansion ratios, squeeze-and-excite, attention, and the number
of blocks. Widths are shown but are not called a design change: alpha changes every width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape
from typing import Literal

from .api import count, get_generation, list_models
from .blocktypes import REGISTRY
from .count import BlockRow, CountReport
from .errors import ConfigError
from .latency import DeviceProfile, LatencyEstimate, estimate_latency, get_device

RowKind = Literal["stem", "stride", "fusion", "head"]
ChangeKind = Literal[
    "type_added", "type_removed", "activation", "kernel", "expansion", "se_added", "se_removed",
    "attention_added", "attention_removed", "depth",
]  # fmt: skip

ACTIVATION_NAMES = {"relu": "ReLU", "relu6": "ReLU6", "hard_swish": "h-swish", "gelu": "GELU",
                    "gelu_tanh": "GELU-tanh", "none": "none"}  # fmt: skip

# The words of the table, the charts and the pictures; the app passes a translation (same keys,
# same placeholders). Change templates are named after ChangeKind.
WORDS = {
    "stem": "stem",
    "head": "head",
    "fusion": "fusion (MSFA)",
    "row": "output stride",
    "blocks_a": "A's blocks",
    "blocks_b": "B's blocks",
    "changed": "what changed",
    "params": "params",
    "macs": "MACs",
    "latency": "latency (ms)",
    "share": "share of the difference",
    "total_a": "A total",
    "total_b": "B total",
    "none_here": "—",
    "same_design": "same design",
    "title": "A: {a}   →   B: {b}",
    "device": "estimated on {device}",
    "legend_structure": "red border: block type, kernel, SE or attention not in the other network's row",
    "legend_detail": "dashed orange border: only the activation or expansion differs",
    "type_added": "new block type {after}",
    "type_removed": "no more {before}",
    "activation": "{before} → {after}",
    "kernel": "kernel {before} → {after}",
    "expansion": "expansion {before} → {after}",
    "se_added": "SE added",
    "se_removed": "SE removed",
    "attention_added": "attention added",
    "attention_removed": "attention removed",
    "depth": "blocks {before} → {after}",
}


@dataclass(frozen=True)
class Change:
    """One design change in a row: what, before (A) and after (B), as short texts."""

    kind: ChangeKind
    before: str = ""
    after: str = ""

    def words(self, words: dict | None = None) -> str:
        w = {**WORDS, **(words or {})}
        return w[self.kind].format(before=self.before, after=self.after)


def _type_label(b: BlockRow) -> str:
    # a block type's variant label ("IR", "ExtraDW", "Mobile MQA"); "+SE" is reported as its own
    # change (SE added), not as a new block type
    return b.variant.removesuffix("+SE")


def _kernel(b: BlockRow) -> str | None:
    shows = b.kind in REGISTRY and REGISTRY[b.kind].shows_kernel
    return b.kernel if shows and b.kind != "head" else None


def _expansion(b: BlockRow) -> float | None:
    """Expanded width over input width, where the block type expands (IR, FusedIB, UIB, MSFA)."""
    if b.kind in REGISTRY and REGISTRY[b.kind].expands and b.in_channels:
        return round(b.expanded_channels / b.in_channels, 2)
    return None


def _attention(b: BlockRow) -> bool:
    return any(layer.kind == "attention" for layer in b.layers)


def _number(x: float) -> str:
    return f"{x:g}"


def _structure(b: BlockRow) -> tuple:
    return (_type_label(b), _kernel(b), bool(b.se_channels), _attention(b))


def _detail(b: BlockRow, same_alpha: bool) -> tuple:
    return (*_structure(b), b.activation, _expansion(b) if same_alpha else None)


def design(b: BlockRow) -> tuple:
    """What a block is, apart from its widths: type, kernel, expansion, activation, SE, attention."""
    return (_type_label(b), _kernel(b), _expansion(b), b.activation, bool(b.se_channels), _attention(b))


@dataclass(frozen=True)
class BlockGroup:
    """Consecutive blocks of one row with the same design and output width: "IR k3 e6 ×4 → 64"."""

    first: BlockRow
    count: int
    names: tuple[str, ...]

    @property
    def text(self) -> str:
        b = self.first
        parts = [b.variant]
        if _kernel(b) is not None:
            parts.append(f"k{b.kernel}")
        if _expansion(b) is not None:
            parts.append(f"e{_number(_expansion(b))}")
        if self.count > 1:
            parts.append(f"×{self.count}")
        parts.append(f"→ {b.out_channels}")
        if b.activation != "none":
            parts.append(ACTIVATION_NAMES.get(b.activation, b.activation))
        return " ".join(parts)


def _groups(blocks: tuple[BlockRow, ...]) -> tuple[BlockGroup, ...]:
    groups: list[list[BlockRow]] = []
    for b in blocks:
        last = groups[-1][-1] if groups else None
        if last is not None and design(last) == design(b) and last.out_channels == b.out_channels:
            groups[-1].append(b)
        else:
            groups.append([b])
    return tuple(BlockGroup(g[0], len(g), tuple(b.name for b in g)) for g in groups)


@dataclass(frozen=True)
class RowSide:
    """One network's blocks in a row, with their params, MACs and estimated time."""

    blocks: tuple[BlockRow, ...]
    params: int
    macs: int
    ms: float

    @property
    def groups(self) -> tuple[BlockGroup, ...]:
        return _groups(self.blocks)

    @property
    def size(self) -> str:
        """The row's output feature map ("56×56"), or "" when the network has no block here."""
        if not self.blocks:
            return ""
        last = self.blocks[-1]
        return f"{last.out_height}×{last.out_width}"

    def lines(self) -> list[str]:
        """The groups' texts; a pattern of two groups repeated (V5's MQA, FFN, MQA, FFN ...) is
        written once with its count."""
        groups, out, i = self.groups, [], 0
        while i < len(groups):
            pair = (groups[i].text, groups[i + 1].text) if i + 1 < len(groups) else None
            repeats = 1
            while pair and i + 2 * repeats + 1 < len(groups) and (
                groups[i + 2 * repeats].text, groups[i + 2 * repeats + 1].text) == pair:  # fmt: skip
                repeats += 1
            if repeats > 1:
                out.append(f"({pair[0]}, {pair[1]}) ×{repeats}")
                i += 2 * repeats
            else:
                out.append(groups[i].text)
                i += 1
        return out

    @property
    def text(self) -> str:
        return "; ".join(self.lines())


@dataclass(frozen=True)
class DiffRow:
    kind: RowKind
    stride: int  # the output stride of the row's blocks (stem: its own; fusion, head: 0)
    a: RowSide
    b: RowSide
    changes: tuple[Change, ...]
    same_alpha: bool = True

    @property
    def key(self) -> str:
        return f"1/{self.stride}" if self.kind == "stride" else self.kind

    def label(self, words: dict | None = None) -> str:
        w = {**WORDS, **(words or {})}
        return self.key if self.kind == "stride" else w[self.kind]

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    @property
    def d_params(self) -> int:
        return self.b.params - self.a.params

    @property
    def d_macs(self) -> int:
        return self.b.macs - self.a.macs

    @property
    def d_ms(self) -> float:
        return self.b.ms - self.a.ms

    def marks(self) -> tuple[dict[str, str], dict[str, str]]:
        """For A's and B's blocks: name -> "structure" (its type, kernel, SE or attention does not
        occur in the other side's row) or "detail" (only its activation or, at one alpha, its
        expansion does not)."""
        out = []
        for mine, other in ((self.a.blocks, self.b.blocks), (self.b.blocks, self.a.blocks)):
            structures = {_structure(x) for x in other}
            details = {_detail(x, self.same_alpha) for x in other}
            marks = {}
            for x in mine:
                if _structure(x) not in structures:
                    marks[x.name] = "structure"
                elif _detail(x, self.same_alpha) not in details:
                    marks[x.name] = "detail"
            out.append(marks)
        return out[0], out[1]


@dataclass(frozen=True)
class Side:
    """One configuration of the diff."""

    report: CountReport
    label: str
    latency: LatencyEstimate | None

    @property
    def ms(self) -> float:
        return self.latency.ms if self.latency else 0.0


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def share_text(share: float | None) -> str:
    """ " (12%)", or "" without a difference; a share that rounds to 0 is "0%", not "-0%"."""
    if share is None:
        return ""
    return f" ({share:.0%})" if round(share * 100) else " (0%)"


@dataclass(frozen=True)
class Diff:
    """Two configurations aligned by output stride. `rows` partition both networks' blocks."""

    a: Side
    b: Side
    device: DeviceProfile | None
    rows: tuple[DiffRow, ...] = field(repr=False)

    @property
    def d_params(self) -> int:
        return self.b.report.params - self.a.report.params

    @property
    def d_macs(self) -> int:
        return self.b.report.macs - self.a.report.macs

    @property
    def d_ms(self) -> float:
        return self.b.ms - self.a.ms

    @property
    def changed_rows(self) -> tuple[DiffRow, ...]:
        return tuple(r for r in self.rows if r.changed)

    def share(self, row: DiffRow, measure: Literal["params", "macs", "ms"]) -> float | None:
        """The row's part of the totals' difference (None when the totals are equal)."""
        return _share(getattr(row, f"d_{measure}"), getattr(self, f"d_{measure}"))

    def table(self, words: dict | None = None) -> list[dict]:
        """One dict per row (English keys), as the app's table and the CLI show it."""
        out = []
        for r in self.rows:
            out.append({
                "row": r.label(words), "A size": r.a.size, "A blocks": r.a.text, "B size": r.b.size,
                "B blocks": r.b.text, "changed": "; ".join(c.words(words) for c in r.changes),
                "A params": r.a.params, "B params": r.b.params, "Δ params": r.d_params,
                "Δ params share": self.share(r, "params"),
                "A MACs": r.a.macs, "B MACs": r.b.macs, "Δ MACs": r.d_macs,
                "Δ MACs share": self.share(r, "macs"),
                "A ms": r.a.ms, "B ms": r.b.ms, "Δ ms": r.d_ms, "Δ ms share": self.share(r, "ms"),
            })  # fmt: skip
        return out

    def to_dict(self) -> dict:
        def side(s: Side) -> dict:
            r = s.report
            return {"model": r.model, "alpha": r.alpha, "resolution": r.resolution, "label": s.label,
                    "params": r.params, "macs": r.macs, "ms": s.ms if s.latency else None}  # fmt: skip

        def row_side(x: RowSide) -> dict:
            return {"size": x.size, "blocks": [b.name for b in x.blocks], "summary": x.text,
                    "params": x.params, "macs": x.macs, "ms": x.ms}  # fmt: skip

        return {
            "a": side(self.a),
            "b": side(self.b),
            "device": self.device.name if self.device else None,
            "d_params": self.d_params,
            "d_macs": self.d_macs,
            "d_ms": self.d_ms if self.device else None,
            "rows": [
                {"row": r.key, "kind": r.kind, "stride": r.stride, "a": row_side(r.a), "b": row_side(r.b),
                 "d_params": r.d_params, "d_macs": r.d_macs, "d_ms": r.d_ms,
                 "share_params": self.share(r, "params"), "share_macs": self.share(r, "macs"),
                 "share_ms": self.share(r, "ms"),
                 "changes": [{"kind": c.kind, "before": c.before, "after": c.after, "words": c.words()}
                             for c in r.changes]}
                for r in self.rows
            ],
        }  # fmt: skip

    def _repr_html_(self) -> str:
        """In Jupyter: the aligned table, changed rows shaded, with the totals."""
        measures = [("params", "params", "{:+,}"), ("MACs", "macs", "{:+,}")]
        if self.device:
            measures.append(("ms", "ms", "{:+.3f}"))
        head = ["row", "A", "B", "what changed"] + [f"Δ {m[0]}" for m in measures]
        body = []
        for r in self.rows:
            cells = [escape(r.key), escape(f"{r.a.size} {r.a.text}"), escape(f"{r.b.size} {r.b.text}"),
                     escape("; ".join(c.words() for c in r.changes))]  # fmt: skip
            for _, attr, fmt in measures:
                share = self.share(r, attr)
                cells.append(fmt.format(getattr(r, f"d_{attr}")) + share_text(share))
            style = ' style="background:#fff3cd"' if r.changed else ""
            body.append(f"<tr{style}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        totals = [f"{self.d_params:+,}", f"{self.d_macs:+,}"] + ([f"{self.d_ms:+.3f}"] if self.device else [])
        body.append("<tr><td><b>total</b></td><td></td><td></td><td></td>"
                    + "".join(f"<td><b>{x}</b></td>" for x in totals) + "</tr>")  # fmt: skip
        device = f" · latency on {escape(self.device.title)}" if self.device else ""
        caption = (f"A: {escape(self.a.label)} ({self.a.report.params:,} params, "
                   f"{self.a.report.macs:,} MACs) → "
                   f"B: {escape(self.b.label)} ({self.b.report.params:,} params, {self.b.report.macs:,} MACs)"
                   f"{device}")  # fmt: skip
        return (f"<table><caption>{caption}</caption><thead><tr>"
                + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>" + "".join(body)
                + "</tbody></table>")  # fmt: skip


# --- aligning the two networks ---------------------------------------------------------------------


def _row_keys(report: CountReport) -> list[tuple[RowKind, int]]:
    """Each block's row: (kind, output stride). The stride is the product of the strides so far,
    so it does not depend on the resolution (an odd map rounds up: 7 -> 4 at stride 2)."""
    keys, stride = [], 1
    for b in report.blocks:
        if b.kind == "head":
            keys.append(("head", 0))
        elif b.kind in REGISTRY and REGISTRY[b.kind].fuses_stages:
            keys.append(("fusion", 0))
        else:
            stride *= b.stride
            keys.append(("stem", stride) if b.name == "stem" else ("stride", stride))
    return keys


_ORDER = {"stem": 0, "stride": 1, "fusion": 2, "head": 3}


def _changes(a: tuple[BlockRow, ...], b: tuple[BlockRow, ...], same_alpha: bool = True) -> tuple[Change, ...]:
    """What the design did between A's and B's blocks of one row, in a fixed order."""
    changes: list[Change] = []
    types_a = list(dict.fromkeys(_type_label(x) for x in a))
    types_b = list(dict.fromkeys(_type_label(x) for x in b))
    changes += [Change("type_added", after=t) for t in types_b if t not in types_a]
    changes += [Change("type_removed", before=t) for t in types_a if t not in types_b]
    if not a or not b:  # a row one network does not have: its block types say it all
        return tuple(changes)

    def compare(kind: ChangeKind, values_a: list, values_b: list, show=str) -> None:
        seen_a = sorted({v for v in values_a if v is not None}, key=str)
        seen_b = sorted({v for v in values_b if v is not None}, key=str)
        if seen_a and seen_b and seen_a != seen_b:
            changes.append(Change(kind, ", ".join(map(show, seen_a)), ", ".join(map(show, seen_b))))

    active = [x for x in (*a, *b) if x.activation != "none"]
    compare("activation", [x.activation for x in a if x in active], [x.activation for x in b if x in active],
            lambda v: ACTIVATION_NAMES.get(v, v))  # fmt: skip
    # kernels and expansions of the block types both sides have (a new type is its own change)
    common = set(types_a) & set(types_b)
    kept_a, kept_b = [x for x in a if _type_label(x) in common], [x for x in b if _type_label(x) in common]
    compare("kernel", [_kernel(x) for x in kept_a], [_kernel(x) for x in kept_b])
    if same_alpha:  # at another alpha, rounding widths to 8 moves the ratios (V3-Large 2.3 -> 2.25)
        compare("expansion", [_expansion(x) for x in kept_a], [_expansion(x) for x in kept_b], _number)
    for what, has in (("se", lambda x: bool(x.se_channels)), ("attention", _attention)):
        in_a, in_b = any(map(has, a)), any(map(has, b))
        if in_b and not in_a:
            changes.append(Change(f"{what}_added"))
        elif in_a and not in_b:
            changes.append(Change(f"{what}_removed"))
    if len(a) != len(b):
        changes.append(Change("depth", str(len(a)), str(len(b))))
    return tuple(changes)


def _as_report(config) -> CountReport:
    """A CountReport from a report, a model name, (model, alpha, resolution) or a dict of those."""
    if isinstance(config, CountReport):
        return config
    if isinstance(config, str):
        return count(config)
    if isinstance(config, dict):
        return count(config["model"], config.get("alpha", 1.0), config.get("resolution"))
    if isinstance(config, tuple | list) and config and isinstance(config[0], str):
        return count(*config)
    raise ConfigError(
        f"a configuration is a model name, (model, alpha, resolution) or a CountReport, got {config!r}"
    )


def config_label(report: CountReport) -> str:
    title = get_generation(report.model).title if report.model in list_models() else report.model
    return f"{title} · α {report.alpha:g} · {report.resolution} px"


def _side_rows(report: CountReport, latency: LatencyEstimate | None) -> dict[tuple, RowSide]:
    ms = latency.by_block() if latency else {}
    rows: dict[tuple, list[BlockRow]] = {}
    for key, b in zip(_row_keys(report), report.blocks):
        rows.setdefault(key, []).append(b)
    return {
        key: RowSide(tuple(blocks), sum(b.params for b in blocks), sum(b.macs for b in blocks),
                     sum(ms.get(b.name, 0.0) for b in blocks))
        for key, blocks in rows.items()
    }  # fmt: skip


def diff(
    a,
    b,
    device: DeviceProfile | str | None = "pixel6_cpu",
    labels: tuple[str, str] | None = None,
) -> Diff:
    """Configuration `a` against `b`, aligned by output stride (see the module doc).

    a, b: a model name ("v2"), (model, alpha, resolution), {"model", "alpha", "resolution"} or a
    CountReport (a design-lab edit: `api.count_generation`). device: a DeviceProfile, a name from
    `latency.DEVICE_NAMES` ("host" measures this machine) or None for no latency. labels: the two
    configurations' names (default: title · α · px)."""
    report_a, report_b = _as_report(a), _as_report(b)
    if isinstance(device, str):
        device = get_device(device)
    latency_a = estimate_latency(report_a, device) if device else None
    latency_b = estimate_latency(report_b, device) if device else None
    rows_a, rows_b = _side_rows(report_a, latency_a), _side_rows(report_b, latency_b)
    empty = RowSide((), 0, 0, 0.0)
    same_alpha = report_a.alpha == report_b.alpha
    rows = []
    for key in sorted({*rows_a, *rows_b}, key=lambda k: (_ORDER[k[0]], k[1])):
        side_a, side_b = rows_a.get(key, empty), rows_b.get(key, empty)
        rows.append(
            DiffRow(
                key[0], key[1], side_a, side_b, _changes(side_a.blocks, side_b.blocks, same_alpha), same_alpha
            )
        )
    label_a, label_b = labels or (config_label(report_a), config_label(report_b))
    return Diff(Side(report_a, label_a, latency_a), Side(report_b, label_b, latency_b), device, tuple(rows))


# --- pictures: the two networks side by side, the waterfall, one exportable page ------------------


def _human(n: float, signed: bool = False) -> str:
    sign = "+" if signed and n > 0 else ("−" if n < 0 else "")
    n = abs(n)
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{sign}{n / size:.3g}{unit}" if n / size < 100 else f"{sign}{n / size:.0f}{unit}"
    return f"{sign}{n:g}" if n != int(n) else f"{sign}{int(n)}"


def _ms(x: float, signed: bool = False) -> str:
    text = f"{abs(x):.3g}" if abs(x) < 1 else f"{abs(x):.2f}"
    return ("+" if signed and x > 0 else "−" if x < 0 else "") + text


CHANGED = "#d62728"
DETAIL = "#ff7f0e"


def _block_cell(f, w: dict, mark: str | None) -> str:
    """One (folded) block as a table cell: the layer graph's label, filled with its type's colour;
    a structural change gets a thick red border, a change of activation or expansion a dashed one."""
    from .graph import BLOCK_COLORS, block_label

    inner = block_label(f, w)[1:-1]  # the label's own <table>, without the outer < >
    fill = BLOCK_COLORS.get(f.first.variant, "#dddddd")
    border = {
        "structure": f'BORDER="4" COLOR="{CHANGED}"',
        "detail": f'BORDER="3" COLOR="{DETAIL}" STYLE="dashed"',
    }
    plain = 'BORDER="1" COLOR="#444444"'
    return f'<tr><td BGCOLOR="{fill}" {border.get(mark, plain)}>{inner}</td></tr>'


def diff_graph(d: Diff, words: dict | None = None, column: int = 250) -> str:
    """DOT: A's blocks on the left, B's on the right, one band per aligned row, so that matching
    stages sit at the same height (each band is one node: Graphviz keeps A left of B only within a
    node). A block whose type, kernel, SE or attention the other side's row lacks gets a thick red
    border; one that differs only in activation or expansion a dashed orange one. `words`: those of
    layer_graph and WORDS (the app passes a translation)."""
    from .graph import WORDS as GRAPH_WORDS
    from .graph import dot_header, fold_blocks

    w = {**GRAPH_WORDS, **WORDS, **(words or {})}
    title = escape(w["title"].format(a=d.a.label, b=d.b.label))
    lines = dot_header("")
    lines.append(f'  labeljust=l; label=<<font point-size="16">{title}</font><br/>'
                 f'<font point-size="11">{escape(w["legend_structure"])}<br/>'
                 f'{escape(w["legend_detail"])}</font>>;')  # fmt: skip
    lines.append('  node [shape=plaintext, style="", margin=0];')
    ids = []
    for i, row in enumerate(d.rows):
        marks = row.marks()
        fill = "#fff8e1" if row.changed else "#f7f7f7"
        columns = []
        for side, part, marked in (("A", row.a, marks[0]), ("B", row.b, marks[1])):
            cells = "".join(_block_cell(f, w, marked.get(f.names[0])) for f in fold_blocks(part.blocks))
            cells = cells or f'<tr><td><font point-size="14">{escape(w["none_here"])}</font></td></tr>'
            columns.append(
                f'<td VALIGN="TOP" WIDTH="{column}"><table BORDER="0" CELLSPACING="6" CELLPADDING="4">'
                f'<tr><td ALIGN="LEFT"><font point-size="11">{side} {escape(part.size)}</font></td></tr>'
                f"{cells}</table></td>"
            )
        label = (f'<td VALIGN="TOP" ALIGN="LEFT" WIDTH="50"><font point-size="14">'
                 f"<b>{escape(row.label(w))}</b>"
                 "</font></td>")  # fmt: skip
        node = f"row{i}"
        lines.append(f'  {node} [label=<<table BORDER="1" CELLBORDER="0" COLOR="#999999" STYLE="rounded" '
                     f'BGCOLOR="{fill}" '
                     f'CELLSPACING="4" CELLPADDING="4"><tr>{label}{"".join(columns)}</tr>'
                     "</table>>];")  # fmt: skip
        ids.append(node)
    for x, y in zip(ids, ids[1:]):
        lines.append(f"  {x} -> {y};")
    lines.append("}")
    return "\n".join(lines)


def graph_details(d: Diff, words: dict | None = None) -> dict[str, dict]:
    """For the interactive viewer: node id (one per row) -> its blocks and a one-line text."""
    w = {**WORDS, **(words or {})}
    details = {}
    for i, row in enumerate(d.rows):
        changes = "; ".join(c.words(w) for c in row.changes) or w["same_design"]
        a, b = row.a.text or w["none_here"], row.b.text or w["none_here"]
        text = f"{row.label(w)} · A: {a} · B: {b} · {changes}"
        names = [b.name for b in (*row.a.blocks, *row.b.blocks)]
        details[f"row{i}"] = {"block": names[0] if names else "", "names": names, "text": text,
                              "search": f"{row.key} {row.a.text} {row.b.text}"}  # fmt: skip
    return details


def _cell(text: str, bold: bool = False, align: str = "LEFT", fill: str | None = None, size: int = 11) -> str:
    content = escape(text).replace("\n", "<br/>") or " "
    content = f"<b>{content}</b>" if bold else content
    bg = f' BGCOLOR="{fill}"' if fill else ""
    return f'<td ALIGN="{align}" BALIGN="{align}"{bg}><font point-size="{size}">{content}</font></td>'


def _measures(d: Diff) -> list[tuple[str, str]]:
    return [("params", "params"), ("macs", "macs")] + ([("ms", "latency")] if d.device else [])


def _amount(measure: str, value: float, signed: bool = False) -> str:
    return _ms(value, signed) if measure == "ms" else _human(value, signed)


def table_dot(d: Diff, words: dict | None = None) -> str:
    """DOT: the aligned table as one HTML-like node (for the exported page)."""
    w = {**WORDS, **(words or {})}
    head = [w["row"], w["blocks_a"], w["blocks_b"], w["changed"]] + [w[label] for _, label in _measures(d)]
    rows = ["<tr>" + "".join(_cell(h, bold=True, fill="#eeeeee") for h in head) + "</tr>"]
    for r in d.rows:
        fill = "#fff3cd" if r.changed else None
        cells = [_cell(r.label(w), bold=True, fill=fill),
                 _cell((r.a.size + "\n" if r.a.size else "") + "\n".join(r.a.lines())
                       or w["none_here"], fill=fill),
                 _cell((r.b.size + "\n" if r.b.size else "") + "\n".join(r.b.lines())
                       or w["none_here"], fill=fill),
                 _cell("\n".join(c.words(w) for c in r.changes) or w["same_design"], fill=fill)]  # fmt: skip
        for measure, _ in _measures(d):
            before, after = getattr(r.a, measure), getattr(r.b, measure)
            share = d.share(r, measure)
            text = (f"{_amount(measure, before)} → {_amount(measure, after)}\n"
                    f"{_amount(measure, after - before, True)}"
                    + share_text(share))  # fmt: skip
            cells.append(_cell(text, align="RIGHT", fill=fill))
        rows.append("<tr>" + "".join(cells) + "</tr>")
    totals = [_cell("Σ", bold=True), _cell(""), _cell(""), _cell("")]
    for measure, _ in _measures(d):
        before, after = (
            getattr(d.a, measure) if measure == "ms" else getattr(d.a.report, measure),
            (getattr(d.b, measure) if measure == "ms" else getattr(d.b.report, measure)),
        )
        totals.append(_cell(f"{_amount(measure, before)} → {_amount(measure, after)}\n"
                            f"{_amount(measure, after - before, True)}", bold=True,
                            align="RIGHT"))  # fmt: skip
    rows.append("<tr>" + "".join(totals) + "</tr>")
    title = escape(w["title"].format(a=d.a.label, b=d.b.label))
    device = (
        f'<br/><font point-size="11">{escape(w["device"].format(device=d.device.title))}</font>'
        if d.device
        else ""
    )
    return ("digraph T {\n  graph [bgcolor=\"white\", fontname=\"Helvetica\", margin=0.2];\n"
            '  node [shape=plaintext, fontname="Helvetica", fontcolor="#111111"];\n'
            f'  t [label=<<table BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4" COLOR="#999999">'
            f'<tr><td COLSPAN="{len(head)}" BORDER="0" ALIGN="LEFT" BALIGN="LEFT">'
            f'<font point-size="15"><b>{title}</b></font>'
            f"{device}</td></tr>{''.join(rows)}</table>>];\n}}")  # fmt: skip


# more / less: Okabe & Ito's vermillion and blue, apart for colour-blind readers (red / green is not)
WATERFALL = {"total": "#7f7f7f", "up": "#d55e00", "down": "#0072b2"}


def waterfall_steps(d: Diff, measure: Literal["params", "macs", "ms"], words: dict | None = None):
    """(label, start, end, kind) per bar: A's total, each row's difference, B's total."""
    w = {**WORDS, **(words or {})}
    total_a = d.a.ms if measure == "ms" else getattr(d.a.report, measure)
    total_b = d.b.ms if measure == "ms" else getattr(d.b.report, measure)
    steps = [(w["total_a"], 0, total_a, "total")]
    running = total_a
    for r in d.rows:
        delta = getattr(r, f"d_{measure}")
        steps.append((r.label(w), running, running + delta, "up" if delta > 0 else "down"))
        running += delta
    steps.append((w["total_b"], 0, total_b, "total"))
    return steps


def waterfall_dot(d: Diff, words: dict | None = None, width: int = 230) -> str:
    """DOT: the three waterfalls (params, MACs, latency) as bars in an HTML-like table, so that the
    exported page is one Graphviz picture family (SVG and PNG from the same source)."""
    w = {**WORDS, **(words or {})}
    charts = []
    for measure, label in _measures(d):
        steps = waterfall_steps(d, measure, w)
        top = max(max(s, e) for _, s, e, _ in steps) or 1
        rows = [f'<tr><td COLSPAN="3" ALIGN="LEFT"><b>{escape(w[label])}</b></td></tr>']
        for text, start, end, kind in steps:
            low, high = sorted((start, end))
            offset, length = round(width * low / top), max(1, round(width * (high - low) / top))
            length = min(length, width - offset) if offset < width else 1
            cells = []
            if offset > 0:
                cells.append(f'<td WIDTH="{offset}" HEIGHT="14" FIXEDSIZE="TRUE"></td>')
            cells.append(
                f'<td WIDTH="{length}" HEIGHT="14" FIXEDSIZE="TRUE" BGCOLOR="{WATERFALL[kind]}"></td>'
            )
            rest = width - offset - length
            if rest > 0:
                cells.append(f'<td WIDTH="{rest}" HEIGHT="14" FIXEDSIZE="TRUE"></td>')
            bar = (
                f'<table BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">'
                f"<tr>{''.join(cells)}</tr></table>"
            )
            value = _amount(measure, end) if kind == "total" else _amount(measure, end - start, True)
            rows.append(f'<tr><td ALIGN="RIGHT"><font point-size="10">{escape(text)}</font></td>'
                        f'<td>{bar}</td><td ALIGN="LEFT"><font point-size="10">{escape(value)}</font></td>'
                        "</tr>")  # fmt: skip
        charts.append(
            f'<td VALIGN="TOP"><table BORDER="0" CELLSPACING="2" CELLPADDING="1">{"".join(rows)}</table></td>'
        )
    return ("digraph W {\n  graph [bgcolor=\"white\", fontname=\"Helvetica\", margin=0.2];\n"
            '  node [shape=plaintext, fontname="Helvetica", fontcolor="#111111", fontsize=12];\n'
            f'  w [label=<<table BORDER="0" CELLSPACING="12"><tr>{"".join(charts)}</tr></table>>];\n'
            "}")  # fmt: skip


def export_dots(d: Diff, words: dict | None = None) -> list[str]:
    """The exported page, top to bottom: the table, the waterfalls, the two networks."""
    return [table_dot(d, words), waterfall_dot(d, words), diff_graph(d, words)]


def _svg_size(svg: str) -> tuple[float, float]:
    import re

    match = re.search(r'<svg[^>]*?width="([\d.]+)pt"[^>]*?height="([\d.]+)pt"', svg)
    if not match:
        raise ValueError("not a Graphviz SVG (no width / height in pt)")
    return float(match.group(1)), float(match.group(2))


def stack_svgs(svgs: list[str], gap: float = 12.0) -> str:
    """One SVG of Graphviz SVGs one under the other (each kept whole as a nested <svg>)."""
    import re

    parts, y, width = [], 0.0, 0.0
    for svg in svgs:
        w, h = _svg_size(svg)
        body = svg[svg.index("<svg") :]
        body = re.sub(r"^<svg", f'<svg x="0" y="{y:g}"', body, count=1)
        parts.append(body)
        y += h + gap
        width = max(width, w)
    height = y - gap
    return ('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
            f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
            f'width="{width:g}pt" height="{height:g}pt" viewBox="0 0 {width:g} {height:g}">\n'
            f'<rect width="100%" height="100%" fill="white"/>\n'
            + "\n".join(parts) + "\n</svg>\n")  # fmt: skip


def export_svg(d: Diff, words: dict | None = None) -> str:
    """The table, the waterfalls and the two networks as one SVG (needs Graphviz's `dot`)."""
    import graphviz

    return stack_svgs([graphviz.Source(dot).pipe(format="svg").decode() for dot in export_dots(d, words)])


def stack_pngs(pngs: list[bytes], gap: int = 24) -> bytes:
    """PNGs one under the other on white, left-aligned."""
    import io

    from PIL import Image

    images = []
    for p in pngs:  # Graphviz leaves the margin transparent: flatten onto white
        image = Image.open(io.BytesIO(p)).convert("RGBA")
        flat = Image.new("RGB", image.size, "white")
        flat.paste(image, mask=image.getchannel("A"))
        images.append(flat)
    width = max(i.width for i in images)
    height = sum(i.height for i in images) + gap * (len(images) - 1)
    page = Image.new("RGB", (width, height), "white")
    y = 0
    for image in images:
        page.paste(image, (0, y))
        y += image.height + gap
    out = io.BytesIO()
    page.save(out, format="PNG", dpi=(192, 192))
    return out.getvalue()


def export_png(d: Diff, words: dict | None = None, dpi: int = 192) -> bytes:
    """export_svg as a PNG at `dpi` (192: twice a screen's 96 dpi)."""
    import graphviz

    pngs = [graphviz.Source(dot.replace("graph [", f"graph [dpi={dpi}, ", 1)).pipe(format="png")
            for dot in export_dots(d, words)]  # fmt: skip
    return stack_pngs(pngs, gap=round(24 * dpi / 96))


def sums_match(d: Diff) -> bool:
    """The rows partition both networks: their sums equal the totals (params, MACs exactly)."""
    ok = all(
        sum(getattr(r, side).params for r in d.rows) == getattr(d, side).report.params
        and sum(getattr(r, side).macs for r in d.rows) == getattr(d, side).report.macs
        for side in ("a", "b")
    )
    if d.device:
        ok = ok and all(
            math.isclose(sum(getattr(r, side).ms for r in d.rows), getattr(d, side).ms, rel_tol=1e-9)
            for side in ("a", "b")
        )
    return ok

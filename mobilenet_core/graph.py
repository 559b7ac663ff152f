"""Graphviz DOT for the layer graph and the block anatomy diagrams.

Everything is drawn from a CountReport (the counter's rows), so the pictures and the numbers
can never disagree. Colors are explicit (white card, dark text) so that a graph reads the same
in a light and a dark theme, on a projector and in a screenshot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

from .blocktypes import REGISTRY, variant_colors
from .count import BlockRow, CountReport, LayerRow

# Fill colors per block variant (pastel, with dark text), from the block types' records.
BLOCK_COLORS = {**variant_colors(), "Head": "#e0e0e0"}
# Each layer kind's colour, for a marker, a bar or a line: Okabe & Ito's colour-blind-safe set and
# two greys, chosen so that any two stay apart under protanopia, deuteranopia and tritanopia
# (tests/test_palettes.py: CIEDE2000 >= 10 after simulating each).
LAYER_MARK_COLORS = {
    "conv": "#555555",
    "dwconv": "#0072b2",
    "pwconv": "#56b4e9",
    "se": "#f0e442",
    "attention": "#d55e00",
    "linear": "#999999",
}


def tint(color: str, white: float = 0.7) -> str:
    """`color` mixed with `white` parts of white: a fill under dark text."""
    rgb = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * white):02x}" for c in rgb)


# The fills of the layer boxes: the same hue per kind as the marks, light enough for dark text
# (a box also says its kind in words, so the fill is never the only key).
LAYER_COLORS = {
    **{kind: tint(color) for kind, color in LAYER_MARK_COLORS.items()},
    "norm": "#eeeeee",
    "layer_scale": "#eeeeee",
    "pool": "#e0e0e0",
}
# The words inside the pictures; the app passes translations (same keys).
WORDS = {
    "input": "input",
    "output": "output",
    "params": "params",
    "skip": "skip",
    "legend": "legend",
    "stem": "stem",
    "head": "head",
    "stage": "stage",
    "activation": "activation",
    "linear": "linear: no activation",
    "tokens": "tokens",
    "depthwise": "depthwise",
    "conv": "conv",
    "stride": "stride",
    "se": "squeeze-excite",
    "standard": "standard {k}×{k} conv, same shapes",
    "bottleneck": "ResNet bottleneck residual (wide → narrow → wide)",
    "wide": "wide",
    "reduce": "reduce",
    "expand": "expand",
    "then_relu": "then ReLU",
    "of_time": "of the time",
    "none": "none",
    "time_legend": "share of the estimated time",
}
TEXT = "#111111"
EDGE = "#555555"


def human(n: float) -> str:
    """3.5M, 216.6M, 1.27G, 928: short numbers for node labels (exact ones sit in the tables)."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.3g}{unit}" if n / size < 100 else f"{n / size:.0f}{unit}"
    return str(int(n))


@dataclass(frozen=True)
class FoldedBlock:
    """One or more consecutive identical blocks drawn as one node."""

    first: BlockRow
    count: int
    params: int
    macs: int
    names: tuple[str, ...]


def _signature(b: BlockRow) -> tuple:
    return (
        b.stage,
        b.variant,
        b.in_channels,
        b.expanded_channels,
        b.out_channels,
        b.kernel,
        b.stride,
        b.se_channels,
        b.residual,
        b.out_height,
    )


def fold_blocks(blocks: Iterable[BlockRow], fold: bool = True) -> list[FoldedBlock]:
    """Group runs of identical consecutive blocks (same type, widths, kernel, stride, stage)."""
    groups: list[list[BlockRow]] = []
    for b in blocks:
        if fold and groups and _signature(groups[-1][-1]) == _signature(b):
            groups[-1].append(b)
        else:
            groups.append([b])
    return [
        FoldedBlock(g[0], len(g), sum(b.params for b in g), sum(b.macs for b in g), tuple(b.name for b in g))
        for g in groups
    ]


def node_id(name: str) -> str:
    """The DOT node id of a block in layer_graph (and the <title> of its SVG group)."""
    return "n_" + name.replace(".", "_")


def _shows_kernel(b: BlockRow) -> bool:
    return b.kind in REGISTRY and REGISTRY[b.kind].shows_kernel


def expands(b: BlockRow) -> bool:
    """An expansion layer and a linear projection (its output has no activation)."""
    return b.kind in REGISTRY and REGISTRY[b.kind].expands


def block_label(f: FoldedBlock, w: dict) -> str:
    """A (folded) block's node label as an HTML-like table: type, name, widths, kernel, output,
    params and MACs (layer_graph's nodes and the diff's bands)."""
    b = f.first
    title = f"{escape(b.variant)}" + (f" × {f.count}" if f.count > 1 else "")
    name = f.names[0] if f.count == 1 else f"{f.names[0]} … {f.names[-1].split('.')[-1]}"
    if b.kind == "head":
        shape = f"{b.in_channels} → {b.expanded_channels} → {b.out_channels}"
    else:
        shape = f"{b.out_channels}×{b.out_height}×{b.out_width}"
    details = f"{b.in_channels}→{b.out_channels}"
    if _shows_kernel(b):
        details += f"  k{escape(b.kernel)}  s{b.stride}"
    if expands(b):
        details += f"  exp {b.expanded_channels}"
    if b.se_channels:
        details += "  SE"
    if b.residual:
        details += "  ⊕"
    return (
        f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="1">'
        f"<tr><td><b>{title}</b></td></tr>"
        f'<tr><td><font point-size="9">{escape(name)}</font></td></tr>'
        f'<tr><td><font point-size="10">{details}</font></td></tr>'
        f'<tr><td><font point-size="10">{w["output"]} {shape}</font></td></tr>'
        f'<tr><td><font point-size="10">{human(f.params)} {w["params"]} · '
        f"{human(f.macs)} MACs</font></td></tr>"
        f"</table>>"
    )


def _layer_label(r: LayerRow, w: dict) -> str:
    op = short_name(r)
    if r.kind in ("attention",):
        shape = f"{r.out_height * r.out_width} {w['tokens']}"
    else:
        shape = f"{r.out_channels}×{r.out_height}×{r.out_width}"
    kernel = f" k{r.kernel} s{r.stride}" if r.kind in ("conv", "dwconv", "pwconv") else ""
    return (
        f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="0">'
        f"<tr><td><b>{escape(op)}</b>{kernel}</td></tr>"
        f'<tr><td><font point-size="9">{escape(r.kind)} · {shape}</font></td></tr>'
        f'<tr><td><font point-size="9">{human(r.params)} {w["params"]} · '
        f"{human(r.macs)} MACs</font></td></tr>"
        f"</table>>"
    )


def short_name(r: LayerRow) -> str:
    """The layer's name inside its block: conv_pw, attn.key.proj, ..."""
    return r.name[len(r.block) + 1 :] if r.name.startswith(r.block + ".") else r.name


def dot_header(title: str, rankdir: str = "TB") -> list[str]:
    """The opening lines of every picture: white card, dark text, one font."""
    return [
        "digraph G {",
        f'  graph [rankdir={rankdir}, bgcolor="white", fontname="Helvetica", fontcolor="{TEXT}", '
        f'label="{escape(title)}", labelloc=t, fontsize=16, nodesep=0.25, ranksep=0.3, newrank=true];',
        f'  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, '
        f'fontcolor="{TEXT}", color="#444444", margin="0.08,0.04"];',
        f'  edge [color="{EDGE}", arrowsize=0.6, fontname="Helvetica", fontcolor="{TEXT}"];',
    ]


class Graph:
    """A Graphviz picture that shows itself in Jupyter (`_repr_svg_`), as the app draws it."""

    def __init__(self, dot: str):
        self.dot = dot

    def svg(self) -> str:
        import graphviz

        return graphviz.Source(self.dot).pipe(format="svg").decode()

    def png(self) -> bytes:
        import graphviz

        return graphviz.Source(self.dot).pipe(format="png")

    def _repr_svg_(self) -> str:
        return self.svg()

    def __str__(self) -> str:
        return self.dot


def layer_graph(
    report: CountReport,
    title: str = "",
    fold: bool = True,
    expand: Iterable[str] | str = (),
    legend: bool = True,
    words: dict | None = None,
    time_share: dict[str, float] | None = None,
) -> str:
    """The network as DOT: one column per stage (left to right), one node per block.

    fold: runs of identical blocks become one "× n" node.
    expand: "all", or names of blocks drawn at layer level (a cluster of their layers).
    time_share: block name -> share of the (estimated) time; when given, blocks are coloured
    by it (white to red) and labelled with it, instead of by block type.
    """
    w = {**WORDS, **(words or {})}
    expand_all = expand == "all"
    expanded = set() if expand_all else set(expand)
    lines = dot_header(title)
    stages = _stage_columns(report, fold and not expand_all, expanded)
    previous_exit = "input"
    column_heads = []
    used_variants = []
    # Edges between columns are written outside the clusters: in DOT, a node named in a
    # subgraph's edge becomes a member of that subgraph, so an edge into the next stage's
    # cluster would pull the previous block into it (drawn in the wrong column).
    between: list[str] = []
    for stage, folded in sorted(stages.items()):
        label = _stage_label(stage, folded[0].first, w)
        lines.append(f"  subgraph cluster_stage_{stage + 1} {{")
        lines.append(f'    label="{label}"; style="rounded"; color="#999999"; fontsize=12;')
        stage_entry = None
        stage_nodes: set[str] = set()
        if stage < 0:
            lines.append(
                f'    input [label="{w["input"]}\\n3×{report.resolution}×{report.resolution}", '
                'fillcolor="#ffffff"];'
            )
            stage_entry = "input"
            stage_nodes.add("input")
        for f in folded:
            b = f.first
            if b.variant not in used_variants:
                used_variants.append(b.variant)
            if expand_all or b.name in expanded:
                entry, exit_ = _emit_expanded_block(lines, b, w, previous_exit, between)
            else:
                node = node_id(b.name)
                label, fill = _block_node(f, w, time_share)
                lines.append(f'    {node} [label={label}, fillcolor="{fill}"];')
                entry = exit_ = node
            stage_entry = stage_entry or entry
            # an edge into a new column goes back up to its top: it must not pull the
            # layout into one long chain
            if previous_exit in stage_nodes:
                lines.append(f"    {previous_exit} -> {entry} [constraint=true];")
            else:
                between.append(f"  {previous_exit} -> {entry} [constraint=false];")
            stage_nodes.update((entry, exit_))
            previous_exit = exit_
        lines.append("  }")
        column_heads.append(stage_entry)
    lines.extend(between)
    lines.append(f"  {{rank=same; {'; '.join(column_heads)};}}")
    # invisible edges keep the columns in order, left to right
    for a, b in zip(column_heads, column_heads[1:]):
        lines.append(f"  {a} -> {b} [style=invis, weight=0];")
    if legend and time_share is not None:
        lines.extend(_heat_legend(max(time_share.values(), default=0.0), w))
    elif legend:
        lines.extend(_legend(used_variants, w))
    lines.append("}")
    return "\n".join(lines)


def _stage_columns(report: CountReport, fold: bool, expanded: set[str]) -> dict[int, list[FoldedBlock]]:
    """The blocks of each stage (a graph column), runs of identical blocks folded; a block asked
    for at layer level is never folded away."""
    stages: dict[int, list[FoldedBlock]] = {}
    for f in fold_blocks(report.blocks, fold):
        if f.count > 1 and expanded.intersection(f.names):
            for b in (b for b in report.blocks if b.name in f.names):
                stages.setdefault(b.stage, []).append(FoldedBlock(b, 1, b.params, b.macs, (b.name,)))
        else:
            stages.setdefault(f.first.stage, []).append(f)
    return stages


def _stage_label(stage: int, first: BlockRow, w: dict) -> str:
    if stage < 0:
        return w["stem"]
    if first.kind == "head":
        return w["head"]
    return f"{w['stage']} {stage} · {first.out_height}×{first.out_width}"


def _block_node(f: FoldedBlock, w: dict, time_share: dict[str, float] | None) -> tuple[str, str]:
    """(label, fill) of a block's node: by its type, or by its share of the time when given."""
    label, fill = block_label(f, w), BLOCK_COLORS.get(f.first.variant, "#dddddd")
    if time_share is not None:
        share = sum(time_share.get(n, 0.0) for n in f.names)
        fill = heat_color(share, max(time_share.values(), default=0.0))
        row = f"<tr><td><b>{share:.1%} {escape(w['of_time'])}</b></td></tr>"
        label = label.replace("</table>>", row + "</table>>")
    return label, fill


HEAT = ("#ffffff", "#fee0d2", "#fcbba1", "#fc9272", "#fb6a4a")  # white to red; dark text stays legible


def heat_color(share: float, top: float) -> str:
    """The fill for a block taking `share` of the time, `top` being the largest block's share."""
    if top <= 0:
        return HEAT[0]
    return HEAT[min(len(HEAT) - 1, int(len(HEAT) * share / top))] if share < top else HEAT[-1]


def _heat_legend(top: float, w: dict) -> list[str]:
    lines = [
        "  subgraph cluster_legend {",
        f'    label="{escape(w["time_legend"])}"; style="rounded"; color="#bbbbbb"; fontsize=11;',
    ]
    ids = []
    for i, color in enumerate(HEAT):
        low, high = top * i / len(HEAT), top * (i + 1) / len(HEAT)
        ids.append(f"legend_{i}")
        lines.append(f'    legend_{i} [label="{low:.1%}–{high:.1%}", fillcolor="{color}", fontsize=10];')
    for a, b in zip(ids, ids[1:]):
        lines.append(f"    {a} -> {b} [style=invis];")
    lines.append("  }")
    return lines


def node_details(report: CountReport, words: dict | None = None, fold: bool = True) -> dict[str, dict]:
    """For every node id layer_graph can draw (blocks "n_...", layers "l_..."): the block it
    belongs to, the block names it stands for (several when folded), a one-line description
    (op, channels, kernel, stride, output, params, MACs) and the text a search matches against."""
    w = {**WORDS, **(words or {})}
    covers = {node_id(f.names[0]): list(f.names) for f in fold_blocks(report.blocks, fold)}
    details = {}
    for b in report.blocks:
        shape = f"{b.out_channels}×{b.out_height}×{b.out_width}" if b.kind != "head" else str(b.out_channels)
        kernel = f" · k{b.kernel} s{b.stride}" if _shows_kernel(b) else ""
        text = (f"{b.name} · {b.variant} · {b.in_channels}→{b.out_channels}{kernel} · "
                f"{w['output']} {shape} · {b.params:,} {w['params']} · {b.macs:,} MACs")  # fmt: skip
        names = covers.get(node_id(b.name), [b.name])
        details[node_id(b.name)] = {"block": b.name, "names": names, "text": text,
                                    "search": f"{' '.join(names)} {b.variant} {b.kind}"}  # fmt: skip
        for r in b.layers:
            node = "l_" + r.name.replace(".", "_").replace("-", "_")
            text = (f"{r.name} · {r.kind} · {r.in_channels}→{r.out_channels} · k{r.kernel} s{r.stride} · "
                    f"{w['output']} {r.out_channels}×{r.out_height}×{r.out_width} · "
                    f"{r.params:,} {w['params']} · {r.macs:,} MACs")  # fmt: skip
            details[node] = {"block": b.name, "names": [r.name], "text": text, "search": f"{r.name} {r.kind}"}
    return details


def _emit_expanded_block(lines: list[str], b: BlockRow, w: dict, source: str, between: list[str]
                         ) -> tuple[str, str]:  # fmt: skip
    """A block at layer level: a cluster of its layers. With a residual, the skip runs from the
    block's input (`source`, the node before it) to an add node after its last layer; that
    edge is written outside the cluster (`between`), so that `source` stays in its own."""
    cluster = "cluster_" + b.name.replace(".", "_")
    lines.append(f"    subgraph {cluster} {{")
    lines.append(
        f'      label="{escape(b.name)} · {escape(b.variant)}"; style="rounded,filled"; '
        f'fillcolor="{BLOCK_COLORS.get(b.variant, "#eeeeee")}"; color="#666666"; fontsize=11;'
    )
    ids = []
    for r in b.layers:
        node = "l_" + r.name.replace(".", "_").replace("-", "_")
        lines.append(
            f'      {node} [label={_layer_label(r, w)}, fillcolor="{LAYER_COLORS.get(r.kind, "#ffffff")}"];'
        )
        ids.append(node)
    if b.residual:
        add = "add_" + b.name.replace(".", "_")
        lines.append(f'      {add} [label="⊕", shape=circle, fillcolor="#ffffff", fontsize=14];')
        ids.append(add)
        between.append(f'  {source} -> {add} [style=dashed, label="  {w["skip"]} ⊕", fontsize=10, '
                       "constraint=false];")  # fmt: skip
    for a, c in zip(ids, ids[1:]):
        lines.append(f"      {a} -> {c};")
    lines.append("    }")
    return ids[0], ids[-1]


def _legend(variants: list[str], w: dict) -> list[str]:
    lines = [
        "  subgraph cluster_legend {",
        f'    label="{w["legend"]}"; style="rounded"; color="#bbbbbb"; fontsize=11;',
    ]
    ids = []
    for i, v in enumerate(variants):
        ids.append(f"legend_{i}")
        lines.append(
            f'    legend_{i} [label="{escape(v)}", fillcolor="{BLOCK_COLORS.get(v, "#dddddd")}", '
            f"fontsize=10];"
        )
    for a, b in zip(ids, ids[1:]):
        lines.append(f"    {a} -> {b} [style=invis];")
    lines.append("  }")
    return lines


# --- block anatomy -----------------------------------------------------------------------

"""The papers' cost formulas, evaluated with one block's real numbers, and the block drawn beside
what it replaces (Graphviz DOT, in the layer graph's colours and words).

Notation of the V1 paper (arXiv:1704.04861, Sec. 3): input M channels, output N channels,
kernel D_K, output feature map D_F x D_F (H x W here, so non-square maps work too).
Every value returned here is a product of the block's own widths and sizes; the tests hold
them against the counter's rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from .count import BlockRow, CountReport
from .graph import LAYER_COLORS, WORDS, dot_header, expands, short_name


@dataclass(frozen=True)
class CostTerm:
    label: str  # short English label; the app translates by `key`
    key: str
    formula: str  # LaTeX, symbolic
    substituted: str  # LaTeX, with the block's numbers
    value: float


def _hw(h: int, w: int) -> str:
    return f"{h}^2" if h == w else f"{h}\\cdot{w}"


def kernel_of(block: BlockRow) -> int:
    """The block's depthwise kernel (3 where it has none to show)."""
    return int(block.kernel) if block.kernel.isdigit() else 3


def standard_conv_cost(block: BlockRow) -> tuple[int, int]:
    """(params, MACs) of the one standard D_K x D_K conv from M to N channels that a depthwise
    separable block replaces (V1, Eq. 2)."""
    k, m, n = kernel_of(block), block.in_channels, block.out_channels
    return k * k * m * n, k * k * m * n * block.out_height * block.out_width


def depthwise_separable_costs(block: BlockRow) -> list[CostTerm]:
    """Standard conv vs depthwise separable for a block's (M, N, D_K, D_F): Eq. 2, 4 and 5."""
    m, n = block.in_channels, block.out_channels
    k = kernel_of(block)
    h, w = block.out_height, block.out_width
    standard = standard_conv_cost(block)[1]
    depthwise = k * k * m * h * w
    pointwise = m * n * h * w
    hw = _hw(h, w)
    return [
        CostTerm(
            "standard convolution",
            "standard",
            r"D_K^2 \cdot M \cdot N \cdot D_F^2",
            f"{k}^2 \\cdot {m} \\cdot {n} \\cdot {hw}",
            standard,
        ),
        CostTerm(
            "depthwise", "depthwise", r"D_K^2 \cdot M \cdot D_F^2", f"{k}^2 \\cdot {m} \\cdot {hw}", depthwise
        ),
        CostTerm(
            "pointwise", "pointwise", r"M \cdot N \cdot D_F^2", f"{m} \\cdot {n} \\cdot {hw}", pointwise
        ),
        CostTerm(
            "depthwise separable",
            "separable",
            r"D_K^2 M D_F^2 + M N D_F^2",
            f"{depthwise:,} + {pointwise:,}",
            depthwise + pointwise,
        ),
        CostTerm(
            "ratio separable / standard",
            "ratio",
            r"\frac{1}{N} + \frac{1}{D_K^2}",
            f"\\frac{{1}}{{{n}}} + \\frac{{1}}{{{k * k}}}",
            1 / n + 1 / (k * k),
        ),
    ]


def separable_saving(terms: list[CostTerm]) -> tuple[float, float, float]:
    """(separable MACs, standard conv MACs, their ratio) from depthwise_separable_costs' terms."""
    standard, separable = terms[0].value, terms[3].value
    return separable, standard, separable / standard


def inverted_residual_costs(block: BlockRow) -> list[CostTerm]:
    """V2's inverted residual (arXiv:1801.04381, Table 1): expand, depthwise, project."""
    m, e, n = block.in_channels, block.expanded_channels, block.out_channels
    k = kernel_of(block)
    h_in, w_in, h, w = block.in_height, block.in_width, block.out_height, block.out_width
    expand = m * e * h_in * w_in
    depthwise = k * k * e * h * w
    project = e * n * h * w
    terms = [
        CostTerm(
            "1×1 expansion",
            "expand",
            r"M \cdot tM \cdot H_{in} W_{in}",
            f"{m} \\cdot {e} \\cdot {_hw(h_in, w_in)}",
            expand,
        ),
        CostTerm(
            "depthwise",
            "depthwise",
            r"D_K^2 \cdot tM \cdot D_F^2",
            f"{k}^2 \\cdot {e} \\cdot {_hw(h, w)}",
            depthwise,
        ),
        CostTerm(
            "1×1 linear projection",
            "project",
            r"tM \cdot N \cdot D_F^2",
            f"{e} \\cdot {n} \\cdot {_hw(h, w)}",
            project,
        ),
    ]
    if block.se_channels:
        s = block.se_channels
        terms.append(
            CostTerm(
                "squeeze-and-excitation", "se", r"2 \cdot tM \cdot S", f"2 \\cdot {e} \\cdot {s}", 2 * e * s
            )
        )
    total = sum(t.value for t in terms)
    terms.append(
        CostTerm("block total", "total", r"\sum", " + ".join(f"{int(t.value):,}" for t in terms), total)
    )
    return terms


def scaling_terms(report: CountReport, reference: CountReport) -> list[CostTerm]:
    """alpha^2 rho^2: the papers' rule of thumb against the exact ratio of the two counts."""
    alpha = report.alpha / reference.alpha
    rho = report.resolution / reference.resolution
    predicted = alpha**2 * rho**2
    exact = report.macs / reference.macs
    return [
        CostTerm(
            "predicted MAC ratio",
            "predicted",
            r"\alpha^2 \rho^2",
            f"{alpha:.3g}^2 \\cdot {rho:.3g}^2",
            predicted,
        ),
        CostTerm(
            "exact MAC ratio",
            "exact",
            r"\frac{\text{MACs}(\alpha,\rho)}{\text{MACs}(1,1)}",
            f"\\frac{{{report.macs:,}}}{{{reference.macs:,}}}",
            exact,
        ),
        CostTerm("predicted params ratio", "predicted_params", r"\alpha^2", f"{alpha:.3g}^2", alpha**2),
        CostTerm(
            "exact params ratio",
            "exact_params",
            r"\frac{\text{params}(\alpha)}{\text{params}(1)}",
            f"\\frac{{{report.params:,}}}{{{reference.params:,}}}",
            report.params / reference.params,
        ),
    ]


def uib_variants(model: str, alpha: float, resolution: int, block_name: str) -> list[BlockRow]:
    """The four UIB variants (ExtraDW, IB, ConvNeXt-like, FFN) with the widths, stride and
    input size of one UIB block of the model, counted like any other block."""
    from .api import get_generation

    return uib_variants_of(get_generation(model), alpha, resolution, block_name)


def uib_variants_of(generation, alpha: float, resolution: int, block_name: str) -> list[BlockRow]:
    """uib_variants() for any Generation, an edited block table included."""
    from dataclasses import replace

    from .api import count_generation
    from .count import count_block
    from .resolve import resolve
    from .rules import resolve_config
    from .specs.blocks import UIB

    config = resolve_config(generation, alpha, resolution)
    net = resolve(generation, config.alpha)
    resolved = next(b for b in net.blocks if b.name == block_name)
    if not isinstance(resolved.spec, UIB):
        raise ValueError(f"{block_name} is not a UIB block")
    row = next(b for b in count_generation(generation, alpha, resolution).blocks if b.name == block_name)
    spec = resolved.spec
    start, mid = spec.start or 3, spec.mid or 3
    variants = []
    for s, m in ((start, mid), (0, mid), (start, 0), (0, 0)):
        variant = replace(resolved, spec=replace(spec, start=s, mid=m))
        variants.append(count_block(variant, row.in_height, row.in_width))
    return variants


# --- diagrams ---------------------------------------------------------------------------------------


def _op(node: str, text: str, color: str) -> str:
    return f'  {node} [label="{escape(text)}", fillcolor="{color}"];'


def block_diagram(block: BlockRow, title: str = "", words: dict | None = None) -> str:
    """A block drawn op by op with its real channels and shapes (from the counter's rows)."""
    w = {**WORDS, **(words or {})}
    lines = dot_header(title or f"{block.name} · {block.variant}")
    h_in, w_in = block.in_height, block.in_width
    lines.append(_op("x", f"{w['input']} {block.in_channels}×{h_in}×{w_in}", "#ffffff"))
    previous = "x"
    act = block.activation
    for i, r in enumerate(block.layers):
        node = f"op{i}"
        op = short_name(r)
        if r.kind in ("conv", "dwconv", "pwconv"):
            what = {
                "dwconv": w["depthwise"],
                "pwconv": f"1×1 {w['conv']}",
                "conv": f"{r.kernel}×{r.kernel} {w['conv']}",
            }[r.kind]
            if r.kind == "dwconv":
                what = f"{r.kernel}×{r.kernel} {w['depthwise']}"
            text = f"{op}: {what}" + (f", {w['stride']} {r.stride}" if r.stride > 1 else "")
            text += (f"\n{r.in_channels} → {r.out_channels}, {w['output']} "
                     f"{r.out_channels}×{r.out_height}×{r.out_width}")  # fmt: skip
            text += f"\n{r.params:,} {w['params']} · {r.macs:,} MACs"
        elif r.kind == "se":
            text = (
                f"{w['se']}: pool → 1×1 {r.in_channels}→{block.se_channels} ReLU → "
                f"1×1 → {r.out_channels} h-sigmoid → ×\n{r.params:,} {w['params']} · {r.macs:,} MACs"
            )
        elif r.kind == "attention":
            text = f"{'q·kᵀ' if op.endswith('qk') else 'softmax · v'}: {r.macs:,} MACs"
        else:
            text = f"{op} ({r.kind})" + (f"\n{r.params:,} {w['params']}" if r.params else "")
        lines.append(_op(node, text, LAYER_COLORS.get(r.kind, "#ffffff")))
        lines.append(f"  {previous} -> {node};")
        previous = node
    lines.append(
        _op(
            "y",
            f"{w['output']} {block.out_channels}×{block.out_height}×{block.out_width}"
            + (f"  ({w['linear']})" if expands(block) else ""),
            "#ffffff",
        )
    )
    if block.residual:
        lines.append('  add [label="⊕", shape=circle, fillcolor="#ffffff", fontsize=14];')
        lines.append(f"  {previous} -> add;")
        lines.append(f'  x -> add [style=dashed, label=" {w["skip"]}", fontsize=9];')
        lines.append("  add -> y;")
    else:
        lines.append(f"  {previous} -> y;")
    lines.append(
        f'  note [shape=note, fillcolor="#fffbe6", label="{w["activation"]}: {escape(act or w["none"])}\\n'
        f'{w["params"]} {block.params:,} · MACs {block.macs:,}"];'
    )
    lines.append("}")
    return "\n".join(lines)


def standard_conv_diagram(block: BlockRow, words: dict | None = None) -> str:
    """What a depthwise separable block replaces: one k×k conv from M to N channels."""
    k, m, n = kernel_of(block), block.in_channels, block.out_channels
    params, macs = standard_conv_cost(block)
    w = {**WORDS, **(words or {})}
    lines = dot_header(w["standard"].format(k=k))
    lines.append(_op("x", f"{w['input']} {m}×{block.in_height}×{block.in_width}", "#ffffff"))
    lines.append(
        _op(
            "c",
            f"{k}×{k} {w['conv']}, {w['stride']} {block.stride}\n{m} → {n}\n"
            f"{params:,} {w['params']} · {macs:,} MACs",
            LAYER_COLORS["conv"],
        )
    )
    lines.append(_op("y", f"{w['output']} {n}×{block.out_height}×{block.out_width}", "#ffffff"))
    lines += ["  x -> c;", "  c -> y;", "}"]
    return "\n".join(lines)


def bottleneck_diagram(block: BlockRow, words: dict | None = None) -> str:
    """ResNet's bottleneck residual with the same outer width: wide → narrow → wide."""
    c, inner = block.in_channels, max(8, block.in_channels // 4)
    k = kernel_of(block)
    w = {**WORDS, **(words or {})}
    lines = dot_header(w["bottleneck"])
    lines.append(_op("x", f"{w['input']} {c}×{block.in_height}×{block.in_width} ({w['wide']})", "#ffffff"))
    lines.append(_op("a", f"1×1 {w['conv']} {w['reduce']} {c} → {inner}, ReLU", LAYER_COLORS["pwconv"]))
    lines.append(_op("b", f"{k}×{k} {w['conv']} {inner} → {inner}, ReLU", LAYER_COLORS["conv"]))
    lines.append(_op("c", f"1×1 {w['conv']} {w['expand']} {inner} → {c}", LAYER_COLORS["pwconv"]))
    lines.append(f'  add [label="⊕ {w["then_relu"]}", shape=box, fillcolor="#ffffff"];')
    lines.append(_op("y", f"{w['output']} {c} ({w['wide']})", "#ffffff"))
    lines += [
        "  x -> a;",
        "  a -> b;",
        "  b -> c;",
        "  c -> add;",
        f'  x -> add [style=dashed, label=" {w["skip"]}", fontsize=9];',
        "  add -> y;",
        "}",
    ]
    return "\n".join(lines)

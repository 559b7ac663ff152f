"""The papers' cost formulas, evaluated with one block's real numbers.

Notation of the V1 paper (arXiv:1704.04861, Sec. 3): input M channels, output N channels,
kernel D_K, output feature map D_F x D_F (H x W here, so non-square maps work too).
Every value returned here is a product of the block's own widths and sizes; the tests hold
them against the counter's rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from .count import BlockRow, CountReport


@dataclass(frozen=True)
class CostTerm:
    label: str  # short English label; the app translates by `key`
    key: str
    formula: str  # LaTeX, symbolic
    substituted: str  # LaTeX, with the block's numbers
    value: float


def _hw(h: int, w: int) -> str:
    return f"{h}^2" if h == w else f"{h}\\cdot{w}"


def depthwise_separable_costs(block: BlockRow) -> list[CostTerm]:
    """Standard conv vs depthwise separable for a block's (M, N, D_K, D_F): Eq. 2, 4 and 5."""
    m, n = block.in_channels, block.out_channels
    k = int(block.kernel) if block.kernel.isdigit() else 3
    h, w = block.out_height, block.out_width
    standard = k * k * m * n * h * w
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
    k = int(block.kernel) if block.kernel.isdigit() else 3
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

"""The public entry points: list_models, resolve_model, count, build."""

from __future__ import annotations

from functools import lru_cache

from .count import CountReport, count_resolved
from .errors import ConfigError
from .modules import MobileNet, build_module
from .resolve import ResolvedNet, resolve
from .rules import Config, resolve_config
from .specs import GENERATIONS, Generation


def list_models() -> list[str]:
    """The model names, oldest generation first."""
    return list(GENERATIONS)


def get_generation(model: str) -> Generation:
    try:
        return GENERATIONS[model]
    except (KeyError, TypeError):
        raise ConfigError(
            f"unknown model {model!r}; choose one of: {', '.join(GENERATIONS)}", "unknown_model", value=model
        ) from None


def resolve_model(
    model: str, alpha: float = 1.0, resolution: int | None = None, rho: float | None = None
) -> tuple[ResolvedNet, Config]:
    """Validate the configuration and resolve every width once."""
    generation = get_generation(model)
    config = resolve_config(generation, alpha, resolution, rho)
    return _resolve_cached(model, config.alpha), config


# Both caches below are shared by every session of a server: lru_cache is thread-safe, and what
# they hold (ResolvedNet, CountReport) are frozen dataclasses of tuples, so no caller can change
# another's result.
@lru_cache(maxsize=256)
def _resolve_cached(model: str, alpha: float) -> ResolvedNet:
    return resolve(GENERATIONS[model], alpha)


def count(
    model: str, alpha: float = 1.0, resolution: int | None = None, rho: float | None = None
) -> CountReport:
    """Parameters, MACs and per-block / per-layer rows, computed from the specs alone."""
    net, config = resolve_model(model, alpha, resolution, rho)
    return _count_cached(model, config.alpha, config.resolution, net)


@lru_cache(maxsize=512)
def _count_cached(model: str, alpha: float, resolution: int, net: ResolvedNet) -> CountReport:
    return count_resolved(net, resolution)


def build(
    model: str,
    alpha: float = 1.0,
    resolution: int | None = None,
    rho: float | None = None,
    seed: int | None = 0,
) -> MobileNet:
    """A freshly initialised torch.nn.Module for the configuration, in eval mode. The random
    init is seeded (`seed`, None for torch's global generator) so that the untrained network is
    reproducible."""
    net, config = resolve_model(model, alpha, resolution, rho)
    return build_module(net, config.resolution, seed)


def count_generation(
    generation: Generation, alpha: float = 1.0, resolution: int | None = None
) -> CountReport:
    """count() for a custom Generation (an edited block table)."""
    config = resolve_config(generation, alpha, resolution)
    return count_resolved(resolve(generation, config.alpha), config.resolution)


def build_generation(generation: Generation, alpha: float = 1.0, resolution: int | None = None) -> MobileNet:
    """build() for a custom Generation."""
    config = resolve_config(generation, alpha, resolution)
    return build_module(resolve(generation, config.alpha), config.resolution)


def graph_of(model: str | CountReport, alpha: float = 1.0, resolution: int | None = None, **options):
    """The layer graph of a configuration (or of a CountReport) as a Graph: in Jupyter it draws
    itself, `.svg()` / `.png()` render it, `.dot` is the source. Options as layer_graph's
    (fold, expand, time_share, words)."""
    from .graph import Graph, layer_graph

    report = model if isinstance(model, CountReport) else count(model, alpha, resolution)
    title = f"{get_generation(report.model).title} · α {report.alpha:g} · {report.resolution} px"
    return Graph(layer_graph(report, title=options.pop("title", title), **options))

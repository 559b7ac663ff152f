"""mobilenet_core: the MobileNet family (V1, V2, V3, V4) as specs, modules and exact counts."""

from .api import build, count, get_generation, graph_of, list_models, resolve_model
from .count import MAC_CONVENTION, BlockRow, CountReport, LayerRow
from .diff import diff
from .errors import CheckpointError, ConfigError, MobileNetError
from .rules import make_divisible
from .weights import load_checkpoint

__all__ = [
    "MAC_CONVENTION",
    "BlockRow",
    "CheckpointError",
    "ConfigError",
    "CountReport",
    "LayerRow",
    "MobileNetError",
    "build",
    "count",
    "diff",
    "get_generation",
    "graph_of",
    "list_models",
    "load_checkpoint",
    "make_divisible",
    "resolve_model",
]

"""The generations as tables of frozen block specs, oldest first."""

from .blocks import Activation, Generation
from .v1 import V1
from .v2 import V2
from .v3 import V3_LARGE, V3_SMALL
from .v4 import V4_CONV_LARGE, V4_CONV_MEDIUM, V4_CONV_SMALL, V4_HYBRID_LARGE, V4_HYBRID_MEDIUM
from .v5 import V5_300M, V5_BASE

GENERATIONS: dict[str, Generation] = {
    g.name: g
    for g in (
        V1,
        V2,
        V3_LARGE,
        V3_SMALL,
        V4_CONV_SMALL,
        V4_CONV_MEDIUM,
        V4_CONV_LARGE,
        V4_HYBRID_MEDIUM,
        V4_HYBRID_LARGE,
        V5_BASE,
        V5_300M,
    )
}

__all__ = ["GENERATIONS", "Activation", "Generation"]

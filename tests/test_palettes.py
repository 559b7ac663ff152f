"""The colours that tell block types and layer kinds apart in charts stay apart for students who
see colours differently: every pair, after simulating protanopia, deuteranopia and tritanopia
(Machado, Oliveira & Fernandes 2009, severity 1), keeps a CIEDE2000 difference of at least 10.

Why 10: a CIEDE2000 difference of about 1 is just noticeable side by side; legend keys and bars
are small and apart, so a categorical palette needs differences an order of magnitude above that
(Okabe & Ito's set, designed for colour-blind readers, keeps 12 and more under the simulations).
The palettes of before (tab10) kept 1.3: Fused-IB orange and IR green looked the same to a
protanope."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from mobilenet_core.blocktypes import HEAD_COLOR, REGISTRY
from mobilenet_core.diff import WATERFALL
from mobilenet_core.graph import LAYER_MARK_COLORS

THRESHOLD = 10.0

# linear-RGB matrices, severity 1.0 (Machado et al. 2009, Table 1)
SIMULATIONS = {
    "normal": np.eye(3),
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
    ),
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
    ),
    "tritanopia": np.array(
        [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]]
    ),
}


def to_linear(c):
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def to_lab(color: str, simulation: str) -> np.ndarray:
    rgb = np.array([int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    linear = np.clip(SIMULATIONS[simulation] @ to_linear(rgb), 0, 1)  # gamut: as a screen shows it
    to_xyz = np.array(
        [
            [0.4124564, 0.3575761, 0.1804375],
            [0.2126729, 0.7151522, 0.0721750],
            [0.0193339, 0.1191920, 0.9503041],
        ]
    )
    xyz = to_xyz @ linear / np.array([0.95047, 1.0, 1.08883])  # D65 white
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def ciede2000(lab1, lab2) -> float:
    """Sharma, Wu & Dalal (2005)."""
    (l1, a1, b1), (l2, a2, b2) = lab1, lab2
    c_mean = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_mean**7 / (c_mean**7 + 25**7)))
    a1, a2 = (1 + g) * a1, (1 + g) * a2
    c1, c2 = math.hypot(a1, b1), math.hypot(a2, b2)
    h1, h2 = math.degrees(math.atan2(b1, a1)) % 360, math.degrees(math.atan2(b2, a2)) % 360
    dh = 0.0 if c1 * c2 == 0 else (h2 - h1 + 180) % 360 - 180
    d_l, d_c, d_h = l2 - l1, c2 - c1, 2 * math.sqrt(c1 * c2) * math.sin(math.radians(dh / 2))
    l_mean, c_mean = (l1 + l2) / 2, (c1 + c2) / 2
    if c1 * c2 == 0:
        h_mean = h1 + h2
    elif abs(h1 - h2) <= 180:
        h_mean = (h1 + h2) / 2
    else:
        h_mean = (h1 + h2 + 360) / 2 if h1 + h2 < 360 else (h1 + h2 - 360) / 2
    cos = [math.cos(math.radians(k * h_mean + d)) for k, d in ((1, -30), (2, 0), (3, 6), (4, -63))]
    t = 1 - 0.17 * cos[0] + 0.24 * cos[1] + 0.32 * cos[2] - 0.20 * cos[3]
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / math.sqrt(20 + (l_mean - 50) ** 2)
    s_c, s_h = 1 + 0.045 * c_mean, 1 + 0.015 * c_mean * t
    r_t = (
        -math.sin(math.radians(60 * math.exp(-(((h_mean - 275) / 25) ** 2))))
        * 2
        * math.sqrt(c_mean**7 / (c_mean**7 + 25**7))
    )
    return math.sqrt((d_l / s_l) ** 2 + (d_c / s_c) ** 2 + (d_h / s_h) ** 2 + r_t * (d_c / s_c) * (d_h / s_h))


def closest_pair(palette: dict[str, str], simulation: str) -> tuple[float, tuple[str, str]]:
    return min(
        (ciede2000(to_lab(c1, simulation), to_lab(c2, simulation)), (n1, n2))
        for (n1, c1), (n2, c2) in itertools.combinations(palette.items(), 2)
    )


def test_the_colour_science_matches_published_values():
    # Sharma et al.'s test pair 1, and a simulation that leaves grey grey
    assert ciede2000((50, 2.6772, -79.7751), (50, 0, -82.7485)) == pytest.approx(2.0425, abs=1e-4)
    assert ciede2000(to_lab("#777777", "normal"), to_lab("#777777", "deuteranopia")) < 1


PALETTES = {
    "block types (Charts, Compare, Diff)": {**{k: t.color for k, t in REGISTRY.items()}, "head": HEAD_COLOR},
    "layer kinds (Roofline, layer graph)": LAYER_MARK_COLORS,
    "more / less / total (Diff's waterfalls)": WATERFALL,
}


@pytest.mark.parametrize("simulation", list(SIMULATIONS))
@pytest.mark.parametrize("name", list(PALETTES))
def test_every_pair_of_colours_stays_apart(name, simulation):
    distance, pair = closest_pair(PALETTES[name], simulation)
    assert distance >= THRESHOLD, f"{name}: {pair} only {distance:.1f} apart under {simulation}"


def test_the_check_catches_the_old_palette():
    tab10 = {"ir": "#2ca02c", "fused_ib": "#ff7f0e"}
    assert closest_pair(tab10, "protanopia")[0] < THRESHOLD

"""The charts an AppTest run drew: app.chart's elements, read as a test reads st.plotly_chart's
(`spec` is the figure's JSON as Plotly.js gets it, `config` Plotly's config, `key` the chart's)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from streamlit.testing.v1 import AppTest

from app.chart import NAME as CHART


@dataclass(frozen=True)
class Chart:
    spec: str
    config: dict
    key: str | None

    @property
    def figure(self) -> dict:
        return json.loads(self.spec)


def _user_key(element_id: str) -> str | None:
    # Streamlit's element ids: "$$ID-<hash>-<user key or None>"
    parts = element_id.split("-", 2)
    return parts[2] if len(parts) == 3 and parts[2] != "None" else None


def drawn_charts(at: AppTest) -> list[Chart]:
    drawn = []
    for element in at.get("bidi_component"):
        if element.proto.component_name == CHART:
            data = json.loads(element.proto.json)
            drawn.append(Chart(data["figure"], data["config"], _user_key(element.proto.id)))
    return drawn

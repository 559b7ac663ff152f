"""Every chart the app draws comes in its one figure style (app.common.show_figure): a white card
with dark text, the same in a light and a dark theme, on a projector and in a screenshot."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from app.lessons import PAGE_FILES
from drawn import drawn_charts

MAIN = str(Path(__file__).resolve().parent.parent / "app" / "main.py")
VIEWS = ["views/charts.py", "views/compare.py", "views/lab.py", "views/roofline.py", "views/tradeoffs.py"]


def test_every_chart_of_the_views_and_the_lessons_has_the_one_style():
    at = AppTest.from_file(MAIN, default_timeout=180)
    at.query_params["model"] = "v4_hybrid_medium"
    at.run()
    seen = 0
    for page in VIEWS + list(PAGE_FILES.values()):
        at.switch_page(page).run()
        assert not at.exception, page
        for chart in drawn_charts(at):
            layout = json.loads(chart.spec)["layout"]
            assert (layout["paper_bgcolor"], layout["plot_bgcolor"]) == ("white", "white"), page
            assert layout["font"]["color"] == "#111111", page
            seen += 1
    assert seen >= 15  # the views' and the lessons' charts, not an empty page

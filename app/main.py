"""MobileNet Explorer: `streamlit run app/main.py`.

The router and the shared selection; each view lives in app/views/, each lesson in its folder
app/lessons/<name>/ (page and texts, found from mobilenet_core.lessons). The app does no network
arithmetic: every number comes from mobilenet_core.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

import app.upload_race  # noqa: E402, F401 - a photo dropped during a rerun is not lost (see there)
from app.figures import warm_up  # noqa: E402
from app.i18n import t  # noqa: E402
from app.lessons import lesson_pages  # noqa: E402
from app.navigation import accessibility_style, sidebar_navigation  # noqa: E402
from app.page_language import page_language  # noqa: E402
from app.present import apply_presentation, presentation_switch, presenting  # noqa: E402
from app.responsive import apply_responsive  # noqa: E402
from app.state import figure_format_picker, language_picker, sidebar_selection  # noqa: E402

st.set_page_config(page_title="MobileNet Explorer", page_icon="📱", layout="wide",
                   initial_sidebar_state="collapsed" if presenting() else "auto")  # fmt: skip

warm_up()  # once per process, in the background: the networks and figures first pages need
PAGES = Path(__file__).parent / "views"

nav_box = st.sidebar.container()  # the links sit above the settings, drawn once the titles are known
language_picker()
page_language()
accessibility_style()
pages = [
    st.Page(PAGES / "overview.py", title=t("page_overview"), icon=":material/dashboard:", default=True),
    st.Page(PAGES / "graph.py", title=t("page_graph"), icon=":material/account_tree:", url_path="graph"),
    st.Page(PAGES / "charts.py", title=t("page_charts"), icon=":material/bar_chart:", url_path="charts"),
    st.Page(PAGES / "anatomy.py", title=t("page_anatomy"), icon=":material/schema:", url_path="anatomy"),
    st.Page(PAGES / "compare.py", title=t("page_compare"), icon=":material/compare:", url_path="compare"),
    st.Page(PAGES / "diff.py", title=t("page_diff"), icon=":material/difference:", url_path="diff"),
    st.Page(PAGES / "lab.py", title=t("page_lab"), icon=":material/construction:", url_path="lab"),
    st.Page(PAGES / "roofline.py", title=t("page_roofline"), icon=":material/roofing:", url_path="roofline"),
    st.Page(
        PAGES / "tradeoffs.py",
        title=t("page_tradeoffs"),
        icon=":material/scatter_plot:",
        url_path="tradeoffs",
    ),
    st.Page(
        PAGES / "classify.py", title=t("page_classify"), icon=":material/image_search:", url_path="classify"
    ),
]
# the Lessons section: a story page and one page per idea, at stable paths a slide can link to
lessons = lesson_pages()
# st.navigation routes; the links are our own (its sidebar markup fails WCAG 1.3.1: see app/navigation.py)
sections = {"": pages, t("nav_lessons"): lessons}
navigation = st.navigation(sections, position="hidden")
sidebar_navigation(nav_box, sections)
st.session_state["selection"] = sidebar_selection()
presentation_switch()
figure_format_picker()
apply_presentation()
apply_responsive()
navigation.run()

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

import app.nodelay  # noqa: E402 - the server's messages go out when written, not 40 ms later (see there)
import app.upload_race  # noqa: E402, F401 - a photo dropped during a rerun is not lost (see there)
from app.figures import warm_up  # noqa: E402
from app.i18n import speaking, t  # noqa: E402
from app.lessons import lesson_pages  # noqa: E402
from app.navigation import page_sections, sidebar_navigation  # noqa: E402
from app.page_script import page_script  # noqa: E402
from app.present import apply_presentation, presentation_switch, presenting  # noqa: E402
from app.state import figure_format_picker, language_picker, sidebar_selection  # noqa: E402

st.set_page_config(page_title="MobileNet Explorer", page_icon="📱", layout="wide",
                   initial_sidebar_state="collapsed" if presenting() else "auto")  # fmt: skip

warm_up()  # once per process, in the background: the networks and figures first pages need
if "_tcp_nodelay" not in st.session_state:  # once per session: its own connection is open by now
    st.session_state["_tcp_nodelay"] = True
    app.nodelay.install_on_server()
PAGES = Path(__file__).parent / "views"
# the views, in the sidebar's order: app/views/<name>.py, its title t("page_<name>"), its icon
VIEWS = {"overview": "dashboard", "graph": "account_tree", "charts": "bar_chart", "anatomy": "schema",
         "compare": "compare", "diff": "difference", "lab": "construction", "roofline": "roofing",
         "tradeoffs": "scatter_plot", "classify": "image_search"}  # fmt: skip


def build_sections() -> dict[str, list]:
    """The pages in the sidebar's sections (built once per language: app.navigation.page_sections).
    The views at /<name> (Overview, the default, at /), the Lessons section's story page and one
    page per idea at stable paths a slide can link to."""
    views = [
        st.Page(PAGES / f"{name}.py", title=t(f"page_{name}"), icon=f":material/{icon}:", url_path=name,
                default=name == "overview")
        for name, icon in VIEWS.items()
    ]  # fmt: skip
    return {"": views, t("nav_lessons"): lesson_pages()}


nav_box = st.sidebar.container()  # the links sit above the settings, drawn once the titles are known
# The run's language, read from the session once: every t() (a hundred or so a run) read it from
# st.session_state, whose lookups went through Streamlit's proxy, 4 % of the server's Python time
# while α moved (py-spy --gil, issue 24; within bench_rerun's noise in CPU). Nothing in a run
# changes it after the picker (the radio's value is set before the run starts); a fragment's own
# rerun runs outside this and reads the session.
with speaking(language_picker()):
    page_script()  # the page's style and script: its language, Streamlit's words in it, the tablet's fold
    sections = page_sections(build_sections)
    # st.navigation routes; the links are our own (its sidebar markup fails WCAG 1.3.1: see app/navigation.py)
    navigation = st.navigation(sections, position="hidden")
    sidebar_navigation(nav_box, sections, navigation.url_path)
    st.session_state["selection"] = sidebar_selection()
    presentation_switch()
    figure_format_picker()
    apply_presentation()
    navigation.run()

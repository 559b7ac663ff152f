"""Presentation helpers shared by the pages: tables, number formats, cached renders."""

from __future__ import annotations

import html
import numbers
import shutil
import threading
import weakref

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

import mobilenet_core as mc
from app.chart import chart
from app.i18n import current_language, error_text, speaking, t
from app.state import Selection
from mobilenet_core.count import CountReport


def report_for(sel: Selection) -> CountReport:
    # mc.count is cached in-process (frozen results, shared read-only by every session)
    return mc.count(sel.model, sel.alpha, sel.resolution)


def lab_generation():
    """The design lab's last valid architecture in this session, or None before the lab is used."""
    rows = st.session_state.get("lab_valid")
    if not rows:
        return None
    from mobilenet_core.lab import generation_from_rows

    try:
        return generation_from_rows(mc.get_generation(st.session_state["lab_base"]), rows)
    except (mc.ConfigError, KeyError):
        return None


def exact(n: int) -> str:
    return f"{n:,}"


def short(n: float) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n:g}"


def delta(value: int, reference: int) -> str | None:
    if value == reference:
        return None
    change = value - reference
    return f"{change:+,} ({change / reference:+.1%})"


def kib(elements: int) -> str:
    return f"{elements * 4 / 1024:,.0f} KiB" if elements * 4 < 2**20 else f"{elements * 4 / 2**20:,.1f} MiB"


def title_line(sel: Selection) -> str:
    g = sel.generation
    size = f"{sel.resolution}×{sel.resolution} px (ρ = {sel.rho:.3g})"
    return f"{g.title} · α = {sel.alpha:g} · {size} · {g.paper}"


# A page's title is its one h1 and its sections h2 and h3: a screen reader lists a page by its
# headings and jumps between them (axe: page-has-heading-one, heading-order; issue 26). They are
# drawn at the sizes the pages had before (title and sections as h3, "Try this" as h4): only the
# overview, whose h1 is the app's name, keeps Streamlit's sizes (it calls no page_title).
_HEADINGS_CSS = """<style>
.stMainBlockContainer .st-key-page_title h1 { font-size: 1.75rem; font-weight: 600;
  padding: 0.5rem 0 1rem 0; }
.stMainBlockContainer:has(.st-key-page_title) [data-testid="stMarkdownContainer"] h2 {
  font-size: 1.5rem; font-weight: 600; padding: 0.5rem 0 0.75rem 0; }
.stMainBlockContainer:has(.st-key-page_title) [data-testid="stMarkdownContainer"] h3 {
  font-size: 1.25rem; font-weight: 600; padding: 0.5rem 0 0.5rem 0; }
</style>"""


def page_title(text: str) -> None:
    """The page's title, as its h1 (see _HEADINGS_CSS); its sections are "## " and "### "."""
    st.html(_HEADINGS_CSS)
    with st.container(key="page_title"):
        st.title(text)


@st.cache_data(show_spinner=False, max_entries=256)
def block_table(model: str, alpha: float, resolution: int, lang: str) -> pd.DataFrame:
    # the library's table (the one Jupyter shows), with the column names in the current language
    names = {"block": "col_block", "type": "col_type", "in": "col_in", "exp": "col_exp",
             "out": "col_out", "kernel": "col_kernel", "stride": "col_stride", "output": "col_output",
             "params": "col_params", "MACs": "col_macs", "activation": "col_act",
             "residual": "col_residual", "SE": "col_se"}  # fmt: skip
    rows = mc.count(model, alpha, resolution).block_table()
    # in `lang`, whoever asks: a CSV's download calls this in a worker thread, outside the session
    with speaking(lang):
        return pd.DataFrame([{t(names[k]): v for k, v in row.items()} for row in rows])


@st.cache_data(show_spinner=False, max_entries=64)
def layer_table(model: str, alpha: float, resolution: int) -> pd.DataFrame:
    report = mc.count(model, alpha, resolution)
    return pd.DataFrame([r.__dict__ for r in report.layers])


def number_column_config(columns) -> dict:
    """Exact integers with thousands separators in st.dataframe."""
    return {c: st.column_config.NumberColumn(c, format="localized") for c in columns}


# Every chart: a white card with dark text, so that it reads the same in a light and a dark theme,
# on a projector and in a screenshot.
FIGURE_TEMPLATE = "mobilenet"
# The trace types the app draws; the template keeps plotly_white's style for these alone.
TRACE_TYPES = ("bar", "scatter", "heatmap", "image", "waterfall")


def _template() -> go.layout.Template:
    """plotly_white, cut to what our charts use. Each figure carries its template to the browser:
    plotly_white's is 7.2 KB, 80 % of a Charts figure's JSON (the styles of 24 trace types and of
    3-D, polar, ternary and map axes that no chart here has), sent on every run of every session
    (issue 24). This one is the same style for our trace types and axes, so a chart looks the same."""
    white = pio.templates["plotly_white"].to_plotly_json()
    layout = {k: v for k, v in white["layout"].items() if k not in ("scene", "polar", "ternary", "geo")}
    data = {k: v for k, v in white["data"].items() if k in TRACE_TYPES}
    # where a figure does not say otherwise, as Streamlit's chart theme had it before app.chart
    # drew the charts: a chart's title as the page writes a heading (at the left, bold), and a
    # legend's title above its items (beside them, a phone's legend ran off the screen)
    layout["title"] = {**layout.get("title", {}), "x": 0, "xanchor": "left", "pad": {"l": 4},
                       "font": {"size": 16, "weight": "bold"}}  # fmt: skip
    layout["legend"] = {**layout.get("legend", {}), "title": {"side": "top"}}
    return go.layout.Template(layout=layout, data=data)


pio.templates[FIGURE_TEMPLATE] = _template()
PAGE_FONT = '"Source Sans", sans-serif'  # the page's own (Streamlit's web font), Chinese from the system's
FIGURE_STYLE = dict(paper_bgcolor="white", plot_bgcolor="white",
                    font=dict(color="#111111", size=13, family=PAGE_FONT),
                    margin=dict(l=10, r=10, t=50, b=10))  # fmt: skip
# The style's template is Plotly's default in this process, so a figure carries it from its
# construction (about 0.3 ms, unvalidated). Assigning it to a built figure costs a validated deep
# copy of the whole template, 6-7 ms a chart: half of the server's time on Charts and Compare
# (py-spy, issue 24). show_figure still assigns it to a figure that does not carry it.
pio.templates.default = FIGURE_TEMPLATE


def style_figure(fig, height: int = 480, **layout) -> None:
    """Put a Plotly figure in the app's one style; `layout` overrides the style where a chart
    needs it (margins, legend)."""
    if fig.layout.template != pio.templates[FIGURE_TEMPLATE]:  # 0.2 ms
        fig.update_layout(template=FIGURE_TEMPLATE)
    fig.update_layout(**FIGURE_STYLE)
    fig.update_layout(height=height, **layout)


def draw_figure(fig, stem: str, key: str | None = None, where=None) -> None:
    """Draw a figure already in the style (style_figure), with the print-quality download (`stem`
    names the file) and its data as a table one click away (WCAG 1.1.1: a chart's text
    alternative). Only reads the figure: a shared one (app.figures) may be drawn this way."""
    chart(fig, plot_config(stem), key, where)
    table = figure_table(fig)
    if table:
        with (where or st).expander(t("figure_data")):  # a plain HTML table: read by screen readers
            st.html(table)


# A chart's table as HTML, per figure and language: the shared figures (app.figures) are drawn on
# every run of every session and their table costs 1-2.5 ms to build (Charts, V4 Hybrid-L). Kept
# while the figure lives; every session's thread reads and writes it, hence the lock.
_TABLES: dict[tuple[int, str], str] = {}
_TABLES_LOCK = threading.Lock()


def _forget_table(key: tuple[int, str]) -> None:
    with _TABLES_LOCK:
        _TABLES.pop(key, None)


def with_table(fig, frame: pd.DataFrame):
    """Give `fig` the table its text alternative shows instead of its points: for a chart whose
    points say nothing one by one (the spiral's 2,800 dots, 150 KB of HTML for every draw), the
    numbers it is drawn to show. Returns `fig`."""
    fig._data_table = frame
    return fig


def figure_table(fig) -> str:
    """The figure's data as an HTML table ("" for a figure without x/y data)."""
    key = (id(fig), current_language())
    with _TABLES_LOCK:
        if key in _TABLES:
            return _TABLES[key]
    data = getattr(fig, "_data_table", None)  # with_table's, else the points
    if data is None:
        data = figure_data(fig)
    table = "" if data.empty else html_table(data)
    with _TABLES_LOCK:
        if key not in _TABLES:
            _TABLES[key] = table
            weakref.finalize(fig, _forget_table, key)  # before the id can be reused
    return table


def _cell(value) -> str:
    if value is None or isinstance(value, (bool, str)) or not isinstance(value, numbers.Real):
        return html.escape("" if value is None else str(value))
    if isinstance(value, numbers.Integral) or float(value).is_integer():
        return f"{int(value):,}"  # counts are exact integers
    return f"{float(value):,.6g}"


def html_table(table: pd.DataFrame) -> str:
    head = "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in table.columns)
    rows = ("".join(f"<td>{_cell(v)}</td>" for v in row) for row in table.itertuples(index=False))
    body = "".join(f"<tr>{row}</tr>" for row in rows)
    return f'<table class="figure-data"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _field(part, *names):
    """A figure's part, read from a Plotly object or from a figure's dict alike."""
    for name in names:
        if part is None:
            return None
        part = part.get(name) if isinstance(part, dict) else getattr(part, name, None)
    return part


def figure_data(fig) -> pd.DataFrame:
    """The numbers a Plotly figure draws, one row per point: its series, x and y (or label and
    value), read from the figure itself so that the table says exactly what the chart shows."""
    spec = fig.__dict__.get("_frozen_spec")
    # a figure drawn from its dict (app.figures.frozen_spec) has no Plotly traces: read the dict
    drawn_from_dict = spec is not None and not fig.data
    layout, traces = (spec["layout"], spec["data"]) if drawn_from_dict else (fig.layout, fig.data)
    x_name = _field(layout, "xaxis", "title", "text") or "x"
    # else the chart's title
    y_name = _field(layout, "yaxis", "title", "text") or _field(layout, "title", "text") or "y"
    if y_name == x_name:
        y_name += " "
    rows, series = [], t("figure_series")  # once: a chart of 2,000 points asked 2,000 times
    for trace in traces:
        name = _field(trace, "name") or ""
        xs, ys = _field(trace, "x"), _field(trace, "y")
        if xs is None and ys is None:  # a pie: labels and values
            xs, ys = _field(trace, "labels"), _field(trace, "values")
        if xs is None or ys is None:
            continue
        rows += [{series: name, x_name: x, y_name: y} for x, y in zip(xs, ys)]
    return pd.DataFrame(rows)


def show_figure(fig, stem: str, key: str | None = None, height: int = 480, where=None, **layout) -> None:
    """Draw a Plotly figure in the app's one style, with the print-quality download (`stem` names
    the file); `layout` overrides the style where a chart needs it (margins, legend)."""
    style_figure(fig, height, **layout)
    draw_figure(fig, stem, key, where)


def plot_config(stem: str) -> dict:
    """Plotly's config for every chart: the camera button saves at print quality, PNG at 3x or
    SVG (the sidebar's choice), named after the configuration."""
    fmt = st.session_state.get("figure_format", "png")
    scale = 3 if fmt == "png" else 1
    return {"displaylogo": False, "toImageButtonOptions": {"format": fmt, "filename": stem, "scale": scale}}


def log_axis(values) -> dict:
    """A log axis labelled at 1, 2, 5 x 10^k over the values' range: Plotly's own log ticks
    label only the digits between decades ("4 5 6 7 8 9 1 2 3"), which reads as nonsense."""
    import math

    present = [v for v in values if v is not None and v > 0]
    if not present:
        return dict(type="log")
    low, high = min(present), max(present)
    ticks = [m * 10**e for e in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1)
             for m in (1, 2, 5)]  # fmt: skip
    shown = [v for v in ticks if low / 2 <= v <= high * 2]
    return dict(type="log", tickvals=shown, ticktext=[f"{v:g}" for v in shown])


def has_dot() -> bool:
    return shutil.which("dot") is not None


PRINT_DPI = 192  # PNG downloads at twice the screen's 96 dpi


@st.cache_data(show_spinner=False, max_entries=128)
def render_dot(dot: str, fmt: str) -> bytes:
    import graphviz

    if fmt == "png":  # print quality: the graph attribute dpi scales the whole picture
        dot = dot.replace("graph [", f"graph [dpi={PRINT_DPI}, ", 1)
    return graphviz.Source(dot).pipe(format=fmt)


def show_graph(dot: str) -> None:
    """Draw a Graphviz graph. With the `dot` binary the SVG is laid out on the server (about
    20 ms for V4 Hybrid-L), which is much faster than the browser's WebAssembly Graphviz
    (1-2 s per redraw on a laptop CPU); without it, fall back to st.graphviz_chart."""
    title, boxes = diagram_words(dot)
    if has_dot():
        alt = t("diagram_alt", title=title, n=len(boxes))
        st.image(render_dot(dot, "svg").decode(), width="stretch", alt=alt)
    else:
        st.graphviz_chart(dot, width="stretch")
    if boxes:
        with st.expander(t("diagram_text")):  # the text alternative (WCAG 1.1.1), in the diagram's order
            st.markdown("\n".join(f"- {box}" for box in boxes))


@st.cache_data(show_spinner=False, max_entries=128)
def diagram_words(dot: str) -> tuple[str, list[str]]:
    """(title, the text of each box) of a Graphviz graph: what its SVG writes, line by line."""
    import xml.etree.ElementTree as ET

    ns = "{http://www.w3.org/2000/svg}"
    root = ET.fromstring(render_dot(dot, "svg")) if has_dot() else None
    if root is None:
        return "", []
    group = root.find(f"{ns}g")
    title = " ".join(x.text or "" for x in group.findall(f"{ns}text")) if group is not None else ""
    boxes = []
    for node in root.iter(f"{ns}g"):
        if node.get("class") == "node":
            lines = ((x.text or "").strip() for x in node.iter(f"{ns}text"))
            text = " · ".join(line for line in lines if line)
            if text:
                boxes.append(text.replace("*", "\\*"))
    return title.strip(), boxes


def graph_downloads(dot: str, stem: str, key: str) -> None:
    """PNG / SVG / DOT download buttons for a Graphviz graph. PNG and SVG are rendered only
    when clicked (callables), so a slider move never waits for `dot`."""
    cols = st.columns(3)
    if has_dot():
        cols[0].download_button(
            t("download_png"),
            lambda: render_dot(dot, "png"),
            f"{stem}.png",
            "image/png",
            key=f"{key}_png",
            on_click="ignore",
        )
        cols[1].download_button(
            t("download_svg"),
            lambda: render_dot(dot, "svg"),
            f"{stem}.svg",
            "image/svg+xml",
            key=f"{key}_svg",
            on_click="ignore",
        )
    else:
        cols[0].caption(t("no_dot"))
    cols[2].download_button(
        t("download_dot"), dot, f"{stem}.dot", "text/vnd.graphviz", key=f"{key}_dot", on_click="ignore"
    )


def file_stem(sel: Selection, what: str) -> str:
    return f"{sel.model}_a{sel.alpha:g}_r{sel.resolution}_{what}"


def device_title(device) -> str:
    """A roofline device's name in the interface's language: the paper's devices are proper
    names, this machine and a device the user describes are said in words."""
    if device.name == "host":
        return t("device_host")
    return t("device_custom") if device.name == "custom" else device.title


def device_origin(device) -> str:
    """Where a device's numbers come from, in the interface's language (the library's
    DeviceProfile.source and .calibration say it in English, for the API and the CLI)."""
    from mobilenet_core.latency import CALIBRATION_MODEL, PAPER, PAPER_LATENCY_MS, PAPER_RIDGE_POINTS

    if device.name in PAPER_RIDGE_POINTS:
        model, alpha, resolution = CALIBRATION_MODEL
        return t("device_from_paper", ridge=f"{PAPER_RIDGE_POINTS[device.name][1]:g}", paper=PAPER,
                 model=mc.get_generation(model).title, alpha=f"{alpha:g}", res=resolution,
                 ms=f"{PAPER_LATENCY_MS[(model, resolution)][device.name]:g}")  # fmt: skip
    return t("device_from_host" if device.name == "host" else "device_from_user")


def device_picker(key: str, host=None, custom: bool = True, container=None):
    """A device for the roofline latency model: the V4 paper's four INT8 devices, this machine
    (when `host` is given) and, with `custom`, one the user describes. Returns a DeviceProfile,
    or None when the custom numbers are not usable (the message is shown)."""
    from mobilenet_core.latency import custom_device, paper_devices

    where = container or st
    devices = dict(paper_devices())
    if host is not None:
        devices["host"] = host
    names = [*devices, *(["custom"] if custom else [])]
    labels = {n: (t("device_custom") if n == "custom" else t("device_host") if n == "host" else
                  f"{devices[n].title} ({devices[n].precision.upper()})") for n in names}  # fmt: skip
    choice = where.selectbox(t("device"), names, key=key, format_func=labels.get)
    if choice != "custom":
        return devices[choice]
    cols = where.columns(3)
    peak = cols[0].number_input(t("custom_peak"), 0.01, 1e6, 100.0, key=f"{key}_peak")
    bandwidth = cols[1].number_input(t("custom_bandwidth"), 0.01, 1e5, 5.0, key=f"{key}_bw")
    precision = cols[2].selectbox(t("precision"), ["int8", "float16", "float32"], key=f"{key}_precision")
    try:
        return custom_device(
            t("device_custom"), precision, peak_macs_per_s=peak * 1e9, bytes_per_s=bandwidth * 1e9
        )
    except mc.ConfigError as exc:
        where.error(error_text(exc))
        return None


def lost_uploads_ui(key: str, where=None) -> int:
    """Say so when the drop zone `key` lists files this session does not have; returns how many.
    A session's uploads live in its server's memory, with the session: when the browser
    reconnects after Streamlit dropped its session (disconnected for longer than
    server.disconnectedSessionTTL, 120 s: a tablet put to sleep, a laptop closed), to a
    restarted server, or to another replica behind serve.sh, the drop zone still lists its
    files and sends their ids, Streamlit finds none of them (a DeletedFile each in the widget's
    state; the widget hands the script only the files it has), and the page would show the
    photo listed and nothing for it, without a word. (While a file is being removed, one run
    may see it as lost too: the browser deletes it before it sends the widget's new state.)"""
    from streamlit.runtime.uploaded_file_manager import DeletedFile

    value = st.session_state.get(key)
    lost = sum(isinstance(f, DeletedFile) for f in (value if isinstance(value, list) else [value]))
    if lost:
        (where or st).warning(t("upload_lost", n=lost))
    return lost

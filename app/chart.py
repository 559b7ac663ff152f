"""A Plotly chart drawn by an element of our own: a components-v2 script that plots the figure with a
partial Plotly bundle (issue 24).

st.plotly_chart runs Streamlit's Plotly chunk, 4.7 MB with every trace type Plotly has, before a
tab's first chart: 0.9-1.4 s of the browser's main thread on the 2-core machine of the issue,
half of a first lesson's 2.8-3.7 s. It then plots each figure more than once (its React wrapper
sets the figure as new state after mounting and again on Plotly's update; read in Streamlit 1.67's
frontend). This element imports `app/static/plotly-mobilenet.min.js` instead: Plotly 4.1.1 (the
version the `plotly` package writes figures for) with only the trace types the app draws (bar,
scatter, heatmap, image, waterfall), 1.2 MB, built by scripts/build_plotly.sh with esbuild. Streamlit
serves it as a static file (server.enableStaticServing); the browser's module map runs it once per
tab and every chart shares it. A figure is plotted once, and not again on a rerun that sends the
same figure (`Plotly.react` draws only what changed when it does change), and a chart drawn again
in its place (a page visited again, α moved) starts with the margins it ended with, so Plotly does
not draw it twice to fit them (see ROOM in the script). A chart that left the
page before Plotly arrived is not drawn; if the bundle cannot be loaded, each chart says so in the
reader's language (its data table stays below it) and the next draw tries again.

What Streamlit's chart theme gave the charts and the app keeps is in the figures themselves
(app.common): the page's font (FIGURE_STYLE), titles at the left and legend titles above their
items (the template). Lost with
st.plotly_chart: its toolbar's full-screen button (Plotly's own buttons stay; presentation mode
enlarges the charts).
"""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path

import plotly.io as pio
import streamlit as st

from app.i18n import t

# Streamlit's static serving sends the type Python's mimetypes guesses, with "nosniff": on a host
# whose registry maps .js to text/plain (some Windows machines) no chart would be drawn
mimetypes.add_type("text/javascript", ".js")

BUNDLE = Path(__file__).parent / "static" / "plotly-mobilenet.min.js"
NAME = "mobilenet_chart"  # the component's
# the element's class: the page's CSS (app.responsive, app.present) and the tests find charts by it
CLASS = "mne-chart"

_HTML = f'<div class="{CLASS}"><div class="mne-plot"></div></div>'

_CSS = f""".{CLASS} {{ width: 100%; }}
.mne-chart-failed {{ color: #8a1c1c; margin: 0.5rem 0; }}"""

# The bundle's URL in the page, for the charts and app.prefetch alike (the same URL is the same
# module: whichever imports it first runs it, once per tab)
BUNDLE_URL_JS = r"""
function bundleUrl(path, attempt) {
  // Streamlit's entry script is <base>/static/js/index.*.js: the bundle is relative to it, so the
  // same path works at / and behind a proxy's prefix
  const entry = document.querySelector('script[type="module"][src*="static/js/index."]');
  const url = new URL(path, entry ? entry.src : document.baseURI);
  if (attempt) url.searchParams.set("attempt", attempt);  // a failed import is kept per URL
  return url.href;
}
"""

_JS = (
    r"""
// The chart's figure, plotted with the app's Plotly bundle (app/chart.py). One bundle per tab: the
// browser's module map runs a URL once, whichever chart (or app.prefetch) imports it first.
"""
    + BUNDLE_URL_JS
    + r"""

function loadPlotly(path) {
  if (!window.mnePlotly) {
    const attempt = () => (window.mnePlotlyAttempts = (window.mnePlotlyAttempts || 0) + 1);
    window.mnePlotly = import(bundleUrl(path, 0))
      .catch(() => import(bundleUrl(path, attempt())))  // once more at once, then on the next draw
      .then((module) => module.default)
      .catch((error) => { window.mnePlotly = null; throw error; });
  }
  return window.mnePlotly;
}

// ROOM. Plotly fits a chart's margins to its labels by drawing it twice: once to measure them, then again
// with the room they need (60-80 ms instead of 27 for a Compare chart on the 2-core machine of issue
// 24). The room a chart ended with is kept for its place: this page, the chart's rank on it, its
// width to 50 px, and what decides its labels and legend (trace types, names and text labels, each
// axis's title, ticks and type, font, height, legend, the figure's own margins). The next figure
// there starts with at least that room and is drawn once, unless it needs more, when Plotly widens
// it as before. A label is never cut. Within a tab a place's room only grows: a figure needing less
// than an earlier one there (auto ticks "50M" after "300M") keeps the earlier, wider margin.
const ROOM_LIMIT = 200;  // places kept per tab, the oldest forgotten first

// the figure's own part of its place (what decides its labels); the page, rank and width are added
function labelsOf(fig) {
  const layout = fig.layout || {};
  const text = (title) => (typeof title === "string" ? title : (title && title.text) || "");
  const words = (values) =>
    Array.isArray(values) && typeof values[0] === "string" ? values.join("\u0001") : "";
  const axes = Object.keys(layout).filter((name) => /^[xy]axis\d*$/.test(name)).sort()
    .map((name) => {
      const axis = layout[name] || {};
      return [name, text(axis.title), axis.type, axis.tickvals, axis.ticktext, axis.tickangle,
              axis.tickformat, axis.showticklabels, axis.domain];
    });
  return [
    layout.height, layout.font, layout.showlegend, layout.legend, layout.margin, axes,
    (fig.data || []).map((trace) => [trace.type, trace.name, trace.orientation, trace.showlegend,
                                     trace.xaxis, trace.yaxis, words(trace.x), words(trace.y)]),
  ];
}

function rooms() {
  return (window.mneRoom = window.mneRoom || new Map());
}

// the key of a place at a width; the labels are a string already (written once per draw)
function placeAt(place, width) {
  return JSON.stringify([place.path, place.rank, Math.round(width / 50)]) + place.labels;
}

// the room the chart has now, kept for its place at its width (after a draw, and after a resize:
// a tablet's first page is drawn before the sidebar folds and redrawn at the width it keeps).
// Not once the address is another page's (a link pushes the new address before the old page's
// charts leave): the place would be the other page's.
function remember(root) {
  const size = root._fullLayout && root._fullLayout._size;
  const place = root.mnePlace;
  if (!size || !place || place.path !== location.pathname) return;
  const key = placeAt(place, root.clientWidth);
  rooms().delete(key);  // set again last: the newest place is the last forgotten
  rooms().set(key, { l: size.l, r: size.r, t: size.t, b: size.b });
  if (rooms().size > ROOM_LIMIT) rooms().delete(rooms().keys().next().value);
}

// the figure's margin, widened to the room kept for its place at `width` (as sent, without one)
function marginAt(place, width) {
  const margin = place.margin || {};
  const room = rooms().get(placeAt(place, width));
  if (!room) return place.margin;
  const wider = (side, plotlys) => Math.max(margin[side] ?? plotlys, room[side]);  // Plotly's default
  return { ...margin, l: wider("l", 80), r: wider("r", 80), t: wider("t", 100), b: wider("b", 80) };
}

// Draws the newest figure asked for until it is the one drawn; one loop per chart at a time.
async function drawNewest(root, box) {
  try {
    const Plotly = await loadPlotly(root.mneWanted.bundle);
    box.querySelector(".mne-chart-failed")?.remove();
    if (!root.mneResize) {  // the width follows the page (sidebar folded, window resized)
      root.mnePlotly = Plotly;
      root.mneResize = new ResizeObserver(() => {
        const width = root.clientWidth;  // 0 while hidden: drawn again when shown
        if (!width || root.mneGone || !root._fullLayout || width === root._fullLayout.width) return;
        // from the figure's own margin and the room known at the new width, not the old width's room
        if (root.mnePlace && root.layout) root.layout.margin = marginAt(root.mnePlace, width);
        Promise.resolve(Plotly.Plots.resize(root)).then(() => remember(root)).catch(() => {});
      });
      root.mneResize.observe(root);
    }
    for (;;) {
      const wanted = root.mneWanted;
      const key = wanted.figure + "\n" + JSON.stringify(wanted.config);
      if (root.mneGone || !root.isConnected || root.mneDrawn === key) break;  // gone, or drawn
      try {
        const fig = JSON.parse(wanted.figure);
        fig.layout = fig.layout || {};
        const place = {  // read once, before the draw: where this figure is drawn
          path: location.pathname,
          rank: [...document.querySelectorAll("[data-testid=stMain] .mne-plot")].indexOf(root),
          labels: JSON.stringify(labelsOf(fig)),
          margin: fig.layout.margin,
        };
        if (document.fonts) await document.fonts.ready;  // labels measured in the page's font
        fig.layout.margin = marginAt(place, root.clientWidth);
        root.mnePlace = null;  // the place of the figure drawn, once it is drawn
        await Plotly.react(root, fig.data, fig.layout, wanted.config);
        root.mnePlace = place;
        remember(root);
      } catch (error) {
        console.error("chart", error);
      }
      root.mneDrawn = key;  // drawn or failed: a figure is tried once, the next one again
    }
  } catch (error) {  // the bundle did not load: say so where the chart would be
    console.error("chart", error);
    if (!box.querySelector(".mne-chart-failed")) {
      const note = document.createElement("p");
      note.className = "mne-chart-failed";
      note.setAttribute("role", "alert");
      note.textContent = root.mneWanted.failed;
      box.prepend(note);
    }
  }
  root.mneDrawing = null;  // no await since the loop's last check: a call in between is not lost
}

export default function ({ data, parentElement }) {
  const box = parentElement.querySelector(".mne-chart");
  const root = box && box.querySelector(".mne-plot");  // Plotly's graph div
  if (!root || !data) return undefined;
  // Streamlit runs this when the element leaves the page, and also for a call it superseded while
  // the chart stays: only a chart that has left the page is let go
  const cleanup = () => {
    if (root.isConnected) return;
    root.mneGone = true;
    if (root.mneResize) root.mneResize.disconnect();
    if (root.mnePlotly) root.mnePlotly.purge(root);
  };
  root.style.minHeight = data.height + "px";  // the chart's room before Plotly has drawn: nothing jumps
  root.mneWanted = data;
  if (!root.mneDrawing) root.mneDrawing = drawNewest(root, box);
  return cleanup;
}
"""
)


def bundle_path() -> str:
    """The bundle's URL relative to Streamlit's entry script, with its content's hash: a rebuilt
    bundle is a new URL, so no browser keeps an old one."""
    return f"../../app/static/{BUNDLE.name}?v={_bundle_hash()}"


_HASH: str | None = None


def _bundle_hash() -> str:
    global _HASH
    if _HASH is None:  # the same value from any thread: a race computes it twice, harmlessly
        _HASH = hashlib.sha256(BUNDLE.read_bytes()).hexdigest()[:12]
    return _HASH


def written(fig) -> str:
    """The figure as the JSON Plotly.js reads."""
    return pio.to_json(fig.to_dict(), validate=False)


def figure_json(fig) -> str:
    """`written(fig)`; a frozen figure's (app.figures) was written once, when it was frozen."""
    text = fig.__dict__.get("_frozen_json")
    return written(fig) if text is None else text


def figure_height(fig) -> int:
    spec = fig.__dict__.get("_frozen_spec")
    height = (spec.get("layout", {}) if spec is not None else fig.layout.to_plotly_json()).get("height")
    return int(height or 450)  # Plotly's own default height


_COMPONENT = None


def chart(fig, config: dict, key: str | None = None, where=None) -> None:
    """Draw `fig` (read only) with Plotly's `config`, the width of the page."""
    global _COMPONENT
    if _COMPONENT is None:  # registered once per process (the registry is Streamlit's, shared)
        _COMPONENT = st.components.v2.component(NAME, html=_HTML, css=_CSS, js=_JS, isolate_styles=False)
    data = {
        "figure": figure_json(fig),
        "config": config,
        "height": figure_height(fig),
        "bundle": bundle_path(),
        "failed": t("chart_failed"),  # shown if the bundle cannot be loaded
    }
    if where is None:
        _COMPONENT(data=data, key=key)
    else:
        with where:
            _COMPONENT(data=data, key=key)

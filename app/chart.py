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
same figure (`Plotly.react` draws only what changed when it does change).

What Streamlit's chart theme gave the charts and the app keeps is in the figures themselves
(app.common): the page's font (FIGURE_STYLE) and titles at the left (the template). Lost with
st.plotly_chart: its toolbar's full-screen button (Plotly's own buttons stay; presentation mode
enlarges the charts).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import plotly.io as pio
import streamlit as st

BUNDLE = Path(__file__).parent / "static" / "plotly-mobilenet.min.js"
# the element's class: the page's CSS (app.responsive, app.present) and the tests find charts by it
CLASS = "mne-chart"

_HTML = f'<div class="{CLASS}"><div class="mne-plot"></div></div>'

_CSS = f""".{CLASS} {{ width: 100%; }}"""

_JS = r"""
// The chart's figure, plotted with the app's Plotly bundle (app/chart.py). One bundle per tab: the
// browser's module map runs a URL once, whichever chart (or app.prefetch) imports it first.
function bundleUrl(path) {
  // Streamlit's entry script is <base>/static/js/index.*.js: the bundle is relative to it, so the
  // same path works at / and behind a proxy's prefix
  const entry = document.querySelector('script[type="module"][src*="static/js/index."]');
  return new URL(path, entry ? entry.src : document.baseURI).href;
}

export default function ({ data, parentElement }) {
  const root = parentElement.querySelector(".mne-chart .mne-plot");  // Plotly's graph div
  if (!root || !data) return undefined;
  // Streamlit keeps the cleanup of the last call and runs it when the element leaves the page
  const cleanup = () => {
    if (root.mneResize) root.mneResize.disconnect();
    if (root.mnePurge) root.mnePurge();
  };
  root.style.minHeight = data.height + "px";  // the chart's room before Plotly has drawn: nothing jumps
  root.mneWanted = data;
  if (root.mneDrawing) return cleanup;  // the draw under way takes the newest figure when it ends
  const draw = (Plotly) => {
    const wanted = root.mneWanted;
    if (root.mneDrawn && root.mneDrawn.figure === wanted.figure
        && root.mneDrawn.config === JSON.stringify(wanted.config)) return null;  // a rerun, same figure
    const fig = JSON.parse(wanted.figure);
    return Plotly.react(root, fig.data, fig.layout, wanted.config).then(() => {
      root.mneDrawn = { figure: wanted.figure, config: JSON.stringify(wanted.config) };
      if (root.mneWanted !== wanted) return draw(Plotly);  // a newer figure came while drawing
      return null;
    });
  };
  root.mneDrawing = import(bundleUrl(data.bundle))
    .then((module) => {
      const Plotly = module.default;
      if (!root.mneResize) {  // the width follows the page (sidebar folded, window resized)
        let width = root.clientWidth;
        root.mneResize = new ResizeObserver(() => {
          if (root.clientWidth !== width && root.mneDrawn) {
            width = root.clientWidth;
            Plotly.Plots.resize(root);
          }
        });
        root.mneResize.observe(root);
        root.mnePurge = () => Plotly.purge(root);
      }
      return draw(Plotly);
    })
    .catch((error) => console.error("chart", error))
    .finally(() => { root.mneDrawing = null; });
  return cleanup;
}
"""


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
        _COMPONENT = st.components.v2.component(
            "mobilenet_chart", html=_HTML, css=_CSS, js=_JS, isolate_styles=False
        )
    data = {
        "figure": figure_json(fig),
        "config": config,
        "height": figure_height(fig),
        "bundle": bundle_path(),
    }
    if where is None:
        _COMPONENT(data=data, key=key)
    else:
        with where:
            _COMPONENT(data=data, key=key)

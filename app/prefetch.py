"""Plotly, made ready while the reader reads (issue 24's cold start).

The charts' Plotly bundle (app/chart.py, 1.2 MB) is imported the first time a page draws a chart.
Running it is one long task of the browser's main thread (0.3-0.4 s on the issue's 2-core machine;
Streamlit's own Plotly chunk, used before app.chart, took 1.4-2.6 s), so a student's first chart
page after Overview (which has none) would wait for it. `<link rel="modulepreload">` does not help
(the download and parse are not the cost; the evaluation is); importing the module does: the
browser's module map holds one module per URL, so the chart's own import later finds it run.
Measured with Streamlit's chunk (a new browser, Overview, three seconds of reading, then Compare,
three rounds): nothing 3.94 s, modulepreload 3.98 s, import at idle 2.00 s.

The script imports the bundle once per tab, when the reader has not pressed a key, tapped or
scrolled for a second and the browser says it is idle (`requestIdleCallback`). The cost is moved,
not removed: an action taken while the bundle runs waits for it to end, once. A page that draws
a chart has imported it already, and then this does nothing. Once it has run, three small figures
are drawn off the page and removed, each in an idle moment of its own, so that the first chart
page does not pay Plotly's first drawing either (WARM below).
"""

from __future__ import annotations

from app.chart import BUNDLE_URL_JS, bundle_path

PREFETCH_JS = (
    r"""
// The charts' Plotly bundle, run once per tab when the browser is idle (app/prefetch.py)
"""
    + BUNDLE_URL_JS
    + r"""

// Plotly's first drawing in a tab costs 100-140 ms more than the next ones (the browser compiles
// the code a drawing runs; 97-139 ms against 21-37 for the same small figure on the 2-core machine
// of issue 24). Done on figures nobody sees, off the page, each in its own idle moment, and removed
// at once: a chart page drawn later starts warm. Not when a chart is on the page already (it warmed
// the code itself).
const WARM = [
  {  // stacked bars with their text inside and a total above each (Compare's stage shares)
    data: ["a", "b"].map((name, i) => ({
      type: "bar", x: ["a", "b"], y: [40 + i, 60 - i], name, text: ["40%", "60%"],
      textposition: "inside", insidetextanchor: "middle", hovertemplate: "%{x}: %{y}<extra></extra>",
    })),
    layout: {
      barmode: "stack", uniformtext: { minsize: 11, mode: "hide" },
      annotations: [{ x: "a", y: 100, text: "<b>a</b>", showarrow: false, yanchor: "bottom" }],
    },
  },
  {  // markers on a log axis with a dashed line and its label (the published scatter, trade-offs)
    data: [{ type: "scatter", mode: "markers", x: [10, 100], y: [60, 70], name: "a",
             marker: { size: [8, 12], opacity: 0.8, line: { width: 1, color: "#333" } } },
           { type: "scatter", mode: "lines+markers+text", x: [20, 200], y: [65, 72], text: ["a", "b"],
             name: "b" }],
    layout: {
      xaxis: { type: "log" },
      shapes: [{ type: "line", xref: "x", yref: "paper", x0: 50, x1: 50, y0: 0, y1: 1,
                 line: { dash: "dash" } }],
      annotations: [{ xref: "x", yref: "paper", x: 1.7, y: 1, text: "a", showarrow: false }],
    },
  },
  { data: [{ type: "heatmap", z: [[1, 2], [3, 4]] }], layout: {} },  // the lessons' maps
];
const WARM_LAYOUT = {
  width: 600, height: 300, title: { text: "a<br><sup>b</sup>" },
  legend: { orientation: "h", yanchor: "top", y: -0.2 },
  xaxis: { title: { text: "a" }, automargin: true }, yaxis: { title: { text: "b" }, automargin: true },
};

async function warm(Plotly, idle) {
  for (const figure of WARM) {
    await new Promise((resolve) => idle.start(resolve));
    if (document.querySelector(".js-plotly-plot")) break;
    const div = document.createElement("div");
    div.setAttribute("aria-hidden", "true");
    div.inert = true;  // nothing in it can take the focus (its mode bar's buttons)
    div.style.cssText = "position: fixed; left: -10000px; top: 0; width: 600px; height: 300px;";
    document.body.appendChild(div);
    try {
      const xaxis = { ...WARM_LAYOUT.xaxis, ...figure.layout.xaxis };
      const layout = { ...WARM_LAYOUT, ...figure.layout, xaxis };
      await Plotly.newPlot(div, figure.data, layout);  // with its mode bar and hover, as the charts
    } finally {
      Plotly.purge(div);
      div.remove();
    }
  }
  window.mnePlotlyWarm = "done";
}

export default function ({ data }) {
  if (!data || !data.bundle || window.mnePlotlyPrefetched) return;
  window.mnePlotlyPrefetched = true;
  const url = bundleUrl(data.bundle, 0);  // the charts' first URL for it (app/chart.py)
  const idle = window.requestIdleCallback
    ? { start: (then) => requestIdleCallback(then, { timeout: 10000 }), stop: (id) => cancelIdleCallback(id) }
    : { start: (then) => setTimeout(then, 0), stop: (id) => clearTimeout(id) };
  // once the reader has not touched the page for delay_ms: each key, tap, wheel or scroll waits again
  const inputs = ["pointerdown", "keydown", "wheel", "scroll"];
  let timer, idleTask;
  const run = () => {
    inputs.forEach((name) => window.removeEventListener(name, wait, true));
    return import(url).then((module) => warm(module.default, idle)).catch(() => {});
  };
  function wait() {
    clearTimeout(timer);
    idle.stop(idleTask);
    timer = setTimeout(() => { idleTask = idle.start(run); }, data.delay_ms);
  }
  inputs.forEach((name) => window.addEventListener(name, wait, { capture: true, passive: true }));
  wait();
}
"""
)


def prefetch_data() -> dict:
    """PREFETCH_JS's data (app.page_script runs it on every run)."""
    return {"bundle": bundle_path(), "delay_ms": 1000}

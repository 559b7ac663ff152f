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
a chart has imported it already, and then this does nothing.
"""

from __future__ import annotations

from app.chart import bundle_path

PREFETCH_JS = r"""
// The charts' Plotly bundle, run once per tab when the browser is idle (app/prefetch.py)
export default function ({ data }) {
  if (!data || !data.bundle || window.mnePlotlyPrefetched) return;
  // app/chart.py's URL for it, relative to Streamlit's entry script: the same URL is the same module
  const entry = document.querySelector('script[type="module"][src*="static/js/index."]');
  if (!entry) return;
  window.mnePlotlyPrefetched = true;
  const url = new URL(data.bundle, entry.src).href;
  const idle = window.requestIdleCallback
    ? { start: (then) => requestIdleCallback(then, { timeout: 10000 }), stop: (id) => cancelIdleCallback(id) }
    : { start: (then) => setTimeout(then, 0), stop: (id) => clearTimeout(id) };
  // once the reader has not touched the page for delay_ms: each key, tap, wheel or scroll waits again
  const inputs = ["pointerdown", "keydown", "wheel", "scroll"];
  let timer, idleTask;
  const run = () => {
    inputs.forEach((name) => window.removeEventListener(name, wait, true));
    return import(url).catch(() => {});
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


def prefetch_data() -> dict:
    """PREFETCH_JS's data (app.page_script runs it on every run)."""
    return {"bundle": bundle_path(), "delay_ms": 1000}

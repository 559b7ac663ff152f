"""Plotly, made ready while the reader reads (issue 24's cold start).

Streamlit's frontend keeps Plotly in a chunk of its own (4.7 MB), which it imports the first time
a page draws a chart. Running that chunk is one long task of the browser's main thread (1.4-2.6 s
on the slow 2-core machine the issue was measured on), so a student's first chart page after
Overview (which has none) waited for it: opening Compare from Overview took 3.9 s the first time
and 1.3 s after. `<link rel="modulepreload">` does not help (the download and parse were not the
cost; the chunk's evaluation is); importing the chunk does: the browser's module map holds one
module per URL, so the frontend's own import later finds it run. Measured with a scratch
Playwright script (a new browser, Overview, three seconds of reading, then Compare, three rounds,
at main before this change): nothing 3.94 s, modulepreload 3.98 s, import at idle 2.00 s.

The script imports the chunk once per tab, when the reader has not pressed a key, tapped or
scrolled for a second and the browser says it is idle (`requestIdleCallback`). The cost is moved,
not removed: an action taken while the chunk runs waits for it to end, once. A page that draws
a chart has imported it already, and then this does nothing. When this Streamlit's build has no
such chunk (another version), nothing is fetched.
"""

from __future__ import annotations

import functools
from pathlib import Path

import streamlit

FRONTEND_JS = Path(streamlit.__file__).parent / "static" / "static" / "js"

PREFETCH_JS = r"""
// Plotly's chunk of Streamlit's frontend, run once per tab when the browser is idle (app/prefetch.py)
export default function ({ data }) {
  if (!data || !data.chunk || window.mnePlotlyPrefetched) return;
  // the frontend imports "./<chunk>" relative to its entry script: the same URL is the same module
  const entry = document.querySelector('script[type="module"][src*="static/js/index."]');
  if (!entry) return;
  window.mnePlotlyPrefetched = true;
  const url = new URL(data.chunk, entry.src).href;
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


@functools.cache
def plotly_chunk() -> str | None:
    """The file name of the frontend's Plotly chunk, if exactly one file is it and the frontend's
    entry script imports it by that name; otherwise None (nothing is prefetched)."""
    chunks = sorted(FRONTEND_JS.glob("PlotlyChart.*.js"))
    if len(chunks) != 1:
        return None
    imported = any(f"./{chunks[0].name}" in entry.read_text(errors="replace")
                   for entry in FRONTEND_JS.glob("index.*.js"))  # fmt: skip
    return chunks[0].name if imported else None


def prefetch_data() -> dict:
    """PREFETCH_JS's data (app.page_script runs it on every run)."""
    return {"chunk": plotly_chunk(), "delay_ms": 1000}

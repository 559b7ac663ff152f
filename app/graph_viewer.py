"""An interactive layer graph: the server-rendered Graphviz SVG with pan and zoom (mouse wheel,
touch: one finger pans, two pinch; buttons: fit, 100 %), search by block name, and click-to-select
that reports the node back to Python (Streamlit custom components v2). Pan and zoom come from
svg-pan-zoom 3.6.2 (npm, BSD-2-Clause, vendored unchanged in app/components/graph_viewer/ with its
license): a well-kept library rather than our own transform code; st.graphviz_chart cannot zoom
(streamlit issue #3200).

At "100 %" one SVG point is drawn as 4/3 CSS px, as Graphviz sizes it: node text of 9-10 pt is
12-13 CSS px, readable on a laptop and larger with the browser's zoom on a projector. The graph
opens at 100 % (top left), not squeezed to the page width."""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

_ASSETS = Path(__file__).parent / "components" / "graph_viewer"
_LIBRARY = (_ASSETS / "svg-pan-zoom.min.js").read_text(encoding="utf-8")

_HTML = """
<div class="gv">
  <div class="gv-bar" hidden>
    <button class="gv-out" type="button">−</button>
    <button class="gv-in" type="button">+</button>
    <button class="gv-fit" type="button"></button>
    <button class="gv-one" type="button">100 %</button>
    <input class="gv-search" type="search" />
    <span class="gv-found" role="status" aria-live="polite"></span>
  </div>
  <div class="gv-stage" tabindex="0" role="group"></div>
</div>
"""

_CSS = """
.gv { font-family: "Source Sans Pro", "Noto Sans CJK SC", sans-serif; color: #111; }
.gv-bar { display: flex; gap: 6px; align-items: center; margin-bottom: 6px; flex-wrap: wrap; }
.gv-bar[hidden] { display: none; }  /* until the script has named the controls */
.gv-bar button { font-size: 15px; min-width: 36px; padding: 4px 10px; border: 1px solid #bbb;
  border-radius: 6px; background: #fff; cursor: pointer; }
.gv-bar button:hover { background: #f0f2f6; }
.gv-search { font-size: 15px; padding: 4px 8px; border: 1px solid #bbb; border-radius: 6px; width: 24em; }
.gv-found { font-size: 14px; color: #555; }
.gv-stage { border: 1px solid #ddd; border-radius: 8px; overflow: hidden; background: #fff;
  touch-action: none; }
/* a finger's target (44 px, WCAG 2.5.5); the search box fits a phone */
@media (pointer: coarse) { .gv-bar button, .gv-search { min-height: 44px; min-width: 44px; } }
.gv-search { max-width: 100%; box-sizing: border-box; }
.gv-stage svg { width: 100%; height: 100%; display: block; cursor: grab; }
.gv-stage g.node { cursor: pointer; }
.gv-stage:focus-visible, .gv-bar button:focus-visible, .gv-search:focus-visible {
  outline: 3px solid #0072b2; outline-offset: 2px; }
.gv-stage g.node:focus { outline: none; }
.gv-stage g.node:focus-visible polygon, .gv-stage g.node:focus-visible path {
  stroke: #0072b2; stroke-width: 5px; }
.gv-stage g.node.gv-selected polygon,
.gv-stage g.node.gv-selected path { stroke: #d62728; stroke-width: 4px; }
.gv-stage g.node.gv-match polygon,
.gv-stage g.node.gv-match path { stroke: #ff7f0e; stroke-width: 3px; }
"""

_JS = (
    "const LIBRARY = "
    + json.dumps(_LIBRARY)
    + r""";

function ensureLibrary() {
  if (!window.svgPanZoom) {
    const script = document.createElement("script");
    script.textContent = LIBRARY;  // a classic script: the bundle sets window.svgPanZoom
    document.head.appendChild(script);
  }
  return window.svgPanZoom;
}

// Touch (issue 26): one finger pans, two pinch to zoom about their midpoint. Pointer Events, so a
// pen works too; the library's own touch listeners (one-finger pan only) are halted, its mouse
// and wheel ones stay. The stage has touch-action: none, so the browser neither scrolls nor
// zooms the page under a finger on the graph.
function touchHandler() {
  const fingers = new Map();
  let last = null, listeners = [];
  const middle = () => {
    const points = [...fingers.values()];
    const x = points.reduce((sum, p) => sum + p.x, 0) / points.length;
    const y = points.reduce((sum, p) => sum + p.y, 0) / points.length;
    const spread = points.length > 1 ? Math.hypot(points[0].x - points[1].x, points[0].y - points[1].y) : 0;
    return { x, y, spread };
  };
  return {
    haltEventListeners: ["touchstart", "touchend", "touchmove", "touchleave", "touchcancel"],
    init({ svgElement, instance }) {
      const down = (event) => {
        if (event.pointerType === "mouse") return;
        fingers.set(event.pointerId, { x: event.clientX, y: event.clientY });
        last = middle();
      };
      const move = (event) => {
        if (!fingers.has(event.pointerId)) return;
        event.preventDefault();
        fingers.set(event.pointerId, { x: event.clientX, y: event.clientY });
        const now = middle();
        if (fingers.size > 1 && last.spread > 0 && now.spread > 0) {
          const frame = svgElement.getBoundingClientRect();
          instance.zoomAtPointBy(now.spread / last.spread, { x: now.x - frame.left, y: now.y - frame.top });
        }
        instance.panBy({ x: now.x - last.x, y: now.y - last.y });
        last = now;
      };
      const up = (event) => {
        fingers.delete(event.pointerId);
        last = fingers.size ? middle() : null;
      };
      listeners = [["pointerdown", down], ["pointermove", move], ["pointerup", up], ["pointercancel", up]];
      for (const [name, handler] of listeners) svgElement.addEventListener(name, handler);
    },
    destroy({ svgElement }) {
      for (const [name, handler] of listeners) svgElement.removeEventListener(name, handler);
      fingers.clear();
    },
  };
}

export default function (component) {
  const { parentElement, data, setStateValue } = component;
  const root = parentElement.querySelector(".gv");
  const stage = root.querySelector(".gv-stage");
  const words = data.words;
  root.querySelector(".gv-fit").textContent = words.fit;
  root.querySelector(".gv-in").title = words.zoom_in;
  root.querySelector(".gv-out").title = words.zoom_out;
  // names for screen readers (WCAG 4.1.2): "+" and "−" say nothing, a placeholder is no label
  root.querySelector(".gv-in").setAttribute("aria-label", words.zoom_in);
  root.querySelector(".gv-out").setAttribute("aria-label", words.zoom_out);
  const search = root.querySelector(".gv-search");
  search.placeholder = words.search;
  search.setAttribute("aria-label", words.search);
  stage.setAttribute("aria-label", words.keys);
  // the buttons and the search box are shown once they have their names: the template is drawn
  // before this script runs, and a button without a name is a screen reader's "button" (axe
  // caught that moment on the Graph page); data-ready tells tests the viewer is set up
  root.querySelector(".gv-bar").hidden = false;
  stage.style.height = data.height + "px";

  if (root.dataset.svg !== data.svg) {  // a new graph: draw it and set up pan and zoom again
    if (root.panZoom) { root.panZoom.destroy(); root.panZoom = null; }
    stage.innerHTML = data.svg;
    root.dataset.svg = data.svg;
    root.dataset.fromPython = "";
    const svg = stage.querySelector("svg");
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    const panZoom = ensureLibrary()(svg, {
      zoomEnabled: true, controlIconsEnabled: false, fit: false, center: false, contain: false,
      minZoom: 0.02, maxZoom: 20, zoomScaleSensitivity: 0.25, dblClickZoomEnabled: false,
      customEventsHandler: touchHandler(),
    });
    root.panZoom = panZoom;
    // "100 %": one Graphviz point drawn as 4/3 CSS px (realZoom is screen px per SVG unit)
    root.oneToOne = () => {
      panZoom.zoom((4 / 3) * panZoom.getZoom() / panZoom.getSizes().realZoom);
      panZoom.pan({ x: 0, y: 0 });
    };
    root.oneToOne();
    for (const node of svg.querySelectorAll("g.node")) {
      const id = node.querySelector("title")?.textContent;
      if (!id || !data.details[id]) continue;
      node.addEventListener("click", (event) => {
        event.stopPropagation();
        select(id, true);
      });
      // the keyboard (WCAG 2.1.1): Tab reaches each block in the graph's order, Enter or Space
      // opens it; a block that takes focus out of view is brought into it
      node.setAttribute("tabindex", "0");
      node.setAttribute("role", "button");
      node.setAttribute("aria-label", [...node.querySelectorAll("text")].map((x) => x.textContent).join(" "));
      node.addEventListener("keydown", (event) => {
        if (event.key !== "Enter" && event.key !== " ") return;
        event.preventDefault();
        select(id, true);
      });
      node.addEventListener("focus", () => {
        const box = node.getBoundingClientRect(), frame = stage.getBoundingClientRect();
        const outside = box.left < frame.left || box.right > frame.right || box.top < frame.top
          || box.bottom > frame.bottom;
        if (outside) centerOn(node);
      });
    }
  }
  stage.onkeydown = keys;

  function keys(event) {  // on the graph (or a block in it): arrows pan, + and - zoom, 0 is 100 %
    const pan = { ArrowLeft: [80, 0], ArrowRight: [-80, 0], ArrowUp: [0, 80], ArrowDown: [0, -80] };
    if (pan[event.key]) root.panZoom.panBy({ x: pan[event.key][0], y: pan[event.key][1] });
    else if (event.key === "+" || event.key === "=") root.panZoom.zoomIn();
    else if (event.key === "-" || event.key === "_") root.panZoom.zoomOut();
    else if (event.key === "0") root.oneToOne();
    else return;
    event.preventDefault();
    event.stopPropagation();  // presentation mode's arrows switch pages: not while on the graph
  }

  function select(id, report) {
    root.dataset.current = id;
    for (const node of stage.querySelectorAll("g.node.gv-selected")) node.classList.remove("gv-selected");
    for (const node of stage.querySelectorAll("g.node")) {
      if (node.querySelector("title")?.textContent === id) node.classList.add("gv-selected");
    }
    if (report) {  // Python says its details, above the graph; its echo must not move the view
      root.dataset.fromPython = id;
      // each report is a new value (REPORT_MARK): see graph_viewer's docstring
      setStateValue("selected", id + "@" + Date.now() + "." + Math.random().toString(36).slice(2, 6));
    }
  }

  function centerOn(node) {  // screen coordinates: Graphviz nests its own transforms
    const target = node.getBoundingClientRect();
    const frame = stage.getBoundingClientRect();
    root.panZoom.panBy({
      x: frame.left + frame.width / 2 - (target.left + target.width / 2),
      y: frame.top + frame.height / 2 - (target.top + target.height / 2),
    });
  }

  function showAll(nodes) {  // zoom so that every node found is in view (not past 150 %), then centre them
    const box = () => {
      const rects = nodes.map((n) => n.getBoundingClientRect());
      const left = Math.min(...rects.map((r) => r.left)), right = Math.max(...rects.map((r) => r.right));
      const top = Math.min(...rects.map((r) => r.top)), bottom = Math.max(...rects.map((r) => r.bottom));
      return { left, top, width: right - left, height: bottom - top };
    };
    const frame = stage.getBoundingClientRect();
    const first = box();
    const fit = Math.min(0.9 * frame.width / Math.max(first.width, 1),
                         0.9 * frame.height / Math.max(first.height, 1));
    const largest = 2 * panZoom().getZoom() / panZoom().getSizes().realZoom;  // 150 % of "100 %"
    panZoom().zoom(Math.min(panZoom().getZoom() * fit, largest));
    const now = box();
    panZoom().panBy({
      x: frame.left + frame.width / 2 - (now.left + now.width / 2),
      y: frame.top + frame.height / 2 - (now.top + now.height / 2),
    });
  }
  const panZoom = () => root.panZoom;

  root.querySelector(".gv-in").onclick = () => root.panZoom.zoomIn();
  root.querySelector(".gv-out").onclick = () => root.panZoom.zoomOut();
  root.querySelector(".gv-fit").onclick = () => { root.panZoom.fit(); root.panZoom.center(); };
  root.querySelector(".gv-one").onclick = () => root.oneToOne();
  search.onkeydown = (event) => {
    if (event.key !== "Enter") return;
    const query = search.value.trim().toLowerCase();
    for (const node of stage.querySelectorAll("g.node.gv-match")) node.classList.remove("gv-match");
    if (!query) { root.querySelector(".gv-found").textContent = ""; return; }
    const nodes = [...stage.querySelectorAll("g.node")];
    const infoOf = (node) => data.details[node.querySelector("title")?.textContent];
    // a block's exact name finds that block (inside its folded "x n" node too); else any part
    let hits = nodes.filter((node) => infoOf(node)?.names.some((n) => n.toLowerCase() === query));
    if (!hits.length) hits = nodes.filter((node) => infoOf(node)?.search.toLowerCase().includes(query));
    hits.forEach((node) => node.classList.add("gv-match"));
    root.querySelector(".gv-found").textContent = words.found.replace("{n}", hits.length);
    if (hits.length) {
      showAll(hits);
      select(hits[0].querySelector("title").textContent, true);
    }
  };
  // Python's selection (a block picked in the list) is followed when it changes; a run that
  // started from a click or a search here still carries the one before, which must not undo it
  if (data.selected && data.selected !== root.dataset.fromPython) {
    root.dataset.fromPython = data.selected;
    select(data.selected, false);
    const node = [...stage.querySelectorAll("g.node")].find(
      (n) => n.querySelector("title")?.textContent === data.selected);
    if (node) centerOn(node);
  } else if (root.dataset.current) {
    select(root.dataset.current, false);  // a redrawn graph keeps the selection
  }
  root.dataset.ready = "1";
}
"""
)

_COMPONENT = None


def _component():
    global _COMPONENT
    if _COMPONENT is None:  # registered once per process, on first use
        _COMPONENT = st.components.v2.component("mobilenet_graph_viewer", html=_HTML, css=_CSS, js=_JS)
    return _COMPONENT


def graph_viewer(svg: str, details: dict[str, dict], words: dict[str, str], key: str, height: int = 620,
                 selected: str | None = None, on_select=None) -> str | None:  # fmt: skip
    """Draw the interactive graph; returns the id of the node the user selected (or None).
    `on_select(node)` is called when a click or a search selects a node, before the run that
    follows draws anything (so what is drawn above the graph already knows it).

    Every click or search reports a new value (the node id and a unique mark), so `on_select` is
    called for each, even for the node already selected. With the bare id a selection was lost
    beside a CPU hog: a search started a run, whose callback set the block list's value; a click on
    the same block (or any widget) during that run sent a rerun carrying the list's old value from
    the browser and an unchanged viewer value, so no callback ran again and the old value won: the
    details of the block before stayed (websocket log in the issue 22 note). A new value each time
    makes the run that follows call `on_select` again."""

    def selected_now() -> None:
        state = st.session_state.get(key)
        node = state.get("selected") if isinstance(state, dict) else getattr(state, "selected", None)
        if on_select is not None:
            on_select(_node(node))

    result = _component()(
        data={"svg": svg, "details": details, "words": words, "height": height, "selected": selected},
        key=key,
        default={"selected": selected},
        on_selected_change=selected_now,
    )
    return _node(getattr(result, "selected", None) if result is not None else None)


REPORT_MARK = "@"  # node ids are Graphviz names (n_blocks_3_1, ...): they never hold an "@"


def _node(reported: str | None) -> str | None:
    """The node id of a report ("<id>@<when>"), or None."""
    return reported.split(REPORT_MARK, 1)[0] if reported else reported

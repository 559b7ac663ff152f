"""The page says which language it is in (<html lang="zh"> in the Chinese interface): screen readers
choose their voice by it, browsers their fonts and line breaking (WCAG 2.1, 3.1.1 Language of
Page). Streamlit writes lang="en" whatever the content; a components-v2 script, which runs in the
page itself, sets the attribute from the interface's language on every run.

The same script puts Streamlit's and Plotly's own English words into the page's language (WCAG
3.1.2 Language of Parts; a Chinese voice reading "Upload" or "Collapse sidebar"): Streamlit 1.67
has no setting for them (the file uploader's "Upload", "200MB per file", "Remove <file>", the
camera's "Take Photo" / "Clear photo", the sidebar's "Collapse sidebar", the data tables' "Search",
Plotly's "Zoom in", ...; they are literals in its frontend bundle). A style cannot rename an
aria-label, so a MutationObserver rewrites these exact words, in text inside the uploader and the
camera and in aria-label / title / placeholder anywhere, from the locale files. It keeps each
node's English original, so a switch back to English restores it; it never touches our own words
(only an exact match of one of Streamlit's strings, or of one of PATTERNS, is rewritten). React
sets a text again only when its own value changes, and then the observer rewrites it again.

The observer also names a slider's thumb once (see sliderName: Streamlit's markup says the label
twice). (The navigation marks its own link to the page shown: app/navigation.py.)

Upstream report for the slider (to file at github.com/streamlit/streamlit; not filed from here):
  Title: A slider's accessible name repeats its label ("Width Width").
  Streamlit 1.67.0, Chromium. `import streamlit as st; st.slider("Width", 0, 10)`. The thumb's
  <input type="range"> has aria-label="Width" and aria-labelledby="<its own id> <the group's id>",
  and the group has aria-label="Width", so the name computed for the thumb is "Width Width"
  (Chromium's accessibility tree; a screen reader reads the label twice). Expected: "Width". The
  pattern fits a range slider whose thumbs have their own labels ("Minimum", "Maximum"); for one
  thumb labelled like its group, label the thumb by the group only."""

from __future__ import annotations

from app.i18n import speaking, t

# Streamlit 1.67's and Plotly's built-in English (exactly as their bundles write it) -> our key
BUILTIN = {
    "Upload": "sw_upload",
    "Upload directories": "sw_upload",
    "Add files": "sw_add_files",
    "Drag and drop files here": "sw_drop_files",
    "Drag and drop a file here": "sw_drop_files",
    "Click to retry upload": "sw_retry_upload",
    "file upload": "sw_file_upload",
    "Take Photo": "sw_take_photo",
    "Clear photo": "sw_clear_photo",
    "Uploading...": "sw_uploading",
    "Switch camera": "sw_switch_camera",
    "This app would like to use your camera.": "sw_camera_ask",
    "Learn how to allow access.": "sw_camera_how",
    "Snapshot": "sw_snapshot",
    "Sidebar": "sw_sidebar",
    "Collapse sidebar": "sw_collapse_sidebar",
    "Expand sidebar": "sw_expand_sidebar",
    "Choose an option": "sw_choose_option",
    "Open": "sw_open",
    "Close": "sw_close",
    "Link to heading": "sw_link_heading",
    "Decrement": "sw_decrement",
    "Increment": "sw_increment",
    "Show/hide columns": "sw_columns",
    "Download as CSV": "sw_download_csv",
    "Search": "sw_search",
    "Fullscreen": "sw_fullscreen",
    "Close fullscreen": "sw_close_fullscreen",
    "Download plot as a PNG": "sw_download_png",
    "Zoom": "sw_zoom",
    "Pan": "sw_pan",
    "Zoom in": "sw_zoom_in",
    "Zoom out": "sw_zoom_out",
    "Autoscale": "sw_autoscale",
    "Reset axes": "sw_reset_axes",
    "Box Select": "sw_box_select",
    "Lasso Select": "sw_lasso_select",
}
# the built-in words with a part of their own: (regular expression, key, the part's name)
PATTERNS = [
    (r"^(\S+) per file$", "sw_per_file", "size"),
    (r"^Remove (.+)$", "sw_remove", "name"),
    (r"^Help for (.+)$", "sw_help_for", "label"),
    (r"^Fullscreen: (.+)$", "sw_fullscreen_of", "label"),  # an image's, with its caption
]

LANGUAGE_JS = r"""
const TEXT_IN = '[data-testid="stFileUploader"], [data-testid="stCameraInput"]';
const ATTRS = ["aria-label", "title", "placeholder", "data-title"];
const ORIGINAL = new WeakMap();  // node -> its English text; element -> {attribute: English}

function word(english, cfg) {
  if (Object.hasOwn(cfg.words, english)) return cfg.words[english];
  for (const [source, template, part] of cfg.patterns) {
    const m = english.match(new RegExp(source));
    if (m) return template.replace("{" + part + "}", m[1]);
  }
  return null;
}

function text(node, cfg) {
  const el = node.parentElement;
  if (!el || !el.closest(TEXT_IN)) return;
  const kept = ORIGINAL.get(node), current = node.nodeValue.trim();
  const english = kept && current === kept.said ? kept.english : current;  // React may write anew
  const said = english && word(english, cfg);
  if (said === null || said === undefined) return;
  ORIGINAL.set(node, { english, said });
  const now = node.nodeValue.replace(node.nodeValue.trim(), said);
  if (node.nodeValue !== now) node.nodeValue = now;
}

function attributes(el, cfg) {
  for (const name of ATTRS) {
    const value = el.getAttribute(name);
    if (!value) continue;
    const kept = ORIGINAL.get(el) || {};
    const english = kept[name] && (value === kept[name + ":said"]) ? kept[name] : value;
    const said = word(english, cfg);
    if (said === null || said === undefined) continue;
    kept[name] = english; kept[name + ":said"] = said;
    ORIGINAL.set(el, kept);
    if (value !== said) el.setAttribute(name, said);
  }
}

// A slider's thumb (Streamlit 1.67's react-aria slider) is named by itself and by its group, both
// labelled with the slider's label, so a screen reader said it twice ("Width multiplier α Width
// multiplier α"): the thumb keeps the group's name only.
const RANGE = 'input[type="range"][aria-labelledby]';
function sliderName(el) {
  if (!el.matches(RANGE)) return;
  const ids = el.getAttribute("aria-labelledby").split(/\s+/), label = el.getAttribute("aria-label");
  const others = ids.filter((id) => id && id !== el.id);
  if (others.length === ids.length || !others.length) return;
  if (others.every((id) => document.getElementById(id)?.getAttribute("aria-label") === label))
    el.setAttribute("aria-labelledby", others.join(" "));
}

function sweep(root, cfg) {
  if (root.nodeType === Node.TEXT_NODE) return text(root, cfg);
  if (root.nodeType !== Node.ELEMENT_NODE) return;
  attributes(root, cfg);
  sliderName(root);
  root.querySelectorAll(RANGE).forEach(sliderName);
  root.querySelectorAll("[aria-label], [title], [placeholder], [data-title]")
    .forEach((e) => attributes(e, cfg));
  if (!root.closest(TEXT_IN) && !root.querySelector(TEXT_IN)) return;
  const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) text(n, cfg);
}

export default function (component) {
  const { lang, words, patterns } = component.data;
  document.documentElement.lang = lang;
  window.mobilenetWords = { words, patterns };
  if (!window.mobilenetWordsObserver) {
    window.mobilenetWordsObserver = new MutationObserver((records) => {
      const cfg = window.mobilenetWords;
      for (const r of records) {
        if (r.type === "childList") r.addedNodes.forEach((n) => sweep(n, cfg));
        else if (r.type === "characterData") text(r.target, cfg);
        else { attributes(r.target, cfg); sliderName(r.target); }
      }
    });
    window.mobilenetWordsObserver.observe(document.body, { subtree: true, childList: true,
      characterData: true, attributes: true, attributeFilter: [...ATTRS, "aria-labelledby"] });
  }
  sweep(document.body, window.mobilenetWords);
}
"""

# The script's data per language, built on first use: the same for every session and only read
# (Streamlit serialises it into the session's message), so the class shares one. Two sessions
# building it at once build equal dicts; the last one stays.
_DATA: dict[str, dict] = {}


def language_data(lang: str) -> dict:
    """LANGUAGE_JS's data (app.page_script runs it on every run)."""
    if lang not in _DATA:
        with speaking(lang):
            words = {english: t(key) for english, key in BUILTIN.items()}
            patterns = [[source, t(key), part] for source, key, part in PATTERNS]
        _DATA[lang] = {"lang": lang, "words": words, "patterns": patterns}
    return _DATA[lang]

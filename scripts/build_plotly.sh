#!/usr/bin/env bash
# Build app/static/plotly-mobilenet.min.js: Plotly.js with only the trace types the app draws
# (app/chart.py says why). The bundle is committed; run this to rebuild it, e.g. for another
# Plotly.js version (keep it the one the `plotly` Python package writes figures for:
# .venv/lib/python3.11/site-packages/plotly/package_data/plotly.min.js names it on its first line).
# Needs node and npm (the npm registry). The trace list must cover app.common.TRACE_TYPES.
set -euo pipefail
cd "$(dirname "$0")/.."
PLOTLY=4.1.1
ESBUILD=0.28.2
out=app/static
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat > "$work/entry.js" <<'JS'
import Plotly from "plotly.js/lib/core";
import bar from "plotly.js/lib/bar";
import scatter from "plotly.js/lib/scatter";
import heatmap from "plotly.js/lib/heatmap";
import image from "plotly.js/lib/image";
import waterfall from "plotly.js/lib/waterfall";

Plotly.register([bar, scatter, heatmap, image, waterfall]);
export default Plotly;
JS
(cd "$work" && npm init -y >/dev/null && npm install --no-audit --no-fund --ignore-scripts \
  "plotly.js@$PLOTLY" "esbuild@$ESBUILD" "buffer@6.0.3" >/dev/null)  # buffer: the image trace's
# Plotly's own build settings (its esbuild-config.js): `global` is the window, no AMD loader.
# Its CSS for map traces (maplibre), which this bundle has none of, is left out (--outdir's .css).
(cd "$work" && npx esbuild entry.js --bundle --minify --format=esm --target=es2020 \
  --legal-comments=none --define:global=window --define:define.amd=false \
  --alias:stream=stream-browserify --metafile=meta.json --outdir=build)
mkdir -p "$out"
{ echo "/*! plotly.js v$PLOTLY (bar, scatter, heatmap, image, waterfall) | MIT, Plotly Technologies Inc.; its packages' licences in plotly-mobilenet.licenses.txt | built by scripts/build_plotly.sh */"
  cat "$work/build/entry.js"; } > "$out/plotly-mobilenet.min.js"
# the licence of every npm package with code in the bundle (esbuild's metafile lists the inputs)
(cd "$work" && node -e '
const fs = require("fs"), path = require("path");
const meta = JSON.parse(fs.readFileSync("meta.json"));
const used = new Set();
for (const out of Object.values(meta.outputs)) for (const [input, info] of Object.entries(out.inputs)) {
  const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (m && info.bytesInOutput > 0) used.add(m[1]);
}
const parts = [];
for (const name of [...used].sort()) {
  const dir = path.join("node_modules", name), pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json")));
  const file = fs.readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  parts.push(`## ${name} ${pkg.version} (${pkg.license})\n\n` + (file ? fs.readFileSync(path.join(dir, file), "utf8").trim() : "(no licence file in the package)"));
}
fs.writeFileSync("LICENSES", "Licences of the npm packages in plotly-mobilenet.min.js (scripts/build_plotly.sh)\n\n" + parts.join("\n\n") + "\n");
')
cp "$work/LICENSES" "$out/plotly-mobilenet.licenses.txt"
ls -l "$out"

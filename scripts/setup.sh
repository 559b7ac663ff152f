#!/usr/bin/env bash
# Create .venv at the repo root and install what the app needs; with --test, also what the
# test suite needs (pytest, hypothesis, ruff, Playwright, and Debian's chromium, CJK fonts, nginx).
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=0
[[ "${1:-}" == "--test" ]] && with_tests=1

if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)
# torch first and pinned: the CPU build. A loose range would pull a multi-GB CUDA build.
"${pip[@]}" install "torch==2.13.0"
if (( with_tests )); then
  "${pip[@]}" install -e ".[test]"
else
  "${pip[@]}" install -e .
fi

# Graphviz's `dot` renders the layer graph to PNG / SVG for download.
need_apt=()
command -v dot >/dev/null || need_apt+=(graphviz)
if (( with_tests )); then
  [[ -x /usr/bin/chromium ]] || need_apt+=(chromium)
  fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need_apt+=(fonts-noto-cjk)
  # scripts/serve.sh puts replicas behind nginx; tests/test_serve.py starts it
  command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || need_apt+=(nginx)
fi
install_apt() {
  local sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  echo "installing Debian packages: $*"
  "${sudo_cmd[@]}" apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
if (( ${#need_apt[@]} )); then
  if (( with_tests )); then
    install_apt "${need_apt[@]}"  # the browser tests need chromium: fail loudly
  else
    # the app runs without Graphviz's dot (the browser lays graphs out, slower): a warning only
    install_apt "${need_apt[@]}" || echo "warning: could not install ${need_apt[*]}; graphs render in the browser" >&2
  fi
fi

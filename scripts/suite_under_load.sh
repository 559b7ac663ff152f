#!/usr/bin/env bash
# The whole suite, several times in a row, in a fresh clone of HEAD, while another CPU-heavy
# process runs (issue 22: "a suite that passes anywhere"). The hog is one pure-Python process
# doing float arithmetic in a tight loop for as long as the runs last (one core at 100 %), so on a
# 2-core machine the suite has about one core. Stops at the first failing run; prints each run's time and pytest's last line.
#
#   bash scripts/suite_under_load.sh [runs (3)] [work dir (a new /tmp dir)]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-3}"
work="${2:-$(mktemp -d /tmp/suite-under-load.XXXX)}"
mkdir -p "$work"
git clone -q "$repo" "$work/main"
# CI clones main with ../shared beside it; do the same when this checkout has one
[ -d "$repo/../shared" ] && [ ! -e "$work/shared" ] && ln -s "$(cd "$repo/../shared" && pwd)" "$work/shared"
log="$work/runs.log"
echo "suite under load: $(git -C "$work/main" log --oneline -1) on $(nproc) cores" | tee "$log"

python3 -c '
import array, time
a = array.array("d", range(4096))
while True:
    s = 0.0
    for x in a:
        s += x * 1.0000001
' &
hog=$!
trap 'kill $hog 2>/dev/null || true' EXIT

for i in $(seq 1 "$runs"); do
    start=$(date +%s)
    status=0
    (cd "$work/main" && CI=true bash scripts/test.sh) >"$work/run$i.out" 2>&1 || status=$?
    took=$(( $(date +%s) - start ))
    echo "run $i: exit $status after ${took} s ($(date -u +%H:%M) UTC, load $(cut -d' ' -f1-3 /proc/loadavg)):" \
        "$(grep -E '^=+ .*(passed|failed|error)' "$work/run$i.out" | tail -1)" | tee -a "$log"
    [ "$status" -eq 0 ] || { echo "run $i failed: $work/run$i.out" | tee -a "$log"; exit "$status"; }
done
echo "all $runs runs passed; logs in $work" | tee -a "$log"

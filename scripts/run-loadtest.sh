#!/usr/bin/env bash
# Run one k6 case of loadtests/ against the running stack and keep everything it measured:
#
#   scripts/run-loadtest.sh CASE [extra k6 run args]     (make loadtest CASE=02-baseline VUS=5 DURATION=20s)
#
# CASE: 02-baseline, 02, 02-baseline.js or a path to a script. Into
# $RESULTS_DIR/<UTC timestamp>-<case>/ (default results/loadtests/) it writes:
#   overrides.json    the case settings given in the environment and extra k6 args (none: as specified)
#   raw.ndjson        every k6 sample (--out json; git-ignored, can be large)
#   k6-summary.json   k6's end-of-test summary (--summary-export; tokens removed afterwards)
#   k6-output.txt     k6's console output
#   pipeline.json     accepted (k6) vs delivered (Cassandra statuses + provider ledgers), lag
#   resources.json    CPU and memory per process, consumer lag, while k6 ran (benchmarks.resources)
#   summary.md/.json, latency.png, throughput.png   python -m benchmarks.k6_analysis
# Before the run it waits briefly for earlier traffic to drain and snapshots the stack's counters;
# after it, it waits up to DRAIN_TIMEOUT_S (120) for sum(kafka_consumer_lag) == 0.
# Every case's env overrides (VUS, DURATION, RATE, STAGE_S, ...) pass through to k6; where the stack
# is comes from `python -m devstack urls` (CHAT4ALL_API_URL, PROMETHEUS_URL, ... override it).
# Exit code: k6's (0 ok, 99 thresholds crossed, ...), or 2 for a usage error.
set -uo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: $0 CASE [extra k6 run args]   (cases: $(cd loadtests && ls 0*.js | sed 's/\.js$//' | tr '\n' ' '))" >&2; exit 2; }
[[ $# -ge 1 && -n "$1" ]] || usage
case_arg=$1; shift

if [[ -f "$case_arg" ]]; then
  script=$case_arg
else
  matches=(loadtests/"${case_arg%.js}"*.js)
  [[ ${#matches[@]} -eq 1 && -f "${matches[0]}" ]] || { echo "no single loadtests/ case matches '$case_arg'" >&2; usage; }
  script=${matches[0]}
fi
name=$(basename "$script" .js)

VENV="${CHAT4ALL_CACHE_DIR:-$HOME/.cache/chat4all}/venv"
K6=${K6:-$VENV/bin/k6}
PY=${PYTHON:-$VENV/bin/python}
addresses=$("$PY" -m devstack urls --shell) || exit 2
eval "$addresses"  # API_URL for k6, and the same addresses for the accounting
results_root=${RESULTS_DIR:-results/loadtests}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
dir="$results_root/$stamp-$name"
n=1
while [[ -e "$dir" ]]; do n=$((n + 1)); dir="$results_root/$stamp-$name-$n"; done
mkdir -p "$dir"
export RUN_ID="${RUN_ID:-${stamp,,}$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')}"

echo "[loadtest] $name -> $dir (run id $RUN_ID)"
# What this run changed from the case's defaults: the cases' env settings that are set, and extra k6
# arguments (overrides.json; the report cites only runs without overrides, made as specified).
settings=$(grep -ohE 'env(Str|Int|Num)\("[A-Z0-9_]+"' loadtests/*.js loadtests/lib/*.js | sed -E 's/.*\("//; s/"//' \
  | grep -vxE 'RUN_ID|WS_URL|ADDRESSES' | sort -u)
# shellcheck disable=SC2086 # one argument per setting name
"$PY" -c 'import json, os, sys
print(json.dumps({"env": {k: os.environ[k] for k in sys.argv[2:] if k in os.environ},
                  "k6_args": sys.argv[1].split()}))' "$*" $settings > "$dir/overrides.json"
"$PY" -m benchmarks.accounting before "$dir" || echo "[loadtest] warning: no snapshot before the run" >&2

# CPU, memory and consumer lag while k6 runs (resources.json; the analysis keeps the load window).
"$PY" -m benchmarks.resources record "$dir" &
sampler=$!
"$K6" run --out "json=$dir/raw.ndjson" --summary-export "$dir/k6-summary.json" "$@" "$script" 2>&1 \
  | tee "$dir/k6-output.txt"
rc=${PIPESTATUS[0]}
kill -TERM "$sampler" 2>/dev/null && wait "$sampler" || echo "[loadtest] warning: no resources.json" >&2
ended=$(date +%s.%N)
echo "[loadtest] k6 exited $rc; waiting for the pipeline to drain"

"$PY" -m benchmarks.accounting after "$dir" --since "$ended" --k6-exit "$rc" --case "$name" \
  || echo "[loadtest] warning: pipeline accounting failed" >&2
if [[ -s "$dir/raw.ndjson" ]]; then
  "$PY" -m benchmarks.k6_analysis "$dir" || echo "[loadtest] warning: analysis failed" >&2
fi
echo "[loadtest] results in $dir (k6 exit $rc)"
exit "$rc"

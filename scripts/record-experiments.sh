#!/usr/bin/env bash
# Every single-node fault experiment for the record, in `make experiments` order, on the running
# stack (make up first), with the live dashboards captured in Chromium during the failover:
#
#   scripts/record-experiments.sh [NAME ...]      (default: every experiment of experiments/cases.py)
#
# The failover experiment kills a router about 60 s after it starts and restarts it at 120 s; the
# capture starts FAILOVER_SHOT_AT_S (85) seconds after it, while one router is down, and writes
# results/dashboards/live-failover/. Each experiment writes results/experiments/<name>/.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-${CHAT4ALL_CACHE_DIR:-$HOME/.cache/chat4all}/venv/bin/python}
names=("$@")
if [[ ${#names[@]} -eq 0 ]]; then
  mapfile -t names < <("$PY" -c 'from experiments.cases import CASES; print("\n".join(CASES))')
fi
status=0
for name in "${names[@]}"; do
  shot=""
  if [[ $name == failover ]]; then
    ( sleep "${FAILOVER_SHOT_AT_S:-85}" && "$PY" -m monitoring.live --out results/dashboards/live-failover --settle 4 ) &
    shot=$!
  fi
  "$PY" -m experiments "$name" || { status=1; echo "[experiments] $name: a check failed (see its summary.md)"; }
  if [[ -n $shot ]]; then
    wait "$shot" || echo "[experiments] live dashboards: a panel drew nothing (see summary.json)"
  fi
done
exit "$status"

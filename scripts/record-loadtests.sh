#!/usr/bin/env bash
# Every k6 case for the record, in the assignment's order, on the running stack (make up first):
#
#   scripts/record-loadtests.sh [CASE ...]       (make loadtests; default: 01 to 08)
#
# Each case runs with its defaults (the assignment's configuration) through scripts/run-loadtest.sh,
# into results/loadtests/<stamp>-<case>/. During 02-baseline the live dashboards are screenshotted
# in Chromium (results/dashboards/live-load/), so the report shows them under load. Cases run one
# after another with a pause between them, so one case's drain does not load the next. At the end,
# monitoring.log_audit checks the services' logs (results/logs/latest.json).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-${CHAT4ALL_CACHE_DIR:-$HOME/.cache/chat4all}/venv/bin/python}
cases=("$@")
[[ ${#cases[@]} -gt 0 ]] || cases=(01-warmup 02-baseline 03-spike 04-file-upload 05-stress 06-soak 07-capacity 08-websocket)
SCREENSHOT_AT_S=${SCREENSHOT_AT_S:-150}
status=0
for case in "${cases[@]}"; do
  shot=""
  if [[ $case == 02-baseline* ]]; then
    # Mid-run: the dashboards' rate panels cover minutes of steady load by then.
    ( sleep "$SCREENSHOT_AT_S" && "$PY" -m monitoring.live --out results/dashboards/live-load --settle 4 ) &
    shot=$!
  fi
  bash scripts/run-loadtest.sh "$case"
  rc=$?
  echo "[loadtests] $case: k6 exit $rc"
  # 99: a threshold crossed (a measured outcome, kept as a result); anything else is a failure.
  [[ $rc -eq 0 || $rc -eq 99 ]] || status=1
  [[ -n $shot ]] && { wait "$shot" || echo "[loadtests] live dashboards: a panel drew nothing (see summary.json)"; }
  sleep "${PAUSE_S:-20}"
done
# Every line our services logged during the runs, checked for the structured fields.
"$PY" -m monitoring.log_audit || status=1
exit "$status"

#!/usr/bin/env bash
# `make test`: ruff, start the local stack if it is not up, run every test against it, stop the
# stack again only if this script started it (even when tests fail or are interrupted), then the
# stack as 3-node clusters (scripts/cluster-test.sh), then the docker-compose deployment on a real
# engine (scripts/compose-test.sh).
# Arguments go to pytest and select tests of the local stage only (the other stages are skipped).
# CHAT4ALL_SKIP_UNIT=1 leaves out what `make unit` ran (CI ran it just before): the integration
# tests, the slow ones and those needing the full install only.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV="${CHAT4ALL_CACHE_DIR:-$HOME/.cache/chat4all}/venv"
PY="$VENV/bin/python"

"$VENV/bin/ruff" check . || exit 1

started="$(mktemp)"
stop_local_stack() {
  if [[ "$(cat "$started" 2>/dev/null)" == 1 ]]; then "$PY" -m devstack down; fi
  echo 0 >"$started"
}
trap 'stop_local_stack; rm -f "$started"' EXIT
trap 'exit 130' INT TERM

"$PY" -m devstack up --started-file "$started" || exit 1
selection=()
[[ "${CHAT4ALL_SKIP_UNIT:-}" == 1 ]] && selection=(-m "integration or slow or installed")
"$PY" -m pytest ${selection[@]+"${selection[@]}"} "$@"  # tests/compose is collected only by the compose stage
rc=$?
stop_local_stack  # the compose stage gets the machine's two cores to itself
if [[ $# -eq 0 ]]; then
  scripts/cluster-test.sh
  cluster_rc=$?
  [[ $rc -ne 0 ]] || rc=$cluster_rc
  scripts/compose-test.sh
  compose_rc=$?
  [[ $rc -ne 0 ]] || rc=$compose_rc
fi
exit "$rc"

#!/usr/bin/env bash
# `make test`: lint, start the local stack if it is not up, run every test, and stop the stack
# again only if this script started it (even when tests fail or are interrupted).
set -uo pipefail
cd "$(dirname "$0")/.."
VENV="${CHAT4ALL_CACHE_DIR:-$HOME/.cache/chat4all}/venv"
PY="$VENV/bin/python"

"$VENV/bin/ruff" check . || exit 1

started="$(mktemp)"
cleanup() {
  if [[ "$(cat "$started" 2>/dev/null)" == 1 ]]; then "$PY" -m devstack down; fi
  rm -f "$started"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$PY" -m devstack up --started-file "$started" || exit 1
"$PY" -m pytest "$@"

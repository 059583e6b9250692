#!/usr/bin/env bash
# `make cluster-test` (and the cluster stage of `make test`): the local stack as 3-node Kafka and
# Cassandra clusters (`CLUSTER=3`, devstack/cluster.py) in a state directory of its own
# (state/cluster), the tests under tests/cluster against it, then that stack stopped again.
# The clusters take the single-node stack's addresses (127.0.0.1 is node 1): a local stack that
# is running is stopped first and started again afterwards. Arguments go to pytest.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV="${CHAT4ALL_CACHE_DIR:-$HOME/.cache/chat4all}/venv"
PY="$VENV/bin/python"

single_was_running=0
if "$PY" -m devstack ctl pid >/dev/null 2>&1; then
  echo "[cluster-test] stopping the running local stack (started again at the end)"
  "$PY" -m devstack down && single_was_running=1
fi

state_before="${CHAT4ALL_STATE_DIR:-}"  # the local stack's own (usually unset: state/)
export CHAT4ALL_STATE_DIR="$PWD/state/cluster" CHAT4ALL_CLUSTER_TEST=1
started="$(mktemp)"
finish() {
  if [[ "$(cat "$started" 2>/dev/null)" == 1 ]]; then "$PY" -m devstack down; fi
  rm -f "$started"
  if [[ $single_was_running == 1 ]]; then
    echo "[cluster-test] starting the local stack again"
    env -u CHAT4ALL_STATE_DIR -u CHAT4ALL_CLUSTER_TEST ${state_before:+CHAT4ALL_STATE_DIR="$state_before"} \
      "$PY" -m devstack up >/dev/null || echo "[cluster-test] make up failed: run it again"
  fi
}
trap finish EXIT
trap 'exit 130' INT TERM

CLUSTER=3 "$PY" -m devstack up --started-file "$started" || exit 1
"$PY" -m pytest tests/cluster "$@"

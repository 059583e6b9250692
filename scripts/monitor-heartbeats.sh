#!/usr/bin/env bash
# Alert when a Chat4All service stops logging heartbeats (silent > 60 s by default).
#   scripts/monitor-heartbeats.sh                      # local stack: follows state/logs/*.log
#   scripts/monitor-heartbeats.sh --once               # exit 1 if a service is silent now
#   docker compose logs -f | scripts/monitor-heartbeats.sh --stdin
# On the local stack a program stopped on purpose (a spare) is reported STOPPED, not silent:
# devstack.heartbeats hands supervisord's program states to the monitor.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${CHAT4ALL_CACHE_DIR:-$HOME/.cache/chat4all}/venv/bin/python"
[ -x "$PY" ] || PY=python3
exec "$PY" -m devstack.heartbeats "$@"

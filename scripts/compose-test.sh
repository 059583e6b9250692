#!/usr/bin/env bash
# `make compose-test`: the docker-compose deployment run for real (tests/compose). Installs what it
# needs into the cache (the local stack's artifacts the stand-in images are built from, a Docker
# engine and compose v2), starts the engine unless it runs, builds or reuses the images, brings
# docker-compose.yml up with deploy/compose/standins.override.yml on host ports moved by +20000
# (so it never collides with `make up`), runs the tests, and stops everything it started; then the
# same for docker-compose.cluster.yml over it (tests/compose_cluster).
#   CHAT4ALL_COMPOSE_KEEP=1 scripts/compose-test.sh   leaves the deployment running to look at it
set -uo pipefail
cd "$(dirname "$0")/.."
VENV="${CHAT4ALL_CACHE_DIR:-$HOME/.cache/chat4all}/venv"

bash deploy/install.sh python kafka cassandra s3 prometheus alertmanager nginx engine compose kafka-tools || exit 1
CHAT4ALL_COMPOSE_TEST=1 "$VENV/bin/python" -m pytest tests/compose "$@"
rc=$?
# A failed deployment kept to look at (CHAT4ALL_COMPOSE_KEEP) would be taken down by the next one.
if [[ -n "${CHAT4ALL_COMPOSE_KEEP:-}" && $rc -ne 0 && $rc -ne 5 ]]; then exit "$rc"; fi
# Then the replicated backbone (docker-compose.cluster.yml over it), a deployment of its own.
CHAT4ALL_COMPOSE_TEST=1 "$VENV/bin/python" -m pytest tests/compose_cluster "$@"
cluster_rc=$?
# Arguments (-k …) may select tests of one suite only: the other then has none to run (exit 5).
((rc == 5)) && rc=0
((cluster_rc == 5)) && cluster_rc=0
exit $((rc != 0 ? rc : cluster_rc))

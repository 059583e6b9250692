#!/usr/bin/env bash
# The Chat4All demo (about 8 minutes; --fast about 2): start the stack, check every service, load it
# with the k6 baseline, send 5 messages with the CLI, SIGKILL a router worker while the load runs,
# watch the lag rise and recover on Prometheus, restart the worker, then account for every message.
#
#   scripts/demo.sh [--local | --compose] [--fast]
#
#   --local    (default) the local stack of `make up`, driven through its process supervisor
#   --compose  the docker-compose deployment (`docker compose` in this directory; COMPOSE_FILE
#              and the URL variables below are honoured, make compose-test runs it that way)
#   --fast     the same flow with a short load (make test runs it)
#
# Where the services are (host side): `python -m devstack urls` (devstack/topology.py), which
# honours CHAT4ALL_API_URL, PROMETHEUS_URL, CONNECTOR_<CHANNEL>_URL and PROVIDER_<CHANNEL>_URL
# (defaults: 127.0.0.1 and the ports `make up` and `docker compose up` publish).
#
# Exit code 0 only if every service answered /health, every message k6 got a 202 for was delivered
# (none twice at the providers) and the 5 CLI messages are DELIVERED.
set -euo pipefail
cd "$(dirname "$0")/.."

runtime=local fast=0
for arg in "$@"; do
  case $arg in
    --local) runtime=local ;;
    --compose) runtime=compose ;;
    --fast) fast=1 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done

VENV="${CHAT4ALL_CACHE_DIR:-$HOME/.cache/chat4all}/venv"
PY=${PYTHON:-$VENV/bin/python}
addresses=$("$PY" -m devstack urls --shell)
eval "$addresses"  # exported: the load test and its accounting (scripts/run-loadtest.sh) read them too
API=$CHAT4ALL_API_URL PROM=$PROMETHEUS_URL
CONNECTORS="$CONNECTOR_WHATSAPP_URL $CONNECTOR_INSTAGRAM_URL"
if [[ $fast == 1 ]]; then LOAD_S=60 KILL_AT=12 RESTART_AT=42 VUS=5; else LOAD_S=300 KILL_AT=60 RESTART_AT=120 VUS=20; fi
STEPS=10 step_no=0 t0=$SECONDS
work=state/demo/$(date -u +%Y%m%dT%H%M%SZ)  # k6 results and the demo's CLI login (state/ is git-ignored)
mkdir -p "$work"

step() { step_no=$((step_no + 1)); printf '\n[%d/%d] %s  (t=%ds)\n' "$step_no" "$STEPS" "$*" "$((SECONDS - t0))"; }
say() { printf '      %s\n' "$*"; }
json() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# One number from Prometheus (0 when the query has no series yet).
promql() {
  curl -sf --get --data-urlencode "query=$1" "$PROM/api/v1/query" \
    | json 'int(float(d["data"]["result"][0]["value"][1])) if d["data"]["result"] else 0'
}
LAG='sum(kafka_consumer_lag{topic="chat4all.messages"})'
# Partitions of chat4all.messages whose lag a live router reports: a killed worker's vanish at the
# next scrape and come back once the survivor took them over (session timeout + rebalance).
OWNED='count(kafka_consumer_lag{topic="chat4all.messages"})'

# ---- the runtime: the same operations on the local supervisor or on docker compose -------------
if [[ $runtime == local ]]; then
  stack_up() { make --no-print-directory up; }
  # One aligned line per service of the stack (address, UP/DOWN); exit 1 names what is not healthy.
  check_health() { scripts/test-infrastructure.sh | sed 's/^/      /'; }
  second_router() {
    make --no-print-directory ctl ARGS="start router-2" >/dev/null
    wait_http "$DEVSTACK_ROUTER_2_URL/health" 120
  }
  kill_router() { make --no-print-directory ctl ARGS="signal KILL router"; }
  restart_router() { make --no-print-directory ctl ARGS="start router"; wait_http "$DEVSTACK_ROUTER_URL/health" 120; }
  cleanup_runtime() { make --no-print-directory ctl ARGS="stop router-2" >/dev/null || true; }
  urls() {
    say "Live dashboards  $PROM/consoles/index.html  (the Grafana panels, refreshed every 10 s)"
    say "Prometheus  $PROM  (graph: $PROM/graph?g0.expr=$LAG, alerts: $PROM/classic/alerts)"
    say "Alertmanager $ALERTMANAGER_URL/api/v2/alerts  (notifications: state/logs/alert-receiver.log)"
    say "Grafana     runs in the compose deployment (http://127.0.0.1:3000)"
    say "MinIO       $DEVSTACK_S3_CONSOLE_URL"
  }
else
  command -v docker >/dev/null || { echo "--compose needs docker (no Docker engine here?)" >&2; exit 2; }
  stack_up() { docker compose up -d --wait; }
  # `docker compose ps` shows each container's healthcheck; the API (nginx) and the connectors also
  # publish a host port, so their /health is asked from here (the router's is in the ps above).
  check_health() {
    docker compose ps
    local url code
    for url in $API $CONNECTORS; do
      code=$(curl -s -o /dev/null -w '%{http_code}' "$url/health" || true)
      say "$url/health -> $code"
      [[ $code == 200 ]] || { echo "the service at $url is not healthy" >&2; exit 1; }
    done
  }
  second_router() { docker compose up -d --wait --scale router-worker=2 router-worker; }
  # A running replica: right after a scale change one may still be starting or stopping. Not
  # `| head -1`: under pipefail, docker writing its second id into the closed pipe failed the
  # assignment and `set -e` ended the demo without a word (seen in a fresh-clone run).
  victim() { local ids; ids=$(docker compose ps -q --status running router-worker) || return 1; echo "${ids%%$'\n'*}"; }
  kill_router() {
    killed=$(victim) || { echo "docker compose ps failed: no router-worker container to kill" >&2; exit 1; }
    [[ -n $killed ]] || { echo "no running router-worker container to kill" >&2; exit 1; }
    docker kill -s KILL "$killed" >/dev/null || { echo "could not kill container $killed" >&2; exit 1; }
    say "killed container $killed"
  }
  restart_router() { docker start "$killed" >/dev/null; }
  cleanup_runtime() { docker compose up -d --scale router-worker=1 router-worker >/dev/null || true; }
  urls() {
    say "Prometheus  $PROM"
    say "Grafana     http://127.0.0.1:3000  (admin; its generated password:"
    say "            docker compose run --rm secrets-init cat /run/chat4all/secrets.env)"
    say "MinIO       console on the port compose publishes for 9001"
  }
fi

wait_http() {  # URL TIMEOUT_S
  local deadline=$((SECONDS + $2))
  until curl -sf -o /dev/null "$1"; do
    ((SECONDS < deadline)) || { echo "$1 did not answer within $2 s" >&2; return 1; }
    sleep 1
  done
}

# ---- the demo ----------------------------------------------------------------------------------
step "Start the stack ($runtime)"
stack_up

step "Health of every service"
check_health

step "Where to watch"
urls

step "A second router worker, so one can fail"
second_router
trap 'cleanup_runtime; [[ -n ${k6_pid:-} ]] && kill "$k6_pid" 2>/dev/null; true' EXIT
say "two router workers share the partitions of chat4all.messages"

step "Baseline load test in the background (k6 02-baseline, $VUS VUs, ${LOAD_S}s)"
mkdir -p "$work/results"
RESULTS_DIR="$work/results" VUS=$VUS DURATION=${LOAD_S}s scripts/run-loadtest.sh 02-baseline \
  >"$work/k6.log" 2>&1 &
k6_pid=$!
load_t0=$SECONDS
say "k6 pid $k6_pid, output in $work/k6.log"

step "Authenticate and send 5 messages with the CLI"
export CHAT4ALL_CONFIG_DIR="$work/cli"  # the demo's login does not replace yours
chat4all() { "$VENV/bin/chat4all" "$@"; }
suffix=$(date +%s)$((RANDOM % 100))
bob=$(chat4all register "demo-bob-$suffix" --password demo-password-1 | json 'd["user_id"]')
chat4all register "demo-alice-$suffix" --password demo-password-1 >/dev/null
chat4all login "demo-alice-$suffix" --password demo-password-1 >/dev/null
conv=$(chat4all conversations --create "$bob" | json 'd["conversation_id"]')
say "alice and bob, conversation $conv"
for i in 1 2 3 4 5; do
  case $i in 1|2) to=() ;; 3|4) to=(--to "whatsapp:+55$suffix") ;; 5) to=(--to "instagram:@demo_$i") ;; esac
  id=$(chat4all send "$conv" "demo message $i" "${to[@]}" | json 'd["message_id"] + " " + d["status"]')
  say "sent $i: $id"
done

step "SIGKILL one router worker at t+${KILL_AT}s of the load"
sleep $((KILL_AT - (SECONDS - load_t0) > 0 ? KILL_AT - (SECONDS - load_t0) : 0))
lag_before=$(promql "$LAG") partitions=$(promql "$OWNED")
kill_router
t_kill=$SECONDS
say "lag before the kill: $lag_before"

step "Lag on Prometheus: rising while the partitions are orphaned, then recovering"
recovery="" orphaned=0 last=""
while ((SECONDS - load_t0 < RESTART_AT)); do
  lag=$(promql "$LAG") owned=$(promql "$OWNED")
  line=$(printf 'lag %6s   partitions reported %s/%s' "$lag" "$owned" "$partitions")
  [[ $line != "$last" ]] && say "$(printf 't+%3ds after the kill   %s' "$((SECONDS - t_kill))" "$line")"
  last=$line
  ((owned < partitions)) && orphaned=1
  if [[ -z $recovery && $orphaned == 1 && $owned -ge $partitions ]]; then
    recovery=$((SECONDS - t_kill))
    say "taken over: a live worker reports every partition again, $recovery s after the kill"
  fi
  sleep 1
done

step "Restart the killed worker"
restart_router
say "restarted; the partitions are shared by two workers again"

step "Wait for the load test, then account for every message"
k6_rc=0
wait "$k6_pid" || k6_rc=$?
k6_pid=""
cli_delivered=$(chat4all messages "$conv" | json 'sum(m["status"] == "DELIVERED" for m in d["messages"])')
pipeline=$(ls "$work"/results/*/pipeline.json)
accepted=$(json 'd["accepted"]' <"$pipeline")
delivered=$(json 'd["delivered"]' <"$pipeline")
duplicates=$(json 'd["duplicates"]' <"$pipeline")
lost=$(json 'd["lost"]' <"$pipeline")
echo
echo "Summary ($runtime$([[ $fast == 1 ]] && echo ', fast'), $((SECONDS - t0)) s)"
echo "  k6 exit code          $k6_rc"
echo "  CLI messages          $cli_delivered of 5 DELIVERED"
echo "  accepted (202)        $accepted   (k6)"
echo "  delivered             $delivered"
echo "  lost / duplicates     $lost / $duplicates"
echo "  recovery after kill   ${recovery:-not seen within the window}${recovery:+ s (the survivor reports every partition)}"
echo "  k6 report             $(dirname "$pipeline")/summary.md "
[[ $accepted == "$delivered" && $lost == 0 && $duplicates == 0 && $cli_delivered == 5 ]]

#!/usr/bin/env bash
# Is every service of the running local stack (`make up`) healthy? One aligned line per service:
# its name, the address checked and UP / DOWN with a short detail; exit 1 if any is not healthy.
#
#   scripts/test-infrastructure.sh
#
# Which services: every program of the stack's supervisor, as `python -m devstack ps` lists them
# (devstack/components.py; a cluster's kafka-1..3 and cassandra-1..3 too). Where they are:
# `python -m devstack urls` (devstack/topology.py; CHAT4ALL_API_URL, PROMETHEUS_URL, ... override).
# What counts as healthy:
#   kafka, cassandra    devstack's readiness probe (a metadata request; a CQL query)
#   api, router,        GET /health answers 200 with "status": "UP" (their dependencies, really
#   connectors, mocks   probed: Kafka, Cassandra, S3), plus devstack's probe
#   s3                  MinIO's GET /minio/health/live is 200, and its web console answers
#   prometheus          GET /-/ready is 200 (the detail counts the scrape targets up)
#   alertmanager        GET /-/ready is 200; alert-receiver: GET /health is 200
#   lb                  nginx's GET /nginx-health is 200 (the detail: /health through it)
# A spare (api-2, router-2) that is not started is listed as SPARE and is not a failure; once
# started it is checked like the others.
#
# Exit code: 0 every service healthy, 1 at least one is not (named on stderr), 2 the stack is not
# running or cannot be asked (start it with `make up`). HEALTH_TIMEOUT (5) bounds each request, in
# seconds. PYTHON overrides the venv's interpreter.
set -uo pipefail
cd "$(dirname "$0")/.."

case ${1:-} in
  -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "unknown argument $1 (try --help)" >&2; exit 2 ;;
esac

VENV="${CHAT4ALL_CACHE_DIR:-$HOME/.cache/chat4all}/venv"
PY=${PYTHON:-$VENV/bin/python}
TIMEOUT=${HEALTH_TIMEOUT:-5}
say() { printf '[test-infrastructure] %s\n' "$*"; }
cannot() { say "$*" >&2; exit 2; }

[[ -x $PY ]] || cannot "no Python at $PY: nothing is installed yet; start the stack with \`make up\`"
addresses=$("$PY" -m devstack urls --shell) || cannot "\`python -m devstack urls\` failed (above)"
eval "$addresses"
# Three addresses `devstack urls` does not list, from the same settings (and the stack's size).
extras=$("$PY" -c '
import os, shlex
from chat4all_app.settings import Settings
from devstack.cluster import Cluster, recorded, with_stack_settings
from devstack.layout import Layout
s = Settings.from_env(with_stack_settings(recorded(Layout.from_env().state) or Cluster(1), os.environ))
for name, value in (("CASSANDRA_HOSTS", ",".join(s.cassandra_hosts)), ("CASSANDRA_PORT", str(s.cassandra_port)),
                    ("ALERT_RECEIVER_URL", s.alert_receiver_url.rstrip("/"))):
    print(f"{name}={shlex.quote(value)}")
') || cannot "reading the settings failed (above)"
eval "$extras"

# ---- what devstack knows: every program, its supervisor state, its readiness probe -----------
ps_out=$("$PY" -m devstack ps 2>&1)
ps_rc=$?
if [[ $ps_rc == 3 ]]; then
  cannot "the local stack is not running (no supervisord for ${CHAT4ALL_STATE_DIR:-state/}): start it with \`make up\`"
fi
# Its layout (devstack/__main__.py): supervisorctl's status ("NAME  STATE  detail"), then one
# "[devstack] NAME  probe: ready|NOT READY" line per probed service (a spare only while it runs).
declare -A state probe
names=() programs=()
probe_line='^\[devstack\] ([^[:space:]]+)[[:space:]]+probe: (ready|NOT READY)$'
status_line='^([A-Za-z0-9_.-]+)[[:space:]]+([A-Z]+)([[:space:]]|$)'
while IFS= read -r line; do
  if [[ $line =~ $probe_line ]]; then
    names+=("${BASH_REMATCH[1]}"); probe[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
  elif [[ $line =~ $status_line ]]; then
    programs+=("${BASH_REMATCH[1]}"); state[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
  fi
done <<<"$ps_out"
if [[ ${#names[@]} == 0 ]]; then
  printf '%s\n' "$ps_out" >&2
  cannot "\`python -m devstack ps\` listed no service (exit $ps_rc, output above): is the stack up? \`make up\`"
fi

# ---- HTTP checks -------------------------------------------------------------------------------
# A short summary of a /health (or similar) JSON body: components, circuit, lag, mode.
SUMMARY='
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    sys.exit()
if not isinstance(d, dict):
    sys.exit()
out = []
if d.get("circuit_breaker"):
    out.append("circuit %s" % d["circuit_breaker"])
if "consumer_lag" in d:
    out.append("lag %s" % d["consumer_lag"])
if "messages_processed_last_minute" in d:
    out.append("%s processed/min" % d["messages_processed_last_minute"])
for name, c in (d.get("components") or {}).items():
    if c.get("status") == "UP":
        out.append("%s UP %sms" % (name, c.get("latency_ms", "?")))
    else:
        out.append("%s %s (%s)" % (name, c.get("status"), str(c.get("error", ""))[:60]))
if "mode" in d:
    out.append("mode %s" % d["mode"])
if d.get("status") not in (None, "UP"):
    out.insert(0, "status %s" % d["status"])
print(", ".join(out))
'
# Scrape targets up, from the `up` series: "targets up 11/12 (down: router-2)".
TARGETS='
import json, sys
try:
    r = json.load(sys.stdin)["data"]["result"]
except (ValueError, KeyError, TypeError):
    sys.exit()
down = sorted(x["metric"].get("process") or x["metric"].get("job", "?") for x in r if x["value"][1] != "1")
print("targets up %d/%d" % (len(r) - len(down), len(r)) + (" (down: %s)" % ", ".join(down) if down else ""))
'

code="" body=""
fetch() {  # URL: sets code (000 when nothing answered) and body
  local out
  out=$(curl -s -m "$TIMEOUT" -w $'\n%{http_code}' "$1" 2>/dev/null)
  code=${out##*$'\n'} body=${out%$'\n'*}
  [[ $code =~ ^[0-9]{3}$ ]] || code=000
}
summary() { "$PY" -c "$SUMMARY" <<<"$body" 2>/dev/null; }
is_up() { [[ $("$PY" -c 'import json,sys; print(json.load(sys.stdin).get("status"))' <<<"$body" 2>/dev/null) == UP ]]; }
answer() { [[ $code == 000 ]] && echo "no answer" || echo "HTTP $code"; }

rows=() failed=()
row() { rows+=("$1"$'\t'"$2"$'\t'"$3"$'\t'"$4"); [[ $3 == DOWN ]] && failed+=("$1"); }

# The nth (1-based) entry of a comma-separated list, or its first for a name without "-n".
nth() { local IFS=, n=$2; local -a items; read -ra items <<<"$1"; [[ $n -ge 1 && $n -le ${#items[@]} ]] || n=1; echo "${items[n-1]}"; }

check_http_health() {  # NAME BASE_URL: GET /health 200 with status UP (Faust roles, mocks, receiver)
  local name=$1 url="$2/health"
  fetch "$url"
  local detail; detail=$(summary)
  if [[ $code == 200 ]] && is_up; then
    row "$name" "$url" UP "${detail:-HTTP 200}"
  else
    row "$name" "$url" DOWN "$(answer)${detail:+: $detail}"
  fi
}

check_ready() {  # NAME URL [DETAIL]: a plain 200
  fetch "$2"
  if [[ $code == 200 ]]; then row "$1" "$2" UP "${3:-HTTP 200}"; else row "$1" "$2" DOWN "$(answer)"; fi
}

check() {  # NAME: the checks for one service of `devstack ps`
  local name=$1 index=${1##*-} upper first=${#rows[@]}
  [[ $index =~ ^[0-9]+$ ]] || index=1
  case $name in
    kafka|kafka-[0-9]*)
      local address; address=$(nth "$KAFKA_BOOTSTRAP_SERVERS" "$index")
      if [[ ${probe[$name]} == ready ]]; then row "$name" "$address" UP "metadata request answered"
      else row "$name" "$address" DOWN "no metadata answer"; fi ;;
    cassandra|cassandra-[0-9]*)
      local address; address="$(nth "$CASSANDRA_HOSTS" "$index"):$CASSANDRA_PORT"
      if [[ ${probe[$name]} == ready ]]; then row "$name" "$address" UP "CQL query answered"
      else row "$name" "$address" DOWN "no CQL answer"; fi ;;
    s3)
      check_ready s3 "$S3_ENDPOINT_URL/minio/health/live"
      fetch "$DEVSTACK_S3_CONSOLE_URL/"
      if [[ $code =~ ^[23] ]]; then row s3-console "$DEVSTACK_S3_CONSOLE_URL" UP "MinIO web console, HTTP $code"
      else row s3-console "$DEVSTACK_S3_CONSOLE_URL" DOWN "MinIO web console: $(answer)"; fi ;;
    prometheus)
      local targets
      targets=$(curl -s -m "$TIMEOUT" --get --data-urlencode "query=up" "$PROMETHEUS_URL/api/v1/query" 2>/dev/null \
                | "$PY" -c "$TARGETS" 2>/dev/null)
      check_ready prometheus "$PROMETHEUS_URL/-/ready" "${targets:-HTTP 200}" ;;
    alertmanager) check_ready alertmanager "$ALERTMANAGER_URL/-/ready" ;;
    alert-receiver) check_http_health alert-receiver "$ALERT_RECEIVER_URL" ;;
    lb)
      fetch "$CHAT4ALL_LB_URL/health"
      local via="/health through it: $(answer)"
      check_ready lb "$CHAT4ALL_LB_URL/nginx-health" "nginx; $via" ;;
    mock-*)
      upper=${name#mock-}; upper=${upper^^}; local var="PROVIDER_${upper//-/_}_URL"
      check_http_health "$name" "${!var:-}" ;;
    connector-*)
      upper=${name#connector-}; upper=${upper^^}; local var="CONNECTOR_${upper//-/_}_URL"
      check_http_health "$name" "${!var:-}" ;;
    *)
      upper=${name^^}; local var="DEVSTACK_${upper//-/_}_URL"
      if [[ -n ${!var:-} ]]; then  # api, api-2, router, router-2
        check_http_health "$name" "${!var}"
      elif [[ ${probe[$name]} == ready ]]; then  # a service this script does not know yet
        row "$name" "-" UP "devstack probe ready"
      else
        row "$name" "-" DOWN "devstack probe NOT READY"
      fi ;;
  esac
  # devstack's verdict counts too (it asks the process itself), and a dead process is named as such.
  local main=${rows[first]}
  if [[ ${probe[$name]} != ready && $main == *$'\t'UP$'\t'* ]]; then
    rows[first]="$name"$'\t'"$(cut -f2 <<<"$main")"$'\t'DOWN$'\t'"devstack probe NOT READY"
    failed+=("$name")
  fi
  local st=${state[$name]:-}
  if [[ -n $st && $st != RUNNING && ${rows[first]} == *$'\t'DOWN$'\t'* ]]; then
    rows[first]+=" (process $st)"
  fi
}

for name in "${names[@]}"; do check "$name"; done
# Programs devstack did not probe: spares that are not started (api-2, router-2).
for name in "${programs[@]}"; do
  [[ -n ${probe[$name]:-} ]] && continue
  upper=${name^^}; var="DEVSTACK_${upper//-/_}_URL"
  rows+=("$name"$'\t'"${!var:-"-"}"$'\t'SPARE$'\t'"not started (${state[$name]}): make ctl ARGS=\"start $name\"")
done

# ---- the table ---------------------------------------------------------------------------------
w1=7 w2=7 total=0
for r in "${rows[@]}"; do
  IFS=$'\t' read -r n a _ _ <<<"$r"
  ((${#n} > w1)) && w1=${#n}
  ((${#a} > w2)) && w2=${#a}
done
printf "%-${w1}s  %-${w2}s  %-6s %s\n" SERVICE ADDRESS STATUS DETAIL
for r in "${rows[@]}"; do
  IFS=$'\t' read -r n a s d <<<"$r"
  printf "%-${w1}s  %-${w2}s  %-6s %s\n" "$n" "$a" "$s" "$d"
  [[ $s == SPARE ]] || total=$((total + 1))
done
if ((${#failed[@]})); then
  say "NOT HEALTHY: ${failed[*]} (${#failed[@]} of $total services; logs in ${CHAT4ALL_STATE_DIR:-state}/logs/<service>.log)" >&2
  exit 1
fi
say "all $total services healthy"

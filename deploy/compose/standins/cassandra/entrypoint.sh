#!/bin/bash
# As the official image: listen and broadcast on the container's address, serve CQL on every
# interface; the heap from MAX_HEAP_SIZE/HEAP_NEWSIZE; the seeds from CASSANDRA_SEEDS (default: itself);
# then Cassandra in the foreground.
set -euo pipefail
conf=/opt/cassandra/conf
ip="$(hostname -i | awk '{print $1}')"
seeds="${CASSANDRA_SEEDS:-$ip}"
# The configuration's fixed token suits a node that founds its cluster; one that joins another
# node's cluster takes a token of its own when it bootstraps.
joins=no
if [[ -n "${CASSANDRA_SEEDS:-}" ]]; then
  seed_ips="$(getent hosts "${CASSANDRA_SEEDS%%,*}" || true)"
  grep -qwF "$ip" <<<"$seed_ips" || joins=yes
fi
sed -e "s/^cluster_name:.*/cluster_name: '${CASSANDRA_CLUSTER_NAME:-Test Cluster}'/" \
    -e "s/^listen_address:.*/listen_address: $ip/" \
    -e "s/^rpc_address:.*/rpc_address: 0.0.0.0\nbroadcast_rpc_address: $ip/" \
    -e "s/- seeds:.*/- seeds: \"$seeds\"/" \
    "$conf/cassandra.yaml" >"$conf/runtime/cassandra.yaml"
heap="${MAX_HEAP_SIZE:-1G}"
mapfile -t jvm < <(grep -v -e '^#' -e '^-Xm[sxn]' "$conf/jvm17-server.options" | grep .)
if [[ $joins == yes ]]; then mapfile -t jvm < <(printf '%s\n' "${jvm[@]}" | grep -v '^-Dcassandra.initial_token='); fi
jamm="$(ls /opt/cassandra/lib/jamm-*.jar | head -1)"
exec java "-Xms$heap" "-Xmx$heap" "-Xmn${HEAP_NEWSIZE:-200M}" "${jvm[@]}" "-javaagent:$jamm" \
  -Dcassandra.config="file://$conf/runtime/cassandra.yaml" \
  -Dcassandra.storagedir=/var/lib/cassandra -Dcassandra.logdir=/var/lib/cassandra \
  -Dlogback.configurationFile="file://$conf/logback.xml" \
  -cp '/opt/cassandra/lib/*' org.apache.cassandra.service.CassandraDaemon

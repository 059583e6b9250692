#!/bin/bash
# As the official image: listen and broadcast on the container's address, serve CQL on every
# interface; the heap from MAX_HEAP_SIZE/HEAP_NEWSIZE; then Cassandra in the foreground.
set -euo pipefail
conf=/opt/cassandra/conf
ip="$(hostname -i | awk '{print $1}')"
sed -e "s/^cluster_name:.*/cluster_name: '${CASSANDRA_CLUSTER_NAME:-Test Cluster}'/" \
    -e "s/^listen_address:.*/listen_address: $ip/" \
    -e "s/^rpc_address:.*/rpc_address: 0.0.0.0\nbroadcast_rpc_address: $ip/" \
    -e "s/- seeds:.*/- seeds: \"$ip:7000\"/" \
    "$conf/cassandra.yaml" >"$conf/runtime/cassandra.yaml"
heap="${MAX_HEAP_SIZE:-1G}"
mapfile -t jvm < <(grep -v -e '^#' -e '^-Xm[sxn]' "$conf/jvm17-server.options" | grep .)
jamm="$(ls /opt/cassandra/lib/jamm-*.jar | head -1)"
exec java "-Xms$heap" "-Xmx$heap" "-Xmn${HEAP_NEWSIZE:-200M}" "${jvm[@]}" "-javaagent:$jamm" \
  -Dcassandra.config="file://$conf/runtime/cassandra.yaml" \
  -Dcassandra.storagedir=/var/lib/cassandra -Dcassandra.logdir=/var/lib/cassandra \
  -Dlogback.configurationFile="file://$conf/logback.xml" \
  -cp '/opt/cassandra/lib/*' org.apache.cassandra.service.CassandraDaemon

#!/bin/bash
# KAFKA_* variables become server.properties (as in apache/kafka's image: _ -> ., __ -> _, ___ -> -),
# the KRaft storage is formatted once, then the broker runs in the foreground.
set -euo pipefail
props=/opt/kafka/config/server.properties
: >"$props"
for var in $(compgen -e); do
  case "$var" in
    KAFKA_HEAP_OPTS|KAFKA_OPTS|KAFKA_JVM_PERFORMANCE_OPTS|KAFKA_LOG4J_OPTS|KAFKA_VERSION) ;;
    KAFKA_*)
      key="${var#KAFKA_}"; key="${key,,}"
      key="${key//___/-}"; key="${key//__/@}"; key="${key//_/.}"; key="${key//@/_}"
      printf '%s=%s\n' "$key" "${!var}" >>"$props" ;;
  esac
done
grep -q '^log.dirs=' "$props" || echo "log.dirs=/var/lib/kafka/data" >>"$props"
# The official image's fixed default cluster id (CLUSTER_ID overrides it).
java -cp '/opt/kafka/libs/*' -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties \
  kafka.tools.StorageTool format --ignore-formatted -t "${CLUSTER_ID:-5L6g3nShT-eMCtK--X86sw}" -c "$props"
# shellcheck disable=SC2086
exec java ${KAFKA_HEAP_OPTS:--Xmx1G -Xms1G} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
  -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties \
  -cp '/opt/kafka/libs/*' kafka.Kafka "$props"

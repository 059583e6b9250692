#!/bin/bash
# As bin/kafka-broker-api-versions.sh in the Kafka distribution (used by docker-compose.yml's healthcheck).
exec java -Xmx128m -XX:TieredStopAtLevel=1 -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties \
  -cp '/opt/kafka/libs/*' org.apache.kafka.tools.BrokerApiVersionsCommand "$@"

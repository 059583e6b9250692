"""Prometheus metrics, declared once per process (prometheus-client's default registry).

Names and labels are the contract the dashboards and alerts rely on. Prometheus' scrape adds
`instance` (host:port of the process), which tells processes of one role apart.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# Fine enough for P95/P99 between 1 ms and 500 ms, coarse beyond.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1,
                   0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)

# --- every process ------------------------------------------------------------------------------
# Set by observability.heartbeat on each beat: `time() - heartbeat_timestamp_seconds` is how long
# the process's timers have been silent while its /metrics still answers (alert HeartbeatMissing).
HEARTBEAT = Gauge("heartbeat_timestamp_seconds", "Unix time of this process's last heartbeat.")

# --- api-service -------------------------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "http_requests", "HTTP requests by route template and status.", ["method", "path", "status"])
HTTP_DURATION = Histogram(
    "http_request_duration_seconds", "HTTP request handling time by route template.",
    ["method", "path"], buckets=LATENCY_BUCKETS)
MESSAGES_ACCEPTED = Counter("messages_accepted", "Messages acknowledged by Kafka and answered 202.")
MESSAGES_REJECTED = Counter(
    "messages_rejected", "POST /v1/messages answered with an error, by reason.", ["reason"])
KAFKA_PUBLISH_DURATION = Histogram(
    "kafka_publish_duration_seconds", "Time from send to Kafka's acknowledgement (acks=all).",
    buckets=LATENCY_BUCKETS)
FILES_UPLOADED = Counter(
    "files_uploaded", "Files stored, streamed or resumable, by size bucket.", ["size_bucket"])
WS_CONNECTIONS = Gauge("ws_connections", "WebSocket connections open on this API process.")
WS_PUSHES = Counter("ws_pushes", "Frames pushed over WebSocket, by kind (message, status).", ["kind"])
WS_DROPS = Counter(
    "ws_drops", "WebSocket connections the server closed or refused, by reason (slow, limit, auth, "
    "unavailable).", ["reason"])
WS_PUSH_LATENCY = Histogram(
    "ws_push_latency_seconds", "Accepted by the API (kind message) or status applied (kind status) "
    "-> frame handed to the socket.", ["kind"], buckets=LATENCY_BUCKETS)

# --- workers (router, connectors) ---------------------------------------------------------------
MESSAGES_CONSUMED = Counter(
    "messages_consumed", "Events handed to an agent, by topic partition.", ["topic", "partition"])
MESSAGES_PROCESSED = Counter(
    "messages_processed", "Events an agent finished, by outcome (routed, duplicate, or the status "
    "applied).", ["status"])
MESSAGES_FAILED = Counter(
    "messages_failed", "Failed attempts that are retried (nothing is dropped), by cause.", ["reason"])
MESSAGES_DEAD_LETTERED = Counter(
    "messages_dead_lettered", "Events that can never be processed, published to the dead-letter "
    "topic and skipped, by reason.", ["reason"])
CONSUMER_LAG = Gauge(
    "kafka_consumer_lag", "Broker highwater minus this worker's committed offset, sampled on a timer.",
    ["topic", "partition"])
PROCESSING_DURATION = Histogram(
    "processing_duration_seconds", "Time an agent spends on one batch of events.", ["agent"],
    buckets=LATENCY_BUCKETS)
CASSANDRA_WRITE_DURATION = Histogram(
    "cassandra_write_duration_seconds", "Time of one Cassandra write by the router.",
    buckets=LATENCY_BUCKETS)
DELIVERY_LATENCY = Histogram(
    "message_delivery_latency_seconds", "Accepted by the API -> DELIVERED, by channel ('internal' for "
    "messages between users).", ["channel"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0))

# --- connectors ---------------------------------------------------------------------------------
MESSAGES_SENT = Counter(
    "messages_sent", "Provider outcomes per message (SENT or FAILED).", ["channel", "status"])
CONNECTOR_API_DURATION = Histogram(
    "connector_api_duration_seconds", "Time of one provider API call.", ["channel"],
    buckets=LATENCY_BUCKETS)
# Encoding: connectors.circuit_state.CircuitState.gauge.
CIRCUIT_STATE = Gauge("circuit_breaker_state", "0 closed, 1 open, 2 half-open.", ["channel"])
CIRCUIT_TRANSITIONS = Counter(
    "circuit_breaker_transitions", "Circuit state changes.", ["channel", "from", "to"])

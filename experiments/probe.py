"""One reading of the stack's own counters, from every service's /metrics (a service that is down
simply contributes nothing)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from benchmarks import pipeline

API, ROUTERS, CONNECTORS = 8080, (8082,), {"whatsapp": 8083, "instagram": 8084}


def scrape(port: int) -> list:
    """benchmarks.pipeline.scrape, but a service that is down (a fault) reads as no samples."""
    try:
        return pipeline.scrape(port)
    except OSError:
        return []


@dataclass
class Reading:
    accepted: float = 0.0
    api_errors: float = 0.0  # POST /v1/messages answered 5xx
    delivered: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # by channel
    latency_sum: float = 0.0  # seconds, accepted -> DELIVERED, summed over deliveries
    provider_calls: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    circuit: dict[str, float] = field(default_factory=dict)  # 0 closed, 1 open, 2 half-open
    lag: float = 0.0
    routed_by_router: dict[int, float] = field(default_factory=dict)

    @property
    def delivered_total(self) -> float:
        return sum(self.delivered.values())


def read() -> Reading:
    r = Reading()
    for s in scrape(API):
        if s.name == "messages_accepted_total":
            r.accepted += s.value
        elif (s.name == "http_requests_total" and s.labels.get("path") == "/v1/messages"
              and s.labels.get("method") == "POST" and s.labels.get("status", "").startswith("5")):
            r.api_errors += s.value
    for port in ROUTERS:
        for s in scrape(port):
            if s.name == "message_delivery_latency_seconds_count":
                r.delivered[s.labels["channel"]] += s.value
            elif s.name == "message_delivery_latency_seconds_sum":
                r.latency_sum += s.value
            elif s.name == "messages_processed_total" and s.labels.get("status") == "routed":
                r.routed_by_router[port] = s.value
            elif s.name == "kafka_consumer_lag":
                r.lag += s.value
    for channel, port in CONNECTORS.items():
        for s in scrape(port):
            if s.name == "connector_api_duration_seconds_count":
                r.provider_calls[channel] += s.value
            elif s.name == "circuit_breaker_state":
                r.circuit[channel] = s.value
            elif s.name == "kafka_consumer_lag":
                r.lag += s.value
    return r

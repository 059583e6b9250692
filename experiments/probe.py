"""One reading of the stack's own counters, from every service's /metrics (a service that is down
simply contributes nothing).

Counters are summed over every instance of a service (api and api-2, router and router-2) and made
monotonic across restarts: a killed and restarted worker starts its counters at 0 again, and a sum
of raw counters would then fall. Like Prometheus' rate(), a counter that drops is a reset.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from prometheus_client.samples import Sample

from devstack.layout import port_of
from devstack.stack_client import GroupLag, scrape
from devstack.topology import Topology

Key = tuple[str, str, int]  # (what, label, port)


def scrape_or_nothing(url: str) -> list[Sample]:
    """A service that is down (a fault) reads as no samples."""
    try:
        return scrape(url)
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
    accepted_by_api: dict[int, float] = field(default_factory=dict)  # by port
    processed_by_router: dict[int, float] = field(default_factory=dict)  # by port, every outcome
    routed: float = 0.0  # messages the routers routed (stored + forwarded)
    router_group_lag: float | None = None  # from the broker: includes a dead worker's partitions
    # "topic[partition]" -> the router group's committed offset (broker side), with router_group_lag
    router_committed: dict[str, int] = field(default_factory=dict)

    @property
    def delivered_total(self) -> float:
        return sum(self.delivered.values())


def raw(topology: Topology) -> tuple[dict[Key, float], dict[Key, float]]:
    """(counters, gauges) of every instance as they are right now."""
    counters: dict[Key, float] = defaultdict(float)
    gauges: dict[Key, float] = defaultdict(float)
    for api in topology.apis:
        port = api.port
        for s in scrape_or_nothing(api.url):
            if s.name == "messages_accepted_total":
                counters["accepted", "", port] += s.value
            elif (s.name == "http_requests_total" and s.labels.get("path") == "/v1/messages"
                  and s.labels.get("method") == "POST" and s.labels.get("status", "").startswith("5")):
                counters["api_errors", "", port] += s.value
    for router in topology.routers:
        port = router.port
        for s in scrape_or_nothing(router.url):
            if s.name == "message_delivery_latency_seconds_count":
                counters["delivered", s.labels["channel"], port] += s.value
            elif s.name == "message_delivery_latency_seconds_sum":
                counters["latency_sum", "", port] += s.value
            elif s.name == "messages_processed_total":
                counters["processed", "", port] += s.value
                if s.labels.get("status") == "routed":
                    counters["routed", "", port] += s.value
            elif s.name == "kafka_consumer_lag":
                gauges["lag", "", port] += s.value
    for channel, url in topology.connectors.items():
        port = port_of(url)
        for s in scrape_or_nothing(url):
            if s.name == "connector_api_duration_seconds_count":
                counters["provider_calls", channel, port] += s.value
            elif s.name == "circuit_breaker_state":
                gauges["circuit", channel, port] = s.value
            elif s.name == "kafka_consumer_lag":
                gauges["lag", "", port] += s.value
    return counters, gauges


class Probe:
    """Readings whose counters only grow, whatever the instances did in between."""

    def __init__(self, topology: Topology, group_lag: GroupLag | None = None) -> None:
        self.topology = topology
        self._last: dict[Key, float] = {}
        self._total: dict[Key, float] = defaultdict(float)
        self.group_lag = group_lag

    def read(self) -> Reading:
        counters, gauges = raw(self.topology)
        for key, value in counters.items():
            last = self._last.get(key)
            # First sight (e.g. a spare just started) or a reset: all of the value is new.
            self._total[key] += value if last is None or value < last else value - last
            self._last[key] = value
        r = Reading()
        for (what, label, port), total in self._total.items():
            if what == "delivered":
                r.delivered[label] += total
            elif what == "provider_calls":
                r.provider_calls[label] += total
            elif what == "accepted":
                r.accepted += total
                r.accepted_by_api[port] = total
            elif what == "processed":
                r.processed_by_router[port] = total
            else:
                setattr(r, what, getattr(r, what) + total)
        for (what, label, _port), value in gauges.items():
            if what == "circuit":
                r.circuit[label] = value
            else:
                r.lag += value
        if self.group_lag is not None:
            r.router_group_lag = self.group_lag.read()
            if r.router_group_lag is not None:
                r.router_committed = dict(self.group_lag.committed)
        return r

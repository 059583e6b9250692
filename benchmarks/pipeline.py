"""Read what the pipeline itself recorded, from each service's /metrics (no Prometheus delay)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from devstack.stack_client import scrape, total
from devstack.topology import Topology

DELIVERY = "message_delivery_latency_seconds"


@dataclass(frozen=True)
class Snapshot:
    accepted: float
    delivered: float
    buckets: dict[float, float]  # le -> cumulative count of delivery latencies, all channels
    lag: float


def snapshot(topology: Topology) -> Snapshot:
    """The API and router `make up` starts (not the spares), and every connector."""
    api, router = scrape(topology.apis[0].url), scrape(topology.routers[0].url)
    workers = router + [s for url in topology.connectors.values() for s in scrape(url)]
    buckets: dict[float, float] = defaultdict(float)
    for s in router:
        if s.name == f"{DELIVERY}_bucket":
            buckets[float(s.labels["le"])] += s.value
    return Snapshot(
        accepted=total(api, "messages_accepted_total"),
        delivered=total(router, f"{DELIVERY}_count"),
        buckets=dict(buckets),
        lag=total(workers, "kafka_consumer_lag"))


def quantile(q: float, before: dict[float, float], after: dict[float, float]) -> float | None:
    """Like PromQL histogram_quantile over the increase between two snapshots (seconds)."""
    edges = sorted(after)
    counts = [after[le] - before.get(le, 0.0) for le in edges]
    total = counts[-1] if counts else 0
    if total <= 0:
        return None
    rank, prev_le, prev_count = q * total, 0.0, 0.0
    for le, count in zip(edges, counts, strict=True):
        if count >= rank:
            if le == float("inf"):
                return prev_le
            return prev_le + (le - prev_le) * (rank - prev_count) / max(count - prev_count, 1e-12)
        prev_le, prev_count = le, count
    return prev_le

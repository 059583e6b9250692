"""Read what the pipeline itself recorded, from each service's /metrics (no Prometheus delay)."""

from __future__ import annotations

import urllib.request
from collections import defaultdict
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

API, ROUTER, CONNECTORS = 8080, 8082, (8083, 8084)
DELIVERY = "message_delivery_latency_seconds"


@dataclass(frozen=True)
class Snapshot:
    accepted: float
    delivered: float
    buckets: dict[float, float]  # le -> cumulative count of delivery latencies, all channels
    lag: float


def scrape(port: int) -> list:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        return [s for family in text_string_to_metric_families(resp.read().decode())
                for s in family.samples]


def snapshot() -> Snapshot:
    api, router = scrape(API), scrape(ROUTER)
    workers = router + [s for port in CONNECTORS for s in scrape(port)]
    buckets: dict[float, float] = defaultdict(float)
    for s in router:
        if s.name == f"{DELIVERY}_bucket":
            buckets[float(s.labels["le"])] += s.value
    return Snapshot(
        accepted=sum(s.value for s in api if s.name == "messages_accepted_total"),
        delivered=sum(s.value for s in router if s.name == f"{DELIVERY}_count"),
        buckets=dict(buckets),
        lag=sum(s.value for s in workers if s.name == "kafka_consumer_lag"))


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

"""Dependency probes behind every service's `GET /health`.

Each probe really talks to its dependency (Kafka metadata, a CQL query, an S3 HEAD) under a
timeout, so a stopped broker or database turns the service DOWN (503) on the next check. On a
cluster a dependency is UP while it has a quorum, not while one node answers: Kafka while at least
`min.insync.replicas` brokers are reachable (below that no publish is acknowledged), Cassandra while
a read at the configured level (LOCAL_QUORUM) succeeds; each reports how many nodes it has and how
many answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaClient

from chat4all_app.lifecycle import NotRunning
from chat4all_app.settings import Settings
from chat4all_app.storage.cassandra import CassandraStore

# A probe raises when its dependency cannot serve; what it returns (a dict) adds to its report.
Probe = Callable[[], Awaitable[object]]
UP, DOWN = "UP", "DOWN"


class QuorumLost(Exception):
    """Some nodes of the dependency answer, but too few for it to do its job."""


def now_iso(epoch: float | None = None) -> str:
    return datetime.fromtimestamp(time.time() if epoch is None else epoch, UTC).isoformat()


@dataclass
class KafkaProbe:
    """A metadata round trip over a client of its own (no group, no producer state). Owned by its
    role like the other connections (chat4all_app.lifecycle): connects on first use, closed by
    `stop()`."""

    settings: Settings
    _client: AIOKafkaClient | None = None
    _connecting: asyncio.Future[AIOKafkaClient] | None = None
    _running: bool = False

    async def start(self) -> None:
        self._running = True

    async def stop(self) -> None:
        self._running = False
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()  # _bootstrap closes its half-made client
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    async def __call__(self) -> dict:
        if not self._running:
            raise NotRunning("the Kafka health probe is not running: used before start() or after stop()")
        if self._client is not None:
            client = self._client
        else:
            # One shared, shielded bootstrap: a probe that times out must not leave a client behind.
            if self._connecting is None or self._connecting.done():
                self._connecting = asyncio.ensure_future(self._bootstrap())
            client = await asyncio.shield(self._connecting)
        metadata = await client.fetch_all_metadata()
        brokers = [b.nodeId for b in metadata.brokers()]
        reachable = sum(await asyncio.gather(*(client.ready(b) for b in brokers)))
        needed = self.settings.kafka_min_insync_replicas
        if reachable < needed:
            raise QuorumLost(f"{reachable} of {len(brokers)} brokers reachable; acks=all needs {needed}")
        return {"brokers": len(brokers), "brokers_reachable": reachable}

    async def _bootstrap(self) -> AIOKafkaClient:
        client = AIOKafkaClient(bootstrap_servers=self.settings.kafka_bootstrap_servers,
                                client_id="chat4all-health",
                                request_timeout_ms=int(self.settings.health_timeout_s * 1000))
        try:
            await client.bootstrap()
        except BaseException:
            await client.close()
            raise
        if not self._running:  # stopped while connecting
            await client.close()
            raise NotRunning("the Kafka health probe was stopped")
        self._client = client
        return client


def cassandra_probe(store: CassandraStore, keyspace: str) -> Probe:
    """A read of our keyspace at the configured level (it fails without a quorum of replicas)."""
    async def probe() -> dict:
        await store.execute(f"SELECT version FROM {keyspace}.schema_migrations LIMIT 1")
        up, known = store.nodes_up()
        return {"nodes": known, "nodes_up": up}
    return probe


async def check(probe: Probe, timeout_s: float) -> dict:
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(probe(), timeout_s)
    except Exception as exc:  # any failure, including the timeout, means DOWN
        return {"status": DOWN, "latency_ms": round((time.perf_counter() - started) * 1000, 1),
                "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"status": UP, "latency_ms": round((time.perf_counter() - started) * 1000, 1),
            **(detail if isinstance(detail, dict) else {})}


async def check_all(probes: Mapping[str, Probe], timeout_s: float) -> dict[str, dict]:
    names = list(probes)
    results = await asyncio.gather(*(check(probes[n], timeout_s) for n in names))
    return dict(zip(names, results, strict=True))


def overall(components: Mapping[str, dict]) -> str:
    return UP if all(c["status"] == UP for c in components.values()) else DOWN

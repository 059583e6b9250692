"""Dependency probes behind every service's `GET /health`.

Each probe really talks to its dependency (Kafka metadata, a CQL query, an S3 HEAD) under a
timeout, so a stopped broker or database turns the service DOWN (503) on the next check.
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

Probe = Callable[[], Awaitable[object]]
UP, DOWN = "UP", "DOWN"


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

    async def __call__(self) -> None:
        if not self._running:
            raise NotRunning("the Kafka health probe is not running: used before start() or after stop()")
        if self._client is not None:
            client = self._client
        else:
            # One shared, shielded bootstrap: a probe that times out must not leave a client behind.
            if self._connecting is None or self._connecting.done():
                self._connecting = asyncio.ensure_future(self._bootstrap())
            client = await asyncio.shield(self._connecting)
        await client.fetch_all_metadata()

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


def cassandra_probe(store: CassandraStore) -> Probe:
    return lambda: store.execute("SELECT release_version FROM system.local")


async def check(probe: Probe, timeout_s: float) -> dict:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(probe(), timeout_s)
    except Exception as exc:  # any failure, including the timeout, means DOWN
        return {"status": DOWN, "latency_ms": round((time.perf_counter() - started) * 1000, 1),
                "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"status": UP, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


async def check_all(probes: Mapping[str, Probe], timeout_s: float) -> dict[str, dict]:
    names = list(probes)
    results = await asyncio.gather(*(check(probes[n], timeout_s) for n in names))
    return dict(zip(names, results, strict=True))


def overall(components: Mapping[str, dict]) -> str:
    return UP if all(c["status"] == UP for c in components.values()) else DOWN

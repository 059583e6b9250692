"""Talk to the running stack: its processes' /metrics, Prometheus, the provider mocks, Kafka's view
of a consumer group. Every tool and test reads the stack through here, at the addresses of
devstack.topology.

Blocking (urllib) for the tools, which sample from threads; the few reads the async tests need
(`scrape_async`, `Prometheus.query_async`, `AsyncProviders`) share the parsing with them. Kafka is
async by nature (aiokafka): `group_lag` for async callers, `GroupLag` with a loop of its own for
samplers that run in a thread.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from devstack.topology import Topology

Labels = dict[str, str]


def get_json(url: str, headers: dict[str, str] | None = None, timeout: float = 30, retries: int = 0) -> Any:
    """GET a JSON document; `retries` more attempts (with backoff) on 5xx and connection errors."""
    req = urllib.request.Request(url, headers=headers or {})
    for attempt in range(retries + 1):
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            if exc.code < 500 or attempt == retries:
                raise
        except OSError:
            if attempt == retries:
                raise
        time.sleep(min(5.0, 0.5 * 2**attempt))
    raise AssertionError("unreachable")


def post_json(url: str, body: dict[str, Any], timeout: float = 30) -> Any:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read())


# --- a process's own /metrics -----------------------------------------------------------------
def parse_metrics(text: str) -> list[Sample]:
    """Prometheus text exposition -> samples (name, labels, value)."""
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def scrape(base_url: str, timeout: float = 10) -> list[Sample]:
    """Every sample of the process at base_url (its /metrics); OSError when it does not answer."""
    with urllib.request.urlopen(f"{base_url}/metrics", timeout=timeout) as resp:
        return parse_metrics(resp.read().decode())


async def scrape_async(http: aiohttp.ClientSession, base_url: str) -> list[Sample]:
    async with http.get(f"{base_url}/metrics") as resp:
        resp.raise_for_status()
        return parse_metrics(await resp.text())


def total(samples: list[Sample], name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels` (0.0 when none)."""
    return sum(s.value for s in samples
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


# --- Prometheus -------------------------------------------------------------------------------
@dataclass(frozen=True)
class RangeSeries:
    labels: Labels
    points: list[tuple[float, float]]  # (epoch s, value)


def _result(body: dict[str, Any], expr: str) -> list[dict[str, Any]]:
    if body.get("status") != "success":
        raise RuntimeError(f"{expr}: {body.get('error')}")
    return body["data"]["result"]


def _instant_rows(body: dict[str, Any], expr: str) -> list[tuple[Labels, float]]:
    return [(r["metric"], float(r["value"][1])) for r in _result(body, expr)]


@dataclass(frozen=True)
class Prometheus:
    url: str

    def _get(self, api: str, params: dict[str, Any]) -> dict[str, Any]:
        return get_json(f"{self.url}/api/v1/{api}?{urllib.parse.urlencode(params)}", timeout=30)

    def query(self, expr: str, at: float | None = None) -> list[tuple[Labels, float]]:
        """An instant query: (labels, value) per series, now or at epoch second `at`."""
        params = {"query": expr} | ({"time": at} if at is not None else {})
        return _instant_rows(self._get("query", params), expr)

    def scalar(self, expr: str) -> float | None:
        """The first series' value, None when the query has no series."""
        rows = self.query(expr)
        return rows[0][1] if rows else None

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[RangeSeries]:
        body = self._get("query_range", {"query": expr, "start": start, "end": end, "step": step})
        return [RangeSeries(r["metric"], [(float(t), float(v)) for t, v in r["values"]])
                for r in _result(body, expr)]

    async def query_async(self, http: aiohttp.ClientSession, expr: str) -> list[tuple[Labels, float]]:
        async with http.get(f"{self.url}/api/v1/query", params={"query": expr}) as resp:
            return _instant_rows(await resp.json(), expr)

    def lag_by_topic(self) -> dict[str, float]:
        """sum(kafka_consumer_lag) per topic, as the workers last reported it."""
        return {m.get("topic", "?"): v for m, v in self.query("sum by (topic) (kafka_consumer_lag)")}

    def sample_time(self, selector: str) -> float | None:
        """The oldest scrape time among the series `selector` matches (None: no such series)."""
        return self.scalar(f"min(timestamp({selector}))")

    def wait_fresh(self, selector: str, not_before: float, timeout: float = 15.0) -> float | None:
        """Wait until every series of `selector` was scraped at or after `not_before` (epoch s), at
        most `timeout` s; the oldest scrape time then (None: Prometheus has no such series)."""
        deadline = time.time() + timeout
        while True:
            ts = self.sample_time(selector)
            if ts is None or ts >= not_before or time.time() > deadline:
                return ts
            time.sleep(0.5)


# --- waiting for the pipeline to drain --------------------------------------------------------
@dataclass
class Drain:
    drained: bool
    waited_s: float
    final_lag: int | None  # sum(kafka_consumer_lag) when the wait ended (None: never read)
    lag_by_topic: dict[str, float] = field(default_factory=dict)
    sample_time: float | None = None  # scrape time of the last lag reading (epoch s)


def wait_drained(prometheus: Prometheus, fresh_after: float, timeout: float,
                 log: Callable[[str], None] = print) -> Drain:
    """Wait until sum(kafka_consumer_lag) == 0 in samples scraped after `fresh_after` (epoch s).

    The workers compute the gauge themselves every few seconds: a caller passes the moment the
    load stopped plus that interval, so a 0 read is a lag computed after the last message."""
    start = time.time()
    lag, by_topic, ts = None, {}, None
    while True:
        try:
            ts = prometheus.sample_time("kafka_consumer_lag")
            by_topic = prometheus.lag_by_topic()
            lag = sum(by_topic.values()) if by_topic else None
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            log(f"Prometheus unavailable: {exc}")
        drained = ts is not None and ts >= fresh_after and lag == 0
        if drained:
            break
        if time.time() - start > timeout:
            log(f"pipeline not drained after {timeout:.0f}s (lag {lag}, {by_topic})")
            break
        time.sleep(1.0)
    return Drain(drained, round(time.time() - start, 1), None if lag is None else int(lag), by_topic, ts)


# --- the provider mocks -----------------------------------------------------------------------
@dataclass(frozen=True)
class Providers:
    """The provider mocks' admin API: their ledgers (what they received, in which order) and
    their behaviour (up/error/timeout, failure rate, latency, receipts)."""

    topology: Topology

    def ledger(self, channel: str) -> dict[str, Any]:
        """{"received": {message_id: times}, "order": {address: [message_id, ...]}, ...}"""
        return get_json(f"{self.topology.provider_url(channel)}/admin/ledger")

    def configure(self, channel: str, **config: Any) -> dict[str, Any]:
        return post_json(f"{self.topology.provider_url(channel)}/admin/config", config)


@dataclass(frozen=True)
class AsyncProviders:
    """Providers for async callers, on their aiohttp session."""

    topology: Topology
    http: aiohttp.ClientSession

    async def ledger(self, channel: str) -> dict[str, Any]:
        async with self.http.get(f"{self.topology.provider_url(channel)}/admin/ledger") as resp:
            resp.raise_for_status()
            return await resp.json()

    async def configure(self, channel: str, **config: Any) -> dict[str, Any]:
        async with self.http.post(f"{self.topology.provider_url(channel)}/admin/config", json=config) as resp:
            if resp.status != 200:
                raise RuntimeError(f"{channel} provider refused {config}: {resp.status} {await resp.text()}")
            return await resp.json()


# --- a consumer group's lag, as the broker sees it --------------------------------------------
# The workers report their own lag, but a SIGKILLed worker reports nothing, and its partitions'
# lag is exactly what a failover experiment or test must see: this reads it from Kafka with
# clients of its own (no group).
async def group_offsets(admin: AIOKafkaAdminClient, offsets: AIOKafkaConsumer, group: str,
                        wanted: Callable[[str], bool]) -> dict[TopicPartition, tuple[int, int]]:
    """(the group's committed offset, highwater) per partition it committed on (of wanted topics)."""
    committed = await admin.list_consumer_group_offsets(group)
    tps = [tp for tp in committed if wanted(tp.topic) and committed[tp].offset >= 0]
    ends = await offsets.end_offsets(tps) if tps else {}
    return {tp: (committed[tp].offset, ends[tp]) for tp in tps}


async def partition_lag(admin: AIOKafkaAdminClient, offsets: AIOKafkaConsumer, group: str,
                        wanted: Callable[[str], bool]) -> dict[TopicPartition, int]:
    """Highwater minus the group's committed offset, per partition it committed on (of wanted topics)."""
    return {tp: end - committed
            for tp, (committed, end) in (await group_offsets(admin, offsets, group, wanted)).items()}


@asynccontextmanager
async def _kafka_clients(bootstrap: str) -> AsyncIterator[tuple[AIOKafkaAdminClient, AIOKafkaConsumer]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    offsets = AIOKafkaConsumer(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        await offsets.start()
        yield admin, offsets
    finally:
        await offsets.stop()
        await admin.close()


async def group_lag(bootstrap: str, group: str, wanted: Callable[[str], bool]) -> dict[TopicPartition, int]:
    """One reading of a group's lag per partition (of the wanted topics), with clients opened for it."""
    async with _kafka_clients(bootstrap) as (admin, offsets):
        return await partition_lag(admin, offsets, group, wanted)


class GroupLag:
    """A group's total lag, read again and again over the same clients, on an event loop of its
    own (the experiments' timeline samples from a thread)."""

    def __init__(self, bootstrap: str, group: str, topics: tuple[str, ...]):
        self.bootstrap, self.group, self.topics = bootstrap, group, topics
        self.loop = asyncio.new_event_loop()
        self._open = AsyncExitStack()
        self._clients: tuple[AIOKafkaAdminClient, AIOKafkaConsumer] | None = None
        # "topic[partition]" -> the group's committed offset, as of the last successful read.
        self.committed: dict[str, int] = {}

    async def _read(self) -> float:
        if self._clients is None:  # (again) after a failed start: the broker may be back
            self._clients = await self._open.enter_async_context(_kafka_clients(self.bootstrap))
        found = await group_offsets(*self._clients, self.group, lambda topic: topic in self.topics)
        self.committed = {f"{tp.topic}[{tp.partition}]": committed for tp, (committed, _) in found.items()}
        return float(sum(max(0, end - committed) for committed, end in found.values()))

    def read(self) -> float | None:
        """The lag now, None while the broker does not answer (e.g. an experiment stopped Kafka)."""
        try:
            return self.loop.run_until_complete(asyncio.wait_for(self._read(), 5))
        except (KafkaError, OSError, TimeoutError):
            return None

    def close(self) -> None:
        try:
            self.loop.run_until_complete(self._open.aclose())
        finally:
            self.loop.close()

"""devstack/stack_client.py against small fake servers: /metrics parsing, Prometheus queries and
the drain wait, the provider mocks' admin API, and a consumer group's lag while Kafka is away."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import aiohttp
import pytest

from devstack.stack_client import (
    AsyncProviders,
    GroupLag,
    Prometheus,
    Providers,
    parse_metrics,
    scrape,
    scrape_async,
    total,
    wait_drained,
)
from devstack.topology import local

METRICS = """\
# HELP messages_accepted_total Messages accepted.
# TYPE messages_accepted_total counter
messages_accepted_total{channel="whatsapp"} 3.0
messages_accepted_total{channel="internal"} 4.0
# HELP kafka_consumer_lag Lag.
# TYPE kafka_consumer_lag gauge
kafka_consumer_lag{topic="chat4all.messages",partition="0"} 2.0
"""

Route = Callable[[dict[str, str], bytes], tuple[int, str]]


class Fake:
    """An HTTP server on 127.0.0.1 answering GET/POST paths with the test's functions."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        routes = self.routes

        class Handler(BaseHTTPRequestHandler):
            def answer(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, text = routes[url.path](query, body) if url.path in routes else (404, "{}")
                data = text.encode()
                self.send_response(status)
                kind = "text/plain" if url.path == "/metrics" else "application/json"
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def fake() -> Iterator[Fake]:
    server = Fake()
    yield server
    server.server.shutdown()


def instant(rows: list[tuple[dict[str, str], float]], at: float | None = None) -> tuple[int, str]:
    at = time.time() if at is None else at
    return 200, json.dumps({"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": labels, "value": [at, str(value)]} for labels, value in rows]}})


def test_metrics_are_parsed_and_summed_by_name_and_labels(fake: Fake) -> None:
    fake.routes["/metrics"] = lambda q, b: (200, METRICS)
    samples = scrape(fake.url)
    assert samples == parse_metrics(METRICS)
    assert total(samples, "messages_accepted_total") == 7.0
    assert total(samples, "messages_accepted_total", channel="whatsapp") == 3.0
    assert total(samples, "kafka_consumer_lag", topic="chat4all.status") == 0.0

    async def read() -> float:
        async with aiohttp.ClientSession() as http:
            return total(await scrape_async(http, fake.url), "kafka_consumer_lag")
    assert asyncio.run(read()) == 2.0


def test_a_process_that_does_not_answer_raises_oserror() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    with pytest.raises(OSError):
        scrape(f"http://127.0.0.1:{port}")


def test_prometheus_instant_and_range_queries(fake: Fake) -> None:
    seen: list[dict[str, str]] = []

    def query(q: dict[str, str], _body: bytes) -> tuple[int, str]:
        seen.append(q)
        if q["query"] == "bad(":
            return 200, json.dumps({"status": "error", "error": "parse error"})
        return instant([({"topic": "a"}, 1.5), ({"topic": "b"}, 2.0)] if q["query"] == "lag" else [])

    fake.routes["/api/v1/query"] = query
    fake.routes["/api/v1/query_range"] = lambda q, b: (200, json.dumps({"status": "success", "data": {
        "result": [{"metric": {"job": "x"}, "values": [[10, "1"], [15, "2.5"]]}]}}))
    prometheus = Prometheus(fake.url)
    assert prometheus.query("lag", at=123.0) == [({"topic": "a"}, 1.5), ({"topic": "b"}, 2.0)]
    assert seen[-1] == {"query": "lag", "time": "123.0"}
    assert prometheus.scalar("lag") == 1.5 and prometheus.scalar("nothing") is None
    (series,) = prometheus.query_range("up", 0, 20, 5)
    assert series.labels == {"job": "x"} and series.points == [(10.0, 1.0), (15.0, 2.5)]
    with pytest.raises(RuntimeError, match="parse error"):
        prometheus.query("bad(")

    async def read() -> list:
        async with aiohttp.ClientSession() as http:
            return await prometheus.query_async(http, "lag")
    assert asyncio.run(read()) == [({"topic": "a"}, 1.5), ({"topic": "b"}, 2.0)]


def test_wait_fresh_waits_for_a_scrape_after_the_moment_given(fake: Fake) -> None:
    start = time.time()
    # Scraped 0.8 s after the test started: the first readings are older than asked for.
    fake.routes["/api/v1/query"] = lambda q, b: instant([({}, min(time.time(), start + 0.8))])
    assert Prometheus(fake.url).wait_fresh("up", start + 0.8, timeout=10) == pytest.approx(start + 0.8)
    assert time.time() - start >= 0.8


def test_drained_only_with_lag_zero_in_fresh_samples(fake: Fake) -> None:
    start = time.time()

    def query(q: dict[str, str], _body: bytes) -> tuple[int, str]:
        fresh = time.time() > start + 1.5
        if q["query"].startswith("min(timestamp("):
            return instant([({}, time.time() if fresh else start - 60)])
        # The stale samples already show 0: only a fresh 0 counts.
        lag = 0.0 if not fresh or time.time() > start + 2.5 else 4.0
        return instant([({"topic": "chat4all.messages"}, lag)])

    fake.routes["/api/v1/query"] = query
    drain = wait_drained(Prometheus(fake.url), fresh_after=start, timeout=20, log=lambda _: None)
    assert drain.drained and drain.final_lag == 0 and drain.lag_by_topic == {"chat4all.messages": 0.0}
    assert drain.waited_s >= 2.5 and drain.sample_time >= start

    fake.routes["/api/v1/query"] = lambda q, b: instant([({"topic": "t"}, 7.0)])
    stuck = wait_drained(Prometheus(fake.url), fresh_after=0, timeout=1, log=lambda _: None)
    assert not stuck.drained and stuck.final_lag == 7


def test_provider_ledgers_and_configuration_at_the_topologys_addresses(fake: Fake) -> None:
    configured: list[dict] = []

    def config(_q: dict[str, str], body: bytes) -> tuple[int, str]:
        configured.append(json.loads(body))
        return 200, json.dumps({"mode": configured[-1]["mode"]})

    fake.routes["/admin/ledger"] = lambda q, b: (200, json.dumps({"received": {"m1": 2}, "order": {}}))
    fake.routes["/admin/config"] = config
    topology = local({"PROVIDER_INSTAGRAM_URL": fake.url})
    providers = Providers(topology)
    assert providers.ledger("instagram")["received"] == {"m1": 2}
    assert providers.configure("instagram", mode="error") == {"mode": "error"}

    async def use() -> tuple[dict, dict]:
        async with aiohttp.ClientSession() as http:
            mocks = AsyncProviders(topology, http)
            return await mocks.ledger("instagram"), await mocks.configure("instagram", mode="up")
    ledger, answer = asyncio.run(use())
    assert ledger["received"] == {"m1": 2} and answer == {"mode": "up"}
    assert configured == [{"mode": "error"}, {"mode": "up"}]


def test_group_lag_reads_none_while_kafka_does_not_answer() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    lag = GroupLag(f"127.0.0.1:{port}", "chat4all-router", ("chat4all.messages",))
    try:
        assert lag.read() is None
        assert lag.read() is None  # and tries again, rather than keeping a broken client
    finally:
        lag.close()

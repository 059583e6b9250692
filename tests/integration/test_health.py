"""GET /health on every service: real dependency probes, 503 while Kafka or Cassandra is down,
200 again after they are back — and the pipeline delivers again without manual action."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime

import pytest

from tests.integration.helpers import STACK, ctl, delivered

SERVICES = {"api": STACK.process("api").url, "router": STACK.process("router").url,
            **{f"connector-{c}": STACK.connector_url(c) for c in STACK.channels}}
DETECTION_LIMIT_S = 60  # the bound for a stopped dependency to show DOWN


async def health(http, url: str) -> tuple[int, dict]:
    async with http.get(f"{url}/health") as resp:
        assert resp.content_type == "application/json"
        return resp.status, await resp.json()


async def wait_status(http, url: str, code: int, timeout: float) -> tuple[float, dict]:
    started, body = time.monotonic(), {}
    while time.monotonic() - started < timeout:
        status, body = await health(http, url)
        if status == code:
            return time.monotonic() - started, body
        await asyncio.sleep(0.5)
    raise AssertionError(f"{url}/health not {code} within {timeout}s; last body {body}")


def parses_as_utc(ts: str) -> bool:
    return datetime.fromisoformat(ts).utcoffset().total_seconds() == 0


async def test_every_service_reports_up_with_its_documented_shape(api):
    alice, bob = await api.user(), await api.user()
    conv = await api.conversation(alice, bob)
    await api.send(alice, conv, "hello", recipient_id=f"whatsapp:+55{uuid.uuid4().int % 10**9}")
    assert await delivered(api, alice, conv, 1)
    bodies = {}
    for name, url in SERVICES.items():
        status, body = await health(api.http, url)
        assert status == 200 and body["status"] == "UP", (name, body)
        assert parses_as_utc(body["timestamp"])
        bodies[name] = body
    assert set(bodies["api"]["components"]) == {"kafka", "cassandra", "s3"}
    for component in bodies["api"]["components"].values():
        assert component["status"] == "UP" and component["latency_ms"] >= 0
    router = bodies["router"]
    assert router["consumer_lag"] >= 0 and router["messages_processed_last_minute"] >= 1
    wa = bodies["connector-whatsapp"]
    assert wa["channel"] == "whatsapp" and wa["circuit_breaker"] == "CLOSED"
    assert wa["last_successful_send"] and parses_as_utc(wa["last_successful_send"])
    assert bodies["connector-instagram"]["channel"] == "instagram"


@pytest.mark.parametrize("dependency,affected", [
    ("kafka", ["api", "router", "connector-whatsapp", "connector-instagram"]),
    ("cassandra", ["api", "router", "connector-whatsapp", "connector-instagram"]),
])
async def test_health_turns_503_while_a_dependency_is_stopped_and_recovers(api, dependency, affected):
    ctl("stop", dependency)
    try:
        for name in affected:
            took, body = await wait_status(api.http, SERVICES[name], 503, DETECTION_LIMIT_S)
            assert body["status"] == "DOWN"
            assert body["components"][dependency]["status"] == "DOWN", body
            print(f"{name}: DOWN {took:.1f}s after {dependency} stopped")
        assert body["components"][dependency]["error"]
    finally:
        ctl("start", dependency)
    for name in affected:
        took, body = await wait_status(api.http, SERVICES[name], 200, 120)
        assert body["status"] == "UP"
        print(f"{name}: UP again {took:.1f}s later")
    # Recovered for real: a new message goes all the way through.
    alice, bob = await api.user(), await api.user()
    conv = await api.conversation(alice, bob)
    await api.send(alice, conv, "after restart", recipient_id=f"instagram:@after-{uuid.uuid4().hex[:6]}")
    assert await delivered(api, alice, conv, 1)

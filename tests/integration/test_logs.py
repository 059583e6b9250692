"""JSON logs with one correlation id across api, router and connector; heartbeats; the monitor
notices a frozen (SIGSTOP) and a killed (SIGKILL) worker within 60 s."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

from devstack.layout import REPO_DIR, Layout
from tests.integration.helpers import STACK, ctl, delivered, wait_http

REQUIRED = {"timestamp", "level", "service", "instance_id", "correlation_id", "message"}
WORKERS = ("api", "router", "connector-whatsapp", "connector-instagram")


def log_path(name: str) -> Path:
    return Layout.from_env().log(name)


def records_since(name: str, offset: int) -> list[dict]:
    with log_path(name).open("rb") as f:
        f.seek(offset)
        lines = f.read().decode(errors="replace").splitlines()
    return [json.loads(line) for line in lines if line.strip()]  # any non-JSON line fails here


def offsets() -> dict[str, int]:
    return {name: log_path(name).stat().st_size for name in WORKERS}


async def test_one_correlation_id_is_logged_by_every_hop(api):
    start = offsets()
    alice, bob = await api.user(), await api.user()
    conv = await api.conversation(alice, bob)
    cid = f"test-{uuid.uuid4().hex}"
    status, body = await api.call("POST", "/v1/messages", alice, headers={"X-Correlation-ID": cid},
                                  json={"conversation_id": conv, "content": "trace me",
                                        "recipient_id": f"whatsapp:+55{uuid.uuid4().int % 10**9}"})
    assert status == 202, body
    assert await delivered(api, bob, conv, 1)

    async def hops() -> dict[str, set[str]]:
        seen: dict[str, set[str]] = {}
        for name in WORKERS:
            for record in records_since(name, start[name]):
                assert set(record) >= REQUIRED, (name, record)
                assert datetime.fromisoformat(record["timestamp"]).utcoffset().total_seconds() == 0
                if record["correlation_id"] == cid:
                    assert record["message_id"] == body["message_id"], record
                    seen.setdefault(name, set()).add(
                        record["message"] + (f":{record['status']}" if "status" in record else ""))
        return seen

    expected = {"api": {"message accepted"},
                "router": {"message routed", "status applied:SENT", "status applied:DELIVERED"},
                "connector-whatsapp": {"message sent:SENT", "receipt received:DELIVERED"}}
    seen = await api.wait_for(lambda: _when(hops(), lambda s: s == expected), timeout=15)
    assert seen == expected, await hops()


async def _when(coro, condition):
    value = await coro
    return value if condition(value) else None


async def test_the_api_echoes_or_mints_the_correlation_id_and_refuses_unsafe_ones(api):
    alice = await api.user()
    async with api.http.get(f"{api.base}/v1/conversations", headers=alice.auth) as resp:
        minted = resp.headers["X-Correlation-ID"]
        assert len(minted) == 32 and int(minted, 16) >= 0
    async with api.http.get(f"{api.base}/v1/nope", headers={"X-Correlation-ID": "abc-123"}) as resp:
        assert resp.status == 404 and resp.headers["X-Correlation-ID"] == "abc-123"
    async with api.http.get(f"{api.base}/v1/conversations",
                            headers=alice.auth | {"X-Correlation-ID": "has spaces"}) as resp:
        assert resp.status == 400 and "X-Correlation-ID" in (await resp.json())["error"]


async def test_every_worker_logs_heartbeats_with_its_figures():
    for name in WORKERS:
        text = log_path(name).read_text(errors="replace")
        beats = [json.loads(line) for line in text.splitlines() if '"message":"heartbeat"' in line]
        assert beats, f"no heartbeat in {log_path(name)}"
        last = beats[-1]
        assert {"status", "messages_processed", "consumer_lag", "uptime_seconds"} <= set(last), last
        assert last["service"] and last["instance_id"] == name


def monitor() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "chat4all_app.observability.heartbeat_monitor",
                             "--logs", str(Layout.from_env().logs), "--interval", "0.5"],
                            cwd=REPO_DIR, stdout=subprocess.PIPE, text=True)


async def test_the_monitor_alerts_within_60s_when_a_worker_freezes_or_dies():
    proc = monitor()
    try:
        assert json.loads(proc.stdout.readline())["event"] == "WATCHING"
        frozen, killed = "connector-instagram", "connector-whatsapp"
        ctl("signal", "STOP", frozen)
        ctl("signal", "KILL", killed)
        stopped_at = time.monotonic()
        alerts: dict[str, float] = {}
        while set(alerts) != {frozen, killed}:
            line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), timeout=75)
            event = json.loads(line)
            if event["event"] == "ALERT" and event["source"] in (frozen, killed):
                alerts[event["source"]] = time.monotonic() - stopped_at
            assert event["source"] not in ("api", "router"), event  # no false alarm
        print({k: f"{v:.1f}s" for k, v in alerts.items()})
        # Heartbeats every 30 s, alert after 60 s of silence, checked every 0.5 s.
        assert all(v <= 60.5 for v in alerts.values()), alerts
    finally:
        ctl("signal", "CONT", "connector-instagram")
        ctl("start", "connector-whatsapp")
        wait_http(STACK.connector_port("whatsapp"), "/health")
    line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), timeout=40)
    proc.kill()
    assert json.loads(line)["event"] == "RECOVERED"

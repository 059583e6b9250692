"""Pure parts of observability: activity window, heartbeat watch rules, correlation ids, health."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from chat4all_app.observability import correlation
from chat4all_app.observability.activity import Activity
from chat4all_app.observability.health import check, check_all, overall
from chat4all_app.observability.heartbeat_monitor import Watch


def test_activity_counts_the_last_minute_only():
    a = Activity(window_s=60)
    a.add(5, now=1000.2)
    a.add(3, now=1000.9)
    a.add(2, now=1030.0)
    assert a.recent(now=1031) == 10 and a.total == 10
    assert a.recent(now=1060.5) == 2  # second 1000 left the window
    assert a.recent(now=1091) == 0 and a.total == 10


def beat(ts: str, service="router", instance="router") -> str:
    return orjson.dumps({"timestamp": ts, "service": service, "instance_id": instance,
                         "message": "heartbeat", "status": "UP"}).decode()


def test_watch_alerts_once_after_the_silence_and_reports_recovery():
    w = Watch(silence_s=60)
    w.line("router", beat("2026-01-01T00:00:00+00:00"))
    w.line("router", '{"message": "message routed", "timestamp": "2026-01-01T00:00:50+00:00"}')
    t0 = 1767225600.0  # 2026-01-01T00:00:00Z
    assert w.check(t0 + 59) == []
    [alert] = w.check(t0 + 61)
    assert alert["event"] == "ALERT" and alert["source"] == "router" and alert["silent_s"] == 61
    assert w.check(t0 + 90) == []  # reported once
    w.line("router", "router-1 | " + beat("2026-01-01T00:01:35+00:00"))  # compose prefix is fine
    [back] = w.check(t0 + 96)
    assert back["event"] == "RECOVERED"


def test_watch_ignores_lines_that_are_not_heartbeats():
    w = Watch(silence_s=60)
    for line in ["plain text heartbeat", '{"message": "heartbeat"}', "{broken heartbeat",
                 '{"message": "other", "timestamp": "2026-01-01T00:00:00Z"}']:
        w.line("x", line)
    assert w.sources == {}


@pytest.mark.parametrize("raw", ["a b", "x" * 129, "é", "line\nbreak"])
def test_unsafe_correlation_ids_are_refused(raw):
    with pytest.raises(correlation.InvalidCorrelationId):
        correlation.accept(raw)


def test_correlation_ids_are_kept_or_minted():
    assert correlation.accept("req-42") == "req-42"
    assert len(correlation.accept(None)) == 32
    assert correlation.accept(None) != correlation.accept("")


async def test_a_slow_or_failing_probe_is_down_and_makes_the_service_down():
    async def ok():
        return 1

    async def slow():
        await asyncio.sleep(5)

    async def broken():
        raise ConnectionRefusedError("no broker")

    result = await check_all({"a": ok, "b": slow, "c": broken}, timeout_s=0.1)
    assert result["a"]["status"] == "UP" and overall({"a": result["a"]}) == "UP"
    assert result["b"]["status"] == "DOWN" and "TimeoutError" in result["b"]["error"]
    assert result["c"]["status"] == "DOWN" and "no broker" in result["c"]["error"]
    assert overall(result) == "DOWN"
    assert (await check(ok, 1))["latency_ms"] >= 0


async def test_what_a_probe_reports_joins_its_status():
    from chat4all_app.observability.health import QuorumLost

    async def quorum():
        return {"brokers": 3, "brokers_reachable": 2}

    async def lost():
        raise QuorumLost("1 of 3 brokers reachable; acks=all needs 2")

    assert await check(quorum, 1) == {"status": "UP", "latency_ms": pytest.approx(0, abs=50),
                                      "brokers": 3, "brokers_reachable": 2}
    down = await check(lost, 1)
    assert down["status"] == "DOWN"
    assert down["error"] == "QuorumLost: 1 of 3 brokers reachable; acks=all needs 2"


def test_the_file_follower_finds_the_last_heartbeat_far_back_in_a_busy_log(tmp_path):
    from chat4all_app.observability.heartbeat_monitor import FileFollower

    noise = '{"message":"message routed","timestamp":"2026-01-01T00:00:01+00:00"}\n'
    (tmp_path / "router.log").write_text(
        beat("2026-01-01T00:00:00+00:00") + "\n" + noise * 20_000)  # ~1.4 MB after the heartbeat
    (tmp_path / "kafka.log").write_text("not json at all\n")
    w = Watch(silence_s=60)
    for source, line in FileFollower(tmp_path).read():
        w.line(source, line)
    assert set(w.sources) == {"router"}
    assert w.sources["router"].last_beat == 1767225600.0

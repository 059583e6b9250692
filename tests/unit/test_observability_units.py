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


T0 = 1767225600.0  # 2026-01-01T00:00:00Z


def watched(*states: dict[str, str] | None):
    """A watch of router-2 (last beat at T0) and the states supervisord gives, one per check."""
    w = Watch(silence_s=60)
    w.line("router-2", beat("2026-01-01T00:00:00+00:00", instance="router-2"))
    answers = iter(states)
    return w, lambda: next(answers)


def test_a_spare_stopped_on_purpose_is_reported_once_and_never_alerts():
    w, states = watched({"router-2": "STOPPED"}, {"router-2": "STOPPED"})
    [stopped] = w.check(T0 + 61, states)
    assert stopped["event"] == "STOPPED" and stopped["source"] == "router-2"
    assert w.check(T0 + 600, states) == []
    assert not w.sources["router-2"].alerted  # --once exits 0


@pytest.mark.parametrize("state", ["RUNNING", "EXITED", "FATAL", None])  # None: supervisord unknown
def test_a_silent_program_meant_to_run_alerts(state):
    w, states = watched({"router-2": state} if state else None)
    [alert] = w.check(T0 + 61, states)
    assert alert["event"] == "ALERT" and w.sources["router-2"].alerted


def test_without_program_states_a_silent_source_alerts_as_before():
    w, _ = watched()
    [alert] = w.check(T0 + 61)
    assert alert["event"] == "ALERT"


def test_states_are_asked_only_when_a_source_is_silent():
    w, states = watched()  # no answer to give: asking would raise StopIteration
    assert w.check(T0 + 30, states) == []


def test_a_spare_started_again_gets_the_silence_to_beat_and_then_does():
    w, states = watched({"router-2": "STOPPED"}, {"router-2": "STARTING"}, {"router-2": "RUNNING"})
    assert [e["event"] for e in w.check(T0 + 100, states)] == ["STOPPED"]
    assert w.check(T0 + 200, states) == []  # started: no alert for the silence while it stopped
    assert w.check(T0 + 230, states) == []  # still within `silence` of its start
    w.line("router-2", beat("2026-01-01T00:03:55+00:00", instance="router-2"))
    assert w.check(T0 + 236, states) == []
    assert not w.sources["router-2"].stopped and not w.sources["router-2"].alerted


def test_a_spare_started_again_that_never_beats_alerts():
    w, states = watched({"router-2": "STOPPED"}, {"router-2": "RUNNING"}, {"router-2": "RUNNING"})
    w.check(T0 + 100, states)
    assert w.check(T0 + 200, states) == []
    [alert] = w.check(T0 + 261, states)
    assert alert["event"] == "ALERT" and alert["silent_s"] == 61


def test_an_alerted_program_stopped_afterwards_stops_alerting():
    w, states = watched({"router-2": "RUNNING"}, {"router-2": "STOPPED"})
    assert [e["event"] for e in w.check(T0 + 61, states)] == ["ALERT"]
    assert [e["event"] for e in w.check(T0 + 70, states)] == ["STOPPED"]
    assert not w.sources["router-2"].alerted


def test_program_states_are_asked_at_most_every_few_seconds():
    from chat4all_app.observability.heartbeat_monitor import Throttled

    now = [0.0]
    answers = iter([{"a": "RUNNING"}, {"a": "STOPPED"}])
    states = Throttled(lambda: next(answers), every_s=5, clock=lambda: now[0])
    assert states() == {"a": "RUNNING"}
    now[0] = 4.9
    assert states() == {"a": "RUNNING"}
    now[0] = 5.0
    assert states() == {"a": "STOPPED"}


def test_program_states_apply_to_the_supervised_stacks_own_logs_only(tmp_path):
    from chat4all_app.observability.heartbeat_monitor import Supervised, no_states, states_for

    supervised = Supervised(tmp_path / "logs", lambda: {"router-2": "STOPPED"})
    assert states_for(tmp_path / "logs", supervised)() == {"router-2": "STOPPED"}
    assert states_for(tmp_path / "other", supervised) is no_states
    assert states_for(tmp_path / "logs", None) is no_states


def test_once_exits_0_for_a_stopped_spare_and_1_for_a_silent_worker(tmp_path, capsys):
    from chat4all_app.observability.heartbeat_monitor import Supervised, main

    for name in ("router", "router-2"):
        (tmp_path / f"{name}.log").write_text(beat("2026-01-01T00:00:00+00:00", instance=name) + "\n")
    stopped_spare = Supervised(tmp_path, lambda: {"router": "STOPPED", "router-2": "STOPPED"})
    assert main(["--logs", str(tmp_path), "--once"], stopped_spare) == 0
    silent_worker = Supervised(tmp_path, lambda: {"router": "RUNNING", "router-2": "STOPPED"})
    assert main(["--logs", str(tmp_path), "--once"], silent_worker) == 1
    events = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted((e["event"], e["source"]) for e in events if e["event"] != "WATCHING") == [
        ("ALERT", "router"), ("STOPPED", "router"), ("STOPPED", "router-2"), ("STOPPED", "router-2")]


def test_a_stopped_spare_stays_stopped_while_supervisord_cannot_say():
    w, states = watched({"router-2": "STOPPED"}, None)
    w.check(T0 + 61, states)
    assert w.check(T0 + 600, states) == []  # e.g. `make down` under way


def test_a_spare_that_beats_again_alerts_as_soon_as_it_falls_silent():
    w, states = watched({"router-2": "STOPPED"}, {"router-2": "RUNNING"})
    w.check(T0 + 61, states)
    w.line("router-2", beat("2026-01-01T00:02:00+00:00", instance="router-2"))  # started, beating
    assert w.check(T0 + 121, states) == []
    [alert] = w.check(T0 + 181, states)  # then frozen: 61 s after its last beat
    assert alert["event"] == "ALERT"

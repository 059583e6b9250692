import json

from tests.failure_context import notable


def record(ts: str, level: str, message: str) -> str:
    return json.dumps({"timestamp": ts, "level": level, "logger": "faust.worker", "message": message})


def test_keeps_warnings_restarts_and_recoveries_since_the_given_time_with_the_compose_prefix():
    lines = [
        record("2026-11-29T06:00:00.1Z", "error", "before the test"),
        "router-worker-1  | " + record("2026-11-29T06:10:00.1Z", "info", "Consumer: Rebalancing"),
        record("2026-11-29T06:10:01.1Z", "info", "routine"),
        record("2026-11-29T06:10:02.1Z", "warning", "slow"),
        "Traceback (most recent call last):",
        "plain noise",
    ]
    kept = notable(lines, since="2026-11-29T06:05:00")
    assert kept == [
        "router-worker-1  | 2026-11-29T06:10:00.1Z info faust.worker: Consumer: Rebalancing",
        "2026-11-29T06:10:02.1Z warning faust.worker: slow",
        "Traceback (most recent call last):",
    ]
    assert notable(lines, since="2026-11-29T06:05:00", most=1) == ["Traceback (most recent call last):"]

"""The rebalance lines of an experiment survive the supervisor rotating a worker's log."""

import json
from datetime import UTC, datetime

from experiments.rebalances import RebalanceLog


def _line(message: str, t: float) -> str:
    stamp = datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")
    return json.dumps({"timestamp": stamp, "message": message}) + "\n"


def test_lines_written_before_and_after_a_rotation_are_all_found(tmp_path):
    log_path = tmp_path / "router.log"
    log_path.write_text(_line("Setting newly assigned partitions {old}", 900.0))
    log = RebalanceLog(("router",), wall0=1000.0, files={"router": log_path})

    with open(log_path, "a") as f:  # the experiment runs: a rebalance, then the log is rotated
        f.write(_line("Revoking previously assigned partitions frozenset()", 1001.0))
        f.write(_line("message routed", 1001.5))
    log_path.rename(tmp_path / "router.log.1")
    log_path.write_text(_line("Setting newly assigned partitions {new}", 1002.0))

    assert [(line["t"], line["message"]) for line in log.lines()] == [
        (1.0, "Revoking previously assigned partitions frozenset()"),
        (2.0, "Setting newly assigned partitions {new}")]


def test_each_call_reads_only_what_was_written_since_the_last(tmp_path):
    log_path = tmp_path / "router.log"
    log_path.write_text("")
    log = RebalanceLog(("router",), wall0=1000.0, files={"router": log_path})
    half = _line("Recovery complete", 1002.0)
    with open(log_path, "a") as f:
        f.write(_line("Elected group leader -- performing partition assignments", 1001.0))
        f.write(half[:20])  # a line still being written
    assert [line["t"] for line in log.lines()] == [1.0]
    with open(log_path, "a") as f:
        f.write(half[20:])
    assert [line["t"] for line in log.lines()] == [1.0, 2.0]
    assert [line["t"] for line in log.lines()] == [1.0, 2.0]

"""A worker that restarts itself in place leaves its consumer group first (real Kafka)."""

import subprocess
import sys

import orjson


def test_leave_group_removes_this_worker_from_its_consumer_group_at_once(tmp_path):
    # Without the LeaveGroup the broker keeps the member for a whole session timeout (6 s): the
    # group would still list it right after the call.
    subprocess.run([sys.executable, "-m", "tests.integration.leave_group_probe", str(tmp_path)],
                   check=True, timeout=120, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    result = orjson.loads((tmp_path / "result.json").read_bytes())
    assert result["member"] in result["before"]
    assert result["left"] is True
    assert result["member"] not in result["after"]

"""A record Faust read but never handed to the agent is read again after a seek (real Kafka, a
real Faust worker): the stall watch's first remedy, no restart."""

import subprocess
import sys

import orjson


def test_a_record_lost_inside_faust_is_read_again_by_a_seek_without_a_restart(tmp_path):
    subprocess.run([sys.executable, "-m", "tests.integration.stall_probe", str(tmp_path)],
                   check=True, timeout=120, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    result = orjson.loads((tmp_path / "result.json").read_bytes())
    assert result["lost"] == [4]  # the probe did lose it
    assert result["restarts"] == []
    # In order, then the lost one: read again from the committed offset (after 0..3 were committed,
    # or from 0 if the seek came before Faust's first commit: a replay, which agents are built for).
    received = result["received"]
    assert received[:4] == [0, 1, 2, 3] and received[-1] == 4 and received.count(4) == 1, received

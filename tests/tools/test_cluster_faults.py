"""The cluster experiments' own arithmetic and parsing: the delivery stall read off the timeline,
which tables a preview repair found out of sync, and a nodetool call that hangs."""

import subprocess

from experiments import cluster_faults
from experiments.probe import Reading
from experiments.timeline import Timeline


def delivered(points: list[tuple[float, float]]) -> Timeline:
    tl = Timeline()
    tl.points = []
    for t, total in points:
        r = Reading()
        r.delivered["whatsapp"] = total
        tl.points.append((t, r))
    return tl


def test_a_delivery_stall_is_the_longest_run_of_readings_without_a_delivery():
    tl = delivered([(0, 0), (1, 10), (2, 20), (3, 20), (4, 20), (5, 20), (6, 25), (7, 30)])
    # The reading at 2 was the last to move before the stall, the one at 6 the first after it.
    assert cluster_faults.longest_delivery_stall(tl, 0, 7) == 4
    assert cluster_faults.longest_delivery_stall(tl, 5.5, 7) == 0  # only what lies inside the window
    # Deliveries at every reading, however far apart the readings are: no stall.
    assert cluster_faults.longest_delivery_stall(delivered([(0, 0), (3, 30), (9, 90)]), 0, 9) == 0
    # Still stalled when the window ends: counted up to its last reading.
    assert cluster_faults.longest_delivery_stall(delivered([(0, 0), (1, 5), (2, 5), (5, 5)]), 0, 5) == 4


PREVIEW = """[2026-11-29 19:40:35,575] Repair preview completed successfully; Preview complete
Total estimated streaming: 2 ranges, 8 sstables, 119.510KiB bytes
chat4all.conversations - 0 ranges, 0 sstables, 0B bytes

chat4all.message_claims - 2 ranges, 8 sstables, 119.510KiB bytes
    Mismatching ranges: (-2392912602009523544,-2391411402133733379],
    /127.0.0.1:7000 -> /127.0.0.3:7000: 2 ranges, 2 sstables, 23.729KiB bytes

chat4all.messages - 0 ranges, 0 sstables, 0B bytes
"""


def test_out_of_sync_lists_the_tables_with_mismatching_ranges(monkeypatch):
    def preview(stdout: str, code: int = 0):
        monkeypatch.setattr(cluster_faults.nodetool, "run", lambda *a, **k: subprocess.CompletedProcess(
            a, code, stdout, ""))

    preview(PREVIEW)
    assert cluster_faults.out_of_sync(1, "chat4all") == {"message_claims": 2}
    preview(PREVIEW.replace("message_claims - 2 ranges", "message_claims - 0 ranges"))
    assert cluster_faults.out_of_sync(1, "chat4all") == {}
    preview("error: JMX connection refused", code=1)
    assert cluster_faults.out_of_sync(1, "chat4all") is None


def test_a_nodetool_call_that_outlasts_its_timeout_reads_as_exit_124(monkeypatch):
    from devstack import nodetool
    monkeypatch.setattr(nodetool, "argv", lambda *a: ["sleep", "5"])
    out = nodetool.run(None, 1, "status", timeout=0.2)  # type: ignore[arg-type]
    assert out.returncode == 124 and "timed out" in out.stderr

"""The failover's takeover analysis: which partitions the dead worker left, and when the survivor
committed each of them (broker-side offsets read by the experiment's timeline)."""

from __future__ import annotations

from experiments.probe import Reading
from experiments.takeover import first_commit_after, lag_back_at, stalled_at_kill


def reading(committed: dict[str, int], lag: float | None = None) -> Reading:
    return Reading(router_committed=committed, router_group_lag=lag)


# Partition a belongs to the survivor all along; b to the worker killed at t=10, which committed it
# one last time just before; taken over at t=16. No message goes to partition c.
POINTS = [
    (6.0, reading({"a": 90, "b": 170, "c": 7}, 20)),
    (8.0, reading({"a": 100, "b": 180, "c": 7}, 30)),
    (12.0, reading({"a": 140, "b": 200, "c": 7}, 90)),
    (15.0, reading({"a": 170, "b": 200, "c": 7}, 160)),
    (17.0, reading({"a": 190, "b": 200, "c": 7}, 250)),
    (19.0, reading({"a": 210, "b": 330, "c": 7}, 40)),
]


def test_the_dead_workers_partitions_are_those_whose_commit_stopped_at_the_kill():
    assert stalled_at_kill(POINTS, t_kill=10.0, t_takeover=16.0) == {"b": 200}  # not idle c


def test_the_delay_is_from_the_takeover_to_the_first_reading_past_the_stall():
    assert first_commit_after(POINTS, {"b": 200}, t_takeover=16.0) == {"b": 3.0}


def test_a_partition_the_survivor_never_commits_has_no_delay():
    never = [(t, reading({**r.router_committed, "b": 200}, r.router_group_lag)) for t, r in POINTS]
    assert first_commit_after(never, {"b": 200}, t_takeover=16.0) == {"b": None}


def test_no_readings_of_committed_offsets_means_no_stalled_partition():
    assert stalled_at_kill([(8.0, Reading()), (15.0, Reading())], 10.0, 16.0) == {}
    assert stalled_at_kill(POINTS[:3], 10.0, 16.0) == {}  # one reading after the kill proves nothing


def test_lag_back_is_the_first_reading_at_or_below_the_level_after_the_takeover():
    assert lag_back_at(POINTS, 16.0, level=45) == 19.0
    assert lag_back_at(POINTS, 16.0, level=10) is None
    assert lag_back_at(POINTS, 0.0, level=45) == 6.0  # from t=0, the first reading already is

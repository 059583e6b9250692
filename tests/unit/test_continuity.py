"""A hole in a partition's offsets is found; replays and new partitions are not holes."""

from types import SimpleNamespace

from faust.types import TP

from chat4all_app.workarounds.continuity import Hole, OffsetContinuity

A, B = TP("chat4all.status", 0), TP("chat4all.status", 3)


def events(*pairs):
    return [SimpleNamespace(message=SimpleNamespace(tp=tp, offset=o)) for tp, o in pairs]


def test_contiguous_batches_have_no_holes_even_across_batches_and_partitions():
    c = OffsetContinuity()
    assert c.holes(events((A, 10), (B, 3), (A, 11), (B, 4))) == []
    assert c.holes(events((B, 5), (A, 12))) == []


def test_a_skipped_offset_is_a_hole_within_a_batch_or_between_batches():
    c = OffsetContinuity()
    assert c.holes(events((A, 10), (A, 12))) == [Hole(A, 11, 12)]
    c2 = OffsetContinuity()
    c2.holes(events((A, 10), (B, 0)))
    assert c2.holes(events((B, 1), (A, 13))) == [Hole(A, 11, 13)]


def test_a_replay_from_an_earlier_offset_is_not_a_hole_and_restarts_the_count():
    c = OffsetContinuity()
    c.holes(events((A, 10), (A, 11), (A, 12)))
    assert c.holes(events((A, 11), (A, 12), (A, 13))) == []
    assert c.holes(events((A, 15))) == [Hole(A, 14, 15)]


def test_revoked_partitions_start_fresh_wherever_they_come_back():
    c = OffsetContinuity()
    c.holes(events((A, 10)))
    c.forget([A])
    assert c.holes(events((A, 500))) == []

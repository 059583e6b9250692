"""A hole in a partition's offsets is found; replays and new partitions are not holes."""

from types import SimpleNamespace

from faust.types import TP

from chat4all_app.workarounds.continuity import Hole, OffsetContinuity, real_holes

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


def test_a_partition_without_a_committed_offset_starts_wherever_it_starts():
    c = OffsetContinuity()
    c.holes(events((A, 10)))
    c.forget([A])
    assert c.holes(events((A, 500))) == []


def test_a_partition_just_assigned_must_start_at_its_committed_offset():
    # The CI case: after a rebalance, records fetched before it arrived while the first two, at the
    # committed offset, had been dropped with the stream's buffer.
    committed = {A: 40}
    c = OffsetContinuity(committed.get)
    assert c.holes(events((A, 42), (A, 43))) == [Hole(A, 40, 42, after_assignment=True)]
    c.forget([A])
    assert c.holes(events((A, 40), (A, 41))) == []  # Faust's seek: from the committed offset
    assert c.holes(events((A, 42))) == []
    c.forget([A])
    committed[A] = 43
    assert c.holes(events((A, 41))) == []  # behind the commit: a replay, not a hole


def test_retention_past_the_committed_offset_is_not_a_hole():
    c = OffsetContinuity({A: 40, B: 7}.get)
    holes = c.holes(events((A, 100), (B, 9)))
    # A's records up to 99 were deleted (Kafka resets to the earliest offset); B's 7 and 8 exist.
    assert real_holes(holes, {A: 100, B: 0}) == [Hole(B, 7, 9, after_assignment=True)]
    seen = OffsetContinuity()
    seen.holes(events((A, 10)))
    assert real_holes(seen.holes(events((A, 100))), {A: 100}) == [Hole(A, 11, 100)]  # seen here: lost

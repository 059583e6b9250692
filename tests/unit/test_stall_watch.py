"""The stall rule: lag + no committed progress + no event reaching the agent, unless one batch is busy;
and its remedy: a seek back to the committed offset, then a restart if that did not help."""

import asyncio

import pytest
from aiokafka.errors import KafkaTimeoutError
from faust.types import TP

from chat4all_app.workarounds.stall_watch import (
    BatchActivity,
    StallDetector,
    StallRemedy,
    skip_tick_while_broker_unreachable,
)

A, B = TP("chat4all.messages", 0), TP("chat4all.messages", 1)


def sample(detector, now, committed, highwater, activity=None):
    return detector.stalled(now, committed, highwater, activity or BatchActivity())


def test_a_partition_with_lag_and_no_progress_is_stalled_after_the_delay():
    d = StallDetector(stall_after_s=20)
    assert sample(d, 0, {A: 5, B: 7}, {A: 9, B: 7}) == []
    assert sample(d, 19, {A: 5, B: 7}, {A: 9, B: 7}) == []
    assert sample(d, 20, {A: 5, B: 7}, {A: 9, B: 7}) == [A]  # B has no lag


def test_progress_restarts_the_clock():
    d = StallDetector(stall_after_s=20)
    sample(d, 0, {A: 5}, {A: 9})
    assert sample(d, 15, {A: 6}, {A: 9}) == []
    assert sample(d, 30, {A: 6}, {A: 9}) == []
    assert sample(d, 35, {A: 6}, {A: 9}) == [A]


def test_events_reaching_the_agent_are_progress_even_before_a_commit():
    d = StallDetector(stall_after_s=20)
    activity = BatchActivity()
    sample(d, 0, {A: 5}, {A: 9}, activity)
    activity.batch_started([A], now=10)
    activity.batch_done()
    assert sample(d, 25, {A: 5}, {A: 9}, activity) == []
    assert sample(d, 30, {A: 5}, {A: 9}, activity) == [A]


def test_one_long_batch_is_store_and_forward_not_a_stall():
    d = StallDetector(stall_after_s=20)
    activity = BatchActivity()
    sample(d, 0, {A: 5}, {A: 9}, activity)
    activity.batch_started([B], now=1)  # e.g. waiting on an open circuit
    assert sample(d, 60, {A: 5}, {A: 9}, activity) == []
    activity.batch_done()
    assert sample(d, 61, {A: 5}, {A: 9}, activity) == [A]


def test_a_partition_never_committed_by_this_consumer_counts_from_zero():
    d = StallDetector(stall_after_s=20)
    sample(d, 0, {A: None}, {A: 3})
    assert sample(d, 20, {A: None}, {A: 3}) == [A]
    d2 = StallDetector(stall_after_s=20)
    sample(d2, 0, {A: None}, {A: 0})
    assert sample(d2, 20, {A: None}, {A: 0}) == []


def test_a_tick_the_broker_cannot_answer_is_skipped_not_raised():
    """A timer's exception crashes the Faust App; Kafka down > request timeout must not do that."""
    calls = []

    @skip_tick_while_broker_unreachable
    async def unreachable():
        calls.append(1)
        raise KafkaTimeoutError("Failed to get offsets by times in 40000 ms")

    @skip_tick_while_broker_unreachable
    async def buggy():
        raise ValueError("a bug of ours")

    asyncio.run(unreachable())
    assert calls == [1]
    with pytest.raises(ValueError):  # our own bugs still surface
        asyncio.run(buggy())


class Remedies:
    """What the watch did: seeks (tp, offset) and restarts (reasons); a seek may be made to fail."""

    def __init__(self, seek_fails: bool = False):
        self.seeks, self.restarts, self.seek_fails = [], [], seek_fails

    async def seek(self, tp, offset):
        if self.seek_fails:
            raise RuntimeError("partition not assigned")
        self.seeks.append((tp, offset))

    def remedy(self) -> StallRemedy:
        return StallRemedy(self.seek, self.restarts.append)


async def test_a_stall_is_first_sought_back_to_the_committed_offset_then_restarts_if_still_stalled():
    did = Remedies()
    remedy = did.remedy()
    await remedy([A], {A: 320}, "A stalled")
    assert did.seeks == [(A, 320)] and did.restarts == []
    await remedy([A], {A: 320}, "A stalled")  # the seek did not help: same offset
    assert did.seeks == [(A, 320)] and len(did.restarts) == 1
    assert did.restarts[0].startswith("A stalled; still stalled after a seek")


async def test_a_partition_that_moved_on_after_its_seek_gets_a_seek_again_next_time():
    did = Remedies()
    remedy = did.remedy()
    await remedy([A], {A: 320}, "A stalled")
    await remedy([A, B], {A: 400, B: 7}, "A and B stalled")
    assert did.seeks == [(A, 320), (A, 400), (B, 7)] and did.restarts == []


async def test_a_seek_that_fails_restarts_instead_of_raising_into_the_timer():
    did = Remedies(seek_fails=True)
    await did.remedy()([A], {A: 3}, "A stalled")
    assert did.seeks == [] and did.restarts == [
        "A stalled; the seek back to the committed offset failed: RuntimeError('partition not assigned')"]


def test_after_a_remedy_a_partition_gets_a_whole_new_delay():
    d = StallDetector(stall_after_s=10)
    assert sample(d, 0, {A: 5}, {A: 9}) == []
    assert sample(d, 10, {A: 5}, {A: 9}) == [A]
    d.restart_clock([A], 10)
    assert sample(d, 15, {A: 5}, {A: 9}) == []
    assert sample(d, 20, {A: 5}, {A: 9}) == [A]


async def test_a_partition_revoked_and_assigned_again_gets_a_seek_first_again():
    did = Remedies()
    remedy = did.remedy()
    await remedy([A], {A: 320}, "A stalled")
    remedy.keep_only([B])  # A revoked
    remedy.keep_only([A, B])  # and back
    await remedy([A], {A: 320}, "A stalled")
    assert did.seeks == [(A, 320), (A, 320)] and did.restarts == []

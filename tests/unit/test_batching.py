"""An unexpected error while processing a batch restarts the worker before Faust can ack the batch;
so does a batch that skips offsets."""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace

import pytest
from faust.exceptions import PartitionsMismatch
from faust.types import TP
from intervaltree import IntervalTree

from chat4all_app.agents import batching
from chat4all_app.workarounds import stall_watch
from chat4all_app.workarounds.continuity import Hole, OffsetContinuity


class Restarted(BaseException):
    """Stands in for os.execv: nothing after restart_in_place runs in the real worker."""


@pytest.fixture
def restarts(monkeypatch) -> list[str]:
    reasons: list[str] = []

    def restart_in_place(app, reason):
        reasons.append(reason)
        raise Restarted

    monkeypatch.setattr(batching, "restart_in_place", restart_in_place)
    monkeypatch.setattr(batching, "RESTART_BACKOFF_S", 0.01)
    return reasons


async def test_an_unexpected_error_restarts_the_worker_instead_of_raising_into_faust(restarts):
    async def handle(events):
        raise PartitionsMismatch("changelog topic has 0 partitions")

    with pytest.raises(Restarted):
        await batching.handled_or_restart(None, "send-whatsapp", handle, ["event"])
    assert len(restarts) == 1
    assert restarts[0].startswith("send-whatsapp: PartitionsMismatch while processing a batch")


async def test_a_step_that_succeeds_restarts_nothing(restarts):
    seen = []

    async def handle(events):
        seen.extend(events)

    await batching.handled_or_restart(None, "route-messages", handle, ["a", "b"])
    assert seen == ["a", "b"] and restarts == []


class Consumer:
    """Faust's consumer as the hole check sees it: committed offsets and the broker's earliest."""

    def __init__(self, committed, earliest):
        self._committed_offset, self.earliest, self.asked = committed, earliest, []
        self._gap = defaultdict(IntervalTree)  # Faust's: offsets its commit may count as done

    async def earliest_offsets(self, *tps):
        self.asked.append(set(tps))
        return {tp: self.earliest[tp] for tp in tps}


def offsets(tp, *numbers):
    return [SimpleNamespace(message=SimpleNamespace(tp=tp, offset=n)) for n in numbers]


async def test_a_batch_past_the_committed_offset_of_a_partition_just_assigned_is_a_loss():
    tp = TP("chat4all.outbound.instagram", 2)
    app = SimpleNamespace(consumer=Consumer({tp: 40}, {tp: 0}))
    continuity = OffsetContinuity(lambda p: stall_watch.committed_offset(app, p))
    assert await batching.lost_offsets(app, continuity, offsets(tp, 42, 43)) == [
        Hole(tp, 40, 42, after_assignment=True)]
    assert app.consumer.asked == [{tp}]
    assert await batching.lost_offsets(app, continuity, offsets(tp, 44)) == []
    assert app.consumer.asked == [{tp}]  # contiguous: the broker is not asked


async def test_a_partition_whose_committed_records_expired_starts_at_its_earliest_offset():
    tp = TP("chat4all.messages", 0)
    app = SimpleNamespace(consumer=Consumer({tp: 40}, {tp: 100}))
    continuity = OffsetContinuity(lambda p: stall_watch.committed_offset(app, p))
    assert await batching.lost_offsets(app, continuity, offsets(tp, 100, 101)) == []
    # ... and the commit may pass what retention deleted (Faust starts a gap after its committed offset)
    assert sorted((i.begin, i.end) for i in app.consumer._gap[tp]) == [(41, 100)]


async def test_when_the_broker_cannot_say_a_jump_after_an_assignment_counts_as_a_loss():
    tp = TP("chat4all.messages", 1)
    consumer = Consumer({tp: 40}, {})  # no earliest offset: the query raises (KeyError here)
    app = SimpleNamespace(consumer=consumer)
    continuity = OffsetContinuity(lambda p: stall_watch.committed_offset(app, p))
    assert await batching.lost_offsets(app, continuity, offsets(tp, 42)) == [
        Hole(tp, 40, 42, after_assignment=True)]

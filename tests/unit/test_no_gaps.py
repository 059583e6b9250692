"""Offsets Faust's fetch loop skipped are not committed as done (the commit arithmetic of Faust's
own consumer, no Kafka)."""

from __future__ import annotations

import faust
from faust.transport.consumer import Consumer
from faust.types import TP

from chat4all_app.faust_app import make_app
from chat4all_app.workarounds import no_gaps
from tests.unit.fakes import SETTINGS

TP0 = TP("chat4all.messages", 0)


def acked(consumer, *offsets: int) -> None:
    """What Consumer.ack records for a processed message, without a Message."""
    for offset in offsets:
        consumer._acked_index[TP0].add(offset)
        consumer._acked[TP0].append(offset)


async def commit_point_after_a_jump(app: faust.App) -> int | None:
    consumer = app.consumer  # built, never started: no broker needed
    consumer._committed_offset[TP0] = 37
    acked(consumer, 37)  # 37 processed; the fetch loop then read 66: 38..65 never reached the agent
    await consumer._add_gap(TP0, 38, 66)
    acked(consumer, 66)
    return consumer._new_offset(TP0)


async def test_a_skipped_range_stops_the_commit_where_processing_stopped():
    app = make_app("gaps-probe", SETTINGS, web_enabled=False)
    assert Consumer._add_gap is not no_gaps.FAUSTS_OWN  # make_app installed the workaround
    assert await commit_point_after_a_jump(app) == 38


async def test_faust_alone_would_commit_past_the_skipped_range(monkeypatch):
    # The bug the workaround exists for: when this fails, a Faust upgrade fixed it (drop no_gaps).
    app = make_app("gaps-probe", SETTINGS, web_enabled=False)
    monkeypatch.setattr(Consumer, "_add_gap", no_gaps.FAUSTS_OWN)
    assert await commit_point_after_a_jump(app) == 67


async def test_offsets_retention_deleted_are_still_skipped(monkeypatch):
    app = make_app("gaps-probe", SETTINGS, web_enabled=False)
    consumer = app.consumer

    async def earliest_offsets(*tps):
        return {TP0: 50}  # 38..49 are gone from the log; 50..65 exist but never reached the agent

    monkeypatch.setattr(consumer, "earliest_offsets", earliest_offsets)
    assert await commit_point_after_a_jump(app) == 50  # past what is gone, not past what is not read
    consumer._committed_offset[TP0] = 50  # as Faust's commit records it
    acked(consumer, *range(50, 66))  # replayed after the restart: the commit goes on
    assert consumer._new_offset(TP0) == 67


async def test_a_jump_entirely_below_the_log_start_is_skipped_like_faust_does(monkeypatch):
    app = make_app("gaps-probe", SETTINGS, web_enabled=False)

    async def earliest_offsets(*tps):
        return {TP0: 66}

    monkeypatch.setattr(app.consumer, "earliest_offsets", earliest_offsets)
    assert await commit_point_after_a_jump(app) == 67

"""The one agent shape every worker uses: take a batch of events, hand it to a handler.

Batches (`take_events`) instead of `concurrency>1`: Faust can commit past an in-flight event with
concurrent agents; a batch is acked only after its handler returned, and the handler gets the
events themselves so it can pin table access to each event's partition.
The agent reads raw bytes and decodes each event at its edge: the handler gets typed, valid
records only; a poison event is dead-lettered (acknowledged by Kafka) before the batch is acked.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast

import faust
from faust.types import EventT

from chat4all_app.dead_letters import INVALID_RECORD, DeadLetters, Poison
from chat4all_app.observability.activity import PROCESSED
from chat4all_app.observability.metrics import CONSUMER_LAG, MESSAGES_CONSUMED, PROCESSING_DURATION
from chat4all_app.settings import Settings
from chat4all_app.topics import consumed
from chat4all_app.workarounds import no_gaps, stall_watch
from chat4all_app.workarounds.continuity import Hole, OffsetContinuity, real_holes
from chat4all_app.workarounds.restart import restart_in_place

# Pause before restarting a worker whose batch failed unexpectedly (handled_or_restart).
RESTART_BACKOFF_S = 5.0

# (Kafka key, Kafka value) -> the topic's record; raises Poison (see agents.decode).
Decoder = Callable[[bytes | None, bytes | None], faust.Record]
R = TypeVar("R", bound=faust.Record)


def typed_events(app: faust.App, events: Sequence[EventT],
                 decode: Decoder) -> tuple[list[EventT], list[tuple[EventT, Poison]]]:
    """The events with their records decoded (same Kafka message: same partition, same ack), and
    the poison ones with why."""
    typed, poisoned = [], []
    for event in events:
        message = event.message
        try:
            record = decode(message.key, message.value)
        except Poison as poison:
            poisoned.append((event, poison))
            continue
        except Exception as exc:
            # A decoder bug must not crash the agent (which would ack the whole batch unprocessed):
            # the event is dead-lettered with what went wrong.
            poisoned.append((event, Poison(INVALID_RECORD, f"{type(exc).__name__}: {str(exc)[:200]}")))
            continue
        key = message.key.decode(errors="replace") if message.key is not None else None
        typed.append(app.create_event(key, record, message.headers, message))
    return typed, poisoned


def record_of(event: EventT, record_type: type[R]) -> R:
    """The record of an event `typed_events` decoded: a handler's events carry the `record_type` its
    decoder returns. Faust types `EventT.value` as `bytes | ModelT | Any`; this names the type (unchecked)."""
    return cast(R, event.value)


async def handled_or_restart(app: faust.App, name: str, step: Callable[..., Awaitable[Any]],
                             *args: Any) -> None:
    """Run one step of a batch; on an error nobody expected, restart the worker in place.

    Raising out of the agent would let Faust ack the whole batch unprocessed (faust.md), so the
    events would be lost. Seen for real: a connector's first event after a fresh start failed with
    PartitionsMismatch (its table's changelog topic, created moments before, not yet in the
    consumer's metadata). A fresh process re-reads the batch from the committed offsets."""
    try:
        await step(*args)
    except Exception as exc:
        # An error that repeats (a bug) restarts the worker at most every few seconds, not in a
        # loop that rebalances the whole group continuously; the batch stays unacknowledged.
        await asyncio.sleep(RESTART_BACKOFF_S)
        restart_in_place(app, f"{name}: {type(exc).__name__} while processing a batch "
                              f"({str(exc)[:300]}); not acknowledging it")
        raise  # only when restart_in_place returns (tests): never ack what failed


async def lost_offsets(app: faust.App, continuity: OffsetContinuity, events: Sequence[EventT]) -> list[Hole]:
    holes = continuity.holes(events)
    if any(h.after_assignment for h in holes):  # rare: ask the broker whether retention explains it
        try:
            earliest = await app.consumer.earliest_offsets(*{h.tp for h in holes})
        except Exception:  # raising here would ack the batch: count them as lost (a restart replays)
            return holes
        lost = real_holes(holes, earliest)
        for excused in (h for h in holes if h not in lost):  # retention: let the commit pass them
            await no_gaps.skip_deleted(stall_watch.faust_consumer(app), excused.tp, excused.expected,
                                       earliest[excused.tp])
        holes = lost
    return holes


def batch_agent(app: faust.App, topic: faust.TopicT, name: str, size: int,
                handle: Callable[[Sequence[EventT]], Awaitable[Any]],
                settings: Settings, decode: Decoder, dead_letters: DeadLetters) -> faust.types.AgentT:
    activity = stall_watch.BatchActivity()
    continuity = OffsetContinuity(lambda tp: stall_watch.committed_offset(app, tp))

    # Faust types a receiver as (sender, *args, signal=...); this signal always sends the assigned set.
    @app.on_partitions_assigned.connect  # type: ignore[arg-type]  # its receiver type allows no required args
    async def count_from_zero(sender, assigned, **kwargs) -> None:
        # A series that exists before its first event lets rate() see that event too.
        for tp in assigned:
            if tp.topic in topic.topics:
                MESSAGES_CONSUMED.labels(tp.topic, str(tp.partition))

    # Faust types a receiver as (sender, *args, signal=...); this signal always sends the revoked set.
    @app.on_partitions_revoked.connect  # type: ignore[arg-type]  # its receiver type allows no required args
    async def forget_revoked(sender, revoked, **kwargs) -> None:
        continuity.forget(revoked)
        for tp in revoked:  # another worker reports these partitions' lag now
            if tp.topic in topic.topics:
                with contextlib.suppress(KeyError):
                    CONSUMER_LAG.remove(tp.topic, str(tp.partition))

    async def process(stream):
        async for events in stream.take_events(size, within=settings.batch_within_s):
            holes = await lost_offsets(app, continuity, events)
            if holes:
                restart_in_place(app, f"{name}: offsets missing before {holes} (lost between Kafka and the "
                                 "stream); not processing past them")
            for event in events:
                MESSAGES_CONSUMED.labels(event.message.topic, str(event.message.partition)).inc()
            activity.batch_started({e.message.tp for e in events}, time.monotonic())
            try:
                with PROCESSING_DURATION.labels(name).time():
                    typed, poisoned = typed_events(app, events, decode)
                    await handled_or_restart(app, name, dead_letters.publish, name, poisoned)
                    if typed:
                        await handled_or_restart(app, name, handle, typed)
                PROCESSED.add(len(events))
            finally:
                activity.batch_done()

    process.__name__ = name.replace("-", "_")
    for topic_name in topic.topics:
        stall_watch.install(app, topic_name, activity, settings.stall_check_interval_s,
                            settings.stall_after_s)
    return app.agent(consumed(app, topic), name=name)(process)

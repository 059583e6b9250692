"""Status applier: status event -> known message? -> monotonic transition -> Cassandra -> announce
to the conversation's members (push.updates).

Events for one message arrive in order on one partition (keyed by conversation), but may be
repeated or late (at-least-once). The `statuses` table holds the latest applied status, so a
repeated or backwards event is ignored (counted as a duplicate). Cassandra is written before the
table, so a crash in between re-applies the transition instead of losing it.

Poison is dead-lettered, never retried: an event that does not decode or validate (agents.decode),
a status for a message that was never stored, a transition that contradicts the current status
(READ before DELIVERED, anything after FAILED), a write Cassandra refuses for good.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import faust
from faust.types import EventT

from chat4all_app.agents import decode
from chat4all_app.agents.batching import batch_agent, record_of
from chat4all_app.dead_letters import (
    IMPOSSIBLE_TRANSITION,
    STORE_REJECTED,
    UNKNOWN_MESSAGE,
    DeadLetters,
    Poison,
)
from chat4all_app.delivery_status import Status, Transition, transition
from chat4all_app.ids import accepted_epoch
from chat4all_app.observability.logs import get_logger
from chat4all_app.observability.metrics import CASSANDRA_WRITE_DURATION, DELIVERY_LATENCY, MESSAGES_PROCESSED
from chat4all_app.push.updates import Announcer, status_applied
from chat4all_app.records import StatusEvent
from chat4all_app.retry import isolating, until_done
from chat4all_app.settings import Settings
from chat4all_app.storage.cassandra import CassandraStore, refused_for_good
from chat4all_app.storage.messages import apply_statuses, stored_status
from chat4all_app.tables.state import MessageKey, MessageStatuses
from chat4all_app.workarounds.table_scope import for_event

log = get_logger(__name__)
AGENT = "apply-status"


@dataclass
class Changes:
    """What one batch does: per message its last event and the transitions to apply, in order."""

    apply: dict[MessageKey, tuple[EventT, list[StatusEvent]]]
    poisoned: list[tuple[EventT, Poison]]
    stale: int
    # Every transition to apply, in the batch's order (across messages: as their members saw them).
    ordered: list[tuple[MessageKey, StatusEvent]]


@dataclass
class StatusApplier:
    settings: Settings
    store: CassandraStore
    statuses: MessageStatuses
    dead_letters: DeadLetters
    updates: Announcer

    async def current(self, events: Sequence[EventT]) -> dict[MessageKey, Status | None]:
        """Each message's latest status: from the table, or (first status event of a message, the
        table has nothing yet) from its Cassandra row. None: no such message is stored."""
        found: dict[MessageKey, Status | None] = {}
        misses: dict[MessageKey, StatusEvent] = {}
        for event in events:
            ev = record_of(event, StatusEvent)
            key = MessageKey.of(ev)
            if key in found or key in misses:
                continue
            with for_event(event):
                applied = self.statuses.get(key)
            if applied is not None:
                found[key] = applied
            else:
                misses[key] = ev

        async def lookup(ev: StatusEvent) -> Status | None:
            return await until_done(
                lambda: stored_status(self.store, ev.conversation_id, ev.accepted_id, ev.message_id),
                f"reading message {ev.message_id}", reason="cassandra")

        stored = await asyncio.gather(*(lookup(ev) for ev in misses.values()))
        return found | dict(zip(misses, stored, strict=True))

    def transitions(self, events: Sequence[EventT], latest: dict[MessageKey, Status | None]) -> Changes:
        changes = Changes({}, [], 0, [])
        for event in events:
            ev = record_of(event, StatusEvent)
            key, new = MessageKey.of(ev), ev.status
            current = latest[key]
            if current is None:
                changes.poisoned.append((event, Poison(UNKNOWN_MESSAGE, f"no message {ev.message_id} at "
                                                       f"{ev.conversation_id}/{ev.accepted_id}")))
                continue
            outcome = transition(current, new)
            if outcome is Transition.IMPOSSIBLE:
                changes.poisoned.append((event, Poison(IMPOSSIBLE_TRANSITION, f"{current} -> {new}")))
            elif outcome is Transition.STALE:
                changes.stale += 1
            else:
                latest[key] = new
                _, applied = changes.apply.get(key, (event, []))
                changes.apply[key] = (event, [*applied, ev])
                changes.ordered.append((key, ev))
        return changes

    async def write(self, changes: Changes) -> None:
        """Apply the transitions; a message whose update Cassandra refuses for good is dead-lettered."""
        async def write(some: Sequence[tuple[MessageKey, tuple[EventT, list[StatusEvent]]]]) -> None:
            with CASSANDRA_WRITE_DURATION.time():
                await apply_statuses(self.store, [applied for _, (_, applied) in some])

        refused = await isolating(list(changes.apply.items()), write,
                                  f"applying {len(changes.apply)} status changes",
                                  reason="cassandra", permanent=refused_for_good)
        for (key, (event, _)), exc in refused:
            del changes.apply[key]
            changes.poisoned.append((event, Poison(STORE_REJECTED, f"{type(exc).__name__}: {exc}")))

    async def announce(self, changes: Changes) -> None:
        """The transitions Cassandra now holds, in the batch's order."""
        await self.updates.announce([
            status_applied(ev, ev.accepted_at or accepted_epoch(ev.accepted_id))
            for key, ev in changes.ordered if key in changes.apply])

    async def handle(self, events: Sequence[EventT]) -> int:
        changes = self.transitions(events, await self.current(events))
        if changes.apply:
            await self.write(changes)
            await self.announce(changes)
        await self.dead_letters.publish(AGENT, changes.poisoned)
        MESSAGES_PROCESSED.labels("duplicate").inc(changes.stale)
        for _, applied in changes.apply.values():
            for ev in applied:
                MESSAGES_PROCESSED.labels(ev.status).inc()
                log.info("status applied", correlation_id=ev.correlation_id, message_id=ev.message_id,
                         status=ev.status, channel=ev.channel, reason=ev.reason)
                if ev.status is Status.DELIVERED:  # receipts carry only the accepted_id
                    DELIVERY_LATENCY.labels(ev.channel or "unknown").observe(
                        max(0.0, ev.at - accepted_epoch(ev.accepted_id)))
        for key, (event, applied) in changes.apply.items():
            with for_event(event):
                self.statuses.set(key, applied[-1].status)
        return len(changes.apply)


def install(app: faust.App, applier: StatusApplier, statuses: faust.TopicT) -> faust.types.AgentT:
    return batch_agent(app, statuses, AGENT, applier.settings.router_batch_size, applier.handle,
                       applier.settings, decode.status_event, applier.dead_letters)

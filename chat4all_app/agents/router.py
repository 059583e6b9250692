"""Router: accepted message -> deduplicate -> store in Cassandra -> announce to the conversation's
members (push.updates) -> forward to its channel.

Effectively once: the transport is at-least-once (a crash replays unacked events, a client may
re-post a message_id), so a message is routed only if its key is not yet in the `routed` table.
The table entry is written after the row is stored and the forward is acknowledged by Kafka, so
a crash in between replays the message (idempotent row write; connectors skip ids they sent)
rather than losing it.
A channel message's initial status (PENDING) goes into the status applier's `statuses` table once
its row is stored and before it is forwarded, so the applier answers that message's first status
event from the table instead of reading the row back from Cassandra (issue 18). Only when the two
tables are co-partitioned (`statuses` is None otherwise: the applier reads Cassandra as before).
Poison: a message that does not decode or validate never gets here (agents.decode); one that
Cassandra refuses for good is dead-lettered on its own while the rest of its batch goes on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

import faust
from faust.types import EventT

from chat4all_app.agents import decode
from chat4all_app.agents.batching import batch_agent, record_of
from chat4all_app.dead_letters import STORE_REJECTED, DeadLetters, Poison
from chat4all_app.delivery_status import Status
from chat4all_app.observability import correlation
from chat4all_app.observability.logs import get_logger
from chat4all_app.observability.metrics import CASSANDRA_WRITE_DURATION, DELIVERY_LATENCY, MESSAGES_PROCESSED
from chat4all_app.push.updates import Announcer, message_stored
from chat4all_app.recipients import Recipient
from chat4all_app.records import MessageAccepted, OutboundMessage
from chat4all_app.retry import isolating
from chat4all_app.settings import Settings
from chat4all_app.storage.cassandra import CassandraStore, refused_for_good
from chat4all_app.storage.messages import NewRow, store_messages
from chat4all_app.tables.state import MessageKey, MessageStatuses, RoutedMessages
from chat4all_app.workarounds.table_scope import for_event

log = get_logger(__name__)
AGENT = "route-messages"


def channel_of(msg: MessageAccepted, channels: Sequence[str]) -> tuple[str, str] | None:
    """("whatsapp", "+5511...") for "whatsapp:+5511...", None for an internal message."""
    if msg.recipient_id:
        recipient = Recipient.read(msg.recipient_id)
        if recipient.channel is not None and recipient.channel in channels:
            return recipient.channel, recipient.address
    return None


def outbound(msg: MessageAccepted, channel: str, address: str, correlation_id: str | None) -> OutboundMessage:
    return OutboundMessage(
        message_id=msg.message_id, conversation_id=msg.conversation_id,
        accepted_id=msg.accepted_id, channel=channel, recipient=address,
        sender_id=msg.sender_id, content=msg.content, accepted_at=msg.accepted_at,
        correlation_id=correlation_id)


@dataclass
class Router:
    settings: Settings
    store: CassandraStore
    channel_topics: dict[str, faust.TopicT]
    routed: RoutedMessages
    dead_letters: DeadLetters
    updates: Announcer
    # The status applier's table, if the messages and status topics have as many partitions: a
    # conversation's partition of both is then this worker's, and so is the table's (Faust's
    # assignor co-partitions topics of equal partition counts).
    statuses: MessageStatuses | None = None

    def first_deliveries(self, events: Sequence[EventT]) -> list[EventT]:
        """Events whose message was never routed, first occurrence only (a batch may repeat one)."""
        fresh, seen = [], set()
        for event in events:
            key = MessageKey.of(record_of(event, MessageAccepted))
            with for_event(event):
                if key in seen or key in self.routed:
                    continue
            seen.add(key)
            fresh.append(event)
        return fresh

    async def persist(self, events: Sequence[EventT]) -> list[tuple[EventT, NewRow]]:
        """Store the rows; returns those stored (those Cassandra refused are dead-lettered)."""
        rows = []
        for event in events:
            msg = record_of(event, MessageAccepted)
            target = channel_of(msg, self.settings.channels)
            # Internal messages are delivered once stored; external ones wait for their channel.
            rows.append((event, NewRow(msg, target and target[0],
                                       Status.DELIVERED if target is None else Status.PENDING,
                                       time.time())))

        async def write(some: Sequence[tuple[EventT, NewRow]]) -> None:
            with CASSANDRA_WRITE_DURATION.time():
                await store_messages(self.store, [row for _, row in some])

        refused = await isolating(rows, write, f"storing {len(rows)} messages in Cassandra",
                                  reason="cassandra", permanent=refused_for_good)
        await self.dead_letters.publish(AGENT, [
            (event, Poison(STORE_REJECTED, f"{type(exc).__name__}: {exc}")) for (event, _), exc in refused])
        stored_at = time.time()
        lost = {id(event) for (event, _), _ in refused}
        stored = [(event, row) for event, row in rows if id(event) not in lost]
        for _, row in stored:
            if row.channel is None:
                DELIVERY_LATENCY.labels("internal").observe(max(0.0, stored_at - row.msg.accepted_at))
        return stored

    async def announce(self, rows: Sequence[tuple[EventT, NewRow]]) -> None:
        """Tell the conversations' members (before forwarding: a message is announced before any
        status of it, which can only follow the forward)."""
        await self.updates.announce([message_stored(row.msg, row.channel, row.status, row.status_at)
                                     for _, row in rows])

    def record_pending(self, events: Sequence[EventT]) -> None:
        """The stored channel messages' initial status, for the status applier (see the module
        docstring). A status already there is kept: on a replay it may be later than PENDING."""
        if self.statuses is None:
            return
        for event in events:
            msg = record_of(event, MessageAccepted)
            if channel_of(msg, self.settings.channels) is None:
                continue
            key = MessageKey.of(msg)
            with for_event(event):
                if self.statuses.get(key) is None:
                    self.statuses.set(key, Status.PENDING)

    async def forward(self, events: Sequence[EventT]) -> None:
        """Send to channel topics in acceptance order, then wait for every ack."""
        pending = []
        for event in events:
            msg = record_of(event, MessageAccepted)
            target = channel_of(msg, self.settings.channels)
            if target is not None:
                cid = correlation.of_event(event)
                topic = self.channel_topics[target[0]]
                pending.append(await topic.send(key=msg.conversation_id,
                                                value=outbound(msg, *target, cid),
                                                headers=correlation.kafka_headers(cid)))
        if pending:
            await asyncio.gather(*pending)

    def mark_routed(self, events: Sequence[EventT]) -> None:
        for event in events:
            msg = record_of(event, MessageAccepted)
            with for_event(event):
                self.routed.add(MessageKey.of(msg), msg.accepted_id)
            target = channel_of(msg, self.settings.channels)
            log.info("message routed", correlation_id=correlation.of_event(event),
                     message_id=msg.message_id, conversation_id=msg.conversation_id,
                     channel=target[0] if target else "internal",
                     queued_ms=round((time.time() - msg.accepted_at) * 1000, 1))

    async def handle(self, events: Sequence[EventT]) -> int:
        fresh = self.first_deliveries(events)
        rows = await self.persist(fresh) if fresh else []
        stored = [event for event, _ in rows]
        if stored:
            self.record_pending(stored)
            await self.announce(rows)
            await self.forward(stored)
            self.mark_routed(stored)
        MESSAGES_PROCESSED.labels("routed").inc(len(stored))
        MESSAGES_PROCESSED.labels("duplicate").inc(len(events) - len(fresh))
        return len(stored)


def install(app: faust.App, router: Router, messages: faust.TopicT) -> faust.types.AgentT:
    return batch_agent(app, messages, AGENT, router.settings.router_batch_size, router.handle,
                       router.settings, decode.message_accepted, router.dead_letters)

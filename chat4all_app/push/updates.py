"""The router's side of live push: what it announces on the updates topic once Cassandra holds it.

A stored message and each applied status become one `ConversationUpdate`, keyed by conversation so
a conversation's updates keep their order on one partition. The router awaits Kafka's acks before
it goes on (forwarding the message, committing the batch): an update is never announced for a
change Cassandra does not hold, and never lost for one it does (a crash replays the batch, and
the replay announces again: at least once, deduplicated by the API's push).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import faust

from chat4all_app.delivery_status import Status
from chat4all_app.records import ConversationUpdate, MessageAccepted, StatusEvent

MESSAGE, STATUS = "message", "status"


def message_stored(msg: MessageAccepted, channel: str | None, status: Status,
                   at: float) -> ConversationUpdate:
    """A message row the router has just written (its first status: DELIVERED or PENDING)."""
    return ConversationUpdate(
        kind=MESSAGE, conversation_id=msg.conversation_id, message_id=msg.message_id,
        accepted_id=msg.accepted_id, accepted_at=msg.accepted_at, status=status, at=at,
        channel=channel, sender_id=msg.sender_id, recipient_id=msg.recipient_id,
        content=msg.content, file_id=msg.file_id, correlation_id=msg.correlation_id)


def status_applied(ev: StatusEvent, accepted_at: float) -> ConversationUpdate:
    """A status transition the status applier has just written."""
    return ConversationUpdate(
        kind=STATUS, conversation_id=ev.conversation_id, message_id=ev.message_id,
        accepted_id=ev.accepted_id, accepted_at=accepted_at, status=ev.status, at=ev.at,
        reason=ev.reason, channel=ev.channel, correlation_id=ev.correlation_id)


@dataclass
class Announcer:
    """Publishes updates on the updates topic, in the order given, and waits for every ack."""

    topic: faust.TopicT

    async def announce(self, updates: Sequence[ConversationUpdate]) -> None:
        pending = [await self.topic.send(key=u.conversation_id, value=u) for u in updates]
        if pending:
            await asyncio.gather(*pending)

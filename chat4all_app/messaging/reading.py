"""Reading messages (pages, one message, with their files' metadata) and marking one READ."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

from chat4all_app.delivery_status import Status
from chat4all_app.errors import Conflict, Forbidden, NotFound, Unavailable
from chat4all_app.messaging.membership import Membership
from chat4all_app.messaging.ports import EventPublisher, MessageStore, Place
from chat4all_app.observability.correlation import kafka_headers
from chat4all_app.publisher import PublishFailed
from chat4all_app.recipients import Recipient
from chat4all_app.records import StatusEvent

# What a message shows of the file it references.
FILE_SUMMARY = ("filename", "content_type", "size_bytes", "checksum")


@dataclass(frozen=True)
class MessagePage:
    messages: list[dict]
    next_cursor: str | None


@dataclass(frozen=True)
class MarkRead:
    user_id: uuid.UUID
    message_id: uuid.UUID
    correlation_id: str


@dataclass(frozen=True)
class MarkedRead:
    message_id: str  # canonical, whatever spelling the request used


class MessageReader:
    def __init__(self, membership: Membership, store: MessageStore, publisher: EventPublisher,
                 status_topic: str):
        self.membership = membership
        self.store = store
        self.publisher = publisher
        self.status_topic = status_topic

    async def page(self, user_id: uuid.UUID, conversation_id: uuid.UUID, limit: int,
                   after: uuid.UUID | None) -> MessagePage:
        """A member's page of a conversation, in acceptance order."""
        await self.membership.conversation(conversation_id, user_id)
        messages, next_cursor = await self.store.messages(conversation_id, limit, after)
        await self.attach_files(messages)
        return MessagePage(messages, next_cursor)

    async def message(self, user_id: uuid.UUID, message_id: uuid.UUID) -> dict:
        message, _ = await self._visible(user_id, message_id)
        await self.attach_files([message])
        return message

    async def mark_read(self, request: MarkRead) -> MarkedRead:
        """Only a recipient may mark a DELIVERED message READ (again: nothing to do); Conflict
        before DELIVERED, Forbidden for others and for channel messages (their receipts do)."""
        message, (conversation_id, accepted) = await self._readable(request.user_id, request.message_id)
        check_reader(request.user_id, message)
        message_id = message["message_id"]
        if message["status"] == Status.READ:  # idempotent: nothing to record again
            return MarkedRead(message_id)
        if message["status"] != Status.DELIVERED:
            raise Conflict(f"message {message_id} is {message['status']}, not yet delivered: "
                           "it can be marked READ once DELIVERED")
        event = StatusEvent(message_id=message_id, conversation_id=str(conversation_id),
                            accepted_id=str(accepted), status=Status.READ, at=time.time(),
                            correlation_id=request.correlation_id)
        try:
            await self.publisher.publish(self.status_topic, event.conversation_id, event,
                                         kafka_headers(event.correlation_id))
        except PublishFailed as exc:
            raise Unavailable(f"not recorded, retry later: {exc}") from None
        return MarkedRead(message_id)

    async def _visible(self, user_id: uuid.UUID, message_id: uuid.UUID) -> tuple[dict, Place]:
        """The message and where it is stored, if the caller may see it."""
        where = await self.store.locate(message_id)
        message = await self.store.message_at(where) if where else None
        if where is None or message is None:
            raise NotFound(f"message {message_id} not found (it may still be in flight)")
        await self.membership.conversation(where[0], user_id)
        return message, where

    async def _readable(self, user_id: uuid.UUID, message_id: uuid.UUID) -> tuple[dict, Place]:
        """As _visible, but Conflict (not NotFound) for a member's message accepted, not yet stored."""
        try:
            return await self._visible(user_id, message_id)
        except NotFound:
            first = await self.store.claim_of(message_id)
            if first is None:
                raise
            await self.membership.conversation(first.conversation_id, user_id)
            raise Conflict(f"message {first.message_id} is {Status.ACCEPTED.value}, not yet "
                           "delivered: it can be marked READ once DELIVERED") from None

    async def attach_files(self, messages: list[dict]) -> None:
        """Show each referenced file's metadata next to its file_id."""
        ids = {m["file_id"] for m in messages if m.get("file_id")}
        found = dict(zip(ids, await asyncio.gather(*(self.store.file(uuid.UUID(i)) for i in ids)),
                         strict=True))
        for m in messages:
            if m.get("file_id"):
                f = found.get(m["file_id"])
                m["file"] = f and {k: v for k, v in f.public().items() if k in FILE_SUMMARY}


def check_reader(user_id: uuid.UUID, message: dict) -> None:
    """Forbidden unless the caller is a recipient who may mark this message READ through the API."""
    if message["channel"]:
        raise Forbidden(f"a {message['channel']} message is marked READ by its channel's "
                        "receipts, not through the API")
    recipient = message["recipient_id"]
    if recipient is not None and Recipient.read(recipient).member_id != user_id:
        raise Forbidden("only the message's recipient can mark it as read")
    if message["sender_id"] == str(user_id):
        raise Forbidden("only a recipient can mark a message as read")

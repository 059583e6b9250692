"""Accepting a message: checked, its id claimed, published to Kafka (a 202 once Kafka has it)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from chat4all_app.errors import Conflict, Invalid, TooLarge, Unavailable
from chat4all_app.ids import accepted_id
from chat4all_app.messaging.membership import Membership
from chat4all_app.messaging.ports import ClaimUnknown, EventPublisher, MessageStore
from chat4all_app.observability.activity import PROCESSED
from chat4all_app.observability.correlation import kafka_headers
from chat4all_app.observability.logs import get_logger
from chat4all_app.observability.metrics import MESSAGES_ACCEPTED
from chat4all_app.publisher import PublishFailed
from chat4all_app.recipients import Recipient
from chat4all_app.records import MessageAccepted
from chat4all_app.storage.claims import Claim, fingerprint
from chat4all_app.storage.conversations import Conversation

log = get_logger(__name__)


def check_content(content: object, max_bytes: int) -> str:
    """A message's content: a non-empty string of at most `max_bytes` (UTF-8), else Invalid or
    TooLarge. Pure, so a view can check it where the client expects (right after the conversation
    id, before the other fields); `MessageIntake.send` enforces it again."""
    if not isinstance(content, str) or not content:
        raise Invalid("'content' is required and must be a non-empty string")
    if len(content.encode()) > max_bytes:
        raise TooLarge(f"'content' exceeds {max_bytes} bytes")
    return content


@dataclass(frozen=True)
class SendMessage:
    user_id: uuid.UUID
    conversation_id: uuid.UUID
    content: str
    recipient: str | None  # as the client wrote it (see chat4all_app.recipients)
    message_id: uuid.UUID  # the client's idempotency key, or a fresh one
    file_id: uuid.UUID | None
    correlation_id: str


@dataclass(frozen=True)
class Accepted:
    message_id: uuid.UUID
    conversation_id: uuid.UUID


@dataclass
class MessageIntake:
    """Accepts messages: the rules of POST /v1/messages, publishing to `topic`."""

    membership: Membership
    store: MessageStore
    publisher: EventPublisher
    topic: str
    channels: tuple[str, ...]
    max_content_bytes: int

    async def send(self, request: SendMessage) -> Accepted:
        """Accepted once Kafka acknowledged the message. Invalid, TooLarge, NotFound, Forbidden,
        Conflict (the id is another message's), Unavailable (retry: a replay is safe)."""
        check_content(request.content, self.max_content_bytes)
        conv = await self.membership.conversation(request.conversation_id, request.user_id)
        recipient = self._recipient(request.recipient, conv)
        await self._check_file(request.file_id, request.conversation_id)
        await self._claim(Claim(
            request.message_id, request.conversation_id, request.user_id,
            fingerprint(request.user_id, request.conversation_id, request.content, recipient,
                        request.file_id),
            accepted_id(), time.time()))
        # The acceptance id (the conversation's order) is minted by the publisher at the moment
        # the record takes its place in the partition's log (Publisher.publish_minted): minted
        # before the claim's round trip, or before a full producer batch drained, two concurrent
        # posts to one conversation could reach Kafka in the other order than their ids say. A
        # replay gets a new one too; the router keeps the first copy of a message_id it routes.
        def accepted_now() -> MessageAccepted:
            return MessageAccepted(
                message_id=str(request.message_id), conversation_id=str(request.conversation_id),
                accepted_id=str(accepted_id()), sender_id=str(request.user_id), content=request.content,
                accepted_at=time.time(), recipient_id=recipient,
                file_id=str(request.file_id) if request.file_id else None,
                correlation_id=request.correlation_id)

        started = time.perf_counter()
        try:
            event = await self.publisher.publish_minted(self.topic, str(request.conversation_id),
                                                        accepted_now, kafka_headers(request.correlation_id))
        except PublishFailed as exc:
            log.warning("message not accepted", message_id=str(request.message_id), error=str(exc))
            raise Unavailable(f"message not accepted, retry later: {exc}") from None
        MESSAGES_ACCEPTED.inc()
        PROCESSED.add(1)
        log.info("message accepted", message_id=event.message_id,
                 conversation_id=event.conversation_id, recipient_id=recipient,
                 duration_ms=round((time.perf_counter() - started) * 1000, 2))
        return Accepted(request.message_id, request.conversation_id)

    def _recipient(self, raw: str | None, conv: Conversation) -> str | None:
        """The recipient in canonical form; a member's id must be one of this conversation's."""
        if raw is None:
            return None
        recipient = Recipient.parse(raw, self.channels)
        if recipient.channel is None and recipient.member_id not in conv.participant_ids:
            raise Invalid("recipient_id is not a member of the conversation")
        return str(recipient)

    async def _check_file(self, file_id: uuid.UUID | None, conversation_id: uuid.UUID) -> None:
        if file_id is None:
            return
        f = await self.store.file(file_id)
        if f is None or f.conversation_id != conversation_id:
            raise Invalid(f"file_id {file_id} is not a file of this conversation")

    async def _claim(self, mine: Claim) -> Claim:
        """`mine`, or the first claim of this id if it is the same message (a replay); Conflict if
        the id belongs to another message (see storage/claims.py)."""
        try:
            first = await self.store.claim(mine)
        except ClaimUnknown as exc:
            log.warning("message id not claimed", message_id=str(mine.message_id), error=str(exc))
            raise Unavailable("message not accepted (storage unavailable), retry later") from None
        if first.fingerprint != mine.fingerprint:
            raise Conflict(f"message_id {mine.message_id} is already used by another message "
                           "(another sender, conversation, content, recipient or file); "
                           "use a new message_id")
        return first

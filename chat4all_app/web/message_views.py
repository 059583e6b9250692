"""POST /v1/messages (202 after Kafka's ack), listings, one message, mark as read."""

from __future__ import annotations

import asyncio
import time
import uuid

import faust
from cassandra import DriverException
from cassandra.cluster import NoHostAvailable
from faust.web.exceptions import NotFound, PermissionDenied, ServiceUnavailable, ValidationError

from chat4all_app.delivery_status import Status
from chat4all_app.ids import accepted_id
from chat4all_app.observability.activity import PROCESSED
from chat4all_app.observability.correlation import kafka_headers
from chat4all_app.observability.logs import get_logger
from chat4all_app.observability.metrics import MESSAGES_ACCEPTED
from chat4all_app.publisher import PublishFailed
from chat4all_app.records import MessageAccepted, StatusEvent
from chat4all_app.storage.claims import Claim, canonical_recipient, claim, claim_of, fingerprint
from chat4all_app.storage.messages import list_messages, locate, message_at
from chat4all_app.web.context import ApiContext
from chat4all_app.web.correlation import of_request
from chat4all_app.web.errors import Conflict, PayloadTooLarge
from chat4all_app.web.inputs import int_query, json_body, text, uuid_field, uuid_value

log = get_logger(__name__)


def install(app: faust.App, ctx: ApiContext) -> None:
    settings = ctx.settings

    def recipient_channel(recipient: str | None, members: frozenset[uuid.UUID]) -> str | None:
        """The recipient in canonical form (a member's id as a canonical UUID), or 400."""
        if recipient is None:
            return None
        prefix, sep, address = recipient.partition(":")
        if sep:
            if prefix not in settings.channels:
                raise ValidationError(
                    f"unknown channel {prefix!r} in recipient_id; use one of: "
                    + ", ".join(f"{c}:<address>" for c in settings.channels))
            if not address:
                raise ValidationError("recipient_id has an empty address after the channel prefix")
            return recipient
        if uuid_value(recipient, "recipient_id") not in members:
            raise ValidationError("recipient_id is not a member of the conversation")
        return canonical_recipient(recipient)

    async def page(request, user_id: uuid.UUID, conversation_id: uuid.UUID) -> dict:
        await ctx.member_conversation(conversation_id, user_id)
        limit = int_query(request, "limit", 50, 1, 500)
        cursor = request.query.get("cursor")
        after = uuid_value(cursor, "cursor", time_based=True) if cursor is not None else None
        messages, next_cursor = await list_messages(ctx.store, conversation_id, limit, after)
        await attach_files(messages)
        return {"messages": messages, "next_cursor": next_cursor}

    async def attach_files(messages: list[dict]) -> None:
        """Show each referenced file's metadata next to its file_id."""
        ids = {m["file_id"] for m in messages if m.get("file_id")}
        found = dict(zip(ids, await asyncio.gather(*(ctx.file(uuid.UUID(i)) for i in ids)), strict=True))
        for m in messages:
            if m.get("file_id"):
                f = found.get(m["file_id"])
                m["file"] = f and {k: v for k, v in f.public().items()
                                   if k in ("filename", "content_type", "size_bytes", "checksum")}

    async def file_of(file_id: uuid.UUID | None, conversation_id: uuid.UUID) -> None:
        if file_id is None:
            return
        f = await ctx.file(file_id)
        if f is None or f.conversation_id != conversation_id:
            raise ValidationError(f"file_id {file_id} is not a file of this conversation")

    async def claim_id(mine: Claim) -> Claim:
        """`mine`, or the first claim of this id if it is the same message (a replay); 409 if the
        id belongs to another message (see storage/claims.py)."""
        try:
            first = await claim(ctx.store, mine)
        except (DriverException, NoHostAvailable) as exc:
            # Outcome unknown (e.g. a Paxos timeout): replaying the same message is safe.
            log.warning("message id not claimed", message_id=str(mine.message_id), error=str(exc))
            raise ServiceUnavailable("message not accepted (storage unavailable), retry later") from None
        if first.fingerprint != mine.fingerprint:
            raise Conflict(f"message_id {mine.message_id} is already used by another message "
                           "(another sender, conversation, content, recipient or file); "
                           "use a new message_id")
        return first

    @app.page("/v1/messages")
    class Messages(faust.web.View):
        async def post(self, request):
            user_id = ctx.authenticate(request)
            body = await json_body(request)
            conversation_id = uuid_field(body, "conversation_id")
            content = body.get("content")
            if not isinstance(content, str) or not content:
                raise ValidationError("'content' is required and must be a non-empty string")
            if len(content.encode()) > settings.max_content_bytes:
                raise PayloadTooLarge(f"'content' exceeds {settings.max_content_bytes} bytes")
            recipient = text(body, "recipient_id", required=False, max_len=256)
            # Any UUID spelling; str(UUID) is the canonical form used from here on.
            message_id = uuid_field(body, "message_id", required=False) or uuid.uuid4()
            file_id = uuid_field(body, "file_id", required=False)
            conv = await ctx.member_conversation(conversation_id, user_id)
            recipient = recipient_channel(recipient, conv.participant_ids)
            await file_of(file_id, conversation_id)
            await claim_id(Claim(
                message_id, conversation_id, user_id,
                fingerprint(user_id, conversation_id, content, recipient, file_id),
                accepted_id(), time.time()))
            # The acceptance id (the conversation's order) is minted only now, with no await
            # before the publish: minted before the claim's round trip, two concurrent posts to
            # one conversation could reach Kafka in the other order than their ids say. A replay
            # gets a new one too; the router keeps the first copy of a message_id it routes.
            event = MessageAccepted(
                message_id=str(message_id), conversation_id=str(conversation_id),
                accepted_id=str(accepted_id()), sender_id=str(user_id), content=content,
                accepted_at=time.time(), recipient_id=recipient,
                file_id=str(file_id) if file_id else None,
                correlation_id=of_request(request))
            started = time.perf_counter()
            try:
                await ctx.publisher.publish(settings.topic_messages, event.conversation_id, event,
                                            kafka_headers(event.correlation_id))
            except PublishFailed as exc:
                log.warning("message not accepted", message_id=event.message_id, error=str(exc))
                raise ServiceUnavailable(f"message not accepted, retry later: {exc}") from None
            MESSAGES_ACCEPTED.inc()
            PROCESSED.add(1)
            log.info("message accepted", message_id=event.message_id,
                     conversation_id=event.conversation_id, recipient_id=recipient,
                     duration_ms=round((time.perf_counter() - started) * 1000, 2))
            return self.json({"message_id": event.message_id, "status": Status.ACCEPTED.value,
                              "conversation_id": event.conversation_id}, status=202)

        async def get(self, request):
            user_id = ctx.authenticate(request)
            raw = request.query.get("conversation_id")
            if raw is None:
                raise ValidationError("query parameter 'conversation_id' is required")
            return self.json(await page(request, user_id, uuid_value(raw, "conversation_id")))

    @app.page("/v1/conversations/{conversation_id}/messages")
    class ConversationMessages(faust.web.View):
        async def get(self, request, conversation_id):
            user_id = ctx.authenticate(request)
            return self.json(await page(request, user_id,
                                        uuid_value(conversation_id, "conversation_id")))

    async def visible_message(request, message_id: str):
        """(caller, message, (conversation_id, accepted_id)) if the caller may see it."""
        user_id = ctx.authenticate(request)
        where = await locate(ctx.store, uuid_value(message_id, "message_id"))
        message = await message_at(ctx.store, where) if where else None
        if message is None:
            raise NotFound(f"message {message_id} not found (it may still be in flight)")
        await ctx.member_conversation(where[0], user_id)
        return user_id, message, where

    @app.page("/v1/messages/{message_id}")
    class OneMessage(faust.web.View):
        async def get(self, request, message_id):
            _, message, _ = await visible_message(request, message_id)
            await attach_files([message])
            return self.json(message)

    async def readable_message(request, message_id: str):
        """As visible_message, but 409 (not 404) for a member's message accepted, not yet stored."""
        try:
            return await visible_message(request, message_id)
        except NotFound:
            first = await claim_of(ctx.store, uuid_value(message_id, "message_id"))
            if first is None:
                raise
            await ctx.member_conversation(first.conversation_id, ctx.authenticate(request))
            raise Conflict(f"message {first.message_id} is {Status.ACCEPTED.value}, not yet "
                           "delivered: it can be marked READ once DELIVERED") from None

    def check_reader(user_id: uuid.UUID, message: dict) -> None:
        """403 unless the caller is a recipient who may mark this message READ through the API."""
        if message["channel"]:
            raise PermissionDenied(f"a {message['channel']} message is marked READ by its channel's "
                                   "receipts, not through the API")
        recipient = message["recipient_id"]
        if recipient is not None and canonical_recipient(recipient) != str(user_id):
            raise PermissionDenied("only the message's recipient can mark it as read")
        if message["sender_id"] == str(user_id):
            raise PermissionDenied("only a recipient can mark a message as read")

    @app.page("/v1/messages/{message_id}/read")
    class ReadMessage(faust.web.View):
        async def post(self, request, message_id):
            user_id, message, (conversation_id, accepted) = await readable_message(request, message_id)
            check_reader(user_id, message)
            message_id = message["message_id"]  # canonical, whatever spelling the path used
            if message["status"] == Status.READ.value:  # idempotent: nothing to record again
                return self.json({"message_id": message_id, "status": Status.READ.value}, status=202)
            if message["status"] != Status.DELIVERED.value:
                raise Conflict(f"message {message_id} is {message['status']}, not yet delivered: "
                               "it can be marked READ once DELIVERED")
            event = StatusEvent(message_id=message_id, conversation_id=str(conversation_id),
                                accepted_id=str(accepted), status=Status.READ.value, at=time.time(),
                                correlation_id=of_request(request))
            try:
                await ctx.publisher.publish(settings.topic_status, event.conversation_id, event,
                                            kafka_headers(event.correlation_id))
            except PublishFailed as exc:
                raise ServiceUnavailable(f"not recorded, retry later: {exc}") from None
            return self.json({"message_id": message_id, "status": Status.READ.value}, status=202)

"""POST /v1/messages (202 after Kafka's ack), listings, one message, mark as read.

The rules are chat4all_app.messaging's: these views decode requests and encode answers."""

from __future__ import annotations

import uuid

import faust
from aiohttp import web

from chat4all_app.delivery_status import Status
from chat4all_app.errors import Invalid
from chat4all_app.messaging.reading import MarkRead, MessagePage
from chat4all_app.messaging.sending import SendMessage, check_content
from chat4all_app.web.context import ApiView
from chat4all_app.web.correlation import of_request
from chat4all_app.web.inputs import int_query, json_body, text, uuid_field, uuid_value


class Messages(ApiView):
    async def post(self, request: web.Request) -> faust.web.Response:
        user_id = self.services.authenticate(request)
        body = await json_body(request)
        conversation_id = uuid_field(body, "conversation_id")
        # Checked here, before the other fields, as the API always did (400 / 413).
        content = check_content(body.get("content"), self.services.intake.max_content_bytes)
        accepted = await self.services.intake.send(SendMessage(
            user_id=user_id, conversation_id=conversation_id, content=content,
            recipient=text(body, "recipient_id", required=False, max_len=256),
            # Any UUID spelling; str(UUID) is the canonical form used from here on.
            message_id=uuid_field(body, "message_id", required=False) or uuid.uuid4(),
            file_id=uuid_field(body, "file_id", required=False),
            correlation_id=of_request(request)))
        return self.json({"message_id": str(accepted.message_id), "status": Status.ACCEPTED.value,
                          "conversation_id": str(accepted.conversation_id)}, status=202)

    async def get(self, request: web.Request) -> faust.web.Response:
        user_id = self.services.authenticate(request)
        raw = request.query.get("conversation_id")
        if raw is None:
            raise Invalid("query parameter 'conversation_id' is required")
        page = await self.services.reader.page(user_id, uuid_value(raw, "conversation_id"),
                                               *page_query(request))
        return self.json(page_json(page))


class ConversationMessages(ApiView):
    async def get(self, request: web.Request, conversation_id: str) -> faust.web.Response:
        user_id = self.services.authenticate(request)
        page = await self.services.reader.page(user_id, uuid_value(conversation_id, "conversation_id"),
                                               *page_query(request))
        return self.json(page_json(page))


class OneMessage(ApiView):
    async def get(self, request: web.Request, message_id: str) -> faust.web.Response:
        user_id = self.services.authenticate(request)
        return self.json(await self.services.reader.message(user_id, uuid_value(message_id, "message_id")))


class ReadMessage(ApiView):
    async def post(self, request: web.Request, message_id: str) -> faust.web.Response:
        user_id = self.services.authenticate(request)
        marked = await self.services.reader.mark_read(MarkRead(
            user_id, uuid_value(message_id, "message_id"), of_request(request)))
        return self.json({"message_id": marked.message_id, "status": Status.READ.value}, status=202)


def page_query(request: web.Request) -> tuple[int, uuid.UUID | None]:
    """(limit, after): the page size and the cursor (the last acceptance id seen), if any."""
    limit = int_query(request, "limit", 50, 1, 500)
    cursor = request.query.get("cursor")
    return limit, uuid_value(cursor, "cursor", time_based=True) if cursor is not None else None


def page_json(page: MessagePage) -> dict:
    return {"messages": page.messages, "next_cursor": page.next_cursor}


def install(app: faust.App) -> None:
    app.page("/v1/messages")(Messages)
    app.page("/v1/conversations/{conversation_id}/messages")(ConversationMessages)
    app.page("/v1/messages/{message_id}")(OneMessage)
    app.page("/v1/messages/{message_id}/read")(ReadMessage)

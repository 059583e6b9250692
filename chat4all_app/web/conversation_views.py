"""POST /v1/conversations, and GET: the caller's conversations, a page (one query) at a time.

The rules are chat4all_app.messaging.conversations': these views decode and encode."""

from __future__ import annotations

import faust
from aiohttp import web

from chat4all_app.errors import Invalid
from chat4all_app.messaging.conversations import CreateConversation, check_participant_count
from chat4all_app.web.context import ApiView
from chat4all_app.web.inputs import int_query, json_body, text, uuid_value


class Conversations(ApiView):
    async def post(self, request: web.Request) -> faust.web.Response:
        user_id = self.services.authenticate(request)
        body = await json_body(request)
        raw = body.get("participant_ids")
        if not isinstance(raw, list):
            raise Invalid("'participant_ids' must be a non-empty list of user ids")
        check_participant_count(len(raw))  # before parsing each entry, as the API always did
        conv = await self.services.conversations.create(CreateConversation(
            creator=user_id, participant_ids=tuple(uuid_value(p, "participant_ids[]") for p in raw),
            name=text(body, "name", required=False, max_len=200)))
        return self.json(conv.as_json(), status=201)

    async def get(self, request: web.Request) -> faust.web.Response:
        user_id = self.services.authenticate(request)
        limit = int_query(request, "limit", 50, 1, 500)
        cursor = request.query.get("cursor")
        after = uuid_value(cursor, "cursor") if cursor is not None else None  # "": 400
        page = await self.services.conversations.page(user_id, limit, after)
        return self.json({"conversations": [c.as_json() for c in page.conversations],
                          "next_cursor": page.next_cursor})


def install(app: faust.App) -> None:
    app.page("/v1/conversations")(Conversations)

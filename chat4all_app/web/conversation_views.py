"""POST /v1/conversations, and GET: the caller's conversations, a page (one query) at a time."""

from __future__ import annotations

import faust
from faust.web.exceptions import ValidationError

from chat4all_app.storage.conversations import conversations_page, create_conversation
from chat4all_app.storage.users import existing_user_ids
from chat4all_app.web.context import ApiContext
from chat4all_app.web.inputs import int_query, json_body, text, uuid_value

MAX_PARTICIPANTS = 100


def install(app: faust.App, ctx: ApiContext) -> None:
    @app.page("/v1/conversations")
    class Conversations(faust.web.View):
        async def post(self, request):
            user_id = ctx.authenticate(request)
            body = await json_body(request)
            raw = body.get("participant_ids")
            if not isinstance(raw, list) or not raw:
                raise ValidationError("'participant_ids' must be a non-empty list of user ids")
            if len(raw) > MAX_PARTICIPANTS:
                raise ValidationError(f"at most {MAX_PARTICIPANTS} participants")
            participants = {uuid_value(p, "participant_ids[]") for p in raw}
            name = text(body, "name", required=False, max_len=200)
            unknown = participants - await existing_user_ids(ctx.store, sorted(participants))
            if unknown:
                raise ValidationError(f"unknown user ids: {', '.join(sorted(map(str, unknown)))}")
            conv = await create_conversation(ctx.store, user_id, participants, name)
            return self.json(conv.as_json(), status=201)

        async def get(self, request):
            user_id = ctx.authenticate(request)
            limit = int_query(request, "limit", 50, 1, 500)
            cursor = request.query.get("cursor")
            after = uuid_value(cursor, "cursor") if cursor is not None else None  # "": 400
            convs, next_cursor = await conversations_page(ctx.store, user_id, limit, after)
            return self.json({"conversations": [c.as_json() for c in convs], "next_cursor": next_cursor})

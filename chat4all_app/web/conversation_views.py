"""POST/GET /v1/conversations."""

from __future__ import annotations

import faust
from faust.web.exceptions import ValidationError

from chat4all_app.storage.conversations import conversations_of, create_conversation
from chat4all_app.storage.users import existing_user_ids
from chat4all_app.web.context import ApiContext
from chat4all_app.web.inputs import json_body, text, uuid_value

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
            convs = await conversations_of(ctx.store, user_id)
            return self.json({"conversations": [c.as_json() for c in convs]})

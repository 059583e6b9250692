"""GET /v1/users?username=NAME: find someone by exact username; GET /v1/users/{user_id}: the
username of a user id (the rules: auth.directory)."""

from __future__ import annotations

import faust
from aiohttp import web

from chat4all_app.auth.directory import find_user, user_named
from chat4all_app.web.context import ApiView
from chat4all_app.web.inputs import uuid_value


class Users(ApiView):
    async def get(self, request: web.Request) -> faust.web.Response:
        self.services.authenticate(request)  # a directory for members, not for anyone on the net
        # Users live in the accounts' store; the lookup needs nothing else of them.
        found = await find_user(self.services.accounts.store, request.query.get("username"))
        return self.json({"user_id": str(found.user_id), "username": found.username})


class OneUser(ApiView):
    async def get(self, request: web.Request, user_id: str) -> faust.web.Response:
        self.services.authenticate(request)
        found = await user_named(self.services.accounts.store, uuid_value(user_id, "user_id"))
        return self.json({"user_id": str(found.user_id), "username": found.username})


def install(app: faust.App) -> None:
    app.page("/v1/users")(Users)
    app.page("/v1/users/{user_id}")(OneUser)

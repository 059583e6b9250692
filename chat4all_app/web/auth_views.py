"""POST /auth/register and POST /auth/token (the rules: chat4all_app.auth.accounts)."""

from __future__ import annotations

import faust
from aiohttp import web

from chat4all_app.auth.accounts import Login, Register
from chat4all_app.auth.throttle import client_address
from chat4all_app.web.context import ApiView
from chat4all_app.web.inputs import json_body, text


class RegisterUser(ApiView):
    async def post(self, request: web.Request) -> faust.web.Response:
        body = await json_body(request)
        registered = await self.services.accounts.register(Register(
            username=text(body, "username", max_len=64),
            password=text(body, "password", min_len=8, max_len=256),
            email=text(body, "email", required=False, max_len=254)))
        return self.json({"user_id": str(registered.user_id), "username": registered.username},
                         status=201)


class Token(ApiView):
    async def post(self, request: web.Request) -> faust.web.Response:
        body = await json_body(request)
        username = text(body, "username", max_len=64)
        password = text(body, "password", max_len=256)
        address = client_address(request.remote, request.headers,
                                 await self.services.trusted_proxies.networks())
        token = await self.services.accounts.login(Login(username, password, address))
        return self.json({"access_token": token.token, "token_type": "Bearer",
                          "expires_in": token.expires_in})


def install(app: faust.App) -> None:
    app.page("/auth/register")(RegisterUser)
    app.page("/auth/token")(Token)

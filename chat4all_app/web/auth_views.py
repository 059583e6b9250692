"""POST /auth/register and POST /auth/token."""

from __future__ import annotations

import asyncio
import re

import faust
from faust.web.exceptions import AuthenticationFailed, ValidationError

from chat4all_app.auth.passwords import hash_password, verify_password
from chat4all_app.storage.users import create_user, user_by_username
from chat4all_app.web.context import ApiContext
from chat4all_app.web.errors import Conflict
from chat4all_app.web.inputs import json_body, text

_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")


def install(app: faust.App, ctx: ApiContext) -> None:
    @app.page("/auth/register")
    class Register(faust.web.View):
        async def post(self, request):
            body = await json_body(request)
            username = text(body, "username", max_len=64)
            password = text(body, "password", min_len=8, max_len=256)
            email = text(body, "email", required=False, max_len=254)
            if not _USERNAME.match(username):
                raise ValidationError("'username' may use letters, digits, '_', '.', '-' (3-64)")
            if email is not None and "@" not in email:
                raise ValidationError("'email' is not an e-mail address")
            # argon2 is deliberately slow: keep it off the event loop.
            hashed = await asyncio.get_running_loop().run_in_executor(None, hash_password, password)
            user = await create_user(ctx.store, username, email, hashed)
            if user is None:
                raise Conflict(f"username {username!r} is already taken")
            return self.json({"user_id": str(user.user_id), "username": username}, status=201)

    @app.page("/auth/token")
    class Token(faust.web.View):
        async def post(self, request):
            body = await json_body(request)
            username = text(body, "username", max_len=64)
            password = text(body, "password", max_len=256)
            user = await user_by_username(ctx.store, username)
            ok = user is not None and await asyncio.get_running_loop().run_in_executor(
                None, verify_password, user.password_hash, password)
            if not ok:
                raise AuthenticationFailed("invalid username or password")
            return self.json({"access_token": ctx.tokens.issue(user.user_id, username),
                              "token_type": "Bearer", "expires_in": ctx.tokens.ttl_s})

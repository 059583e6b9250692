"""POST /auth/register and POST /auth/token."""

from __future__ import annotations

import asyncio
import logging
import re

import faust
from faust.web.exceptions import AuthenticationFailed, ValidationError

from chat4all_app.auth.passwords import hash_password, verify_password
from chat4all_app.auth.throttle import LoginThrottle, Throttled, TrustedProxies, client_address
from chat4all_app.storage.users import create_user, user_by_username
from chat4all_app.web.context import ApiContext
from chat4all_app.web.errors import Conflict
from chat4all_app.web.inputs import json_body, text

log = logging.getLogger(__name__)

_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")


def install(app: faust.App, ctx: ApiContext) -> None:
    @app.page("/auth/register")
    class Register(faust.web.View):
        async def post(self, request):
            body = await json_body(request)
            username = text(body, "username", max_len=64)
            password = text(body, "password", min_len=8, max_len=256)
            email = text(body, "email", required=False, max_len=254)
            if not _USERNAME.fullmatch(username):  # match() would take a trailing "\n"
                raise ValidationError("'username' may use letters, digits, '_', '.', '-' (3-64)")
            if email is not None and "@" not in email:
                raise ValidationError("'email' is not an e-mail address")
            # argon2 is deliberately slow: keep it off the event loop.
            hashed = await asyncio.get_running_loop().run_in_executor(None, hash_password, password)
            user = await create_user(ctx.store, username, email, hashed)
            if user is None:
                raise Conflict(f"username {username!r} is already taken")
            return self.json({"user_id": str(user.user_id), "username": username}, status=201)

    throttle = LoginThrottle(ctx.settings, ctx.store)
    trusted_proxies = TrustedProxies(ctx.settings.trusted_proxies)

    @app.page("/auth/token")
    class Token(faust.web.View):
        async def post(self, request):
            body = await json_body(request)
            username = text(body, "username", max_len=64)
            password = text(body, "password", max_len=256)
            address = client_address(request.remote, request.headers, await trusted_proxies.networks())
            scopes = throttle.scopes(username, address)
            user = await user_by_username(ctx.store, username)
            # Check, verify and record in one slot (see auth.throttle: bounds concurrent guesses).
            async with throttle.slots:
                try:
                    await throttle.check(scopes)
                except Throttled as exc:
                    log.warning("login throttled: %s, retry after %d s", exc.scope, exc.retry_after_s)
                    return self.json(
                        {"error": f"too many failed logins; try again in {exc.retry_after_s} s"},
                        status=429, headers={"Retry-After": str(exc.retry_after_s)})
                # An unknown user is verified against a dummy hash and counted like a known one:
                # the same work, time and answers whether the name exists or not.
                ok = await asyncio.get_running_loop().run_in_executor(
                    None, verify_password, user.password_hash if user else None, password)
                if not ok:
                    await throttle.record_failure(scopes)
            if not ok or user is None:
                raise AuthenticationFailed("invalid username or password")
            return self.json({"access_token": ctx.tokens.issue(user.user_id, username),
                              "token_type": "Bearer", "expires_in": ctx.tokens.ttl_s})

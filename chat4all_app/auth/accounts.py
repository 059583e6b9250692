"""Registering users and logging in (throttled, see auth.throttle), apart from HTTP."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from dataclasses import dataclass

from chat4all_app.auth.passwords import hash_password, verify_password
from chat4all_app.auth.throttle import LoginThrottle, Throttled
from chat4all_app.auth.tokens import TokenIssuer
from chat4all_app.errors import Conflict, Invalid, Unauthenticated
from chat4all_app.storage.cassandra import CassandraStore
from chat4all_app.storage.users import create_user, user_by_username

log = logging.getLogger(__name__)

_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")


@dataclass(frozen=True)
class Register:
    username: str
    password: str
    email: str | None


@dataclass(frozen=True)
class Registered:
    user_id: uuid.UUID
    username: str


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    address: str  # the client's, for the per-address throttle


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_in: int  # seconds


class Accounts:
    def __init__(self, store: CassandraStore, throttle: LoginThrottle, tokens: TokenIssuer):
        self.store = store
        self.throttle = throttle
        self.tokens = tokens

    async def register(self, request: Register) -> Registered:
        """Invalid username or e-mail; Conflict if the username is taken."""
        if not _USERNAME.fullmatch(request.username):  # match() would take a trailing "\n"
            raise Invalid("'username' may use letters, digits, '_', '.', '-' (3-64)")
        if request.email is not None and "@" not in request.email:
            raise Invalid("'email' is not an e-mail address")
        # argon2 is deliberately slow: keep it off the event loop.
        hashed = await asyncio.get_running_loop().run_in_executor(None, hash_password, request.password)
        user = await create_user(self.store, request.username, request.email, hashed)
        if user is None:
            raise Conflict(f"username {request.username!r} is already taken")
        return Registered(user.user_id, request.username)

    async def login(self, request: Login) -> AccessToken:
        """A token for the right password; Unauthenticated otherwise, Throttled after too many
        failures."""
        scopes = self.throttle.scopes(request.username, request.address)
        user = await user_by_username(self.store, request.username)
        # Check, verify and record in one slot (see auth.throttle: bounds concurrent guesses).
        async with self.throttle.slots:
            try:
                await self.throttle.check(scopes)
            except Throttled as exc:
                log.warning("login throttled: %s, retry after %d s", exc.scope, exc.retry_after_s)
                raise
            # An unknown user is verified against a dummy hash and counted like a known one:
            # the same work, time and answers whether the name exists or not.
            ok = await asyncio.get_running_loop().run_in_executor(
                None, verify_password, user.password_hash if user else None, request.password)
            if not ok:
                await self.throttle.record_failure(scopes)
        if not ok or user is None:
            raise Unauthenticated("invalid username or password")
        return AccessToken(self.tokens.issue(user.user_id, request.username), self.tokens.ttl_s)

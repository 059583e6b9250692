"""A small HTTP client for the API under test (real aiohttp against the running api-service)."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp

API_URL = "http://127.0.0.1:8080"


def _fresh_address() -> str:
    return "198.18." + ".".join(str(b) for b in uuid.uuid4().bytes[:2])  # RFC 2544 test range


@dataclass
class User:
    user_id: str
    username: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Api:
    def __init__(self, http: aiohttp.ClientSession, base: str = API_URL):
        self.http, self.base = http, base

    async def call(self, method: str, path: str, user: User | None = None, *,
                   json: Any = None, data: Any = None, headers: dict | None = None,
                   params: dict | None = None) -> tuple[int, Any]:
        hdrs = dict(user.auth if user else {}) | (headers or {})
        async with self.http.request(method, self.base + path, json=json, data=data, headers=hdrs,
                                     params=params) as resp:
            assert resp.content_type == "application/json", (resp.status, await resp.text())
            return resp.status, await resp.json()

    async def user(self, prefix: str = "u") -> User:
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        status, body = await self.call("POST", "/auth/register",
                                       json={"username": name, "password": "pw-" + name})
        assert status == 201, body
        # Counted under an address of its own (the API trusts X-Real-IP from 127.0.0.1, the local
        # nginx): failed logins elsewhere in the suite or a fuzzer can never lock the tests out.
        status, tok = await self.call("POST", "/auth/token", headers={"X-Real-IP": _fresh_address()},
                                      json={"username": name, "password": "pw-" + name})
        assert status == 200, tok
        return User(body["user_id"], name, tok["access_token"])

    async def conversation(self, owner: User, *others: User) -> str:
        status, body = await self.call("POST", "/v1/conversations", owner,
                                       json={"participant_ids": [o.user_id for o in others]})
        assert status == 201, body
        return body["conversation_id"]

    async def send(self, user: User, conversation_id: str, content: str, **extra: Any) -> dict:
        status, body = await self.call("POST", "/v1/messages", user,
                                       json={"conversation_id": conversation_id, "content": content,
                                             **extra})
        assert status == 202, body
        return body

    async def all_messages(self, user: User, conversation_id: str) -> list[dict]:
        out, cursor = [], None
        while True:
            params = {"limit": "500"} | ({"cursor": cursor} if cursor else {})
            status, body = await self.call("GET", f"/v1/conversations/{conversation_id}/messages",
                                           user, params=params)
            assert status == 200, body
            out += body["messages"]
            cursor = body["next_cursor"]
            if cursor is None:
                return out

    async def wait_for(self, predicate, timeout: float = 60, interval: float = 0.2):
        """Poll `await predicate()` until it returns a truthy value (no fixed sleeps)."""
        deadline = time.monotonic() + timeout
        while True:
            value = await predicate()
            if value or time.monotonic() > deadline:
                return value
            await asyncio.sleep(interval)

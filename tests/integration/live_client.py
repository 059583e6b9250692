"""A test client of the live push (GET /v1/ws): one socket, its frames kept in arrival order."""

from __future__ import annotations

import time

import aiohttp

from tests.integration.helpers import User


class Socket:
    """One client's WebSocket, its frames kept in arrival order."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse):
        self.ws = ws
        self.frames: list[dict] = []
        self.cursor: str | None = None

    async def next(self, timeout: float = 15) -> dict:
        msg = await self.ws.receive(timeout=timeout)
        assert msg.type == aiohttp.WSMsgType.TEXT, (msg.type, msg.data, self.ws.close_code)
        frame = msg.json()
        self.frames.append(frame)
        self.cursor = frame.get("cursor", self.cursor)
        return frame

    async def until(self, predicate, timeout: float = 30) -> list[dict]:
        """Frames until one satisfies `predicate` (all of them returned)."""
        got, deadline = [], time.monotonic() + timeout
        while True:
            frame = await self.next(max(0.1, deadline - time.monotonic()))
            got.append(frame)
            if predicate(frame):
                return got

    async def quiet(self, seconds: float = 1.5) -> list[dict]:
        """Whatever else arrives within `seconds` (expected: nothing)."""
        extra = []
        try:
            while True:
                extra.append(await self.next(seconds))
        except TimeoutError:
            return extra


async def connect(http: aiohttp.ClientSession, base: str, user: User, cursor: str | None = None,
                  header: bool = True) -> Socket:
    url = base.replace("http", "ws", 1) + "/v1/ws"
    if header:
        ws = await http.ws_connect(url, headers=user.auth, params={"cursor": cursor} if cursor else None)
    else:
        ws = await http.ws_connect(url)
        await ws.send_json({"type": "auth", "token": user.token} | ({"cursor": cursor} if cursor else {}))
    sock = Socket(ws)
    ready = await sock.next()
    assert ready["type"] == "ready" and ready["user_id"] == user.user_id
    assert ready["resumed"] is (cursor is not None)
    return sock


def message_of(content: str):
    return lambda f: f["type"] == "message" and f["message"]["content"] == content

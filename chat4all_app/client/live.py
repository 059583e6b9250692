"""`chat4all watch`: following GET /v1/ws, the API's live push, from the command line.

The token goes in the upgrade request's `Authorization` header (never in the URL); the last cursor
seen goes back as `?cursor=` on every reconnection, so the server replays exactly what was missed.
A close the server means as "come back" (1001 stopping, 1013 unavailable, 4008 too slow) or a
broken network is followed by a reconnection after a growing pause (1, 2, 4 … 15 s); a refused or
expired token ends the watch (`Expired`), as does a refusal that retrying would not change
(`Stopped`: too many connections, a bad cursor).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiohttp

from chat4all_app.client.errors import reason_text

BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 15.0)
AUTH_FAILED, SLOW, TOO_MANY, BAD_FRAME, UNAVAILABLE, GOING_AWAY = 4001, 4008, 4029, 4400, 1013, 1001
RECONNECT = {GOING_AWAY, UNAVAILABLE, SLOW}
UPDATES = ("message", "status")
HEARTBEAT_S = 30.0  # the server pings every 20 s: a silent peer is a dead connection
CONNECT_TIMEOUT_S = 15.0


class Expired(Exception):
    """The token was refused (401 on the upgrade, or close code 4001)."""


class Stopped(Exception):
    """A refusal that reconnecting would not change; the message says what happened."""


class Idle(Exception):
    """Nothing arrived for the idle timeout."""


def ws_url(api_url: str) -> str:
    """The API's base URL to its WebSocket: http -> ws, https -> wss, path /v1/ws."""
    base = api_url.rstrip("/")
    for plain, secure in (("https://", "wss://"), ("http://", "ws://")):
        if base.startswith(plain):
            return secure + base[len(plain):] + "/v1/ws"
    return base + "/v1/ws"


def conversation_of(frame: dict) -> str | None:
    body = frame.get(frame.get("type") or "") or {}
    return body.get("conversation_id") if isinstance(body, dict) else None


class Retry(Exception):
    """The connection ended in a way that a reconnection repairs (why: for the notice)."""


class Watcher:
    """Follow the live feed; `show(frame)` for each update (of `conversation` only, if given),
    `notice(text)` for connection news. Returns after `count` updates; raises Expired, Stopped,
    or Idle (no update for `idle_s` seconds)."""

    def __init__(self, api_url: str, token: str, show: Callable[[dict], None],
                 notice: Callable[[str], None], *, conversation: str | None = None,
                 count: int | None = None, idle_s: float | None = None,
                 backoff: tuple[float, ...] = BACKOFF_S):
        self.url, self.token, self.show, self.notice = ws_url(api_url), token, show, notice
        self.conversation, self.count, self.idle_s, self.backoff = conversation, count, idle_s, backoff
        self.cursor: str | None = None
        self.shown = 0
        self._connected = False  # this connection got its `ready` frame
        self._idle: asyncio.Timeout | None = None

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            try:
                async with asyncio.timeout(self.idle_s) as idle:
                    self._idle = idle
                    await self._follow(http)
            except TimeoutError:
                if self.idle_s is not None and idle.expired():
                    raise Idle(f"nothing arrived in {self.idle_s:g} s") from None
                raise

    def _arrived(self) -> None:
        if self._idle is not None and self.idle_s is not None:
            self._idle.reschedule(asyncio.get_running_loop().time() + self.idle_s)

    async def _follow(self, http: aiohttp.ClientSession) -> None:
        attempt, connected_before = 0, False
        while True:
            try:
                if await self._session(http, resumed=connected_before):
                    return
                raise Retry("the server closed the connection")
            except Retry as why:
                reason = str(why)
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                reason = reason_text(exc) or "network error"
            if self._connected:
                attempt, connected_before = 0, True
            pause = self.backoff[min(attempt, len(self.backoff) - 1)]
            attempt += 1
            self.notice(f"disconnected: {reason}; reconnecting in {pause:g} s")
            await asyncio.sleep(pause)

    async def _session(self, http: aiohttp.ClientSession, resumed: bool) -> bool:
        """One connection; True once `count` updates were shown."""
        self._connected = False
        params = {"cursor": self.cursor} if self.cursor else None
        try:
            ws = await http.ws_connect(self.url, params=params, heartbeat=HEARTBEAT_S,
                                       headers={"Authorization": f"Bearer {self.token}"})
        except aiohttp.WSServerHandshakeError as exc:
            self._refused(exc.status, exc.message)
            raise Retry(f"HTTP {exc.status} {exc.message}") from None
        async with ws:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                try:
                    frame = json.loads(msg.data)
                except ValueError:
                    continue
                if isinstance(frame, dict) and self._take(frame, resumed):
                    return True
            self._closed(ws.close_code, ws.exception())
        return False

    def _refused(self, status: int, message: str) -> None:
        """An upgrade answered with an HTTP error: Expired, Stopped, or back to retry."""
        if status == 401:
            raise Expired(message)
        if status == 429:
            raise Stopped("too many live connections for this user: close another `watch` or "
                          "browser tab")
        if 400 <= status < 500:
            raise Stopped(f"the API refused the live connection: {message or 'error'} (HTTP {status})")

    def _closed(self, code: int | None, error: BaseException | None) -> None:
        """The server closed (or the connection broke): Expired, Stopped, or back to retry."""
        if code == AUTH_FAILED:
            raise Expired("token refused or expired")
        if code == TOO_MANY:
            raise Stopped("too many live connections for this user: close another `watch` or "
                          "browser tab")
        if code == BAD_FRAME:
            raise Stopped("the API refused the cursor or a frame (close code 4400)")
        what = {GOING_AWAY: "the server is stopping", UNAVAILABLE: "live updates are unavailable",
                SLOW: "this client read too slowly"}.get(code or 0)
        if what is None:
            what = reason_text(error) if error else f"connection closed (code {code})"
        raise Retry(what)

    def _take(self, frame: dict[str, Any], resumed: bool) -> bool:
        kind = frame.get("type")
        if isinstance(frame.get("cursor"), str):
            self.cursor = frame["cursor"]
        if kind == "ready":
            self._connected = True
            self.notice("reconnected: resuming from the last update seen" if resumed
                        else "connected: following live updates (Ctrl-C to stop)")
        elif kind == "reset":
            self.notice(f"the server could not replay every missed update ({frame.get('reason')}): "
                        "some may be missing here; `chat4all messages` lists them")
        elif kind in UPDATES:
            if self.conversation and conversation_of(frame) != self.conversation:
                return False
            self._arrived()
            self.show(frame)
            self.shown += 1
            return self.count is not None and self.shown >= self.count
        return False

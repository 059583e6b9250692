"""GET /v1/ws: the WebSocket that pushes new messages and status changes (chat4all_app.push).

Authentication, never in the URL (URLs are logged): an `Authorization: Bearer` header on the
upgrade request (refused with a JSON 401/429 before upgrading), or, for browsers, which cannot set
headers on a WebSocket, a first frame `{"type": "auth", "token": …, "cursor": …}` within
WS_AUTH_TIMEOUT_S. A header client resumes with `?cursor=` (a cursor is no secret).

Close codes: 4001 authentication failed or the token expired, 4008 too slow (it fell
WS_SEND_QUEUE frames behind), 4029 too many connections for this user, 4400 a bad frame or
cursor, 1011 a server error, 1013 live updates unavailable (Kafka), 1001 the server is stopping.
After 4008, 1013 and 1001 a client reconnects with its last cursor and misses nothing. An idle
client gets a `cursor` frame now and then, so its cursor follows the feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import faust
from aiohttp import WSMsgType, web

from chat4all_app.errors import Invalid, Refused, TooMany, Unauthenticated, Unavailable
from chat4all_app.observability.logs import get_logger
from chat4all_app.observability.metrics import WS_DROPS
from chat4all_app.push import cursor
from chat4all_app.push.connection import SLOW, Connection
from chat4all_app.push.sessions import Opened
from chat4all_app.web.context import ApiServices, ApiView
from chat4all_app.web.server import aiohttp_app

log = get_logger(__name__)
AUTH_FAILED, TOO_MANY, BAD_FRAME, UNAVAILABLE, GOING_AWAY, INTERNAL = 4001, 4029, 4400, 1013, 1001, 1011
CLOSE_CODES = {Unauthenticated: AUTH_FAILED, TooMany: TOO_MANY, Invalid: BAD_FRAME,
               Unavailable: UNAVAILABLE}
HEARTBEAT_S = 20.0
MAX_FRAME_BYTES = 16 * 1024
CLOSE_TIMEOUT_S = 2.0
CURSOR_EVERY_S = 15.0


class Live(ApiView):
    async def get(self, request: web.Request) -> faust.web.Response:
        ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=MAX_FRAME_BYTES)
        services = self.services
        header = None
        if "Authorization" in request.headers:
            # Refused as plain HTTP (JSON 401/429/400) while the client can still read a body.
            user_id, expires = services.authenticate_until(request)
            services.push.hub.check_room(str(user_id))
            resume = request.query.get("cursor")
            if resume is not None:
                cursor.decode(resume)
            header = (str(user_id), expires, resume)
        if not ws.can_prepare(request).ok:
            raise Invalid("this endpoint speaks WebSocket: send a WebSocket upgrade request")
        await ws.prepare(request)
        try:
            user, expires, resume = header or await self._first_frame(ws, services)
            opened = await services.push.open(user, resume)
        except Refused as exc:
            reason = "auth" if isinstance(exc, Unauthenticated) else None
            if reason:
                WS_DROPS.labels(reason).inc()
            await close(ws, CLOSE_CODES.get(type(exc), BAD_FRAME), exc.message)
            return ws  # type: ignore[return-value]  # a prepared aiohttp response, as Faust passes it on
        except Exception:  # a bug: the client gets a close code, never a broken connection
            log.exception("live session failed to open")
            await close(ws, INTERNAL, "internal error")
            return ws  # type: ignore[return-value]
        try:
            code, why = await self._serve(ws, services, opened, expires)
        except Exception:
            log.exception("live session failed", user_id=opened.conn.user_id)
            code, why = INTERNAL, "internal error"
        finally:
            services.push.hub.unregister(opened.conn)
        await close(ws, code, why)
        return ws  # type: ignore[return-value]

    async def _first_frame(self, ws: web.WebSocketResponse,
                           services: ApiServices) -> tuple[str, float, str | None]:
        try:
            msg = await ws.receive(timeout=services.settings.ws_auth_timeout_s)
        except TimeoutError:
            raise Unauthenticated("no auth frame in time: send {\"type\": \"auth\", \"token\": …} "
                                  "first") from None
        if msg.type != WSMsgType.TEXT:
            raise Unauthenticated("the first frame must be a JSON auth frame")
        try:
            frame = json.loads(msg.data)
        except (ValueError, RecursionError):
            raise Invalid("frames are JSON objects") from None
        if not isinstance(frame, dict) or frame.get("type") != "auth" or not isinstance(
                frame.get("token"), str):
            raise Unauthenticated("the first frame must be {\"type\": \"auth\", \"token\": …}")
        resume = frame.get("cursor")
        if resume is not None and not isinstance(resume, str):
            raise Invalid("'cursor' must be a cursor string the server sent")
        user_id, expires = services.token_owner(frame["token"])
        return str(user_id), expires, resume

    async def _serve(self, ws: web.WebSocketResponse, services: ApiServices, opened: Opened,
                     expires: float) -> tuple[int, str]:
        """Push until something ends the session; returns the close code and reason."""
        conn = opened.conn
        pump = asyncio.create_task(conn.pump(ws.send_str))
        reader = asyncio.create_task(read_until_closed(ws, conn))
        slow = asyncio.create_task(conn.too_slow.wait())
        leaving = asyncio.create_task(conn.going_away.wait())
        expiry = asyncio.create_task(asyncio.sleep(max(0.0, expires - time.time())))
        catch_up = asyncio.create_task(services.push.catch_up(opened))
        beacon = asyncio.create_task(tell_cursor_every(conn, CURSOR_EVERY_S))
        ends = {pump, reader, slow, leaving, expiry}
        try:
            while True:
                done, _ = await asyncio.wait({*ends, catch_up} if not catch_up.done() else ends,
                                             return_when=asyncio.FIRST_COMPLETED)
                if catch_up in done and catch_up.exception() is not None:
                    log.warning("replay failed", user_id=conn.user_id, error=repr(catch_up.exception()))
                    WS_DROPS.labels("unavailable").inc()
                    return UNAVAILABLE, "could not replay from the cursor; reconnect to retry"
                if done & ends:
                    break
            if slow in done:
                WS_DROPS.labels("slow").inc()
                return SLOW, f"too slow: more than {services.settings.ws_send_queue} frames waiting"
            if expiry in done:
                WS_DROPS.labels("auth").inc()
                return AUTH_FAILED, "token expired: log in again"
            if leaving in done:
                return GOING_AWAY, "server stopping: reconnect with your cursor"
            return 1000, ""
        finally:
            for task in (pump, reader, slow, leaving, expiry, catch_up, beacon):
                task.cancel()
            await asyncio.gather(pump, reader, slow, leaving, expiry, catch_up, beacon,
                                 return_exceptions=True)


async def tell_cursor_every(conn: Connection, seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds)
        conn.tell_cursor()


async def read_until_closed(ws: web.WebSocketResponse, conn: Connection) -> None:
    """The client's frames after auth: `{"type": "ping"}` gets a pong; anything else is ignored."""
    async for msg in ws:
        if msg.type == WSMsgType.TEXT and '"ping"' in msg.data:
            conn.say(json.dumps({"type": "pong"}))


async def close(ws: web.WebSocketResponse, code: int, reason: str) -> None:
    """Close, but never wait long on a client that does not read (a slow one)."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(ws.close(code=code, message=reason.encode()[:120]), CLOSE_TIMEOUT_S)


def install(app: faust.App, services: ApiServices) -> None:
    app.page("/v1/ws")(Live)

    async def on_shutdown(_: web.Application) -> None:
        services.push.hub.close_all()

    aiohttp_app(app.web).on_shutdown.append(on_shutdown)

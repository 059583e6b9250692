"""Opening a client's push session: live from now, or from its cursor with what it missed first.

A client without a cursor starts at the feed's current positions. A client with one is registered
*holding* its live entries, at positions taken in the same step (no await between), then replays
from its cursor up to those positions; the live entries it held follow, past the replayed ones.
So it gets every update once, in order, whichever replica it reconnects to.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from chat4all_app.errors import Unavailable
from chat4all_app.observability.metrics import WS_DROPS
from chat4all_app.push import cursor
from chat4all_app.push.connection import Connection
from chat4all_app.push.entry import Entry
from chat4all_app.push.feed import TooOld, UpdateFeed
from chat4all_app.push.frames import ready_frame, reset_frame
from chat4all_app.push.hub import Hub
from chat4all_app.settings import Settings

FOLLOWING_WAIT_S = 5.0
REPLAYS_AT_ONCE = 4


@dataclass(frozen=True)
class Opened:
    conn: Connection
    # A resumed session's replay: from the client's cursor up to the live positions.
    since: cursor.Positions | None
    until: cursor.Positions


class PushSessions:
    def __init__(self, settings: Settings, hub: Hub, feed: UpdateFeed):
        self.settings = settings
        self.hub = hub
        self.feed = feed
        # Each replay reads Kafka with a consumer of its own: a few at a time per process, so a
        # crowd reconnecting (or a client forging old cursors) queues instead of eating the CPU.
        self._replaying = asyncio.Semaphore(REPLAYS_AT_ONCE)

    async def open(self, user_id: str, resume: str | None) -> Opened:
        """Register a connection (TooMany over the per-user limit, Invalid for a bad cursor,
        Unavailable while the feed cannot follow Kafka)."""
        since = cursor.decode(resume) if resume is not None else None
        try:
            await asyncio.wait_for(self.feed.following.wait(), FOLLOWING_WAIT_S)
        except TimeoutError:
            WS_DROPS.labels("unavailable").inc()
            raise Unavailable("live updates are not available yet (Kafka); retry shortly") from None
        until = dict(self.feed.positions)
        conn = Connection(user_id, since if since is not None else until, self.settings.ws_send_queue)
        if since is not None:
            conn.hold_live()
        self.hub.register(conn)  # raises TooMany; nothing awaited since `until` was taken
        conn.say(ready_frame(user_id, conn.cursor, since is not None))
        return Opened(conn, since, until)

    async def catch_up(self, opened: Opened) -> None:
        """Replay what a resumed client missed, then let its held live entries through. A cursor
        the topic can no longer serve gets a reset frame (reload by REST) and goes on live."""
        conn = opened.conn
        if opened.since is None:
            return

        async def visit(entries: list[Entry]) -> None:
            for entry, _ in await self.hub.prepare(entries, only=conn.user_id):
                await conn.push_waiting(entry)

        try:
            async with self._replaying:
                await self.feed.replay(opened.since, opened.until, visit)
        except TooOld as exc:
            conn.positions = dict(opened.until)
            conn.say(reset_frame(f"cursor too old: {exc}; reload by REST", conn.cursor))
        await conn.release_live()

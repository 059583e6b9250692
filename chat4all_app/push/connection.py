"""One WebSocket client's push state: what it has been sent, what waits, and when it is too slow.

Frames wait in a bounded queue that the socket's writer drains. A client that reads slower than
its conversations produce fills the queue, and is then disconnected (close code 4008) instead of
the process buffering without bound; it reconnects with its cursor and loses nothing.

Order and exactly-once: each partition's position only moves forward, so an entry at or behind
it (the overlap between a reconnection's replay and the live feed) is skipped; the same change
announced twice at two offsets (a router replay) is skipped by its key.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from chat4all_app.lru import LruCache
from chat4all_app.observability.metrics import WS_PUSH_LATENCY, WS_PUSHES
from chat4all_app.push import cursor
from chat4all_app.push.entry import Entry
from chat4all_app.push.frames import MESSAGE, cursor_frame, update_frame

SLOW = 4008  # close code: the client fell WS_SEND_QUEUE frames behind
# A router replay re-announces within a batch or two: a short memory is enough.
DEDUPE_KEYS = 4096


class Connection:
    def __init__(self, user_id: str, positions: cursor.Positions, queue_size: int):
        self.user_id = user_id
        self.positions = dict(positions)
        # (frame, kind of update or None, when its change happened): the latency is observed
        # once the socket took the frame.
        self.frames: asyncio.Queue[tuple[str, str | None, float]] = asyncio.Queue(queue_size)
        self.too_slow = asyncio.Event()
        self.going_away = asyncio.Event()  # the process is shutting down
        self._sent: LruCache[bool] = LruCache(DEDUPE_KEYS)
        # While a reconnection replays what it missed, live entries wait here (then go through
        # the same position check, so the overlap is skipped and the order kept).
        self._held: list[Entry] | None = None
        self._told = self.cursor  # the cursor the client last got (ready carries this one)

    @property
    def cursor(self) -> str:
        return cursor.encode(self.positions)

    def hold_live(self) -> None:
        self._held = []

    async def release_live(self) -> None:
        """Let the held live entries through, waiting for room in the queue as a replay does (a
        client that just caught up must not be found too slow for what arrived meanwhile); live
        entries go straight through once none is held."""
        while self._held:
            held, self._held = self._held, []
            for entry in held:
                await self.push_waiting(entry)
        self._held = None

    def passed(self, partition: int, position: int) -> None:
        """The feed went past `position` on `partition` with nothing for this client: its cursor
        follows, so a reconnection replays only what came after (see Hub.passed)."""
        if self._held is None and self.positions.get(partition, 0) < position:
            self.positions[partition] = position

    def offer(self, entry: Entry) -> None:
        """A live entry for this client (the hub found it a member of the conversation)."""
        if self._held is not None:
            if len(self._held) >= self.frames.maxsize:
                self.too_slow.set()
                return
            self._held.append(entry)
            return
        self.push(entry)

    def push(self, entry: Entry) -> None:
        framed = self._frame(entry)
        if framed is not None:
            self._queue(*framed)

    async def push_waiting(self, entry: Entry) -> None:
        """As push, but waits for room in the queue: a replay goes as fast as the client reads."""
        framed = self._frame(entry)
        if framed is not None:
            await self.frames.put(framed)

    def _frame(self, entry: Entry) -> tuple[str, str, float] | None:
        """The entry's frame, if this client has not had it (moving its position past it)."""
        if self.too_slow.is_set() or entry.offset < self.positions.get(entry.partition, 0):
            return None
        self.positions[entry.partition] = entry.offset + 1
        if self._sent.get(entry.dedupe_key):
            return None
        self._sent.put(entry.dedupe_key, True)
        self._told = self.cursor
        u = entry.update
        return (update_frame(u, self.cursor, entry.message), u.kind,
                u.accepted_at if u.kind == MESSAGE else u.at)

    def tell_cursor(self) -> None:
        """A `cursor` frame if the cursor moved since the client last got one (an idle client's
        cursor follows the feed: a reconnection then replays only what came after)."""
        if self.cursor != self._told:
            self._told = self.cursor
            self.say(cursor_frame(self._told))

    def say(self, frame: str) -> None:
        """A control frame (ready, reset), in line with the updates."""
        self._queue(frame, None, 0.0)

    def _queue(self, frame: str, kind: str | None, since: float) -> None:
        try:
            self.frames.put_nowait((frame, kind, since))
        except asyncio.QueueFull:
            self.too_slow.set()

    async def pump(self, send: Callable[[str], Awaitable[None]]) -> None:
        """Hand the frames to the socket, in order, until cancelled."""
        while True:
            frame, kind, since = await self.frames.get()
            await send(frame)
            if kind is not None:
                WS_PUSHES.labels(kind).inc()
                WS_PUSH_LATENCY.labels(kind).observe(max(0.0, time.time() - since))

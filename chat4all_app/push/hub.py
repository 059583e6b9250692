"""Who is connected to this API process, and which of them an update is for.

An update goes to every connection of every member of its conversation (membership never
changes after creation, so it is cached: `CassandraConversations`). Lookups for a batch run
concurrently in `prepare`; `deliver` then offers the batch to the connections without awaiting
anything, so the feed can move its positions in the same step (see push.feed).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence

from chat4all_app.errors import TooMany
from chat4all_app.messaging.ports import ConversationLookup
from chat4all_app.observability.metrics import WS_CONNECTIONS, WS_DROPS
from chat4all_app.push.connection import Connection
from chat4all_app.push.entry import Entry
from chat4all_app.push.frames import MESSAGE, message_json
from chat4all_app.retry import until_done

Members = frozenset[str]
AttachFiles = Callable[[list[dict]], Awaitable[None]]


class Hub:
    def __init__(self, conversations: ConversationLookup, attach_files: AttachFiles,
                 max_per_user: int):
        self.conversations = conversations
        self.attach_files = attach_files
        self.max_per_user = max_per_user
        self._by_user: dict[str, set[Connection]] = {}

    def check_room(self, user_id: str) -> None:
        """TooMany if the user already holds the most connections allowed on this process."""
        if len(self._by_user.get(user_id, ())) >= self.max_per_user:
            WS_DROPS.labels("limit").inc()
            raise TooMany(f"at most {self.max_per_user} live connections per user on one API "
                          "process; close one first")

    def register(self, conn: Connection) -> None:
        self.check_room(conn.user_id)
        self._by_user.setdefault(conn.user_id, set()).add(conn)
        WS_CONNECTIONS.inc()

    def unregister(self, conn: Connection) -> None:
        mine = self._by_user.get(conn.user_id)
        if mine is not None and conn in mine:
            mine.discard(conn)
            if not mine:
                del self._by_user[conn.user_id]
            WS_CONNECTIONS.dec()

    def close_all(self) -> None:
        """The process is stopping: every connection closes (1001) and its client reconnects
        elsewhere with its cursor."""
        for conns in self._by_user.values():
            for conn in conns:
                conn.going_away.set()

    @property
    def connected(self) -> bool:
        return bool(self._by_user)

    async def members(self, conversation_id: str) -> Members:
        conv = await until_done(lambda: self.conversations.conversation(uuid.UUID(conversation_id)),
                                f"reading conversation {conversation_id}", reason="cassandra")
        return frozenset(str(p) for p in conv.participant_ids) if conv else frozenset()

    async def prepare(self, entries: Sequence[Entry],
                      only: str | None = None) -> list[tuple[Entry, Members]]:
        """Each entry with its conversation's members (just `only`, if given), the message objects
        completed as a REST read shows them; entries for nobody are left out. Members are not
        narrowed to those connected now: one may connect while the lookups run, and must not
        miss this batch."""
        if not entries:
            return []
        conversations = list({e.update.conversation_id for e in entries})
        found = await asyncio.gather(*(self.members(c) for c in conversations))
        members = dict(zip(conversations, found, strict=True))
        kept = []
        for entry in entries:
            here = members[entry.update.conversation_id]
            if only is not None:
                here = here & {only}
            if not here:
                continue
            if entry.update.kind == MESSAGE:
                entry = Entry(entry.partition, entry.offset, entry.update, message_json(entry.update))
            kept.append((entry, here))
        with_files = [e.message for e, _ in kept if e.message is not None and e.message["file_id"]]
        if with_files:
            await self.attach_files(with_files)
        return kept

    def passed(self, partition: int, position: int) -> None:
        """Every connection's cursor moves to the feed's position: all entries before it that were
        for the connection have just been offered to it (deliver, in the same step)."""
        for conns in self._by_user.values():
            for conn in conns:
                conn.passed(partition, position)

    def deliver(self, prepared: Iterable[tuple[Entry, Members]]) -> None:
        """Offer each entry to its members' connections (no await: see the module docstring)."""
        for entry, members in prepared:
            for user_id in members:
                for conn in tuple(self._by_user.get(user_id, ())):
                    conn.offer(entry)

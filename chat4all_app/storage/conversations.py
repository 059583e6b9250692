"""Conversations and their membership (one row per member for "my conversations")."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from chat4all_app.storage.cassandra import CassandraStore


@dataclass(frozen=True)
class Conversation:
    conversation_id: uuid.UUID
    name: str | None
    participant_ids: frozenset[uuid.UUID]
    created_by: uuid.UUID
    created_at: datetime

    def as_json(self) -> dict:
        return {
            "conversation_id": str(self.conversation_id),
            "name": self.name,
            "participant_ids": sorted(str(p) for p in self.participant_ids),
            "created_by": str(self.created_by),
            "created_at": self.created_at.replace(tzinfo=UTC).isoformat(),
        }


async def create_conversation(store: CassandraStore, creator: uuid.UUID,
                              participants: set[uuid.UUID], name: str | None) -> Conversation:
    conv = Conversation(uuid.uuid4(), name, frozenset(participants | {creator}), creator,
                        datetime.now(UTC).replace(microsecond=0))
    await store.execute(
        "INSERT INTO conversations (conversation_id, name, participant_ids, created_by, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (conv.conversation_id, name, set(conv.participant_ids), creator, conv.created_at))
    # Each member's row carries everything a listing shows: a page is one query (migration 0005).
    await asyncio.gather(*(
        store.execute(
            "INSERT INTO conversations_by_user (user_id, conversation_id, name, participant_ids, "
            "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (member, conv.conversation_id, name, set(conv.participant_ids), creator, conv.created_at))
        for member in conv.participant_ids))
    return conv


async def get_conversation(store: CassandraStore, conversation_id: uuid.UUID) -> Conversation | None:
    rows = await store.execute(
        "SELECT conversation_id, name, participant_ids, created_by, created_at FROM conversations "
        "WHERE conversation_id = ?", (conversation_id,))
    if not rows:
        return None
    r = rows[0]
    return Conversation(r.conversation_id, r.name, frozenset(r.participant_ids or ()), r.created_by,
                        r.created_at)


_LISTING = ("SELECT conversation_id, name, participant_ids, created_by, created_at "
            "FROM conversations_by_user WHERE user_id = ?")


async def conversations_page(store: CassandraStore, user_id: uuid.UUID, limit: int,
                             after: uuid.UUID | None) -> tuple[list[Conversation], str | None]:
    """A page of the user's conversations (in the partition's conversation_id order) and the
    cursor of the next page (None at the end): one query per page.

    Rows written before migration 0005 lack the participants: those conversations are read from
    `conversations` (one query each, this once) and their listing row is completed."""
    if after is None:
        rows = await store.execute(f"{_LISTING} LIMIT ?", (user_id, limit + 1))
    else:
        rows = await store.execute(f"{_LISTING} AND conversation_id > ? LIMIT ?",
                                   (user_id, after, limit + 1))
    page = rows[:limit]
    cursor = str(page[-1].conversation_id) if len(rows) > limit else None
    legacy = [r.conversation_id for r in page if not r.participant_ids or r.created_by is None]
    completed = {c.conversation_id: c for c in await asyncio.gather(
        *(_complete_listing_row(store, user_id, cid) for cid in legacy)) if c is not None}
    convs = []
    for r in page:
        if r.conversation_id in completed:
            convs.append(completed[r.conversation_id])
        elif r.participant_ids and r.created_by is not None:
            convs.append(Conversation(r.conversation_id, r.name, frozenset(r.participant_ids),
                                      r.created_by, r.created_at))
    return convs, cursor


async def _complete_listing_row(store: CassandraStore, user_id: uuid.UUID,
                                conversation_id: uuid.UUID) -> Conversation | None:
    conv = await get_conversation(store, conversation_id)
    if conv is not None:
        await store.execute(
            "UPDATE conversations_by_user SET participant_ids = ?, created_by = ? "
            "WHERE user_id = ? AND conversation_id = ?",
            (set(conv.participant_ids), conv.created_by, user_id, conversation_id))
    return conv

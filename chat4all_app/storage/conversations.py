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
    await asyncio.gather(*(
        store.execute(
            "INSERT INTO conversations_by_user (user_id, conversation_id, name, created_at) "
            "VALUES (?, ?, ?, ?)", (member, conv.conversation_id, name, conv.created_at))
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


async def conversations_of(store: CassandraStore, user_id: uuid.UUID) -> list[Conversation]:
    rows = await store.execute(
        "SELECT conversation_id FROM conversations_by_user WHERE user_id = ?", (user_id,))
    found = await asyncio.gather(*(get_conversation(store, r.conversation_id) for r in rows))
    return [c for c in found if c is not None]

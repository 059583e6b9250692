"""Messages, clustered per conversation by their acceptance time-UUID, and their statuses."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from chat4all_app.records import MessageAccepted
from chat4all_app.status import Status
from chat4all_app.storage.cassandra import CassandraStore


def _ts(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


async def store_message(store: CassandraStore, msg: MessageAccepted, channel: str | None,
                        status: Status, status_at: float) -> None:
    """Write the message row and its by-id index. Idempotent, and safe to replay late.

    The row is written with the acceptance time as its write timestamp: a replay after a crash
    rewrites identical cells with the same timestamp, and can never override a later status
    update (written at "now"), so a status never goes backwards in Cassandra.
    """
    conv, accepted = uuid.UUID(msg.conversation_id), uuid.UUID(msg.accepted_id)
    times = {Status.ACCEPTED.value: _ts(msg.accepted_at), status.value: _ts(status_at)}
    await store.execute(
        "INSERT INTO messages (conversation_id, accepted_id, message_id, sender_id, recipient_id, "
        "channel, content, file_id, status, status_times) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "USING TIMESTAMP ?",
        (conv, accepted, uuid.UUID(msg.message_id), uuid.UUID(msg.sender_id), msg.recipient_id,
         channel, msg.content, uuid.UUID(msg.file_id) if msg.file_id else None, status.value, times,
         int(msg.accepted_at * 1_000_000)))
    await store.execute(
        "INSERT INTO messages_by_id (message_id, conversation_id, accepted_id) VALUES (?, ?, ?)",
        (uuid.UUID(msg.message_id), conv, accepted))


async def set_status(store: CassandraStore, conversation_id: str, accepted_id: str, status: Status,
                     at: float, reason: str | None) -> None:
    await store.execute(
        "UPDATE messages SET status = ?, status_reason = ?, status_times = status_times + ? "
        "WHERE conversation_id = ? AND accepted_id = ?",
        (status.value, reason, {status.value: _ts(at)}, uuid.UUID(conversation_id),
         uuid.UUID(accepted_id)))


_COLUMNS = ("conversation_id, accepted_id, message_id, sender_id, recipient_id, channel, content, "
            "file_id, status, status_reason, status_times")


def message_json(row: Any) -> dict:
    return {
        "message_id": str(row.message_id),
        "conversation_id": str(row.conversation_id),
        "sender_id": str(row.sender_id) if row.sender_id else None,
        "recipient_id": row.recipient_id,
        "channel": row.channel,
        "content": row.content,
        "file_id": str(row.file_id) if row.file_id else None,
        "status": row.status,
        "status_reason": row.status_reason,
        "timestamps": {k: v.replace(tzinfo=UTC).isoformat()
                       for k, v in sorted((row.status_times or {}).items(), key=lambda kv: kv[1])},
    }


async def list_messages(store: CassandraStore, conversation_id: uuid.UUID, limit: int,
                        after: uuid.UUID | None) -> tuple[list[dict], str | None]:
    """A page in acceptance order, and the cursor of the next page (None at the end)."""
    if after is None:
        rows = await store.execute(
            f"SELECT {_COLUMNS} FROM messages WHERE conversation_id = ? LIMIT ?",
            (conversation_id, limit + 1))
    else:
        rows = await store.execute(
            f"SELECT {_COLUMNS} FROM messages WHERE conversation_id = ? AND accepted_id > ? LIMIT ?",
            (conversation_id, after, limit + 1))
    page = rows[:limit]
    cursor = str(page[-1].accepted_id) if len(rows) > limit else None
    return [message_json(r) for r in page], cursor


async def locate(store: CassandraStore, message_id: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID] | None:
    rows = await store.execute(
        "SELECT conversation_id, accepted_id FROM messages_by_id WHERE message_id = ?", (message_id,))
    return (rows[0].conversation_id, rows[0].accepted_id) if rows else None


async def message_at(store: CassandraStore, where: tuple[uuid.UUID, uuid.UUID]) -> dict | None:
    """The message at (conversation_id, accepted_id), as `locate` found it."""
    rows = await store.execute(
        f"SELECT {_COLUMNS} FROM messages WHERE conversation_id = ? AND accepted_id = ?", where)
    return message_json(rows[0]) if rows else None

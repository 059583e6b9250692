"""Messages, clustered per conversation by their acceptance time-UUID, and their statuses."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cassandra.query import UNSET_VALUE

from chat4all_app.delivery_status import Status
from chat4all_app.records import MessageAccepted, StatusEvent
from chat4all_app.storage.cassandra import CassandraStore


def _ts(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


# One unlogged batch per request, across conversations: per message the row and its by-id index
# entry (two partitions), so 50 messages are 100 statements. A batch request costs Cassandra and
# the driver far less per statement than one request per conversation, which at a few messages
# per conversation was almost one request per message. Capped so it stays well inside Cassandra's
# batch size thresholds (deploy/cassandra/cassandra.yaml). On a multi-node cluster a batch should
# hold one replica set's partitions; this deployment has one node.
BATCH_MAX_MESSAGES, BATCH_MAX_CONTENT_BYTES = 50, 32 * 1024
BATCH_MAX_UPDATES = 100

# An UPDATE, not an INSERT, and absent values unset, not null: an INSERT of a map writes a
# tombstone to clear it, and a null cell is a tombstone too. With a few per row, a scan of the
# table (the assignment's `WHERE status = 'PENDING' ALLOW FILTERING`) met Cassandra's
# tombstone_failure_threshold and was refused once the table held ~100k messages.
_WRITE_MESSAGE = (
    "UPDATE messages USING TIMESTAMP ? SET message_id = ?, sender_id = ?, recipient_id = ?, "
    "channel = ?, content = ?, file_id = ?, status = ?, status_times = status_times + ? "
    "WHERE conversation_id = ? AND accepted_id = ?")
_INSERT_INDEX = "INSERT INTO messages_by_id (message_id, conversation_id, accepted_id) VALUES (?, ?, ?)"
_UPDATE_STATUS = ("UPDATE messages SET status = ?, status_reason = ?, status_times = status_times + ? "
                  "WHERE conversation_id = ? AND accepted_id = ?")


@dataclass(frozen=True)
class NewRow:
    msg: MessageAccepted
    channel: str | None
    status: Status
    status_at: float


def _row_statements(row: NewRow) -> list[tuple[str, tuple]]:
    """The message row and its by-id index. Idempotent, and safe to replay late.

    The row is written with the acceptance time as its write timestamp: a replay after a crash
    rewrites identical cells with the same timestamp, and can never override a later status
    update (written at "now"), so a status never goes backwards in Cassandra.
    """
    msg = row.msg
    conv, accepted = uuid.UUID(msg.conversation_id), uuid.UUID(msg.accepted_id)
    mid = uuid.UUID(msg.message_id)
    times = {Status.ACCEPTED.value: _ts(msg.accepted_at), row.status.value: _ts(row.status_at)}
    return [(_WRITE_MESSAGE, (int(msg.accepted_at * 1_000_000), mid, uuid.UUID(msg.sender_id),
                              _unset_if_none(msg.recipient_id), _unset_if_none(row.channel),
                              msg.content, uuid.UUID(msg.file_id) if msg.file_id else UNSET_VALUE,
                              row.status.value, times, conv, accepted)),
            (_INSERT_INDEX, (mid, conv, accepted))]


def _unset_if_none(value: Any) -> Any:
    return UNSET_VALUE if value is None else value


def _chunks(rows: Sequence[NewRow]) -> Iterator[list[NewRow]]:
    chunk: list[NewRow] = []
    size = 0
    for row in rows:
        content = len(row.msg.content.encode())
        if chunk and (len(chunk) >= BATCH_MAX_MESSAGES or size + content > BATCH_MAX_CONTENT_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(row)
        size += content
    if chunk:
        yield chunk


async def store_messages(store: CassandraStore, rows: Sequence[NewRow]) -> None:
    """Write new message rows: unlogged batches of up to 50 messages or 32 KiB, concurrently. Each
    row carries its own write timestamp (`_row_statements`), so sharing a batch changes nothing."""
    await asyncio.gather(*(
        store.execute_batch([st for row in chunk for st in _row_statements(row)])
        for chunk in _chunks(rows)))


async def apply_statuses(store: CassandraStore, changes: Sequence[Sequence[StatusEvent]]) -> None:
    """Each message's transitions (in order) as one update: the last status and reason, every
    transition's time. One update, not one per transition: a batch gives all its statements one
    write timestamp, so two updates of one cell there would tie rather than apply in order. The
    updates of different messages share batches of up to 100, across conversations."""
    statements = []
    for transitions in changes:
        last = transitions[-1]
        statements.append((_UPDATE_STATUS, (
            # No reason: left unset, not null (a null cell is a tombstone); nothing before a
            # reasonless status had one (only FAILED has, and nothing follows it).
            last.status, _unset_if_none(last.reason), {ev.status: _ts(ev.at) for ev in transitions},
            uuid.UUID(last.conversation_id), uuid.UUID(last.accepted_id))))
    await asyncio.gather(*(
        store.execute_batch(statements[i:i + BATCH_MAX_UPDATES])
        for i in range(0, len(statements), BATCH_MAX_UPDATES)))


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


async def stored_status(store: CassandraStore, conversation_id: str, accepted_id: str,
                        message_id: str) -> Status | None:
    """The stored status of this message, None if no such message is stored at that place (the
    router writes the row before forwarding, so any genuine status event finds it)."""
    rows = await store.execute(
        "SELECT message_id, status FROM messages WHERE conversation_id = ? AND accepted_id = ?",
        (uuid.UUID(conversation_id), uuid.UUID(accepted_id)))
    if not rows or rows[0].message_id != uuid.UUID(message_id):
        return None
    return Status(rows[0].status) if rows[0].status in Status.__members__ else None

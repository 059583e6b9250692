"""Messages waiting for their channel (PENDING), per channel: what the assignment asks as

    SELECT message_id, recipient_id, status, timestamp FROM messages
    WHERE status = 'PENDING' ALLOW FILTERING

answered for this schema: there is no `timestamp` column, so a message's time is when it became
PENDING (status_times), else its acceptance (the time in accepted_id).

The filter runs here, not in Cassandra. `ALLOW FILTERING` scans the whole table in one read that
ends only when a page of matches is full, so with few matches it counts every tombstone of the
table (each row has some: null cells, the status_times overwrite) and a table of some 100k
messages fails with READ_TOO_MANY_TOMBSTONES. Plain pages of `fetch_size` rows each stay far below
that limit. Blocking (the driver's synchronous API): for the CLI and tools, not the services.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cassandra.query import SimpleStatement
from cassandra.util import datetime_from_uuid1

from chat4all_app.delivery_status import Status

SCAN = ("SELECT conversation_id, accepted_id, message_id, recipient_id, channel, status, status_times "
        "FROM {keyspace}.messages")
INTERNAL = "internal"  # member-to-member messages have no channel (and are never PENDING)


@dataclass(frozen=True)
class PendingMessage:
    message_id: uuid.UUID
    conversation_id: uuid.UUID
    recipient_id: str | None
    status: str
    timestamp: datetime  # when it became PENDING (UTC)

    def as_json(self) -> dict[str, Any]:
        return {"message_id": str(self.message_id), "conversation_id": str(self.conversation_id),
                "recipient_id": self.recipient_id, "status": self.status,
                "timestamp": self.timestamp.isoformat()}


@dataclass(frozen=True)
class Backlog:
    channel: str
    count: int  # all of the channel's PENDING messages
    messages: list[PendingMessage]  # the longest waiting first, at most the limit asked

    def as_json(self) -> dict[str, Any]:
        return {"channel": self.channel, "count": self.count,
                "messages": [m.as_json() for m in self.messages]}


def pending_since(row: Any) -> datetime:
    at = (row.status_times or {}).get(Status.PENDING.value) or datetime_from_uuid1(row.accepted_id)
    return at.replace(tzinfo=UTC)  # the driver's timestamps are naive UTC


def backlogs(rows: Iterable[Any], channels: Collection[str], only: str | None = None,
             limit: int | None = None) -> list[Backlog]:
    """Group the PENDING rows among `rows` per channel: every configured channel (or `only`),
    with zero counts too, then any other channel a row names."""
    found: dict[str, list[PendingMessage]] = {c: [] for c in ([only] if only else channels)}
    for row in rows:
        channel = row.channel or INTERNAL
        if row.status != Status.PENDING.value or (only and channel != only):
            continue
        found.setdefault(channel, []).append(PendingMessage(
            row.message_id, row.conversation_id, row.recipient_id, row.status, pending_since(row)))
    out = []
    for channel, waiting in found.items():
        waiting.sort(key=lambda m: m.timestamp)
        out.append(Backlog(channel, len(waiting), waiting[:limit] if limit is not None else waiting))
    return out


def scan_messages(session: Any, keyspace: str, fetch_size: int = 1000) -> Iterable[Any]:
    """Every message row (the columns `backlogs` needs), page by page."""
    return session.execute(SimpleStatement(SCAN.format(keyspace=keyspace), fetch_size=fetch_size))

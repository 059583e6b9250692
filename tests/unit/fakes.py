"""In-memory stand-ins for the service layer's ports (chat4all_app.messaging.ports, files.uploads)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import faust

from chat4all_app.messaging.ports import ClaimUnknown, Place
from chat4all_app.publisher import PublishFailed
from chat4all_app.storage.claims import Claim
from chat4all_app.storage.conversations import Conversation
from chat4all_app.storage.files import FileRecord


def conversation(*members: uuid.UUID) -> Conversation:
    return Conversation(uuid.uuid4(), None, frozenset(members), members[0], datetime.now(UTC))


def file_of(conversation_id: uuid.UUID, uploader: uuid.UUID) -> FileRecord:
    return FileRecord(uuid.uuid4(), conversation_id, uploader, "cv.pdf", "application/pdf", 3,
                      "sha256:abc", datetime.now(UTC))


@dataclass
class FakeConversations:
    known: dict[uuid.UUID, Conversation] = field(default_factory=dict)

    def add(self, conv: Conversation) -> Conversation:
        self.known[conv.conversation_id] = conv
        return conv

    async def conversation(self, conversation_id: uuid.UUID) -> Conversation | None:
        return self.known.get(conversation_id)


@dataclass
class FakeMessageStore:
    claims: dict[uuid.UUID, Claim] = field(default_factory=dict)
    rows: dict[Place, dict] = field(default_factory=dict)
    files: dict[uuid.UUID, FileRecord] = field(default_factory=dict)
    claims_fail: bool = False  # as a Paxos timeout: the claim's outcome unknown

    async def claim(self, mine: Claim) -> Claim:
        if self.claims_fail:
            raise ClaimUnknown("timed out")
        return self.claims.setdefault(mine.message_id, mine)

    async def claim_of(self, message_id: uuid.UUID) -> Claim | None:
        return self.claims.get(message_id)

    async def locate(self, message_id: uuid.UUID) -> Place | None:
        return next((place for place, row in self.rows.items()
                     if row["message_id"] == str(message_id)), None)

    async def message_at(self, where: Place) -> dict | None:
        row = self.rows.get(where)
        return dict(row) if row else None

    async def messages(self, conversation_id: uuid.UUID, limit: int,
                       after: uuid.UUID | None) -> tuple[list[dict], str | None]:
        return [dict(row) for (conv, _), row in sorted(self.rows.items()) if conv == conversation_id], None

    async def file(self, file_id: uuid.UUID) -> FileRecord | None:
        return self.files.get(file_id)


@dataclass
class FakePublisher:
    sent: list[tuple[str, str, faust.Record]] = field(default_factory=list)
    fails: bool = False

    async def publish(self, topic: str, key: str, record: faust.Record,
                      headers: list[tuple[str, bytes]] | None = None) -> None:
        if self.fails:
            raise PublishFailed("no ack from Kafka")
        self.sent.append((topic, key, record))

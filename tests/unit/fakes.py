"""The unit tests' stand-ins, in two parts:

- for the agents: settings, a recording Cassandra stand-in, dead letters whose Kafka sends are
  recorded and a polling helper (the Faust app they run in is conftest.py's `app` fixture);
- for the service layer: in-memory ports (chat4all_app.messaging.ports, files.uploads: storage
  and S3).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace

import faust
from cassandra import InvalidRequest

from chat4all_app.dead_letters import DeadLetters
from chat4all_app.files.objects import NoSuchUpload, Stored, StoredPart, UploadRejected
from chat4all_app.files.objects import TooLarge as ObjectTooLarge
from chat4all_app.messaging.ports import ClaimUnknown, Place
from chat4all_app.publisher import PublishFailed
from chat4all_app.push.updates import Announcer
from chat4all_app.records import ConversationUpdate
from chat4all_app.settings import Settings
from chat4all_app.storage.claims import Claim
from chat4all_app.storage.conversations import Conversation
from chat4all_app.storage.files import FileRecord, Upload

# --- agents --------------------------------------------------------------------------------------

SETTINGS = Settings.from_env({"BATCH_WITHIN_S": "0.01", "CIRCUIT_RESET_S": "0.2"})


class RecordingStore:
    """Stands in for Cassandra: records every statement."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, tuple]] = []

    async def execute(self, cql, params=()):
        self.statements.append((cql, params))
        return []

    async def execute_batch(self, statements):
        self.statements.extend(statements)


def done_future() -> asyncio.Future:
    fut = asyncio.get_running_loop().create_future()
    fut.set_result(None)
    return fut


class MessageRows(RecordingStore):
    """Cassandra stand-in holding message rows (conversation_id, accepted_id) -> (message_id, status)."""

    def __init__(self, rows: dict | None = None, refuse: str | None = None):
        super().__init__()
        self.rows, self.refuse = rows or {}, refuse

    async def execute(self, cql, params=()):
        self.statements.append((cql, params))
        found = self.rows.get(tuple(params))
        return [SimpleNamespace(message_id=found[0], status=found[1])] if found else []

    async def execute_batch(self, statements):
        if self.refuse and any(self.refuse in str(params) for _, params in statements):
            raise InvalidRequest("refused")
        self.statements.extend(statements)


def recorded_dead_letters(app: faust.App) -> tuple[DeadLetters, list]:
    """Dead letters whose Kafka send is recorded: [(key, value, headers as a dict)]."""
    dead_letters, sent = DeadLetters(app, SETTINGS), []

    async def send(key, value, headers=None):
        sent.append((key, value, dict(headers)))
        return done_future()

    dead_letters.topic.send = send
    return dead_letters, sent


def recorded_updates(app: faust.App) -> tuple[Announcer, list]:
    """An updates announcer whose Kafka send is recorded: [ConversationUpdate]."""
    topic, sent = app.topic("updates", key_type=str, value_type=ConversationUpdate), []

    async def send(key, value, headers=None):
        assert key == value.conversation_id  # a conversation's updates keep one partition's order
        sent.append(value)
        return done_future()

    topic.send = send
    return Announcer(topic), sent


async def until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the agent did not get there in time"
        await asyncio.sleep(0.01)


# --- service-layer ports -------------------------------------------------------------------------


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
    # Awaited inside each claim: its round trip to Cassandra, which other tasks may overtake.
    round_trip: Callable[[Claim], Awaitable[None]] | None = None

    async def claim(self, mine: Claim) -> Claim:
        if self.round_trip is not None:
            await self.round_trip(mine)
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
        await self.publish_minted(topic, key, lambda: record, headers)

    async def publish_minted(self, topic: str, key: str, build: Callable[[], faust.Record],
                             headers: list[tuple[str, bytes]] | None = None) -> faust.Record:
        if self.fails:
            raise PublishFailed("no ack from Kafka")
        record = build()
        self.sent.append((topic, key, record))
        return record


@dataclass
class FakeFiles:
    files: dict[uuid.UUID, FileRecord] = field(default_factory=dict)
    uploads: dict[str, Upload] = field(default_factory=dict)

    async def save_file(self, file: FileRecord) -> None:
        self.files[file.file_id] = file

    async def get_file(self, file_id: uuid.UUID) -> FileRecord | None:
        return self.files.get(file_id)

    async def save_upload(self, upload: Upload) -> None:
        self.uploads[upload.upload_id] = upload

    async def get_upload(self, upload_id: str) -> Upload | None:
        return self.uploads.get(upload_id)

    async def delete_upload(self, upload_id: str) -> None:
        self.uploads.pop(upload_id, None)


@dataclass
class FakeObjects:
    objects: dict[str, bytes] = field(default_factory=dict)
    multipart: dict[str, dict[int, tuple[str, bytes]]] = field(default_factory=dict)  # id -> parts
    refuses: bool = False

    async def stream_upload(self, key: str, content_type: str, chunks: AsyncIterator[bytes],
                            max_bytes: int) -> Stored:
        data = b""
        async for chunk in chunks:
            data += chunk
            if len(data) > max_bytes:
                raise ObjectTooLarge(f"file exceeds {max_bytes} bytes")
        self.objects[key] = data
        return Stored(len(data), hashlib.sha256(data).hexdigest())

    async def start_multipart(self, key: str, content_type: str) -> str:
        upload_id = f"up-{len(self.multipart)}"
        self.multipart[upload_id] = {}
        return upload_id

    def put_part(self, upload_id: str, number: int, body: bytes) -> str:
        """What a client does with a presigned URL; the part's etag."""
        etag = f"etag-{number}"
        self.multipart[upload_id][number] = (etag, body)
        return etag

    async def part_urls(self, key: str, upload_id: str, lengths: Mapping[int, int],
                        ttl_s: int) -> list[dict]:
        return [{"part_number": n, "size_bytes": length, "url": f"https://s3/{key}?part={n}"}
                for n, length in sorted(lengths.items())]

    async def stored_parts(self, key: str, upload_id: str) -> list[StoredPart]:
        if upload_id not in self.multipart:
            raise NoSuchUpload(upload_id)
        held = sorted(self.multipart[upload_id].items())
        return [StoredPart(n, etag, len(body)) for n, (etag, body) in held]

    async def complete_multipart(self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]) -> int:
        if upload_id not in self.multipart:
            raise NoSuchUpload(upload_id)
        if self.refuses:
            raise UploadRejected("InvalidPart")
        held = self.multipart.pop(upload_id)
        self.objects[key] = b"".join(held[n][1] for n, _ in parts)
        return len(self.objects[key])

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        self.multipart.pop(upload_id, None)

    async def sha256(self, key: str) -> str:
        return hashlib.sha256(self.objects[key]).hexdigest()

    async def delete(self, key: str) -> None:
        self.objects.pop(key, None)

    async def download_url(self, key: str, filename: str, ttl_s: int) -> str:
        return f"https://s3/{key}?download={filename}&ttl={ttl_s}"

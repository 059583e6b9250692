"""File metadata (one row per stored file) and resumable uploads in progress."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from chat4all_app.storage.cassandra import CassandraStore


def object_key(conversation_id: uuid.UUID, file_id: uuid.UUID) -> str:
    """Binaries are grouped by conversation: one prefix to list, lifecycle or delete."""
    return f"files/{conversation_id}/{file_id}"


@dataclass(frozen=True)
class FileFacts:
    """What an uploader declares about a file (an upload in progress and a stored file share it)."""

    file_id: uuid.UUID
    conversation_id: uuid.UUID
    uploader_id: uuid.UUID
    filename: str
    content_type: str
    size_bytes: int

    @property
    def s3_key(self) -> str:
        return object_key(self.conversation_id, self.file_id)


@dataclass(frozen=True)
class FileRecord(FileFacts):
    checksum: str  # "sha256:<hex>"
    uploaded_at: datetime

    def public(self) -> dict:
        return {"file_id": str(self.file_id), "conversation_id": str(self.conversation_id),
                "uploader_id": str(self.uploader_id), "filename": self.filename,
                "content_type": self.content_type, "size_bytes": self.size_bytes,
                "checksum": self.checksum,
                "uploaded_at": self.uploaded_at.replace(tzinfo=UTC).isoformat()}


@dataclass(frozen=True)
class Upload(FileFacts):
    upload_id: str
    part_size: int


_FACTS = "file_id, conversation_id, uploader_id, filename, content_type, size_bytes"


def _facts(f: FileFacts) -> tuple:
    return f.file_id, f.conversation_id, f.uploader_id, f.filename, f.content_type, f.size_bytes


async def save_file(store: CassandraStore, f: FileRecord) -> None:
    await store.execute(
        f"INSERT INTO files ({_FACTS}, checksum, uploaded_at, s3_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (*_facts(f), f.checksum, f.uploaded_at, f.s3_key))


async def get_file(store: CassandraStore, file_id: uuid.UUID) -> FileRecord | None:
    rows = await store.execute(f"SELECT {_FACTS}, checksum, uploaded_at FROM files WHERE file_id = ?",
                               (file_id,))
    return FileRecord(*rows[0]) if rows else None


async def save_upload(store: CassandraStore, u: Upload) -> None:
    await store.execute(
        f"INSERT INTO uploads ({_FACTS}, upload_id, part_size, s3_key, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (*_facts(u), u.upload_id, u.part_size, u.s3_key, datetime.now(UTC)))


async def get_upload(store: CassandraStore, upload_id: str) -> Upload | None:
    rows = await store.execute(f"SELECT {_FACTS}, upload_id, part_size FROM uploads WHERE upload_id = ?",
                               (upload_id,))
    return Upload(*rows[0]) if rows else None


async def delete_upload(store: CassandraStore, upload_id: str) -> None:
    await store.execute("DELETE FROM uploads WHERE upload_id = ?", (upload_id,))

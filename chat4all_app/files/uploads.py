"""The rules of files: who may upload and read, names, content types, sizes, resumable uploads.

A streamed upload goes through the API to S3; a resumable one goes straight to S3 through
presigned part URLs (`start`, `progress`, `complete`, `abort`), the API checking that the parts
cover the plan and hold the announced size. Storage and S3 are reached through the ports below.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from chat4all_app.errors import Forbidden, Invalid, NotFound, TooLarge
from chat4all_app.files.objects import NoSuchUpload, Stored, StoredPart, UploadRejected
from chat4all_app.files.objects import TooLarge as ObjectTooLarge
from chat4all_app.files.sizing import part_lengths, part_plan, size_bucket
from chat4all_app.messaging.membership import Membership
from chat4all_app.observability.metrics import FILES_UPLOADED
from chat4all_app.storage.files import FileRecord, Upload, object_key

# type/subtype per RFC 6838 (parameters such as charset allowed).
_CONTENT_TYPE = re.compile(r"^[\w!#$&^.+-]+/[\w!#$&^.+-]+(\s*;\s*[\w.-]+=[\w\".-]+)*$")


class FileStore(Protocol):
    async def save_file(self, file: FileRecord) -> None: ...

    async def get_file(self, file_id: uuid.UUID) -> FileRecord | None: ...

    async def save_upload(self, upload: Upload) -> None: ...

    async def get_upload(self, upload_id: str) -> Upload | None: ...

    async def delete_upload(self, upload_id: str) -> None: ...


class Objects(Protocol):
    """S3 (chat4all_app.files.objects.ObjectStore)."""

    async def stream_upload(self, key: str, content_type: str, chunks: AsyncIterator[bytes],
                            max_bytes: int) -> Stored: ...

    async def start_multipart(self, key: str, content_type: str) -> str: ...

    async def part_urls(self, key: str, upload_id: str, lengths: Mapping[int, int],
                        ttl_s: int) -> list[dict]: ...

    async def stored_parts(self, key: str, upload_id: str) -> list[StoredPart]: ...

    async def complete_multipart(self, key: str, upload_id: str,
                                 parts: Sequence[tuple[int, str]]) -> int: ...

    async def abort_multipart(self, key: str, upload_id: str) -> None: ...

    async def sha256(self, key: str) -> str: ...

    async def delete(self, key: str) -> None: ...

    async def download_url(self, key: str, filename: str, ttl_s: int) -> str: ...


@dataclass(frozen=True)
class Uploader:
    """A member of a conversation, as `Uploads.may_upload` found: the one membership check of a
    streamed upload, made before its body is read."""

    user_id: uuid.UUID
    conversation_id: uuid.UUID


@dataclass(frozen=True)
class StreamedFile:
    uploader: Uploader
    filename: str | None  # as sent; cleaned by clean_filename
    content_type: str | None


@dataclass(frozen=True)
class StartUpload:
    user_id: uuid.UUID
    conversation_id: uuid.UUID
    filename: str
    size_bytes: int
    content_type: str | None
    url_ttl_s: int


@dataclass(frozen=True)
class UploadPlan:
    upload_id: str
    file_id: uuid.UUID
    part_size: int
    part_count: int
    size_bytes: int
    expires_at: datetime  # of the part URLs
    parts: list[dict]  # presigned PUTs of the parts still to send: part_number, size_bytes, url


@dataclass(frozen=True)
class UploadProgress:
    plan: UploadPlan
    stored_parts: list[StoredPart]


@dataclass(frozen=True)
class Download:
    file: FileRecord
    url: str
    expires_at: datetime


class Uploads:
    def __init__(self, membership: Membership, files: FileStore, objects: Objects,
                 max_bytes: int, part_bytes: int):
        self.membership = membership
        self.files = files
        self.objects = objects
        self.max_bytes = max_bytes
        self.part_bytes = part_bytes

    async def may_upload(self, user_id: uuid.UUID, conversation_id: uuid.UUID) -> Uploader:
        """Only members may upload to a conversation (NotFound, Forbidden)."""
        await self.membership.conversation(conversation_id, user_id)
        return Uploader(user_id, conversation_id)

    async def stream(self, request: StreamedFile, chunks: AsyncIterator[bytes],
                     then: Callable[[], Awaitable[None]]) -> FileRecord:
        """Store `chunks` (TooLarge past the maximum) and record the file. `then`: the caller's
        check of what follows the file in its request; if it raises, the object is deleted.

        No membership check here: `request.uploader` comes from `may_upload`, which the caller
        runs as soon as it has the conversation id, before it reads the file's part, so a
        non-member's body is never read (checking here as well would be a second Cassandra read
        deciding nothing new)."""
        uploader = request.uploader
        filename = clean_filename(request.filename)
        content_type = content_type_of(request.content_type)
        file_id = uuid.uuid4()
        key = object_key(uploader.conversation_id, file_id)
        try:
            stored = await self.objects.stream_upload(key, content_type, chunks, self.max_bytes)
        except ObjectTooLarge as exc:
            raise TooLarge(str(exc)) from None
        try:
            await then()
        except BaseException:
            await self.objects.delete(key)
            raise
        return await self._record(FileRecord(
            file_id, uploader.conversation_id, uploader.user_id, filename, content_type,
            stored.size_bytes, f"sha256:{stored.sha256}", datetime.now(UTC)))

    async def start(self, request: StartUpload) -> UploadPlan:
        """A resumable upload: its plan and a presigned URL per part."""
        filename = clean_filename(request.filename)
        if request.size_bytes < 0:
            raise Invalid("'size_bytes' must be a non-negative integer")
        if request.size_bytes > self.max_bytes:
            raise TooLarge(f"file exceeds {self.max_bytes} bytes")
        content_type = content_type_of(request.content_type)
        await self.may_upload(request.user_id, request.conversation_id)
        part_size, count = part_plan(request.size_bytes, self.part_bytes)
        file_id = uuid.uuid4()
        key = object_key(request.conversation_id, file_id)
        upload_id = await self.objects.start_multipart(key, content_type)
        await self.files.save_upload(Upload(file_id, request.conversation_id, request.user_id, filename,
                                            content_type, request.size_bytes, upload_id, part_size))
        return UploadPlan(upload_id, file_id, part_size, count, request.size_bytes,
                          _expiry(request.url_ttl_s),
                          await self.objects.part_urls(
                              key, upload_id, part_lengths(request.size_bytes, part_size,
                                                           range(1, count + 1)), request.url_ttl_s))

    async def progress(self, user_id: uuid.UUID, upload_id: str, url_ttl_s: int) -> UploadProgress:
        """The parts S3 holds so far, and URLs for the others."""
        upload = await self.own_upload(user_id, upload_id)
        try:
            stored = await self.objects.stored_parts(upload.s3_key, upload_id)
        except NoSuchUpload:
            await self.files.delete_upload(upload_id)
            raise NotFound(f"upload {upload_id[:100]} no longer exists in S3") from None
        _, count = part_plan(upload.size_bytes, upload.part_size)
        have = {p.part_number for p in stored}
        missing = [n for n in range(1, count + 1) if n not in have]
        return UploadProgress(
            UploadPlan(upload_id, upload.file_id, upload.part_size, count, upload.size_bytes,
                       _expiry(url_ttl_s),
                       await self.objects.part_urls(
                           upload.s3_key, upload_id,
                           part_lengths(upload.size_bytes, upload.part_size, missing), url_ttl_s)),
            stored)

    async def complete(self, upload: Upload, parts: Sequence[tuple[int, str]]) -> FileRecord:
        """Assemble the parts (each of the plan exactly once), check the announced size (else the
        object is deleted) and record the file. `upload`: as `own_upload` returned it (the caller
        checks ownership first, before it reads the parts from its request)."""
        upload_id = upload.upload_id
        ordered = completion_parts(parts, upload)
        try:
            size = await self.objects.complete_multipart(upload.s3_key, upload_id, ordered)
        except UploadRejected as exc:
            raise Invalid(f"S3 refused the parts: {exc}") from None
        except NoSuchUpload:
            raise NotFound(f"upload {upload_id[:100]} no longer exists (completed or aborted)") from None
        await self.files.delete_upload(upload_id)
        if size != upload.size_bytes:
            await self.objects.delete(upload.s3_key)
            raise Invalid(f"the parts hold {size} bytes, {upload.size_bytes} were announced")
        checksum = await self.objects.sha256(upload.s3_key)
        return await self._record(FileRecord(
            upload.file_id, upload.conversation_id, upload.uploader_id, upload.filename,
            upload.content_type, size, f"sha256:{checksum}", datetime.now(UTC)))

    async def abort(self, user_id: uuid.UUID, upload_id: str) -> None:
        upload = await self.own_upload(user_id, upload_id)
        await self.objects.abort_multipart(upload.s3_key, upload_id)
        await self.files.delete_upload(upload_id)

    async def download(self, user_id: uuid.UUID, file_id: uuid.UUID, url_ttl_s: int) -> Download:
        """A member's file: its metadata and a presigned download URL."""
        file = await self.files.get_file(file_id)
        if file is None:
            raise NotFound(f"file {file_id} not found")
        await self.membership.conversation(file.conversation_id, user_id)
        return Download(file, await self.objects.download_url(file.s3_key, file.filename, url_ttl_s),
                        _expiry(url_ttl_s))

    async def own_upload(self, user_id: uuid.UUID, upload_id: str) -> Upload:
        """The caller's upload in progress (NotFound, Forbidden if another user's)."""
        upload = await self.files.get_upload(upload_id)
        if upload is None:
            raise NotFound(f"upload {upload_id[:100]} not found (completed, aborted or expired)")
        if upload.uploader_id != user_id:
            raise Forbidden("only the uploader can see or finish this upload")
        return upload

    async def _record(self, file: FileRecord) -> FileRecord:
        await self.files.save_file(file)
        FILES_UPLOADED.labels(size_bucket(file.size_bytes)).inc()
        return file


def content_type_of(value: str | None) -> str:
    value = (value or "application/octet-stream").strip()
    if len(value) > 255 or not _CONTENT_TYPE.match(value):
        raise Invalid(f"invalid content type {value[:80]!r}")
    return value


def clean_filename(value: str | None) -> str:
    """The last path component, printable, 1..255 characters."""
    name = (value or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name or name in {".", ".."} or len(name) > 255 or not name.isprintable() or '"' in name:
        raise Invalid("a file name of 1..255 printable characters (no quotes) is required")
    return name


def completion_parts(parts: Sequence[tuple[int, str]], upload: Upload) -> list[tuple[int, str]]:
    """[(part_number, etag)] in order, covering every part of the upload's plan exactly once."""
    if not parts:
        raise Invalid("'parts' must be a non-empty list of {part_number, etag}")
    by_number: dict[int, str] = {}
    for number, etag in parts:
        if number in by_number:
            raise Invalid(f"part {number} listed twice")
        by_number[number] = etag
    _, count = part_plan(upload.size_bytes, upload.part_size)
    missing = sorted(set(range(1, count + 1)) - set(by_number))
    extra = sorted(set(by_number) - set(range(1, count + 1)))
    if missing or extra:
        raise Invalid(f"parts must be 1..{count}: missing {missing[:10]}, unexpected {extra[:10]}")
    return sorted(by_number.items())


def _expiry(ttl_s: int) -> datetime:
    return datetime.fromtimestamp(time.time() + ttl_s, UTC)

"""Files: streamed upload, resumable (presigned multipart) upload, metadata + presigned download.

    POST   /v1/files                               multipart: conversation_id, then file
    POST   /v1/files/uploads                       start a resumable upload
    GET    /v1/files/uploads/{upload_id}           parts stored so far + URLs for the rest
    POST   /v1/files/uploads/{upload_id}/complete  assemble, verify, record
    DELETE /v1/files/uploads/{upload_id}           abort
    GET    /v1/files/{file_id}                     metadata + presigned download URL
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import faust
from aiohttp import BodyPartReader, MultipartReader
from aiohttp.http_exceptions import HttpProcessingError
from faust.web.exceptions import NotFound, PermissionDenied, ValidationError

from chat4all_app.files.objects import NoSuchUpload, ObjectStore, TooLarge, UploadRejected
from chat4all_app.files.sizing import part_lengths, part_plan, size_bucket
from chat4all_app.observability.metrics import FILES_UPLOADED
from chat4all_app.storage.files import (
    FileRecord,
    Upload,
    delete_upload,
    get_file,
    get_upload,
    object_key,
    save_file,
    save_upload,
)
from chat4all_app.web.context import ApiContext
from chat4all_app.web.errors import PayloadTooLarge
from chat4all_app.web.inputs import int_query, json_body, text, uuid_value

STREAM_CHUNK = 256 * 1024
MULTIPART_SLACK = 64 * 1024  # form field + part headers around the file itself
# type/subtype per RFC 6838 (parameters such as charset allowed).
_CONTENT_TYPE = re.compile(r"^[\w!#$&^.+-]+/[\w!#$&^.+-]+(\s*;\s*[\w.-]+=[\w\".-]+)*$")


def content_type_of(value: str | None) -> str:
    value = (value or "application/octet-stream").strip()
    if len(value) > 255 or not _CONTENT_TYPE.match(value):
        raise ValidationError(f"invalid content type {value[:80]!r}")
    return value


def clean_filename(value: str | None) -> str:
    """The last path component, printable, 1..255 characters."""
    name = (value or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name or name in {".", ".."} or len(name) > 255 or not name.isprintable() or '"' in name:
        raise ValidationError("a file name of 1..255 printable characters (no quotes) is required")
    return name


FIELD_MAX_BYTES = 1024  # form fields besides the file are ids: never buffer a huge one


async def field_bytes(field: BodyPartReader) -> bytes:
    """A small form field (400 beyond FIELD_MAX_BYTES, read in chunks so a huge one is never held),
    decoded per its Content-Transfer-Encoding (aiohttp raises RuntimeError for an unknown one: the
    client's mistake, not ours)."""
    raw = bytearray()
    while chunk := await field.read_chunk(FIELD_MAX_BYTES):
        raw += chunk
        if len(raw) > FIELD_MAX_BYTES:
            raise ValidationError(f"form field '{field.name}' is longer than {FIELD_MAX_BYTES} bytes")
    try:
        return field.decode(bytes(raw))
    except RuntimeError as exc:
        raise ValidationError(f"form field '{field.name}': {exc}") from None


async def nothing_after(reader: MultipartReader) -> bool:
    """True if the body ends after the file (a malformed rest counts as something)."""
    try:
        return await reader.next() is None
    except (ValueError, HttpProcessingError):
        return False


async def chunks_of(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await part.read_chunk(STREAM_CHUNK):
        yield chunk


def install(app: faust.App, ctx: ApiContext, objects: ObjectStore) -> None:
    settings = ctx.settings
    max_bytes = settings.file_max_bytes

    def url_ttl(request) -> int:
        return int_query(request, "expires_in", settings.file_url_ttl_s, 1, 7 * 24 * 3600)

    async def record(file: FileRecord) -> dict:
        await save_file(ctx.store, file)
        FILES_UPLOADED.labels(size_bucket(file.size_bytes)).inc()
        return file.public()

    async def own_upload(request, upload_id: str) -> Upload:
        user_id = ctx.authenticate(request)
        upload = await get_upload(ctx.store, upload_id)
        if upload is None:
            raise NotFound(f"upload {upload_id[:100]} not found (completed, aborted or expired)")
        if upload.uploader_id != user_id:
            raise PermissionDenied("only the uploader can see or finish this upload")
        return upload

    @app.page("/v1/files")
    class Files(faust.web.View):
        async def post(self, request):
            user_id = ctx.authenticate(request)
            if request.content_type != "multipart/form-data":
                raise ValidationError("send the file as multipart/form-data (fields: conversation_id, file)")
            if request.content_length is not None and request.content_length > max_bytes + MULTIPART_SLACK:
                raise PayloadTooLarge(f"file exceeds {max_bytes} bytes")
            try:
                reader = await request.multipart()
                field = await reader.next()
                # A nested multipart is a MultipartReader: no name, no filename, not a field.
                if not isinstance(field, BodyPartReader) or field.name != "conversation_id":
                    raise ValidationError("the first form field must be 'conversation_id', then 'file'")
                conversation_id = uuid_value((await field_bytes(field))[:100].decode(errors="replace"),
                                             "conversation_id")
                await ctx.member_conversation(conversation_id, user_id)
                part = await reader.next()
                if not isinstance(part, BodyPartReader) or part.name != "file":
                    raise ValidationError("form field 'file' (with a filename) is missing")
                filename = clean_filename(part.filename)
                content_type = content_type_of(part.headers.get("Content-Type"))
                file_id = uuid.uuid4()
                key = object_key(conversation_id, file_id)
                stored = await objects.stream_upload(key, content_type, chunks_of(part), max_bytes)
                if not await nothing_after(reader):
                    await objects.delete(key)
                    raise ValidationError("only two form fields: 'conversation_id', then 'file'")
            except TooLarge as exc:
                raise PayloadTooLarge(str(exc)) from None
            except (ValueError, HttpProcessingError) as exc:  # malformed multipart body (aiohttp's parser)
                detail = exc.message if isinstance(exc, HttpProcessingError) else exc
                raise ValidationError(f"malformed multipart body: {detail}"[:300]) from None
            file = FileRecord(file_id, conversation_id, user_id, filename, content_type,
                              stored.size_bytes, f"sha256:{stored.sha256}", datetime.now(UTC))
            return self.json(await record(file), status=201)

    @app.page("/v1/files/uploads")
    class Uploads(faust.web.View):
        async def post(self, request):
            user_id = ctx.authenticate(request)
            body = await json_body(request)
            conversation_id = uuid_value(body.get("conversation_id"), "conversation_id")
            filename = clean_filename(text(body, "filename", max_len=255))
            size = body.get("size_bytes")
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise ValidationError("'size_bytes' must be a non-negative integer")
            if size > max_bytes:
                raise PayloadTooLarge(f"file exceeds {max_bytes} bytes")
            content_type = content_type_of(text(body, "content_type", required=False, max_len=255))
            await ctx.member_conversation(conversation_id, user_id)
            part_size, count = part_plan(size, settings.file_part_bytes)
            file_id = uuid.uuid4()
            key = object_key(conversation_id, file_id)
            upload_id = await objects.start_multipart(key, content_type)
            await save_upload(ctx.store, Upload(file_id, conversation_id, user_id, filename,
                                                content_type, size, upload_id, part_size))
            ttl = url_ttl(request)
            return self.json({
                "upload_id": upload_id, "file_id": str(file_id), "part_size": part_size,
                "part_count": count, "size_bytes": size, "expires_at": _at(time.time() + ttl),
                "parts": await objects.part_urls(
                    key, upload_id, part_lengths(size, part_size, range(1, count + 1)), ttl),
            }, status=201)

    @app.page("/v1/files/uploads/{upload_id}")
    class OneUpload(faust.web.View):
        async def get(self, request, upload_id):
            upload = await own_upload(request, upload_id)
            try:
                stored = await objects.stored_parts(upload.s3_key, upload_id)
            except NoSuchUpload:
                await delete_upload(ctx.store, upload_id)
                raise NotFound(f"upload {upload_id[:100]} no longer exists in S3") from None
            _, count = part_plan(upload.size_bytes, upload.part_size)
            have = {p.part_number for p in stored}
            ttl = url_ttl(request)
            return self.json({
                "upload_id": upload_id, "file_id": str(upload.file_id), "part_size": upload.part_size,
                "part_count": count, "size_bytes": upload.size_bytes, "expires_at": _at(time.time() + ttl),
                "stored_parts": [{"part_number": p.part_number, "etag": p.etag, "size_bytes": p.size_bytes}
                                 for p in stored],
                "parts": await objects.part_urls(upload.s3_key, upload_id, part_lengths(
                    upload.size_bytes, upload.part_size, [n for n in range(1, count + 1) if n not in have]),
                    ttl),
            })

        async def delete(self, request, upload_id):
            upload = await own_upload(request, upload_id)
            await objects.abort_multipart(upload.s3_key, upload_id)
            await delete_upload(ctx.store, upload_id)
            return self.json({"upload_id": upload_id, "status": "aborted"})

    @app.page("/v1/files/uploads/{upload_id}/complete")
    class CompleteUpload(faust.web.View):
        async def post(self, request, upload_id):
            upload = await own_upload(request, upload_id)
            parts = completion_parts(await json_body(request), upload)
            try:
                size = await objects.complete_multipart(upload.s3_key, upload_id, parts)
            except UploadRejected as exc:
                raise ValidationError(f"S3 refused the parts: {exc}") from None
            except NoSuchUpload:
                raise NotFound(f"upload {upload_id[:100]} no longer exists (completed or aborted)") from None
            await delete_upload(ctx.store, upload_id)
            if size != upload.size_bytes:
                await objects.delete(upload.s3_key)
                raise ValidationError(f"the parts hold {size} bytes, {upload.size_bytes} were announced")
            checksum = await objects.sha256(upload.s3_key)
            file = FileRecord(upload.file_id, upload.conversation_id, upload.uploader_id, upload.filename,
                              upload.content_type, size, f"sha256:{checksum}", datetime.now(UTC))
            return self.json(await record(file), status=201)

    # Not "uploads": that is /v1/files/uploads (POST only), whose 405 must not offer this GET.
    @app.page("/v1/files/{file_id:(?!uploads$)[^{}/]+}")
    class OneFile(faust.web.View):
        async def get(self, request, file_id):
            user_id = ctx.authenticate(request)
            file = await get_file(ctx.store, uuid_value(file_id, "file_id"))
            if file is None:
                raise NotFound(f"file {file_id} not found")
            await ctx.member_conversation(file.conversation_id, user_id)
            ttl = url_ttl(request)
            return self.json({**file.public(),
                              "download_url": await objects.download_url(file.s3_key, file.filename, ttl),
                              "expires_at": _at(time.time() + ttl)})


def completion_parts(body: dict, upload: Upload) -> list[tuple[int, str]]:
    """[(part_number, etag)] covering every part of the plan exactly once."""
    raw = body.get("parts")
    if not isinstance(raw, list) or not raw:
        raise ValidationError("'parts' must be a non-empty list of {part_number, etag}")
    parts = {}
    for item in raw:
        number = item.get("part_number") if isinstance(item, dict) else None
        etag = item.get("etag") if isinstance(item, dict) else None
        if not isinstance(number, int) or not isinstance(etag, str) or not etag:
            raise ValidationError("each part needs an integer 'part_number' and a string 'etag'")
        if number in parts:
            raise ValidationError(f"part {number} listed twice")
        parts[number] = etag
    _, count = part_plan(upload.size_bytes, upload.part_size)
    missing = sorted(set(range(1, count + 1)) - set(parts))
    extra = sorted(set(parts) - set(range(1, count + 1)))
    if missing or extra:
        raise ValidationError(f"parts must be 1..{count}: missing {missing[:10]}, unexpected {extra[:10]}")
    return sorted(parts.items())


def _at(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()

"""Files: streamed upload, resumable (presigned multipart) upload, metadata + presigned download.

    POST   /v1/files                               multipart: conversation_id, then file
    POST   /v1/files/uploads                       start a resumable upload
    GET    /v1/files/uploads/{upload_id}           parts stored so far + URLs for the rest
    POST   /v1/files/uploads/{upload_id}/complete  assemble, verify, record
    DELETE /v1/files/uploads/{upload_id}           abort
    GET    /v1/files/{file_id}                     metadata + presigned download URL

The rules are chat4all_app.files.uploads': these views decode requests and encode answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

import faust
from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from chat4all_app.errors import Invalid, TooLarge
from chat4all_app.files.uploads import StartUpload, StreamedFile, UploadPlan
from chat4all_app.web.context import ApiView
from chat4all_app.web.inputs import int_query, json_body, text, uuid_value

T = TypeVar("T")

STREAM_CHUNK = 256 * 1024
MULTIPART_SLACK = 64 * 1024  # form field + part headers around the file itself
FIELD_MAX_BYTES = 1024  # form fields besides the file are ids: never buffer a huge one


async def field_bytes(field: BodyPartReader) -> bytes:
    """A small form field (400 beyond FIELD_MAX_BYTES, read in chunks so a huge one is never held),
    decoded per its Content-Transfer-Encoding (aiohttp raises RuntimeError for an unknown one: the
    client's mistake, not ours)."""
    raw = bytearray()
    while chunk := await field.read_chunk(FIELD_MAX_BYTES):
        raw += chunk
        if len(raw) > FIELD_MAX_BYTES:
            raise Invalid(f"form field '{field.name}' is longer than {FIELD_MAX_BYTES} bytes")
    try:
        return field.decode(bytes(raw))
    except RuntimeError as exc:
        raise Invalid(f"form field '{field.name}': {exc}") from None


async def from_body(step: Awaitable[T]) -> T:
    """A step that reads the multipart body: what aiohttp's parser raises there (ValueError,
    HttpProcessingError) is the client's malformed body, a 400. Only reads of the body go through
    here: the same exception types from storage or S3 are ours, a bare 500."""
    try:
        return await step
    except (ValueError, HttpProcessingError) as exc:
        detail = exc.message if isinstance(exc, HttpProcessingError) else exc
        raise Invalid(f"malformed multipart body: {detail}"[:300]) from None


async def nothing_after(reader: MultipartReader) -> None:
    """400 unless the body ends after the file (a malformed rest counts as something)."""
    try:
        ends = await reader.next() is None
    except (ValueError, HttpProcessingError):
        ends = False
    if not ends:
        raise Invalid("only two form fields: 'conversation_id', then 'file'")


async def chunks_of(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await from_body(part.read_chunk(STREAM_CHUNK)):
        yield chunk


def parts_of(body: dict) -> list[tuple[int, str]]:
    """The body's `parts` as [(part_number, etag)], as listed."""
    raw = body.get("parts")
    if not isinstance(raw, list):
        raise Invalid("'parts' must be a non-empty list of {part_number, etag}")
    parts = []
    for item in raw:
        number = item.get("part_number") if isinstance(item, dict) else None
        etag = item.get("etag") if isinstance(item, dict) else None
        if not isinstance(number, int) or not isinstance(etag, str) or not etag:
            raise Invalid("each part needs an integer 'part_number' and a string 'etag'")
        parts.append((number, etag))
    return parts


def plan_json(plan: UploadPlan) -> dict:
    return {"upload_id": plan.upload_id, "file_id": str(plan.file_id), "part_size": plan.part_size,
            "part_count": plan.part_count, "size_bytes": plan.size_bytes,
            "expires_at": plan.expires_at.isoformat(), "parts": plan.parts}


class FileView(ApiView):
    def url_ttl(self, request: web.Request) -> int:
        """How long presigned URLs last (`expires_in`, seconds)."""
        return int_query(request, "expires_in", self.services.settings.file_url_ttl_s, 1, 7 * 24 * 3600)


class Files(FileView):
    async def post(self, request: web.Request) -> faust.web.Response:
        user_id = self.services.authenticate(request)
        max_bytes = self.services.settings.file_max_bytes
        if request.content_type != "multipart/form-data":
            raise Invalid("send the file as multipart/form-data (fields: conversation_id, file)")
        if request.content_length is not None and request.content_length > max_bytes + MULTIPART_SLACK:
            raise TooLarge(f"file exceeds {max_bytes} bytes")
        reader = await from_body(request.multipart())
        field = await from_body(reader.next())
        # A nested multipart is a MultipartReader: no name, no filename, not a field.
        if not isinstance(field, BodyPartReader) or field.name != "conversation_id":
            raise Invalid("the first form field must be 'conversation_id', then 'file'")
        conversation_id = uuid_value((await from_body(field_bytes(field)))[:100].decode(errors="replace"),
                                     "conversation_id")
        # The upload's one membership check: before the file's part is read, so a non-member's
        # body never is (and 403/404 come before a missing 'file' field's 400, as always).
        uploader = await self.services.uploads.may_upload(user_id, conversation_id)
        part = await from_body(reader.next())
        if not isinstance(part, BodyPartReader) or part.name != "file":
            raise Invalid("form field 'file' (with a filename) is missing")
        # chunks_of and nothing_after read the body (their parser errors: 400); anything else the
        # upload raises (S3, Cassandra) is not the client's and stays a 5xx without detail.
        file = await self.services.uploads.stream(
            StreamedFile(uploader, part.filename, part.headers.get("Content-Type")),
            chunks_of(part), lambda: nothing_after(reader))
        return self.json(file.public(), status=201)


class Uploads(FileView):
    async def post(self, request: web.Request) -> faust.web.Response:
        user_id = self.services.authenticate(request)
        body = await json_body(request)
        conversation_id = uuid_value(body.get("conversation_id"), "conversation_id")
        filename = text(body, "filename", max_len=255)
        size = body.get("size_bytes")
        if not isinstance(size, int) or isinstance(size, bool):
            raise Invalid("'size_bytes' must be a non-negative integer")
        plan = await self.services.uploads.start(StartUpload(
            user_id, conversation_id, filename, size,
            text(body, "content_type", required=False, max_len=255), self.url_ttl(request)))
        return self.json(plan_json(plan), status=201)


class OneUpload(FileView):
    async def get(self, request: web.Request, upload_id: str) -> faust.web.Response:
        user_id = self.services.authenticate(request)
        progress = await self.services.uploads.progress(user_id, upload_id, self.url_ttl(request))
        return self.json({
            **plan_json(progress.plan),
            "stored_parts": [{"part_number": p.part_number, "etag": p.etag, "size_bytes": p.size_bytes}
                             for p in progress.stored_parts]})

    async def delete(self, request: web.Request, upload_id: str) -> faust.web.Response:
        user_id = self.services.authenticate(request)
        await self.services.uploads.abort(user_id, upload_id)
        return self.json({"upload_id": upload_id, "status": "aborted"})


class CompleteUpload(FileView):
    async def post(self, request: web.Request, upload_id: str) -> faust.web.Response:
        user_id = self.services.authenticate(request)
        # Ownership (404, 403) before the body is read or parsed, as the API always did.
        upload = await self.services.uploads.own_upload(user_id, upload_id)
        file = await self.services.uploads.complete(upload, parts_of(await json_body(request)))
        return self.json(file.public(), status=201)


class OneFile(FileView):
    async def get(self, request: web.Request, file_id: str) -> faust.web.Response:
        user_id = self.services.authenticate(request)
        download = await self.services.uploads.download(
            user_id, uuid_value(file_id, "file_id"), self.url_ttl(request))
        return self.json({**download.file.public(), "download_url": download.url,
                          "expires_at": download.expires_at.isoformat()})


def install(app: faust.App) -> None:
    app.page("/v1/files")(Files)
    app.page("/v1/files/uploads")(Uploads)
    app.page("/v1/files/uploads/{upload_id}")(OneUpload)
    app.page("/v1/files/uploads/{upload_id}/complete")(CompleteUpload)
    # Not "uploads": that is /v1/files/uploads (POST only), whose 405 must not offer this GET.
    app.page("/v1/files/{file_id:(?!uploads$)[^{}/]+}")(OneFile)

"""The S3 side of files: streamed multipart writes, presigned multipart, presigned reads.

An `ObjectStore` is a resource of the API process (`lifecycle.own`): `start()` opens its two
long-lived aiobotocore clients (no request is sent: botocore loads its S3 model once, not
mid-upload), `stop()` closes them. Presigned URLs are computed locally with the second client,
whose endpoint is the one *clients* reach (`S3_PUBLIC_URL`), since the host is part of the signature.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field

from aiobotocore.client import AioBaseClient
from botocore.exceptions import ClientError

from chat4all_app.files.s3 import s3_client
from chat4all_app.lifecycle import NotRunning
from chat4all_app.settings import Settings

READ_CHUNK = 1024 * 1024


class TooLarge(Exception):
    """The stream went past the size limit; the partial upload has been aborted."""


class UploadRejected(Exception):
    """S3 refused to assemble the parts (unknown part, wrong ETag, part too small, ...)."""


class NoSuchUpload(Exception):
    """The multipart upload does not exist (completed, aborted or never started)."""


@dataclass(frozen=True)
class Stored:
    size_bytes: int
    sha256: str


@dataclass(frozen=True)
class StoredPart:
    part_number: int
    etag: str
    size_bytes: int


def error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


@dataclass
class ObjectStore:
    settings: Settings
    # public: the client that presigns URLs for clients; private: the one the API itself calls.
    _clients: dict[bool, AioBaseClient] = field(default_factory=dict)
    _stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)

    @property
    def bucket(self) -> str:
        return self.settings.s3_bucket

    async def start(self) -> None:
        if self._clients:
            return
        for public in (False, True):
            endpoint = (self.settings.s3_public_url or None) if public else None
            self._clients[public] = await self._stack.enter_async_context(
                s3_client(self.settings, endpoint_url=endpoint))

    async def stop(self) -> None:
        self._clients.clear()
        await self._stack.aclose()  # closes the clients' HTTP sessions; a second call does nothing

    def _client(self, public: bool = False) -> AioBaseClient:
        try:
            return self._clients[public]
        except KeyError:
            raise NotRunning("the object store is not running: used before start() or after stop()") from None

    async def ping(self) -> None:
        """The bucket answers (health check)."""
        await self._client().head_bucket(Bucket=self.bucket)

    # --- streamed upload (the API relays the bytes) --------------------------------------------

    async def stream_upload(self, key: str, content_type: str, chunks: AsyncIterator[bytes],
                            max_bytes: int) -> Stored:
        """Write `chunks` to `key`, hashing on the fly, holding at most ~two parts in memory.

        Small files (one part or less) are a single PUT; larger ones a multipart upload with one
        part in flight while the next one is read. Any failure — including going past
        `max_bytes` — aborts the multipart upload, so no orphaned parts are left behind.
        """
        s3 = self._client()
        part_size = self.settings.file_part_bytes
        digest, size, buffer = hashlib.sha256(), 0, bytearray()
        upload_id: str | None = None
        parts: list[dict] = []
        in_flight: asyncio.Task | None = None
        numbered = 0

        async def send_part(number: int, body: bytes) -> None:
            resp = await s3.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                        PartNumber=number, Body=body)
            parts.append({"PartNumber": number, "ETag": resp["ETag"]})

        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(f"file exceeds {max_bytes} bytes")
                digest.update(chunk)
                buffer += chunk
                while len(buffer) >= part_size:
                    if upload_id is None:
                        upload_id = await self.start_multipart(key, content_type)
                    with memoryview(buffer) as view:  # one copy of the part, not two
                        body = bytes(view[:part_size])
                    del buffer[:part_size]
                    if in_flight is not None:
                        await in_flight
                    numbered += 1
                    in_flight = asyncio.ensure_future(send_part(numbered, body))
            if in_flight is not None:
                await in_flight
                in_flight = None
            if upload_id is None:
                await s3.put_object(Bucket=self.bucket, Key=key, Body=bytes(buffer),
                                    ContentType=content_type)
            else:
                if buffer:  # parts are appended in order: one in flight at a time
                    await send_part(numbered + 1, bytes(buffer))
                await s3.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                                   MultipartUpload={"Parts": parts})
                upload_id = None
        finally:
            if in_flight is not None:
                in_flight.cancel()
                with contextlib.suppress(BaseException):
                    await in_flight
            if upload_id is not None:
                # Shielded: a client that hung up cancels the handler, the abort must still happen.
                with contextlib.suppress(ClientError):  # the original error is the one to report
                    await asyncio.shield(self.abort_multipart(key, upload_id))
        return Stored(size, digest.hexdigest())

    # --- presigned multipart (the client sends the bytes to S3 itself) -------------------------

    async def start_multipart(self, key: str, content_type: str) -> str:
        s3 = self._client()
        resp = await s3.create_multipart_upload(Bucket=self.bucket, Key=key, ContentType=content_type)
        return resp["UploadId"]

    async def part_urls(self, key: str, upload_id: str, lengths: Mapping[int, int],
                        ttl_s: int) -> list[dict]:
        """A presigned PUT per part, bound to its exact length: Content-Length is one of the
        signed headers (X-Amz-SignedHeaders=content-length;host), so S3 refuses (403) a body of
        any other size when it arrives, not only at `complete`."""
        s3 = self._client(public=True)
        return [{"part_number": n, "size_bytes": length,
                 "url": await s3.generate_presigned_url(
                     "upload_part", ExpiresIn=ttl_s,
                     Params={"Bucket": self.bucket, "Key": key, "UploadId": upload_id,
                             "PartNumber": n, "ContentLength": length})}
                for n, length in sorted(lengths.items())]

    async def stored_parts(self, key: str, upload_id: str) -> list[StoredPart]:
        s3 = self._client()
        found, marker = [], 0
        while True:
            try:
                resp = await s3.list_parts(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                           PartNumberMarker=marker)
            except ClientError as exc:
                if error_code(exc) == "NoSuchUpload":
                    raise NoSuchUpload(upload_id) from None
                raise
            found += [StoredPart(p["PartNumber"], p["ETag"], p["Size"]) for p in resp.get("Parts", [])]
            if not resp.get("IsTruncated"):
                return found
            marker = resp["NextPartNumberMarker"]

    async def complete_multipart(self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]) -> int:
        """Assemble the parts; return the object's size."""
        s3 = self._client()
        try:
            await s3.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in parts]})
        except ClientError as exc:
            code = error_code(exc)
            if code == "NoSuchUpload":
                raise NoSuchUpload(upload_id) from None
            if code in {"InvalidPart", "InvalidPartOrder", "EntityTooSmall", "InvalidRequest",
                        "MalformedXML", "InvalidArgument"}:
                raise UploadRejected(exc.response["Error"].get("Message") or code) from None
            raise
        return (await s3.head_object(Bucket=self.bucket, Key=key))["ContentLength"]

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        s3 = self._client()
        try:
            await s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except ClientError as exc:
            if error_code(exc) != "NoSuchUpload":
                raise

    # --- reading --------------------------------------------------------------------------------

    async def sha256(self, key: str) -> str:
        """Hash an object by streaming it (resumable uploads: the API never saw the bytes)."""
        s3 = self._client()
        digest = hashlib.sha256()
        resp = await s3.get_object(Bucket=self.bucket, Key=key)
        async with resp["Body"] as body:
            while chunk := await body.read(READ_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    async def delete(self, key: str) -> None:
        await self._client().delete_object(Bucket=self.bucket, Key=key)

    async def download_url(self, key: str, filename: str, ttl_s: int) -> str:
        s3 = self._client(public=True)
        return await s3.generate_presigned_url(
            "get_object", ExpiresIn=ttl_s,
            Params={"Bucket": self.bucket, "Key": key,
                    "ResponseContentDisposition": f'attachment; filename="{filename}"'})

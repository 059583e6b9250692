"""Files against the real S3 server (MinIO) and Cassandra of the local stack."""

from __future__ import annotations

import asyncio
import re
import urllib.parse

import aiohttp
import pytest

from benchmarks.upload import MiB, PeakRss, RandomStream, file_form
from devstack.stack_client import scrape_async
from tests.integration.files_helpers import (
    Stopwatch,
    interrupted_then_resumed,
    s3_leftovers,
    sha256_of_url,
)
from tests.integration.helpers import Api, ctl, delta


async def members(api: Api):
    alice, bob, eve = await api.user("alice"), await api.user("bob"), await api.user("eve")
    return alice, bob, eve, await api.conversation(alice, bob)


def api_pid() -> int:
    out = ctl("pid", "api").strip()
    assert out.isdigit(), out
    return int(out)


async def test_100mb_streamed_upload_checksum_download_and_bounded_memory(api):
    alice, bob, _, conv = await members(api)
    before = await scrape_async(api.http, api.base)
    stream = RandomStream(100 * MiB)
    async with PeakRss(api_pid()) as rss:
        with Stopwatch() as took:
            status, meta = await api.call("POST", "/v1/files", alice, data=file_form(conv, stream))
    assert status == 201, meta
    assert meta["size_bytes"] == 100 * MiB
    assert meta["checksum"] == stream.checksum
    print(f"\n100 MiB streamed upload: {100 / took.seconds:.1f} MiB/s, API peak RSS growth "
          f"{rss.growth / MiB:.1f} MiB (sampled {(rss.sampled - rss.baseline) / MiB:.1f}, kernel "
          f"{'n/a' if rss.kernel_peak is None else f'{(rss.kernel_peak - rss.baseline) / MiB:.1f}'})")
    assert rss.growth < 64 * MiB

    status, info = await api.call("GET", f"/v1/files/{meta['file_id']}", bob)  # another member
    assert status == 200, info
    assert info["checksum"] == stream.checksum and info["filename"] == "data.bin"
    got = await sha256_of_url(api.http, info["download_url"])
    assert got == (200, stream.checksum, 100 * MiB)
    after = await scrape_async(api.http, api.base)
    assert delta(before, after, "files_uploaded_total", size_bucket="le_100MiB") == 1


async def test_presigned_urls_tampered_unsigned_or_expired_are_refused_by_s3(api):
    alice, _, _, conv = await members(api)
    status, a = await api.call("POST", "/v1/files", alice, data=file_form(conv, b"secret A", "a.txt"))
    assert status == 201, a
    status, b = await api.call("POST", "/v1/files", alice, data=file_form(conv, b"secret B", "b.txt"))
    assert status == 201, b
    _, info = await api.call("GET", f"/v1/files/{a['file_id']}", alice)
    url = info["download_url"]
    async with api.http.get(url) as resp:
        assert resp.status == 200 and await resp.read() == b"secret A"

    parts = urllib.parse.urlsplit(url)
    unsigned = urllib.parse.urlunsplit(parts._replace(query=""))
    other_key = url.replace(a["file_id"], b["file_id"])  # someone else's file, same signature
    sig = re.search(r"X-Amz-Signature=([0-9a-f]+)", url)[1]
    flipped = url.replace(sig, sig[:-1] + ("0" if sig[-1] != "0" else "1"))
    longer = url.replace("X-Amz-Expires=3600", "X-Amz-Expires=7200")
    for bad in (unsigned, other_key, flipped, longer):
        async with api.http.get(bad) as resp:
            assert resp.status == 403, (bad, resp.status)
            assert b"secret" not in await resp.read()

    _, short = await api.call("GET", f"/v1/files/{a['file_id']}", alice, params={"expires_in": "1"})
    async with api.http.get(short["download_url"]) as resp:
        assert resp.status == 200
    await asyncio.sleep(2.5)
    async with api.http.get(short["download_url"]) as resp:
        assert resp.status == 403
        assert b"expired" in (await resp.read()).lower()


async def test_only_members_upload_or_read_files(api):
    alice, _, eve, conv = await members(api)
    status, body = await api.call("POST", "/v1/files", eve, data=file_form(conv, b"x"))
    assert (status, body["error"]) == (403, "you are not a member of this conversation")
    status, meta = await api.call("POST", "/v1/files", alice, data=file_form(conv, b"x"))
    assert status == 201
    status, body = await api.call("GET", f"/v1/files/{meta['file_id']}", eve)
    assert status == 403 and "download_url" not in body
    status, body = await api.call("POST", "/v1/files/uploads", eve, json={
        "conversation_id": conv, "filename": "x.bin", "size_bytes": 10})
    assert status == 403
    status, _ = await api.call("GET", f"/v1/files/{meta['file_id']}")
    assert status == 401


async def test_bad_uploads_get_a_clear_400(api):
    alice, _, _, conv = await members(api)
    cases = [
        ({"json": {"conversation_id": conv}}, "multipart/form-data"),
        ({"data": b"not a form", "headers": {"Content-Type": "text/plain"}}, "multipart/form-data"),
    ]
    only_id = aiohttp.MultipartWriter("form-data")
    only_id.append(conv).set_content_disposition("form-data", name="conversation_id")
    cases.append(({"data": only_id}, "'file'"))
    file_first = aiohttp.MultipartWriter("form-data")
    file_first.append(b"x").set_content_disposition("form-data", name="file", filename="x")
    cases.append(({"data": file_first}, "first form field must be 'conversation_id'"))
    cases.append(({"data": file_form("not-a-uuid", b"x")}, "conversation_id"))
    cases.append(({"data": file_form(conv, b"x", content_type="no slash")}, "content type"))
    cases.append(({"data": file_form(conv, b"x", filename="")}, "file name"))
    for kwargs, fragment in cases:
        status, body = await api.call("POST", "/v1/files", alice, **kwargs)
        assert status == 400 and fragment in body["error"], (kwargs, status, body)


async def test_beyond_the_limit_413_and_no_orphaned_parts(api, limited_api):
    small = Api(api.http, limited_api)
    alice, _, _, conv = await members(small)
    # Chunked (no Content-Length): the API finds out while streaming, after parts were stored.
    status, body = await small.call("POST", "/v1/files", alice, data=file_form(conv, RandomStream(30 * MiB)))
    assert status == 413 and "exceeds" in body["error"]
    # Announced too large: refused before a byte is read.
    status, body = await small.call("POST", "/v1/files", alice,
                                    data=file_form(conv, b"x" * (21 * MiB)))
    assert status == 413
    status, body = await small.call("POST", "/v1/files/uploads", alice, json={
        "conversation_id": conv, "filename": "big.iso", "size_bytes": 21 * MiB})
    assert status == 413
    assert await s3_leftovers(f"files/{conv}/") == ([], [])
    # Just under the limit still works, as a multipart upload of 5 MiB parts.
    stream = RandomStream(19 * MiB)
    status, meta = await small.call("POST", "/v1/files", alice, data=file_form(conv, stream))
    assert status == 201 and meta["checksum"] == stream.checksum
    assert await s3_leftovers(f"files/{conv}/") == ([f"files/{conv}/{meta['file_id']}"], [])


async def put_parts(http: aiohttp.ClientSession, urls: list[dict], data: bytes, part_size: int) -> dict:
    etags = {}
    for part in urls:
        n = part["part_number"]
        async with http.put(part["url"], data=data[(n - 1) * part_size: n * part_size]) as resp:
            assert resp.status == 200, await resp.text()
            etags[n] = resp.headers["ETag"]
    return etags


async def test_resumable_upload_resumes_after_interruption_and_completes(api):
    import hashlib
    import os

    alice, bob, _, conv = await members(api)
    data = os.urandom(20 * MiB + 12345)
    status, up = await api.call("POST", "/v1/files/uploads", alice, json={
        "conversation_id": conv, "filename": "video.mp4", "size_bytes": len(data),
        "content_type": "video/mp4"})
    assert status == 201, up
    part_size, count = up["part_size"], up["part_count"]
    assert (part_size, count) == (8 * MiB, 3) and len(up["parts"]) == 3

    first = await put_parts(api.http, up["parts"][:1], data, part_size)  # ... then the client dies
    status, progress = await api.call("GET", f"/v1/files/uploads/{up['upload_id']}", alice)
    assert status == 200, progress
    assert [(p["part_number"], p["etag"], p["size_bytes"]) for p in progress["stored_parts"]] == \
        [(1, first[1], part_size)]
    assert [p["part_number"] for p in progress["parts"]] == [2, 3]
    status, _ = await api.call("GET", f"/v1/files/uploads/{up['upload_id']}", bob)
    assert status == 403  # only the uploader

    rest = await put_parts(api.http, progress["parts"], data, part_size)
    etags = first | rest
    complete = f"/v1/files/uploads/{up['upload_id']}/complete"
    status, body = await api.call("POST", complete, alice, json={"parts": [
        {"part_number": 1, "etag": etags[1]}, {"part_number": 2, "etag": etags[2]}]})
    assert status == 400 and "missing [3]" in body["error"]
    status, body = await api.call("POST", complete, alice, json={"parts": [
        {"part_number": n, "etag": '"0123456789abcdef0123456789abcdef"'} for n in (1, 2, 3)]})
    assert status == 400 and "S3 refused" in body["error"]

    status, meta = await api.call("POST", complete, alice, json={
        "parts": [{"part_number": n, "etag": e} for n, e in sorted(etags.items())]})
    assert status == 201, meta
    expected = "sha256:" + hashlib.sha256(data).hexdigest()
    assert (meta["size_bytes"], meta["checksum"], meta["content_type"]) == (len(data), expected, "video/mp4")
    _, info = await api.call("GET", f"/v1/files/{up['file_id']}", bob)
    assert await sha256_of_url(api.http, info["download_url"]) == (200, expected, len(data))
    status, _ = await api.call("GET", f"/v1/files/uploads/{up['upload_id']}", alice)
    assert status == 404  # completed
    assert await s3_leftovers(f"files/{conv}/") == ([f"files/{conv}/{up['file_id']}"], [])


async def test_aborting_a_resumable_upload_leaves_nothing(api):
    alice, _, _, conv = await members(api)
    status, up = await api.call("POST", "/v1/files/uploads", alice, json={
        "conversation_id": conv, "filename": "x.bin", "size_bytes": 9 * MiB})
    assert status == 201
    await put_parts(api.http, up["parts"][:1], b"z" * (9 * MiB), up["part_size"])
    assert (await s3_leftovers(f"files/{conv}/"))[1] == [f"files/{conv}/{up['file_id']}"]
    status, body = await api.call("DELETE", f"/v1/files/uploads/{up['upload_id']}", alice)
    assert (status, body["status"]) == (200, "aborted")
    assert await s3_leftovers(f"files/{conv}/") == ([], [])
    status, _ = await api.call("GET", f"/v1/files/uploads/{up['upload_id']}", alice)
    assert status == 404


async def test_messages_reference_files_of_their_conversation_and_show_their_metadata(api):
    alice, bob, _, conv = await members(api)
    other = await api.conversation(alice, bob)
    _, meta = await api.call("POST", "/v1/files", alice, data=file_form(conv, b"%PDF-1.7", "cv.pdf",
                                                                         "application/pdf"))
    status, body = await api.call("POST", "/v1/messages", alice, json={
        "conversation_id": other, "content": "wrong place", "file_id": meta["file_id"]})
    assert status == 400 and "not a file of this conversation" in body["error"]
    sent = await api.send(alice, conv, "my CV", file_id=meta["file_id"])

    async def listed():
        msgs = await api.all_messages(bob, conv)
        return msgs if msgs else None

    msgs = await api.wait_for(listed, timeout=60)
    assert msgs[0]["message_id"] == sent["message_id"]
    assert msgs[0]["file_id"] == meta["file_id"]
    assert msgs[0]["file"] == {"filename": "cv.pdf", "content_type": "application/pdf",
                               "size_bytes": 8, "checksum": meta["checksum"]}


@pytest.mark.slow
async def test_1gb_resumable_upload_through_the_cli_survives_a_kill(tmp_path):
    """A 1 GiB file, the CLI killed mid-way, then run again (about 15 s on loopback)."""
    await interrupted_then_resumed(tmp_path, 1024 * MiB, delete_after=True)

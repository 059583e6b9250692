"""Uploading files from the command line: streamed for small files, resumable for large ones.

The resumable path is what real S3 clients do: the API hands out presigned part URLs, the client
PUTs each part straight to S3, then asks the API to complete. Progress lives in S3 itself; the
client only remembers which upload belongs to which local file (`uploads.json` next to the token),
so running the same command again after an interruption asks the API which parts are stored and
sends only the missing ones.
"""

from __future__ import annotations

import json
import mimetypes
import os
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from chat4all_app.client.http import ApiError, Client

CHUNK = 1024 * 1024


def content_type_for(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def streamed(client: Client, conversation_id: str, path: Path) -> dict:
    """POST /v1/files with a multipart body read from disk chunk by chunk (never whole)."""
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"conversation_id\"\r\n\r\n"
            f"{conversation_id}\r\n--{boundary}\r\n"
            f"Content-Disposition: form-data; name=\"file\"; filename=\"{path.name}\"\r\n"
            f"Content-Type: {content_type_for(path)}\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def body() -> Iterator[bytes]:
        yield head
        with path.open("rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk
        yield tail

    return client.send_body("POST", "/v1/files", body(), len(head) + path.stat().st_size + len(tail),
                            f"multipart/form-data; boundary={boundary}")


class UploadJournal:
    """Local file identity (path, size, mtime) -> upload_id of its resumable upload."""

    def __init__(self, directory: str):
        self.path = Path(directory).expanduser() / "uploads.json"

    @staticmethod
    def identity(path: Path, conversation_id: str) -> str:
        st = path.stat()
        return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{conversation_id}"

    def _load(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    def get(self, key: str) -> str | None:
        return self._load().get(key)

    def put(self, key: str, upload_id: str | None) -> None:
        entries = self._load()
        if upload_id is None:
            entries.pop(key, None)
        else:
            entries[key] = upload_id
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(entries))


def put_part(url: str, path: Path, offset: int, length: int, timeout: float = 300) -> str:
    """PUT one part straight to S3; return its ETag."""
    with path.open("rb") as f:
        f.seek(offset)
        data = f.read(length)
    request = urllib.request.Request(url, data=data, method="PUT")
    request.add_header("Content-Length", str(len(data)))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.headers["ETag"]
    except urllib.error.HTTPError as exc:
        raise ApiError(exc.code, f"S3 refused part at offset {offset}: {exc.read()[:300]!r}") from None


def resumable(client: Client, journal: UploadJournal, conversation_id: str, path: Path,
              report: Callable[[str], None] = lambda _: None) -> dict:
    key = journal.identity(path, conversation_id)
    size = path.stat().st_size
    state = None
    upload_id = journal.get(key)
    if upload_id:
        try:
            state = client.call("GET", f"/v1/files/uploads/{upload_id}")
            report(f"resuming upload {upload_id}: {len(state['stored_parts'])} of "
                   f"{state['part_count']} parts already stored")
        except ApiError as exc:
            if exc.status != 404:
                raise
            report(f"upload {upload_id} is gone; starting over")
    if state is None:
        state = client.call("POST", "/v1/files/uploads", {
            "conversation_id": conversation_id, "filename": path.name, "size_bytes": size,
            "content_type": content_type_for(path)})
        journal.put(key, state["upload_id"])
        state["stored_parts"] = []
    upload_id, part_size = state["upload_id"], state["part_size"]
    etags = {p["part_number"]: p["etag"] for p in state["stored_parts"]}
    for part in state["parts"]:
        number = part["part_number"]
        offset = (number - 1) * part_size
        etags[number] = put_part(part["url"], path, offset, min(part_size, size - offset))
        report(f"part {number}/{state['part_count']} stored")
    stored = client.call("POST", f"/v1/files/uploads/{upload_id}/complete",
                         {"parts": [{"part_number": n, "etag": e} for n, e in sorted(etags.items())]})
    journal.put(key, None)
    return stored


def upload(client: Client, journal: UploadJournal, conversation_id: str, path: Path,
           resumable_from: int, report: Callable[[str], None] = lambda _: None) -> dict:
    if not path.is_file():
        raise ApiError(0, f"{path} is not a readable file")
    if os.path.getsize(path) >= resumable_from:
        return resumable(client, journal, conversation_id, path, report)
    return streamed(client, conversation_id, path)

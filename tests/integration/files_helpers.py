"""Helpers for the file tests: generated streams, multipart bodies, S3 inspection, process memory,
and the CLI's resumable uploads interrupted and resumed."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

from chat4all_app.client.http import TokenStore
from chat4all_app.files.s3 import s3_client
from chat4all_app.settings import Settings
from tests.integration.helpers import STACK, Api

MiB = 1024 * 1024


class RandomStream:
    """`size` random bytes produced 1 MiB at a time (never all in memory), hashed as they go."""

    def __init__(self, size: int):
        self.size, self.digest = size, hashlib.sha256()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        left = self.size
        while left:
            chunk = os.urandom(min(MiB, left))
            left -= len(chunk)
            self.digest.update(chunk)
            yield chunk

    @property
    def checksum(self) -> str:
        return "sha256:" + self.digest.hexdigest()


def file_form(conversation_id: str, payload, filename: str = "data.bin",
              content_type: str = "application/octet-stream") -> aiohttp.MultipartWriter:
    writer = aiohttp.MultipartWriter("form-data")
    writer.append(conversation_id).set_content_disposition("form-data", name="conversation_id")
    part = writer.append(payload, {"Content-Type": content_type})
    part.set_content_disposition("form-data", name="file", filename=filename)
    return writer


async def sha256_of_url(http: aiohttp.ClientSession, url: str) -> tuple[int, str, int]:
    """(status, "sha256:<hex>", size) of a GET, streamed."""
    digest, size = hashlib.sha256(), 0
    async with http.get(url) as resp:
        if resp.status != 200:
            return resp.status, "", 0
        async for chunk in resp.content.iter_chunked(MiB):
            digest.update(chunk)
            size += len(chunk)
    return 200, "sha256:" + digest.hexdigest(), size


async def s3_leftovers(prefix: str) -> tuple[list[str], list[str]]:
    """(objects, multipart uploads in progress) under a key prefix of the bucket."""
    settings = Settings.from_env()
    async with s3_client(settings) as s3:
        objects = await s3.list_objects_v2(Bucket=settings.s3_bucket, Prefix=prefix)
        # MinIO matches an uploads Prefix only against whole keys: list them all and filter here.
        uploads, pages = [], s3.get_paginator("list_multipart_uploads").paginate(Bucket=settings.s3_bucket)
        async for page in pages:
            uploads += [u["Key"] for u in page.get("Uploads", []) if u["Key"].startswith(prefix)]
    return [o["Key"] for o in objects.get("Contents", [])], uploads


async def delete_object(key: str) -> None:
    settings = Settings.from_env()
    async with s3_client(settings) as s3:
        await s3.delete_object(Bucket=settings.s3_bucket, Key=key)


def rss_bytes(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise LookupError(field)


class PeakRss:
    """Peak resident memory of a process while the block runs: the kernel's high-water mark
    (reset through /proc/<pid>/clear_refs) and, as a cross-check, our own 10 ms sampling."""

    def __init__(self, pid: int):
        self.pid, self.sampled, self.baseline, self.kernel_peak = pid, 0, 0, None

    async def __aenter__(self) -> PeakRss:
        self.baseline = self.sampled = rss_bytes(self.pid)
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # resets VmHWM to VmRSS
            self._hwm = True
        except OSError:
            self._hwm = False
        self._task = asyncio.create_task(self._sample())
        return self

    async def _sample(self) -> None:
        while True:
            self.sampled = max(self.sampled, rss_bytes(self.pid))
            await asyncio.sleep(0.01)

    async def __aexit__(self, *exc) -> None:
        self._task.cancel()
        if self._hwm:
            self.kernel_peak = rss_bytes(self.pid, "VmHWM")

    @property
    def growth(self) -> int:
        return max(self.sampled, self.kernel_peak or 0) - self.baseline


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start


# --- the CLI's resumable uploads (`chat4all upload`) ---------------------------------------------
CLI = str(Path(sys.executable).parent / "chat4all")


def random_file(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    with path.open("wb") as out:
        left = size
        while left:
            chunk = os.urandom(min(MiB, left))
            left -= len(chunk)
            digest.update(chunk)
            out.write(chunk)
    return "sha256:" + digest.hexdigest()


async def cli_user(api: Api, config: Path):
    """alice logged in for the CLI (token file in `config`), bob, their conversation, the env."""
    alice, bob = await api.user("alice"), await api.user("bob")
    TokenStore(str(config)).save({"access_token": alice.token, "user_id": alice.user_id,
                                  "username": alice.username, "api_url": STACK.api_url})
    return bob, await api.conversation(alice, bob), os.environ | {"CHAT4ALL_CONFIG_DIR": str(config)}


async def interrupted_then_resumed(tmp_path: Path, size: int, delete_after: bool = False) -> None:
    async with aiohttp.ClientSession() as http:
        api = Api(http)
        config = tmp_path / "config"
        bob, conv, env = await cli_user(api, config)
        path = tmp_path / "big.bin"
        checksum = random_file(path, size)
        argv = [CLI, "upload", conv, str(path), "--resumable-from", "1MiB"]

        first = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for line in first.stderr:
            if line.startswith("part 2/"):
                first.send_signal(signal.SIGKILL)  # the laptop lid closes
                break
        assert first.wait(timeout=60) == -signal.SIGKILL

        second = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=1800)
        assert second.returncode == 0, second.stderr
        resumed = [ln for ln in second.stderr.splitlines() if ln.startswith("resuming upload")]
        assert resumed, second.stderr
        stored, total = map(int, resumed[0].split(": ")[1].split(" parts")[0].split(" of "))
        assert 2 <= stored < total, resumed[0]
        assert f"part 1/{total} stored" not in second.stderr  # stored parts are not sent again
        meta = json.loads(second.stdout)
        assert (meta["size_bytes"], meta["checksum"]) == (size, checksum)
        _, info = await api.call("GET", f"/v1/files/{meta['file_id']}", bob)
        assert await sha256_of_url(http, info["download_url"]) == (200, checksum, size)
        assert json.loads((config / "uploads.json").read_text()) == {}  # journal cleaned up
        if delete_after:  # keep the disk from filling up run after run (pytest keeps tmp dirs)
            await delete_object(f"files/{conv}/{meta['file_id']}")
            path.unlink()

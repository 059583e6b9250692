"""Helpers for the file tests: generated streams, multipart bodies, S3 inspection, process memory,
and the CLI's resumable uploads interrupted and resumed."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from benchmarks.upload import MiB
from chat4all_app.client.http import TokenStore
from chat4all_app.files.s3 import s3_client
from chat4all_app.settings import Settings
from tests.integration.helpers import STACK, Api


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

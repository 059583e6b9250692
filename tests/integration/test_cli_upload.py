"""`chat4all upload`: the resumable path survives the client being killed mid-way."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp

from chat4all_app.client.http import TokenStore
from tests.integration.api_client import API_URL, Api
from tests.integration.files_helpers import MiB, delete_object, sha256_of_url

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
                                  "username": alice.username, "api_url": API_URL})
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


async def test_cli_upload_resumes_after_being_killed(tmp_path):
    await interrupted_then_resumed(tmp_path, 64 * MiB)


async def test_cli_small_files_are_streamed_in_one_request(tmp_path):
    async with aiohttp.ClientSession() as http:
        _, conv, env = await cli_user(Api(http), tmp_path / "config")
        path = tmp_path / "notes.txt"
        checksum = random_file(path, 300_000)
        out = subprocess.run([CLI, "upload", conv, str(path)], capture_output=True, text=True,
                             env=env, timeout=120)
        assert out.returncode == 0, out.stderr
        meta = json.loads(out.stdout)
        assert (meta["filename"], meta["content_type"], meta["checksum"]) == \
            ("notes.txt", "text/plain", checksum)
        assert "part" not in out.stderr  # one POST /v1/files, no parts

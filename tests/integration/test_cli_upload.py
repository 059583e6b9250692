"""`chat4all upload`: the resumable path survives the client being killed mid-way."""

from __future__ import annotations

import json
import subprocess

import aiohttp

from benchmarks.upload import MiB
from tests.integration.files_helpers import CLI, cli_user, interrupted_then_resumed, random_file
from tests.integration.helpers import Api


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

"""Measure streamed uploads against the running stack: MiB/s and the API's peak RSS growth.

    python -m benchmarks.upload [--size-mib 100] [--repeats 3] [--out F]

Prints one line per run and the medians; --out also writes them as JSON (the report reads
results/bench/upload.json, written with --size-mib 2048 --repeats 1). The API must be the one
`make up` started (its pid is read from the supervisor, its memory from /proc). A figure, not a
test: no thresholds here.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import aiohttp

from benchmarks import users
from benchmarks.processes import pids, rss_bytes
from devstack.layout import git_sha
from devstack.topology import local

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


def file_form(conversation_id: str, payload: object, filename: str = "data.bin",
              content_type: str = "application/octet-stream") -> aiohttp.MultipartWriter:
    """POST /v1/files' body: the conversation, then the file (streamed if `payload` is a stream)."""
    writer = aiohttp.MultipartWriter("form-data")
    writer.append(conversation_id).set_content_disposition("form-data", name="conversation_id")
    part = writer.append(payload, {"Content-Type": content_type})
    part.set_content_disposition("form-data", name="file", filename=filename)
    return writer


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

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._task.cancel()
        if self._hwm:
            self.kernel_peak = rss_bytes(self.pid, "VmHWM")

    @property
    def growth(self) -> int:
        return max(self.sampled, self.kernel_peak or 0) - self.baseline


async def upload(http: aiohttp.ClientSession, api_url: str, sender: dict, stream: RandomStream) -> dict:
    async with http.post(f"{api_url}/v1/files", data=file_form(sender["conversation_id"], stream),
                         headers={"Authorization": f"Bearer {sender['token']}"}) as resp:
        meta = await resp.json()
        if resp.status != 201:
            raise RuntimeError(f"POST /v1/files answered {resp.status}: {meta}")
        return meta


async def main(size_mib: int, repeats: int, out: Path | None) -> None:
    topology = local()
    pid = pids()["api"]
    sender = users.create(topology.api_url, 1)[0]
    rates, growths = [], []
    async with aiohttp.ClientSession() as http:
        for run in range(1, repeats + 1):
            stream = RandomStream(size_mib * MiB)
            async with PeakRss(pid) as rss:
                start = time.perf_counter()
                meta = await upload(http, topology.api_url, sender, stream)
                seconds = time.perf_counter() - start
            if meta["checksum"] != stream.checksum:
                raise RuntimeError(f"checksum {meta['checksum']} != the {stream.checksum} sent")
            rates.append(size_mib / seconds)
            growths.append(rss.growth / MiB)
            print(f"run {run}: {size_mib} MiB in {seconds:.2f} s = {rates[-1]:.1f} MiB/s; "
                  f"API peak RSS +{growths[-1]:.1f} MiB")
    if out is not None:
        out.write_text(json.dumps({
            "size_mib": size_mib, "repeats": repeats, "mib_per_s": [round(r, 1) for r in rates],
            "median_mib_per_s": round(statistics.median(rates), 1),
            "api_peak_rss_growth_mib": [round(g, 1) for g in growths], "checksum_verified": True,
            "git_sha": git_sha(),
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds")}, indent=2) + "\n")
    print(f"median over {repeats}: {statistics.median(rates):.1f} MiB/s; "
          f"API peak RSS growth median {statistics.median(growths):.1f} MiB, max {max(growths):.1f} MiB "
          "(the first run after an API start includes one-time allocations)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    asyncio.run(main(args.size_mib, args.repeats, args.out))

"""Measure streamed uploads against the running stack: MiB/s and the API's peak RSS growth.

    ~/.cache/chat4all/venv/bin/python scripts/measure_upload.py [--size-mib 100] [--repeats 3] [--out F]

Prints one line per run and the medians; --out also writes them as JSON (the report reads
results/bench/upload.json, written with --size-mib 2048 --repeats 1). The API must be the one
`make up` started (its pid is read from the supervisor, its memory from /proc). A figure, not a
test: no thresholds here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devstack.layout import git_sha
from tests.integration.api_client import Api
from tests.integration.files_helpers import MiB, PeakRss, RandomStream, file_form
from tests.integration.stack_control import ctl


async def main(size_mib: int, repeats: int, out: Path | None) -> None:
    pid = int(ctl("pid", "api").strip())
    async with aiohttp.ClientSession() as http:
        api = Api(http)
        alice, bob = await api.user("bench"), await api.user("bench")
        conv = await api.conversation(alice, bob)
        rates, growths = [], []
        for run in range(1, repeats + 1):
            stream = RandomStream(size_mib * MiB)
            async with PeakRss(pid) as rss:
                start = time.perf_counter()
                status, meta = await api.call("POST", "/v1/files", alice, data=file_form(conv, stream))
                seconds = time.perf_counter() - start
            assert status == 201 and meta["checksum"] == stream.checksum, meta
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

"""What claiming a message_id costs (issue 16): the LWT and its alternatives, on the running stack.

    ~/.cache/chat4all/venv/bin/python -m benchmarks.claims [--n 2000] [--concurrency 32]
        [--out results/claims/latest.md]

Through the API's own driver path (CassandraStore: prepared statements, one session):
- `plain INSERT`       what a claim without Paxos would cost (the floor);
- `LWT applied`        INSERT ... IF NOT EXISTS of a fresh id: every new message pays this;
- `LWT not applied`    the same on an existing id: a replay or a conflicting reuse;
- `legacy pre-read`    a messages_by_id point read: what checking pre-claims messages on every
                       request would add (the 0003 backfill made that unnecessary).
Each: sequential latency (p50/p95/p99), then throughput with `--concurrency` in flight, with the
client's and Cassandra's CPU per operation. Then POST /v1/messages end to end (`--api`, with
`--api-concurrency` in flight; `--no-claims` for only this, e.g. to compare two API builds), with
a client-chosen and a server-minted message_id. Benchmark rows expire (TTL 1 h). Prints figures;
asserts nothing (a shared machine's timings are not a test).

Comparing Paxos variants needs a Cassandra started with `paxos_variant: v1` and one with `v2`
(the setting is read at startup): point this at each with CASSANDRA_PORT=..., `--migrate` (apply
the schema there first), `--cassandra-pid` (its process, for the CPU column) and `--api-n 0`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from benchmarks.processes import cpu_seconds, pids
from chat4all_app.ids import accepted_id
from chat4all_app.settings import Settings
from chat4all_app.storage.cassandra import CassandraStore
from devstack.layout import REPO_DIR, git_sha

TTL_S = 3600
_COLUMNS = "(message_id, conversation_id, sender_id, fingerprint, accepted_id, accepted_at)"
LWT = f"INSERT INTO message_claims {_COLUMNS} VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS USING TTL {TTL_S}"
PLAIN = f"INSERT INTO message_claims {_COLUMNS} VALUES (?, ?, ?, ?, ?, ?) USING TTL {TTL_S}"
PRE_READ = "SELECT conversation_id, accepted_id FROM messages_by_id WHERE message_id = ?"


REPORT: list[str] = []  # every printed line, for --out


def say(line: str = "") -> None:
    print(line, flush=True)
    REPORT.append(line)


def params(mid: uuid.UUID) -> tuple:
    return (mid, uuid.uuid4(), uuid.uuid4(), "bench", accepted_id(), time.time())


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


async def measure(name: str, op: Callable[[int], Awaitable[None]], n: int, concurrency: int,
                  cassandra_pid: int | None) -> None:
    for i in range(min(50, n)):  # warm up: prepare, connections
        await op(-1 - i)
    lat = []
    for i in range(n):
        t = time.perf_counter()
        await op(i)
        lat.append((time.perf_counter() - t) * 1000)
    cpu0, srv0, t0 = time.process_time(), cassandra_pid and cpu_seconds(cassandra_pid), time.perf_counter()
    queue = iter(range(n, 2 * n))

    async def worker() -> None:
        for i in queue:
            await op(i)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - t0
    client_us = (time.process_time() - cpu0) / n * 1e6
    server = f"{(cpu_seconds(cassandra_pid) - srv0) / n * 1e6:6.0f}" if cassandra_pid else "     ?"
    say(f"{name:<18} p50 {pct(lat, 50):6.2f} ms  p95 {pct(lat, 95):6.2f} ms  p99 {pct(lat, 99):6.2f} ms"
          f"  | {concurrency} in flight: {n / wall:7.0f} ops/s, CPU/op client {client_us:5.0f} us,"
          f" cassandra {server} us")


async def claims(settings: Settings, n: int, concurrency: int, cassandra_pid: int | None) -> None:
    store = CassandraStore(settings)
    await store.start()
    fresh = [uuid.uuid4() for _ in range(2 * n + 100)]
    taken = uuid.uuid4()
    await store.execute(LWT, params(taken))

    async def plain(i: int) -> None:
        await store.execute(PLAIN, params(uuid.uuid4()))

    async def lwt_applied(i: int) -> None:
        (row,) = await store.execute(LWT, params(fresh[i]))
        assert row[0], "a fresh id was not applied"

    async def lwt_not_applied(i: int) -> None:
        (row,) = await store.execute(LWT, params(taken))
        assert not row[0]

    async def pre_read(i: int) -> None:
        await store.execute(PRE_READ, (uuid.uuid4(),))

    say(f"Cassandra statements, n={n} sequential + n with {concurrency} in flight "
          f"(cassandra pid {cassandra_pid}):")
    try:
        for name, op in [("plain INSERT", plain), ("LWT applied", lwt_applied),
                         ("LWT not applied", lwt_not_applied), ("legacy pre-read", pre_read)]:
            await measure(name, op, n, concurrency, cassandra_pid)
    finally:
        await store.stop()


async def api_posts(base: str, n: int, concurrency: int) -> None:
    async with aiohttp.ClientSession() as http:
        async def post_json(path: str, body: dict, token: str | None = None) -> dict:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            async with http.post(base + path, json=body, headers=headers) as resp:
                assert resp.status < 300, (resp.status, await resp.text())
                return await resp.json()

        names = [f"bench-{uuid.uuid4().hex[:10]}" for _ in range(2)]
        ids = [(await post_json("/auth/register", {"username": u, "password": "pw-" + u}))["user_id"]
               for u in names]
        token = (await post_json("/auth/token", {"username": names[0], "password": "pw-" + names[0]}))[
            "access_token"]
        conv = (await post_json("/v1/conversations", {"participant_ids": [ids[1]]}, token))[
            "conversation_id"]
        say()
        say(f"POST /v1/messages end to end ({base}), n={n}, {concurrency} in flight:")
        for label, chosen in [("client-chosen id", True), ("server-minted id", False)]:
            lat: list[float] = []

            async def post(i: int, chosen: bool = chosen, lat: list[float] = lat) -> None:
                body = {"conversation_id": conv, "content": f"bench {i}"}
                if chosen:
                    body["message_id"] = str(uuid.uuid4())
                t = time.perf_counter()
                await post_json("/v1/messages", body, token)
                if i >= 0:
                    lat.append((time.perf_counter() - t) * 1000)

            for i in range(20):  # warm up
                await post(-1 - i)
            async def worker(queue, post=post) -> None:
                for i in queue:
                    await post(i)

            queue = iter(range(n))
            t0 = time.perf_counter()
            await asyncio.gather(*(worker(queue) for _ in range(concurrency)))
            wall = time.perf_counter() - t0
            say(f"{label:<18} p50 {pct(lat, 50):6.2f} ms  p95 {pct(lat, 95):6.2f} ms  "
                  f"p99 {pct(lat, 99):6.2f} ms  | {n / wall:6.0f} msg/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--api", default=Settings.from_env().api_url, help="default: CHAT4ALL_API_URL")
    parser.add_argument("--api-n", type=int, default=500, help="0: skip the API measurement")
    parser.add_argument("--api-concurrency", type=int, default=1)
    parser.add_argument("--claims", action=argparse.BooleanOptionalAction, default=True,
                        help="--no-claims: only the API measurement")
    parser.add_argument("--cassandra-pid", type=int, help="default: the local stack's cassandra")
    parser.add_argument("--migrate", action="store_true", help="apply the schema first")
    parser.add_argument("--out", type=Path, help="also write the figures there, with the git sha "
                        "(e.g. results/claims/latest.md)")
    args = parser.parse_args()
    settings = Settings.from_env()
    if args.migrate:
        from chat4all_app.bootstrap.cassandra_schema import migrate
        from chat4all_app.storage.cassandra import connect
        cluster, session = connect(settings)
        try:
            migrate(settings, session)
        finally:
            cluster.shutdown()
    if args.claims:
        asyncio.run(claims(settings, args.n, args.concurrency,
                           args.cassandra_pid or pids().get("cassandra")))
    if args.api_n:
        asyncio.run(api_posts(args.api, args.api_n, args.api_concurrency))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        command = " ".join(["python -m benchmarks.claims", *sys.argv[1:]])
        args.out.write_text(
            f"# Claim costs {datetime.now(UTC).isoformat(timespec='seconds')} ({git_sha()[:10]})\n\n"
            f"`{command}` (from {REPO_DIR.name}); CPU per operation from /proc, client = this process.\n\n"
            "```\n" + "\n".join(REPORT) + "\n```\n")


if __name__ == "__main__":
    main()

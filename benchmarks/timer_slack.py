"""What Cassandra's timer slack costs and saves (devstack/timer_slack.py), on the running stack.

    ~/.cache/chat4all/venv/bin/python -m benchmarks.timer_slack [--rate 60] [--window 20]
        [--repeats 3] [--out results/timer-slack/latest.md]

One constant-rate k6 load (loadtests/bench.js) for the whole run; meanwhile every thread of the
running Cassandra gets one slack, then the other, alternating every `--window` seconds (written to
/proc/<tid>/timerslack_ns: nothing restarts, the JIT stays warm). Per window, after its first 5 s:
Cassandra's CPU (% of a core) and context switches per second, and the latency of a sequential
probe of LWT claims (what every POST /v1/messages waits for), and messages DELIVERED per second
(offer more than the stack delivers to see whether the CPU saved turns into throughput). Medians
per slack, and their ratio.
The slack the stack started Cassandra with is put back at the end. `--process kafka` (any stack
process) does the same to that process instead: whether it gains anything too. Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import k6, pipeline, users
from benchmarks.claims import LWT, params
from benchmarks.processes import cpu_seconds, pids
from chat4all_app.settings import Settings
from chat4all_app.storage.cassandra import CassandraStore
from devstack.components import CASSANDRA_TIMER_SLACK_NS
from devstack.layout import REPO_DIR, git_sha
from devstack.probes import http_answers
from devstack.topology import local

DEFAULT_SLACK_NS = 50_000  # the kernel's default for a normal thread
SETTLE_S = 5.0


def threads(pid: int) -> list[Path]:
    return list(Path(f"/proc/{pid}/task").iterdir())


def set_slack(pid: int, ns: int) -> None:
    for task in threads(pid):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # a thread that just ended
            Path(f"/proc/{task.name}/timerslack_ns").write_text(str(ns))


def context_switches(pid: int) -> int:
    total = 0
    for task in threads(pid):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            for line in (task / "status").read_text().splitlines():
                if "ctxt_switches:" in line:  # voluntary and nonvoluntary
                    total += int(line.split()[1])
    return total


async def probe(store: CassandraStore, until: float) -> list[float]:
    """Sequential LWT claims (fresh ids, 1 h TTL) until `until`: their latencies in ms."""
    lat = []
    while time.monotonic() < until:
        t = time.perf_counter()
        await store.execute(LWT, params(uuid.uuid4()))
        lat.append((time.perf_counter() - t) * 1000)
        await asyncio.sleep(0.05)
    return lat


async def windows(pid: int, slacks: list[int], window_s: float, topology) -> list[dict]:
    store = CassandraStore(Settings.from_env())
    await store.start()
    try:
        await store.execute(LWT, params(uuid.uuid4()))  # connect, prepare
        out = []
        for slack in slacks:
            set_slack(pid, slack)
            await asyncio.sleep(SETTLE_S)
            before = pipeline.snapshot(topology)
            cpu0, csw0, t0 = cpu_seconds(pid), context_switches(pid), time.monotonic()
            lat = await probe(store, t0 + window_s - SETTLE_S)
            dt = time.monotonic() - t0
            after = pipeline.snapshot(topology)
            out.append({"slack_ns": slack, "cpu_pct": (cpu_seconds(pid) - cpu0) / dt * 100,
                        "delivered_per_s": (after.delivered - before.delivered) / dt,
                        "csw_per_s": (context_switches(pid) - csw0) / dt,
                        "lwt_p50_ms": statistics.median(lat),
                        "lwt_p95_ms": statistics.quantiles(lat, n=20)[18] if len(lat) > 1 else lat[0]})
        return out
    finally:
        await store.stop()


def markdown(result: dict) -> str:
    lines = [f"# Timer slack of {result['process']} {result['timestamp']} ({result['git_sha']})", "",
             f"`{result['command']}`: {result['rate']:g} msg/s offered by k6 throughout; windows of "
             f"{result['window_s']:g} s, the first {SETTLE_S:g} s of each not measured.", "",
             f"| window | slack | {result['process']} CPU (% of a core) | context switches/s | LWT p50 ms "
             "| LWT p95 ms | delivered/s |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for i, w in enumerate(result["windows"], 1):
        lines.append(f"| {i} | {w['slack_ns'] / 1000:g} µs | {w['cpu_pct']:.1f} | {w['csw_per_s']:.0f} | "
                     f"{w['lwt_p50_ms']:.2f} | {w['lwt_p95_ms']:.2f} | {w['delivered_per_s']:.1f} |")
    lines += ["", "| slack | median CPU % | median context switches/s | median LWT p50 ms "
              "| median delivered/s |", "| --- | --- | --- | --- | --- |"]
    for slack, m in result["medians"].items():
        lines.append(f"| {int(slack) / 1000:g} µs | {m['cpu_pct']:.1f} | {m['csw_per_s']:.0f} "
                     f"| {m['lwt_p50_ms']:.2f} | {m['delivered_per_s']:.1f} |")
    lines += ["", f"CPU ratio (stack's slack / kernel default): **{result['cpu_ratio']:.2f}**; k6 over the "
              f"whole run: {result['k6']['achieved_rps']:.1f} req/s, P95 {result['k6']['p95_ms']:.0f} ms, "
              f"errors {result['k6']['error_rate'] * 100:.2f} %.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=60)
    parser.add_argument("--window", type=float, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--process", default="cassandra",
                        help="the stack process whose threads get the two slacks (e.g. kafka: does it care?)")
    parser.add_argument("--out", type=Path, default=REPO_DIR / "results" / "timer-slack" / "latest.md")
    args = parser.parse_args(argv)
    topology = local()
    if not http_answers(topology.apis[0].port, "/health"):
        parser.error(f"the API does not answer at {topology.apis[0].url}: run `make up` first")
    pid = pids()[args.process]
    slacks = [DEFAULT_SLACK_NS, CASSANDRA_TIMER_SLACK_NS] * args.repeats
    warmup_s = 10.0
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(1) as pool:
        users_file = Path(tmp) / "users.json"
        users_file.write_text(json.dumps(users.create(topology.api_url, 50)))
        load = pool.submit(k6.run, topology.api_url, args.rate, len(slacks) * args.window + warmup_s + 5,
                           users_file)
        time.sleep(warmup_s)
        try:
            measured = asyncio.run(windows(pid, slacks, args.window, topology))
        finally:
            set_slack(pid, CASSANDRA_TIMER_SLACK_NS if args.process == "cassandra" else DEFAULT_SLACK_NS)
        run = load.result()
    figures = ("cpu_pct", "csw_per_s", "lwt_p50_ms", "delivered_per_s")
    medians = {str(s): {k: statistics.median(w[k] for w in measured if w["slack_ns"] == s) for k in figures}
               for s in dict.fromkeys(slacks)}
    result = {"command": " ".join(["python -m benchmarks.timer_slack", *(argv or sys.argv[1:])]),
              "process": args.process, "rate": args.rate, "window_s": args.window, "windows": measured,
              "medians": medians,
              "cpu_ratio": medians[str(CASSANDRA_TIMER_SLACK_NS)]["cpu_pct"]
              / medians[str(DEFAULT_SLACK_NS)]["cpu_pct"],
              "k6": run.__dict__, "git_sha": git_sha(),
              "timestamp": datetime.now(UTC).isoformat(timespec="seconds")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(result))
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

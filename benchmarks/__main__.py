"""`make bench` (python -m benchmarks): one run, side by side, on the running local stack.

1. reference ceiling: the highest rate a bare aiohttp "hello" server sustains (benchmarks/hello.py);
2. API ingest capacity: the highest rate POST /v1/messages sustains with errors < 0.1 % and
   P95 < 50 ms, plus P95 at a fixed 1,000 msg/s;
3. end to end: a fixed arrival rate held `--e2e-seconds`, then DELIVERED/s, delivery latency
   percentiles, lost messages, final lag, CPU and RSS of every process.
Each step is repeated `--repeats` times; results/bench/latest.json holds the medians (and every
repeat), results/bench/<timestamp>.json a dated copy, latest.md a summary.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import e2e, k6, users
from benchmarks.capacity import Search
from benchmarks.processes import pids
from benchmarks.quiet import LoadWatch
from benchmarks.report import markdown
from devstack.layout import REPO_DIR, git_sha
from devstack.probes import http_answers
from devstack.topology import Topology, local

HELLO_PORT = 18099  # the benchmark's own do-nothing server (benchmarks/hello.py), not a stack service
MAX_ERROR_RATE, MAX_P95_MS = 0.001, 50.0


def say(text: str) -> None:
    print(f"[bench] {text}", flush=True)


def capacity(name: str, url: str, users_file: Path | None, step_s: float,
             before_step: Callable[[], None] = lambda: None) -> dict:
    search = Search(start_rps=100)

    def measure(rate: float) -> k6.Run:
        before_step()
        step = k6.run(url, rate, step_s, users_file)
        say(f"{name} {rate:7.0f}/s offered -> {step.achieved_rps:7.1f}/s, p95 {step.p95_ms:6.1f} ms, "
            f"errors {step.error_rate:.2%}, dropped {step.dropped}")
        return step

    best = search.find(measure, lambda r: r.sustained(MAX_ERROR_RATE, MAX_P95_MS))
    return {"max_rps": best.offered_rps if best else 0.0, "p95_ms_at_max": best.p95_ms if best else None,
            "steps": [s.__dict__ for s in search.steps]}


def hello_capacity(step_s: float) -> dict:
    server = subprocess.Popen([sys.executable, "-m", "benchmarks.hello", "--port", str(HELLO_PORT)],
                              cwd=REPO_DIR)
    try:
        deadline = time.monotonic() + 30
        while not http_answers(HELLO_PORT, "/v1/messages") and time.monotonic() < deadline:
            time.sleep(0.2)
        return capacity("hello", f"http://127.0.0.1:{HELLO_PORT}", None, step_s)
    finally:
        server.terminate()
        server.wait(timeout=30)


def one_repeat(topology: Topology, users_file: Path, args: argparse.Namespace) -> dict:
    hello = hello_capacity(args.step_seconds)
    # Each step starts with an idle pipeline, not the previous step's backlog.
    api = capacity("api", topology.api_url, users_file, args.step_seconds,
                   before_step=lambda: e2e.wait_drained(topology, 600))
    e2e.wait_drained(topology, 600)
    at_1000 = k6.run(topology.api_url, 1000, args.step_seconds, users_file)
    say(f"api at 1000/s: p95 {at_1000.p95_ms:.1f} ms, errors {at_1000.error_rate:.2%}")
    say(f"end to end at {args.e2e_rate}/s for {args.e2e_seconds}s ...")
    pipe = e2e.run(topology, args.e2e_rate, args.e2e_seconds, users_file)
    say(f"end to end: {pipe['delivered']}/{pipe['accepted']} delivered, {pipe['delivered_per_s']}/s, "
        f"p95 {pipe['p95_ms']} ms, lost {pipe['lost_messages']}, final lag {pipe['final_lag']}")
    return {"hello": hello, "api": api, "api_at_1000": at_1000.__dict__, "e2e": pipe}


def summary(repeats: list[dict], args: argparse.Namespace) -> dict:
    med = lambda values: statistics.median(values) if values else None  # noqa: E731
    col = lambda f: [f(r) for r in repeats if f(r) is not None]  # noqa: E731
    hello_rps = med(col(lambda r: r["hello"]["max_rps"]))
    api_rps = med(col(lambda r: r["api"]["max_rps"]))
    return {
        "baseline_hello_rps": hello_rps, "api_max_rps": api_rps,
        "api_p95_ms_at_max": med(col(lambda r: r["api"]["p95_ms_at_max"])),
        "api_to_baseline_ratio": round(api_rps / hello_rps, 3) if hello_rps else None,
        "api_p95_ms_at_1000": med(col(lambda r: r["api_at_1000"]["p95_ms"])),
        "e2e_offered_rps": args.e2e_rate,
        "e2e_delivered_per_s": med(col(lambda r: r["e2e"]["delivered_per_s"])),
        "e2e_p50_ms": med(col(lambda r: r["e2e"]["p50_ms"])),
        "e2e_p95_ms": med(col(lambda r: r["e2e"]["p95_ms"])),
        "e2e_p99_ms": med(col(lambda r: r["e2e"]["p99_ms"])),
        "e2e_final_lag": max(col(lambda r: r["e2e"]["final_lag"])),
        "error_rate": med(col(lambda r: r["e2e"]["k6"]["error_rate"])),
        "lost_messages": sum(col(lambda r: r["e2e"]["lost_messages"])),
        # Every process of the stack plus k6, over the end-to-end run, per delivered message.
        "cpu_ms_per_message": med(col(lambda r: r["e2e"].get("cpu_ms_per_message"))),
        # Quiet only if every repeat was (benchmarks/quiet.py: others used <= 5 % of a core).
        "quiet_machine": all(r["machine"]["quiet"] for r in repeats) if repeats else None,
        "others_cores_max": max(col(lambda r: r["machine"]["others_cores"]), default=None),
        "steal_pct_max": max(col(lambda r: r["machine"]["steal_pct"]), default=None),
        "repeats": len(repeats), "e2e_seconds": args.e2e_seconds, "step_seconds": args.step_seconds,
        "git_sha": git_sha(), "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": repeats,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Chat4All benchmark (needs `make up`).")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--e2e-rate", type=float, default=500)
    parser.add_argument("--e2e-seconds", type=float, default=60)
    parser.add_argument("--step-seconds", type=float, default=10, help="length of each capacity step")
    parser.add_argument("--users", type=int, default=50, help="senders (one token each)")
    parser.add_argument("--out", type=Path, default=REPO_DIR / "results" / "bench")
    args = parser.parse_args(argv)
    topology = local()
    if not http_answers(topology.apis[0].port, "/health"):
        parser.error(f"the API does not answer at {topology.apis[0].url}: run `make up` first")
    with tempfile.TemporaryDirectory() as tmp:
        users_file = Path(tmp) / "users.json"
        users_file.write_text(json.dumps(users.create(topology.api_url, args.users)))
        repeats = []
        for i in range(args.repeats):
            say(f"repeat {i + 1}/{args.repeats}")
            # The stack's processes and ours are the run; anything else using CPU makes it noisy.
            with LoadWatch(roots=pids().values()) as watch:
                repeat = one_repeat(topology, users_file, args)
            repeat["machine"] = watch.result.as_dict()
            say(f"machine {'quiet' if watch.result.quiet else 'NOT quiet'}: others "
                f"{watch.result.others_cores:.3f} cores, steal {watch.result.steal_pct:.2f} %")
            repeats.append(repeat)
    result = summary(repeats, args)
    args.out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2) + "\n"
    stamp = result["timestamp"].replace(":", "").replace("+0000", "Z")
    for name in ("latest.json", f"{stamp}.json"):
        (args.out / name).write_text(text)
    (args.out / "latest.md").write_text(markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

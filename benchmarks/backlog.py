"""The workers' ceiling: how fast the router and connectors deliver a backlog nobody adds to.

The end-to-end steps of `make bench` load every process at once, so they cannot tell whether the
API (and its message-id claim) or the pipeline behind it limits the rate. This takes the API and k6
out of the measured window:

1. the workers (router, connectors) are paused with SIGSTOP (benchmarks/pause.py);
2. k6 posts `--messages` messages through the real API (claims, Kafka acks, the 2:1 mix of channel
   and internal messages of bench.js), which the workers cannot consume yet;
3. the workers are resumed, and the API's and k6's CPU stops mattering: only the drain is timed.

Reported per repeat: the drain rate (DELIVERED/s between 10 % and 90 % of the backlog, so the
groups' rejoin after the pause is not counted), the time to deliver everything, and the CPU ms per
delivered message of each process over the drain. A backlog lets Faust take full batches: this is
the best case for the workers, an upper bound of what they sustain under a live load.

    python -m benchmarks.backlog --messages 12000 --repeats 3 --out results/backlog/latest.md
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import e2e, k6, pipeline, users
from benchmarks.pause import Paused, worker_pids
from benchmarks.processes import Sampler, pids
from benchmarks.quiet import LoadWatch
from devstack.layout import REPO_DIR, git_sha
from devstack.probes import http_answers
from devstack.stack_client import scrape, total
from devstack.topology import Topology, local


def say(text: str) -> None:
    print(f"[backlog] {text}", flush=True)


def rate_between(series: list[tuple[float, float]], total: float, low: float = 0.1,
                 high: float = 0.9) -> float | None:
    """DELIVERED/s between the moments `low` and `high` of `total` were delivered; `series` is
    [(seconds, delivered so far)] in time order. None when the drain never got that far."""
    t_low = next((t for t, d in series if d >= low * total), None)
    t_high = next((t for t, d in series if d >= high * total), None)
    if t_low is None or t_high is None or t_high <= t_low:
        return None
    return (high - low) * total / (t_high - t_low)


def accepted_so_far(topology: Topology) -> float:
    """The API's own count (a paused router would not answer a full pipeline snapshot)."""
    return total(scrape(topology.apis[0].url), "messages_accepted_total")


def fill(topology: Topology, users_file: Path, messages: int, rate: float) -> tuple[int, float]:
    """Accept `messages` through the API with the workers paused: how many the API accepted, and
    the router's DELIVERED count before (taken before the pause: a resumed router may deliver what
    it had fetched before it answers a scrape)."""
    delivered_before = pipeline.snapshot(topology).delivered
    before = accepted_so_far(topology)
    with Paused(worker_pids(pids()), log=say):
        run = k6.run(topology.api_url, rate, messages / rate, users_file)
        accepted = int(accepted_so_far(topology) - before)
    say(f"accepted {accepted} at {run.achieved_rps:.0f}/s offered {rate:g}/s "
        f"(errors {run.error_rate:.2%}, dropped {run.dropped})")
    return accepted, delivered_before


def drain(topology: Topology, accepted: int, start: float, timeout_s: float) -> dict:
    """Time the workers delivering `accepted` messages (the router's DELIVERED count was `start`
    before the pause) from the moment they are resumed."""
    series: list[tuple[float, float]] = []
    with Sampler() as processes:
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout_s:
            try:
                delivered = pipeline.snapshot(topology).delivered - start
            except OSError:  # the router rejoining its group may not answer /metrics for a moment
                time.sleep(0.5)
                continue
            series.append((time.monotonic() - t0, delivered))
            if delivered >= accepted:
                break
            time.sleep(0.5)
    delivered = series[-1][1] if series else 0
    first = next((t for t, d in series if d > 0), None)
    cpu = {name: round(p["cpu_s"] * 1000 / delivered, 3) for name, p in processes.result.items()} \
        if delivered else {}
    return {
        "accepted": accepted, "delivered": int(delivered), "lost": max(0, accepted - int(delivered)),
        "first_delivery_s": None if first is None else round(first, 1),
        "all_delivered_s": round(series[-1][0], 1) if delivered >= accepted else None,
        "drain_per_s": _round(rate_between(series, accepted)),
        "cpu_ms_per_message": round(sum(cpu.values()), 3) if cpu else None,
        "cpu_ms_per_message_by_process": dict(sorted(cpu.items())),
        "cpu_pct_by_process": {n: p["cpu_pct"] for n, p in sorted(processes.result.items())},
    }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


def markdown(result: dict) -> str:
    runs = result["runs"]
    lines = [
        f"# Backlog drain {result['timestamp']} ({result['git_sha'][:10]})", "",
        f"`{result['command']}`", "",
        f"{result['messages']} messages accepted through the API at {result['fill_rate']:g}/s offered "
        "while the router and connectors were paused (SIGSTOP), then the workers resumed and the "
        "drain timed: DELIVERED/s between 10 % and 90 % of the backlog (the groups' rejoin after the "
        "pause excluded). CPU per delivered message over the whole drain. Only the pipeline behind "
        "the API is measured: no k6, no API work during the drain.", "",
        "| Repeat | Quiet | Accepted | Lost | First delivery s | All delivered s | Drain msg/s "
        "| CPU ms/msg |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for i, r in enumerate(runs, 1):
        lines.append(f"| {i} | {'yes' if r['quiet'] else 'NO'} | {r['accepted']} | {r['lost']} | "
                     f"{r['first_delivery_s']} | {r['all_delivered_s']} | {r['drain_per_s']} | "
                     f"{r['cpu_ms_per_message']} |")
    lines += ["", f"Median drain rate: **{result['median_drain_per_s']} msg/s**; median CPU per "
              f"delivered message: **{result['median_cpu_ms_per_message']} ms**.", "",
              "CPU ms per delivered message by process (median over the repeats):", "",
              "| Process | CPU ms/msg | CPU % of a core |", "| --- | --- | --- |"]
    for name in sorted(runs[0]["cpu_ms_per_message_by_process"]):
        ms = [r["cpu_ms_per_message_by_process"].get(name, 0.0) for r in runs]
        pct = [r["cpu_pct_by_process"].get(name, 0.0) for r in runs]
        lines.append(f"| {name} | {statistics.median(ms):.3f} | {statistics.median(pct):.1f} |")
    return "\n".join(lines) + "\n"


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 3) if known else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The workers' drain rate of a backlog (needs `make up`).")
    parser.add_argument("--messages", type=int, default=12000)
    parser.add_argument("--fill-rate", type=float, default=200.0,
                        help="k6's arrival rate while the workers are paused (msg/s)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=600.0, help="longest drain, s")
    parser.add_argument("--out", type=Path, default=REPO_DIR / "results" / "backlog" / "latest.md")
    args = parser.parse_args(argv)
    topology = local()
    if not http_answers(topology.apis[0].port, "/health"):
        print(f"the API does not answer at {topology.apis[0].url}: run `make up` first", file=sys.stderr)
        return 2
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        users_file = Path(tmp) / "users.json"
        users_file.write_text(json.dumps(users.create(topology.api_url, args.senders)))
        for i in range(args.repeats):
            e2e.wait_idle(topology, 600)
            say(f"repeat {i + 1}/{args.repeats}: filling {args.messages} with the workers paused")
            accepted, delivered_before = fill(topology, users_file, args.messages, args.fill_rate)
            with LoadWatch(roots=pids().values()) as watch:
                run = drain(topology, accepted, delivered_before, args.timeout)
            run["quiet"] = watch.result.quiet
            run["machine"] = watch.result.as_dict()
            say(f"drained {run['delivered']}/{accepted} at {run['drain_per_s']}/s, "
                f"{run['cpu_ms_per_message']} CPU ms/msg, machine {'quiet' if run['quiet'] else 'NOT quiet'}")
            runs.append(run)
    result = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"), "git_sha": git_sha(),
        "command": "python -m benchmarks.backlog " + " ".join(argv if argv is not None else sys.argv[1:]),
        "messages": args.messages, "fill_rate": args.fill_rate, "runs": runs,
        "median_drain_per_s": _median([r["drain_per_s"] for r in runs]),
        "median_cpu_ms_per_message": _median([r["cpu_ms_per_message"] for r in runs]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    args.out.write_text(markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

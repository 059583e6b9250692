"""CPU, memory and consumer lag of the local stack while a load test runs -> resources.json.

    python -m benchmarks.resources record DIR [--interval 5]    (samples until SIGTERM or SIGINT)

`scripts/run-loadtest.sh` starts it before k6 and stops it when k6 ends. Every `interval` seconds
it reads each supervised process's CPU time and resident memory from /proc (CPU as a percentage of
one core, the way `docker stats` reports a container). When stopped it asks Prometheus for
`sum(kafka_consumer_lag)` over the same time, and writes the series with their epoch times, so the
analysis (benchmarks.k6_analysis) can summarize exactly the load window. It only reads /proc and
sleeps: it does not load the machine it measures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.processes import cpu_seconds, pids, rss_mib
from devstack.stack_client import Prometheus
from devstack.topology import local

LAG_QUERY = "sum(kafka_consumer_lag)"
HOT_PCT = 80.0  # the assignment's "CPU usage < 80 % por container"


def sample_loop(stop: threading.Event, interval_s: float) -> dict[str, Any]:
    """Sample every supervised process until `stop` is set: {t: [...], processes: {name: {cpu_pct,
    rss_mib}}}; the i-th value of a process's series belongs to t[i] (None: the process was gone)."""
    tracked = pids()
    before = {name: cpu_seconds(pid) for name, pid in tracked.items()}
    last = time.time()
    times: list[float] = []
    series: dict[str, dict[str, list[float | None]]] = {n: {"cpu_pct": [], "rss_mib": []} for n in tracked}
    while not stop.wait(interval_s):
        now = time.time()
        times.append(round(now, 3))
        for name, pid in tracked.items():
            try:
                cpu = cpu_seconds(pid)
                used = (cpu - before[name]) / (now - last) * 100
                before[name] = cpu
                series[name]["cpu_pct"].append(round(used, 1))
                series[name]["rss_mib"].append(round(rss_mib(pid), 1))
            except OSError:  # the process exited (an experiment killed it, a restart)
                series[name]["cpu_pct"].append(None)
                series[name]["rss_mib"].append(None)
        last = now
    return {"t": times, "processes": series}


def lag_series(prometheus: Prometheus, start: float, end: float, step: float) -> dict[str, Any]:
    """sum(kafka_consumer_lag) from Prometheus over [start, end], or the reason it is missing."""
    try:
        rows = prometheus.query_range(LAG_QUERY, start, end, step)
    except (OSError, ValueError, RuntimeError) as exc:  # recorded, not fatal: CPU and memory count
        return {"query": LAG_QUERY, "error": str(exc), "t": [], "values": []}
    points = rows[0].points if rows else []
    return {"query": LAG_QUERY, "t": [t for t, _ in points], "values": [v for _, v in points]}


def record(directory: Path, interval_s: float) -> Path:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    started = time.time()
    samples = sample_loop(stop, interval_s)
    ended = time.time()
    result = {"version": 1, "interval_s": interval_s, "started": started, "ended": ended, **samples,
              "lag": lag_series(Prometheus(local().prometheus_url), started, ended, interval_s)}
    out = directory / "resources.json"
    out.write_text(json.dumps(result))
    return out


def _within(times: list[float], values: list[Any], start: float, end: float) -> list[float]:
    return [v for t, v in zip(times, values, strict=True) if start <= t <= end and v is not None]


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 1) if values else None


def summarize(resources: dict[str, Any], start: float, end: float) -> dict[str, Any]:
    """The load window [start, end] (epoch s) of a resources.json: per process CPU mean/P95/max (% of
    one core) and memory at the first and last third of the window; consumer lag median/P95/max."""
    third = (end - start) / 3
    # A CPU sample at t covers the interval before t: only those that began inside the window count
    # (the one ending just after the start would carry k6's setup, user registrations, into the load).
    cpu_start = start + resources["interval_s"]
    processes = {}
    for name, s in resources["processes"].items():
        cpu = _within(resources["t"], s["cpu_pct"], cpu_start, end)
        rss = _within(resources["t"], s["rss_mib"], start, end)
        if not cpu:
            continue
        first = _within(resources["t"], s["rss_mib"], start, start + third)
        last = _within(resources["t"], s["rss_mib"], end - third, end)
        processes[name] = {"cpu_mean_pct": _mean(cpu), "cpu_p95_pct": _p95(cpu), "cpu_max_pct": max(cpu),
                           "rss_first_third_mib": _mean(first), "rss_last_third_mib": _mean(last),
                           "rss_max_mib": max(rss) if rss else None}
    lag = resources["lag"]
    values = _within(lag["t"], lag["values"], start, end)
    # When each process first used HOT_PCT of a core in a sample (a staircase's first bottleneck).
    first_hot, hot_samples = {}, {}
    for name, s in resources["processes"].items():
        hot = [t for t, v in zip(resources["t"], s["cpu_pct"], strict=True)
               if cpu_start <= t <= end and v is not None and v >= HOT_PCT]
        if hot:
            first_hot[name], hot_samples[name] = round(hot[0] - start, 1), len(hot)
    busiest = max(processes, key=lambda n: processes[n]["cpu_p95_pct"]) if processes else None
    return {"interval_s": resources["interval_s"], "samples": len(_within(resources["t"], resources["t"],
                                                                          cpu_start, end)),
            "processes": dict(sorted(processes.items())),
            "busiest": busiest, "hot_pct": HOT_PCT,
            # Processes missing from a sample in the window: they exited (a crash, or a fault injected).
            "gone": sorted(name for name, s in resources["processes"].items()
                           if any(start <= t <= end and v is None
                                  for t, v in zip(resources["t"], s["cpu_pct"], strict=True))),
            "first_hot_s": dict(sorted(first_hot.items(), key=lambda item: item[1])),
            "hot_samples": hot_samples,
            "lag": {"query": lag["query"], "samples": len(values),
                    "median": statistics.median(values) if values else None,
                    "p95": _p95(values) if values else None, "max": max(values) if values else None,
                    **({"error": lag["error"]} if "error" in lag else {})}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.resources",
                                     description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="sample until SIGTERM/SIGINT, then write DIR/resources.json")
    rec.add_argument("directory", type=Path)
    rec.add_argument("--interval", type=float, default=5.0, help="seconds between samples (default 5)")
    args = parser.parse_args(argv)
    if not args.directory.is_dir():
        print(f"[resources] {args.directory} is not a directory", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        out = record(args.directory, args.interval)
        print(f"[resources] {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

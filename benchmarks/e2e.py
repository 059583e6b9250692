"""End to end: hold a fixed arrival rate, then count what the pipeline DELIVERED and how fast.

Delivered = the router's own record of DELIVERED transitions (`message_delivery_latency_seconds`
count, internal and external channels), sampled every second from /metrics while k6 runs and
until everything accepted is delivered (or the drain timeout says something was lost).
"""

from __future__ import annotations

import resource
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks import k6, pipeline
from benchmarks.processes import Sampler
from devstack.topology import Topology


def wait_drained(topology: Topology, timeout_s: float) -> None:
    """Wait until earlier steps' messages are all through: lag 0 and no delivery for 6 s (the
    workers sample lag every 5 s). Raises if the pipeline does not get there in time."""
    deadline, quiet_since, last = time.monotonic() + timeout_s, None, None
    while time.monotonic() < deadline:
        now = pipeline.snapshot(topology)
        if now.lag == 0 and last is not None and now.delivered == last.delivered:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= 6:
                return
        else:
            quiet_since = None
        last = now
        time.sleep(1)
    raise TimeoutError(f"the pipeline did not drain within {timeout_s:.0f}s (lag {last.lag:.0f})")


def wait_idle(topology: Topology, timeout_s: float) -> None:
    """wait_drained, through moments when a worker does not answer its /metrics (restarting in place
    or rejoining its group after a pause): raises only when `timeout_s` is over."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return wait_drained(topology, max(1.0, deadline - time.monotonic()))
        except OSError:  # TimeoutError included: given up only at our own deadline
            if time.monotonic() >= deadline:
                raise
            time.sleep(2)


def run(topology: Topology, rate: float, duration_s: float, users_file: Path,
        drain_timeout_s: float = 180) -> dict:
    wait_drained(topology, 600)
    before = pipeline.snapshot(topology)
    series: list[tuple[float, float, float]] = []  # (t, accepted, delivered) since `before`

    def sample() -> tuple[float, float, float]:
        now = pipeline.snapshot(topology)
        point = (time.monotonic(), now.accepted - before.accepted, now.delivered - before.delivered)
        series.append(point)
        return point

    sampler = Sampler()  # runs supervisorctl (our children) to find the pids: before the baseline
    children_before = children_cpu_s()
    with sampler as processes, ThreadPoolExecutor(1) as pool:
        load = pool.submit(k6.run, topology.api_url, rate, duration_s, users_file)
        while not load.done():
            sample()
            time.sleep(1)
        result = load.result()
        k6_cpu_s = children_cpu_s() - children_before  # k6 has exited: its CPU is ours now
        # What the API accepted (202 after Kafka's ack), not what k6 saw: a request k6 gave up on
        # may still have been accepted, and must then be delivered too.
        accepted = lambda: max(series[-1][1], result.accepted)  # noqa: E731
        deadline = time.monotonic() + drain_timeout_s
        while sample()[2] < accepted() and time.monotonic() < deadline:
            time.sleep(0.5)
    time.sleep(6)  # one more lag sample by the workers' stall watch (every 5 s)
    after = pipeline.snapshot(topology)
    delivered = after.delivered - before.delivered
    started = next((t for t, acc, _ in series if acc > 0), series[0][0])
    load_end = next(t for t, acc, _ in series if acc >= series[-1][1])
    total = int(accepted())
    done = next((t for t, _, dlv in series if dlv >= total), series[-1][0])
    during = next(dlv for t, _, dlv in series if t >= load_end)
    ms = lambda q: _ms(pipeline.quantile(q, before.buckets, after.buckets))  # noqa: E731
    return {
        "offered_rps": rate, "k6": result.__dict__, "accepted": total,
        "accepted_seen_by_k6": result.accepted, "delivered": int(delivered),
        # Signed: more DELIVERED transitions than acceptances would mean double counting.
        "delivered_minus_accepted": int(delivered) - total,
        "lost_messages": max(0, total - int(delivered)),
        "delivered_per_s": round(delivered / max(done - started, 1e-9), 1),
        "delivered_per_s_during_load": round(during / max(load_end - started, 1e-9), 1),
        "drain_s": round(max(0.0, done - load_end), 1),
        "p50_ms": ms(0.5), "p95_ms": ms(0.95), "p99_ms": ms(0.99),
        "final_lag": int(after.lag), "processes": processes.result, "k6_cpu_s": round(k6_cpu_s, 3),
        **cpu_per_message(processes.result, k6_cpu_s, int(delivered)),
    }


def cpu_per_message(processes: dict[str, dict], k6_cpu_s: float, delivered: int) -> dict:
    """CPU ms per delivered message: every process of the stack over the run (load and drain) plus
    the k6 that made the load; None when nothing was delivered."""
    if delivered <= 0:
        return {"cpu_ms_per_message": None, "cpu_ms_per_message_by_process": {}}
    by_process = {name: p["cpu_s"] * 1000 / delivered for name, p in processes.items()}
    by_process["k6"] = k6_cpu_s * 1000 / delivered
    return {"cpu_ms_per_message": round(sum(by_process.values()), 3),
            "cpu_ms_per_message_by_process": {n: round(v, 3) for n, v in sorted(by_process.items())}}


def children_cpu_s() -> float:
    """CPU time of this process's finished, waited-for children (k6 runs as one)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)

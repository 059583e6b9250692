"""Side-by-side ratio: the API's capacity over a bare hello server's, measured in pairs.

Each pair runs, one after the other with the same k6 script (loadtests/bench.js), the capacity
search (benchmarks.capacity: double, then bisect to 10 %) against:
  H  the hello server (benchmarks/hello.py): the same Python and aiohttp, no work;
  A  the API, with the workers running (each step starts on a drained pipeline);
  Ai the API, with the workers paused (benchmarks.pause): the API tier alone.
Every step is 25 s at a constant arrival rate, the first 5 s discarded (a warm-up scenario), and
passes with errors < 0.1 %, dropped iterations < 0.1 % and P95 < 50 ms. A pair's ratios are A/H and
Ai/H: both sides measured minutes apart, so a drift of the shared machine hits both; the summary
reports the median over pairs and its spread.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks import e2e, k6
from benchmarks.capacity import Search
from benchmarks.pause import Paused, worker_pids
from benchmarks.processes import pids
from benchmarks.stats import spread
from devstack.layout import REPO_DIR
from devstack.probes import http_answers
from devstack.topology import Topology

HELLO_PORT = 18099  # the benchmark's own do-nothing server (benchmarks/hello.py), not a stack service
MAX_ERROR_RATE, MAX_P95_MS = 0.001, 50.0
FIRST_START_RPS = 100.0
RESTART_FRACTION = 0.7  # later searches of a target start at 70 % of what earlier ones found

Log = Callable[[str], None]


@dataclass(frozen=True)
class StepTiming:
    """How each capacity step and search is run."""

    seconds: float = 25.0  # one capacity step, warm-up included
    discard_s: float = 5.0  # its first seconds, not measured
    precision: float = 0.1  # a search stops when its bracket is this narrow

    @property
    def measured_s(self) -> float:
        return self.seconds - self.discard_s


def search(name: str, url: str, users_file: Path | None, timing: StepTiming, start_rps: float,
           log: Log, before_step: Callable[[], None] = lambda: None) -> dict:
    """{"max_rps", "p95_ms_at_max", "start_rps", "steps"} of one capacity search."""
    found = Search(start_rps=start_rps, precision=timing.precision)

    def measure(rate: float) -> k6.Run:
        before_step()
        step = k6.run(url, rate, timing.measured_s, users_file, warmup_s=timing.discard_s)
        log(f"{name} {rate:7.0f}/s offered -> {step.achieved_rps:7.1f}/s, p95 {step.p95_ms:6.1f} ms, "
            f"errors {step.error_rate:.2%}, dropped {step.dropped}")
        return step

    best = found.find(measure, lambda r: r.sustained(MAX_ERROR_RATE, MAX_P95_MS))
    return {"max_rps": best.offered_rps if best else 0.0, "p95_ms_at_max": best.p95_ms if best else None,
            "start_rps": start_rps, "steps": [s.__dict__ for s in found.steps]}


def start_rate(earlier: Sequence[float]) -> float:
    """Where a search starts: FIRST_START_RPS, then 70 % of the median of earlier results (fewer
    doubling steps; the bisection still brackets the capacity from both sides)."""
    found = [v for v in earlier if v > 0]
    if not found:
        return FIRST_START_RPS
    return max(FIRST_START_RPS / 2, round(RESTART_FRACTION * statistics.median(found)))


@contextmanager
def hello_server(port: int = HELLO_PORT) -> Iterator[str]:
    server = subprocess.Popen([sys.executable, "-m", "benchmarks.hello", "--port", str(port)], cwd=REPO_DIR)
    try:
        deadline = time.monotonic() + 30
        while not http_answers(port, "/v1/messages") and time.monotonic() < deadline:
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def ratio(api: float | None, hello: float | None) -> float | None:
    return round(api / hello, 4) if api is not None and hello else None


def run_pair(topology: Topology, users_file: Path, timing: StepTiming, earlier: Sequence[dict],
             log: Log) -> dict:
    """H, A (workers running), Ai (workers paused); `earlier`: this run's previous pairs."""
    def start(key: str) -> float:
        return start_rate([p[key]["max_rps"] for p in earlier])

    e2e.wait_idle(topology, 900)  # like every A step: the machine not busy with an earlier backlog
    with hello_server() as url:
        hello = search("hello", url, None, timing, start("hello"), log)
    # Each step starts with an idle pipeline, not the previous step's backlog.
    api = search("api", topology.api_url, users_file, timing, start("api"), log,
                 before_step=lambda: e2e.wait_idle(topology, 900))
    e2e.wait_idle(topology, 900)
    workers = worker_pids(pids())
    with Paused(workers, log):
        isolated = search("api, workers paused", topology.api_url, users_file, timing,
                          start("api_isolated"), log)
    log("workers resumed: waiting for them to work off what the API accepted meanwhile")
    e2e.wait_idle(topology, 1800)
    return {"hello": hello, "api": api, "api_isolated": isolated, "paused": sorted(workers),
            "ratio": ratio(api["max_rps"], hello["max_rps"]),
            "ratio_isolated": ratio(isolated["max_rps"], hello["max_rps"])}


def ratios(pairs: Sequence[dict]) -> dict:
    """Median and spread of the per-pair ratios: running (A/H) and isolated (Ai/H)."""
    return {"api_to_baseline_ratio": spread((p["ratio"] for p in pairs), 4),
            "api_to_baseline_ratio_isolated": spread((p["ratio_isolated"] for p in pairs), 4)}

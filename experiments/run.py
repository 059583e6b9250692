"""What every experiment gets: its senders, the timeline, the load (k6) and the supervisor, plus
a small helper to probe an endpoint."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import k6
from chat4all_app.settings import Settings
from devstack import targets
from devstack.layout import Layout
from devstack.stack_client import Providers
from devstack.supervisor import Supervisor
from devstack.topology import Topology
from experiments.probe import Reading
from experiments.timeline import Timeline

RETRY_S = 120  # longer than any outage the experiments cause


@dataclass
class Run:
    """What a case gets: its senders, the timeline, the load and the supervisor."""

    users: list[dict]
    users_file: Path
    timeline: Timeline
    fast: bool
    settings: Settings = field(default_factory=Settings.from_env)
    loads: list[Future] = field(default_factory=list)
    _pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(4))

    @property
    def topology(self) -> Topology:
        return Topology.from_settings(self.settings)

    @property
    def providers(self) -> Providers:
        return Providers(self.topology)

    def load(self, rate: float, seconds: float, url: str | None = None, **env: str) -> Future:
        """k6 in the background. Like a careful client, it resends a message answered 5xx with the
        same message_id (for RETRY_S): a 503 whose message Kafka stored anyway then ends as one
        202 and one stored message instead of an unknown."""
        env = {"RETRY_S": str(RETRY_S)} | env
        future = self._pool.submit(k6.run, url or self.topology.api_url, rate, seconds, self.users_file, env)
        self.loads.append(future)
        return future

    def ctl(self, *args: str) -> str:
        layout = Layout.from_env()
        out = Supervisor(layout).ctl(*args, check=False)
        targets.after_ctl(layout, self.settings, args)  # Prometheus scrapes a spare while it runs
        return (out.stdout + out.stderr).strip()

    def pid(self, program: str) -> int:
        return int(self.ctl("pid", program))

    @property
    def last(self) -> Reading:
        return self.timeline.points[-1][1]

    def wait_drained(self, timeout: float = 600) -> float | None:
        """Lag 0 and no delivery for 6 s (workers sample their lag every few seconds)."""
        quiet: list[float] = []

        def drained() -> bool:
            (_, a), (_, b) = self.timeline.points[-2:]
            if b.lag == 0 and b.delivered_total == a.delivered_total:
                quiet.append(self.timeline.now())
                return self.timeline.now() - quiet[0] >= 6
            quiet.clear()
            return False

        return self.wait_for(drained, timeout, every=1.0)

    def until(self, t: float) -> None:
        time.sleep(max(0.0, t - self.timeline.now()))

    def wait_for(self, predicate: Callable[[], bool], timeout: float, every: float = 0.25) -> float | None:
        """Seconds on the timeline when predicate() first held, None on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return self.timeline.now()
            time.sleep(every)
        return None

    @property
    def accepted(self) -> int:
        return sum(f.result().accepted for f in self.loads)

    @property
    def resends(self) -> dict[str, int]:
        return {"retried": sum(f.result().retried for f in self.loads),
                "abandoned": sum(f.result().abandoned for f in self.loads)}


def status_of(url: str, timeout: float = 5.0, method: str = "GET", body: dict | None = None,
              headers: dict | None = None) -> tuple[int, float]:
    """(HTTP status or 0 for no answer, seconds it took)."""
    started = time.monotonic()
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data, {"Content-Type": "application/json", **(headers or {})},
                                 method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            code = resp.status
    except urllib.error.HTTPError as exc:
        code = exc.code
    except OSError:
        code = 0
    return code, time.monotonic() - started

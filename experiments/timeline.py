"""A reading every second while an experiment runs, and the faults it injected, on one clock."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

from chat4all_app.settings import Settings
from devstack.stack_client import GroupLag
from devstack.topology import Topology
from experiments.probe import Probe, Reading


@dataclass
class Timeline:
    interval_s: float = 1.0
    points: list[tuple[float, Reading]] = field(default_factory=list)
    marks: list[tuple[float, str]] = field(default_factory=list)  # (t, "kafka stopped")
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> Timeline:
        self.t0 = time.monotonic()
        self.wall0 = time.time()  # log lines carry wall-clock timestamps
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def now(self) -> float:
        return time.monotonic() - self.t0

    def _loop(self) -> None:
        settings = Settings.from_env()
        group_lag = GroupLag(settings.kafka_bootstrap_servers, "chat4all-router",
                             (settings.topic_messages, settings.topic_status))
        probe = Probe(Topology.from_settings(settings), group_lag)
        try:
            while True:
                reading = probe.read()
                self.points.append((self.now(), reading))
                if self._stop.wait(self.interval_s):
                    return
        finally:
            group_lag.close()

    def mark(self, label: str) -> float:
        t = self.now()
        self.marks.append((t, label))
        print(f"[experiment] t={t:6.1f}s {label}", flush=True)
        return t

    def rate(self, value, start: float, end: float) -> float:
        """Mean per-second increase of value(reading) between t=start and t=end."""
        inside = [(t, value(r)) for t, r in self.points if start <= t <= end]
        if len(inside) < 2:
            return 0.0
        (t0, v0), (t1, v1) = inside[0], inside[-1]
        return (v1 - v0) / max(t1 - t0, 1e-9)

    def series(self, value) -> list[tuple[float, float]]:
        """(t, per-second rate of value) between consecutive readings."""
        out = []
        for (ta, ra), (tb, rb) in zip(self.points, self.points[1:], strict=False):
            out.append((tb, max(0.0, (value(rb) - value(ra)) / max(tb - ta, 1e-9))))
        return out

    def mean_latency(self) -> list[tuple[float, float]]:
        """(t, mean accepted -> DELIVERED seconds of the deliveries in each interval); NaN for an
        interval without deliveries (no latency to show: a chart leaves a gap there)."""
        out = []
        for (_, ra), (tb, rb) in zip(self.points, self.points[1:], strict=False):
            n = rb.delivered_total - ra.delivered_total
            out.append((tb, (rb.latency_sum - ra.latency_sum) / n if n > 0 else math.nan))
        return out

    def recovery(self, value, fault_t: float, baseline: float, fraction: float = 0.9,
                 hold: int = 3) -> float | None:
        """Seconds from the fault until the rate of value is back to fraction * baseline for `hold`
        readings in a row, after it first fell below; 0.0 if it never fell, None if never back."""
        return recovery_time(self.series(value), fault_t, baseline, fraction, hold)

    def to_json(self) -> dict:
        return {"marks": [{"t": round(t, 2), "event": e} for t, e in self.marks],
                "points": [{"t": round(t, 2), "accepted": r.accepted, "delivered": dict(r.delivered),
                            "latency_sum": r.latency_sum,
                            "lag": r.lag, "router_group_lag": r.router_group_lag,
                            "router_committed": r.router_committed,
                            "api_errors": r.api_errors, "circuit": r.circuit,
                            "provider_calls": dict(r.provider_calls),
                            "accepted_by_api": {str(k): v for k, v in r.accepted_by_api.items()},
                            "processed_by_router": {str(k): v for k, v in r.processed_by_router.items()}}
                           for t, r in self.points]}

    @classmethod
    def from_json(cls, data: dict) -> Timeline:
        """The timeline `to_json` wrote (a result's "timeline"), to chart it again. Results written
        before latency_sum was recorded read it as 0 (`has_latency` tells)."""
        timeline = cls()
        timeline.marks = [(m["t"], m["event"]) for m in data["marks"]]
        timeline.points = [(p["t"], Reading(
            accepted=p["accepted"], api_errors=p.get("api_errors", 0.0), delivered=dict(p["delivered"]),
            latency_sum=p.get("latency_sum", 0.0), provider_calls=dict(p.get("provider_calls", {})),
            circuit=dict(p.get("circuit", {})), lag=p["lag"], router_group_lag=p.get("router_group_lag"),
            accepted_by_api={int(k): v for k, v in p.get("accepted_by_api", {}).items()},
            processed_by_router={int(k): v for k, v in p.get("processed_by_router", {}).items()},
            router_committed=dict(p.get("router_committed", {})))) for p in data["points"]]
        return timeline


def has_latency(data: dict) -> bool:
    """Whether a result's "timeline" recorded the delivery latency (older results lack latency_sum)."""
    return bool(data["points"]) and all("latency_sum" in p for p in data["points"])


def recovery_time(series: list[tuple[float, float]], fault_t: float, baseline: float,
                  fraction: float = 0.9, hold: int = 3) -> float | None:
    after = [(t, v) for t, v in series if t > fault_t]
    ok = [v >= fraction * baseline for _, v in after]
    dip = next((i for i, good in enumerate(ok) if not good), None)
    if dip is None:
        return 0.0
    back = next((i for i in range(dip, len(after) - hold + 1) if all(ok[i:i + hold])), None)
    return None if back is None else round(after[back][0] - fault_t, 2)


def error_window(timeline: Timeline, fault_t: float) -> tuple[float, float] | None:
    """(first, last) second after the fault in which the API answered POST /v1/messages with 5xx."""
    before = [r.api_errors for t, r in timeline.points if t <= fault_t]
    base = before[-1] if before else 0.0
    # Seconds after the fault whose reading shows new 5xx since the previous reading.
    errored = [tb for (_, ra), (tb, rb) in zip(timeline.points, timeline.points[1:], strict=False)
               if tb > fault_t and rb.api_errors > max(ra.api_errors, base)]
    return (round(errored[0] - fault_t, 1), round(errored[-1] - fault_t, 1)) if errored else None

"""End to end in steps: constant arrival rates in ascending order, each judged sustained or not.

One step (run_step): fresh senders (so the step's messages are exactly their conversations', for the
proof of delivery), a drained pipeline, then k6 at the rate for warm-up + hold (mixed internal /
WhatsApp / Instagram recipients, one address per conversation and channel so the providers' order
is checkable, careful clients that resend a 5xx with the same id). While it runs, every `sample_s`:
the API's accepted count, the router's DELIVERED count (both from their /metrics) and every consumer
group's lag from the broker. After it: the drain, CPU per process (k6 included) per delivered
message, the broker's produce requests vs records, delivery latency percentiles, then the proof of
delivery per message id. benchmarks.sustained judges the hold; the ascent stops at the first step
that is not sustained (it is still recorded).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from benchmarks import e2e, k6, lag, pipeline, proof, users
from benchmarks.broker import BrokerCounters, delta
from benchmarks.processes import Sampler
from benchmarks.sustained import Sample, judge
from devstack.topology import Topology

Log = Callable[[str], None]
START_POLL_S = 0.5  # how finely the start of the load is looked for (the hold is placed from it)
DRAIN_POLL_S = 0.5
FINAL_LAG_WAIT_S = 30.0  # committed offsets trail the processing by a commit interval or so


@dataclass(frozen=True)
class StepPlan:
    rates: tuple[float, ...] = (600, 1000, 1333, 1667)
    warmup_s: float = 15.0
    hold_s: float = 120.0
    sample_s: float = 2.0
    drain_limit_s: float = 10.0
    drain_timeout_s: float = 900.0  # an overloaded step's backlog still has to go before the next
    senders: int = 50
    # Resends of a 5xx stop before k6's gracefulStop (30 s) would cut an iteration off unaccounted.
    retry_s: float = 20.0


def ascend(rates: Sequence[float], measure: Callable[[float], dict]) -> list[dict]:
    """Measure the rates in ascending order; stop after the first step that is not sustained."""
    results = []
    for rate in sorted(rates):
        results.append(measure(rate))
        if not results[-1]["sustained"]:
            break
    return results


def highest_sustained(results: Sequence[dict]) -> float:
    """The highest sustained step's offered rate; 0.0 if none was."""
    return max((r["offered_rps"] for r in results if r["sustained"]), default=0.0)


class _Recorder:
    """The samples of one step, t in seconds since the load started (first acceptance seen)."""

    def __init__(self, topology: Topology, lags: lag.BrokerLag, before: pipeline.Snapshot):
        self.topology, self.lags, self.before = topology, lags, before
        self.started: float | None = None
        self.samples: list[Sample] = []
        self.last: pipeline.Snapshot | None = None

    def sample(self, with_lag: bool = True) -> Sample | None:
        try:
            snap = pipeline.snapshot(self.topology)
        except OSError:  # a service too busy to answer /metrics in time: skip this reading
            return None
        now = time.monotonic()
        accepted = snap.accepted - self.before.accepted
        if self.started is None:
            if accepted <= 0:
                return None
            self.started = now
        self.last = snap
        point = Sample(t=now - self.started, accepted=accepted,
                       delivered=snap.delivered - self.before.delivered,
                       lag=self.lags.read() if with_lag else {})
        self.samples.append(point)
        return point

    def since_start(self) -> float:
        return 0.0 if self.started is None else time.monotonic() - self.started


def run_step(topology: Topology, rate: float, plan: StepPlan, broker: BrokerCounters, log: Log) -> dict:
    senders = users.create(topology.api_url, plan.senders)
    with tempfile.TemporaryDirectory() as tmp:
        senders_file = Path(tmp) / "senders.json"
        senders_file.write_text(json.dumps(senders))
        e2e.wait_idle(topology, 900)
        env = {"RETRY_S": f"{plan.retry_s:g}", "ADDRESSES": "per-conversation", "RECIPIENTS": "mixed"}
        groups = lag.groups(topology)
        kafka0, kafka_t0 = broker.read(), time.monotonic()
        before = pipeline.snapshot(topology)
        with lag.BrokerLag(topology.kafka_bootstrap, groups) as lags:
            rec = _Recorder(topology, lags, before)
            sampler = Sampler()  # finds the stack's pids through supervisorctl: before children0,
            children0 = e2e.children_cpu_s()  # so that only k6 is our child in between
            with sampler as processes, ThreadPoolExecutor(1) as pool:
                load = pool.submit(k6.run, topology.api_url, rate, plan.hold_s, senders_file, env,
                                   warmup_s=plan.warmup_s)
                next_at = time.monotonic()
                while not load.done():
                    time.sleep(max(0.0, next_at - time.monotonic()))
                    rec.sample()
                    next_at += START_POLL_S if rec.started is None else plan.sample_s
                    next_at = max(next_at, time.monotonic())
                result = load.result()
                k6_cpu_s = e2e.children_cpu_s() - children0  # k6 has exited: its CPU is ours now
                # When arrivals stopped: k6's exit, or the end of its schedule if that is earlier
                # (our clock starts up to START_POLL_S after k6's): the drain is not flattered.
                load_end = min(rec.since_start(), plan.warmup_s + plan.hold_s - START_POLL_S)
                # What the API accepted (202 after Kafka's ack), not only what k6 saw answered.
                accepted = lambda: max(result.accepted_total, (rec.last.accepted - before.accepted)  # noqa: E731
                                       if rec.last else 0)
                # Finely while the drain may still pass (its time matters), then at the sampling pace.
                deadline, next_lag = time.monotonic() + plan.drain_timeout_s, time.monotonic()
                while time.monotonic() < deadline:
                    point = rec.sample(with_lag=time.monotonic() >= next_lag)
                    if point is not None and point.lag:
                        next_lag = time.monotonic() + plan.sample_s
                    if point is not None and point.delivered >= accepted():
                        break
                    fine = rec.since_start() - load_end <= plan.drain_limit_s + 2
                    time.sleep(DRAIN_POLL_S if fine else plan.sample_s)
            final_lag = _settled_lag(lags, FINAL_LAG_WAIT_S)
        kafka = delta(kafka0, broker.read(), time.monotonic() - kafka_t0)
        after = pipeline.snapshot(topology)
        total, delivered = int(accepted()), int(after.delivered - before.delivered)
        # Trim the hold's end by the start poll: k6's clock started up to that much before ours.
        hold = (plan.warmup_s, plan.warmup_s + plan.hold_s - START_POLL_S)
        verdict = judge(rec.samples, hold, rate, groups, load_end, total, plan.drain_limit_s)
        log(f"e2e {rate:g}/s: {'SUSTAINED' if verdict.sustained else 'not sustained'}; DELIVERED "
            f"{verdict.delivered_slope_per_s or 0:.1f}/s over the hold, drain {verdict.drain_s} s"
            + ("" if verdict.sustained else f" ({'; '.join(verdict.reasons())})"))
        evidence = proof.prove(topology, senders, result.accepted_total, result.abandoned_total)
        log(f"e2e {rate:g}/s: proof of delivery {'ok' if evidence.ok else 'FAILED'}: "
            f"{json.dumps({k: v for k, v in evidence.as_dict().items() if k not in ('by_status',)})}")
    ms = lambda q: _r(_ms(pipeline.quantile(q, before.buckets, after.buckets)))  # noqa: E731
    return {
        "offered_rps": rate, "warmup_s": plan.warmup_s, "hold_s": plan.hold_s,
        "sustained": verdict.sustained, "verdict": verdict.as_dict(),
        "delivered_per_s": _r(verdict.delivered_slope_per_s),
        "accepted_per_s": _r(verdict.accepted_slope_per_s),
        "drain_s": _r(verdict.drain_s), "k6": result.__dict__, "accepted": total,
        "delivered": delivered, "delivered_minus_accepted": delivered - total,
        "lost_messages": max(0, total - delivered),
        "p50_ms": ms(0.5), "p95_ms": ms(0.95), "p99_ms": ms(0.99),
        "final_lag": int(sum(v for v in final_lag.values() if v is not None)),
        "final_lag_by_group": final_lag,
        "processes": processes.result, "k6_cpu_s": round(k6_cpu_s, 3),
        **e2e.cpu_per_message(processes.result, k6_cpu_s, delivered),
        "kafka": kafka | ({"problem": broker.problem} if kafka["produce_requests"] is None else {}),
        "proof": evidence.as_dict(), "proof_ok": evidence.ok,
        "series": _series(rec.samples, groups),
    }


def _settled_lag(lags: lag.BrokerLag, timeout_s: float) -> dict[str, float | None]:
    """Every group's lag once it reads 0 everywhere, or as it is after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        now = lags.read()
        if all(v == 0 for v in now.values()) or time.monotonic() >= deadline:
            return now
        time.sleep(1)


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def _series(samples: Sequence[Sample], groups: Sequence[str]) -> dict:
    """The step's samples, column-wise (for the chart and for anyone re-judging the step)."""
    return {"t": [round(s.t, 2) for s in samples], "accepted": [int(s.accepted) for s in samples],
            "delivered": [int(s.delivered) for s in samples],
            "lag": {g: [s.lag.get(g) for s in samples] for g in groups}}


def run_steps(topology: Topology, plan: StepPlan, broker: BrokerCounters, log: Log) -> list[dict]:
    return ascend(plan.rates, lambda rate: run_step(topology, rate, plan, broker, log))

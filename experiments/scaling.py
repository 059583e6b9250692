"""Scale-out and failover: a second router worker, a second API process, a worker killed.

Every process here shares the machine's 2 cores, so a second worker started as it is would only
compete with the first. The scale experiments give each measured worker a CPU quota of its own
(`cpu_quota.py`, cgroups): each is a node of known size, and the shared parts (Kafka, Cassandra,
the other roles, k6) run on what is left. The failover experiment needs no quota: it measures
time, not capacity.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from statistics import median

from benchmarks.processes import cpu_seconds
from chat4all_app.settings import Settings
from devstack.probes import http_answers
from experiments.cpu_quota import CpuQuota
from experiments.rebalances import RebalanceLog
from experiments.run import Run
from experiments.takeover import first_commit_after, lag_back_at, stalled_at_kill


def _start_second_router(x: Run, log: RebalanceLog, timeout: float = 300) -> float | None:
    """Start router-2 and wait until both workers restored their tables and process again."""
    t_start = x.timeline.mark("router-2 started")
    x.ctl("start", "router-2")
    return _wait_recovered(x, log, ("router", "router-2"), t_start, timeout)


def _wait_recovered(x: Run, log: RebalanceLog, programs: tuple[str, ...], since: float,
                    timeout: float) -> float | None:
    def recovered() -> bool:
        done = {line["process"] for line in log.lines()
                if line["t"] >= since and "Recovery complete" in line["message"]}
        return done >= set(programs)

    t = x.wait_for(recovered, timeout, every=1.0)
    if t is not None:
        x.timeline.mark("rebalance done: tables recovered")
    return t


def _wait_idle(x: Run, programs: tuple[str, ...], below: float = 0.15, timeout: float = 600) -> float | None:
    """Wait until each worker uses less than `below` of a core with no load: a new standby first
    replays the changelog of the partitions it follows, and that must not run under the quota."""
    pids = {p: x.pid(p) for p in programs}

    def idle() -> bool:
        before = {p: cpu_seconds(pid) for p, pid in pids.items()}
        time.sleep(3)
        return all((cpu_seconds(pid) - before[p]) / 3 < below for p, pid in pids.items())

    t = x.wait_for(idle, timeout, every=0.0)
    if t is not None:
        x.timeline.mark("workers idle (standby replay done)")
    return t


def _per_s(x: Run, field: str, ports: dict[str, int], start: float, end: float) -> dict:
    """Rate of one per-instance counter of the probe (`field`, keyed by port), per program name."""
    return {name: round(x.timeline.rate(lambda r, p=port: getattr(r, field).get(p, 0.0), start, end), 1)
            for name, port in ports.items()}


CONNECTORS = ("connector-whatsapp", "connector-instagram")
# External recipients only, connectors paused while measuring: a routed message then costs the router
# the same work in every phase (store, publish to its channel). With connectors running, the status
# events of what they deliver come back to the same router workers, and how many come back in a
# window depends on how far the connectors got: phases would compare different mixes of work.
RECIPIENTS = "whatsapp"


def scale_workers(x: Run) -> dict:
    """Same offered load, more than one quota-bound router finishes, with 1 then 2 router workers."""
    cores, rate, seconds, warm, repeats = (0.1, 150, 25, 8, 1) if x.fast else (0.1, 200, 50, 12, 2)
    log = RebalanceLog(("router", "router-2"), x.timeline.wall0)
    x.ctl("stop", "router-2")
    phases = []
    try:
        # Alternating 1, 2, 1, 2 workers: a drift of the shared machine hits both sizes alike.
        for workers in (("router",), ("router", "router-2")) * repeats:
            if workers == ("router",) and phases:
                t_stop = x.timeline.mark("router-2 stopped")
                x.ctl("stop", "router-2")
                _wait_recovered(x, log, ("router",), t_stop, 120)
            elif workers == ("router", "router-2") and _start_second_router(x, log) is None:
                raise RuntimeError("router-2 did not finish its rebalance within 300 s")
            _wait_idle(x, workers)
            for connector in CONNECTORS:
                x.ctl("stop", connector)
            with ExitStack() as stack:
                quotas = {w: stack.enter_context(CpuQuota(w, x.pid(w), cores)) for w in workers}
                throttled0 = {w: q.throttled_s() for w, q in quotas.items()}
                t0 = x.timeline.mark(f"{rate}/s offered, {len(workers)} router worker(s) of {cores} core, "
                                     "connectors paused")
                run = x.load(rate, seconds, RECIPIENTS=RECIPIENTS).result()
                t1 = x.timeline.now()
                window = (t0 + warm, t1)
                phases.append({
                    "workers": len(workers),
                    "routed_per_s": round(x.timeline.rate(lambda r: r.routed, *window), 1),
                    "delivered_per_s": round(x.timeline.rate(lambda r: r.delivered_total, *window), 1),
                    "messages_processed_per_s_by_instance": _per_s(
                        x, "processed_by_router", {w: x.topology.process(w).port for w in workers}, *window),
                    "accepted_per_s": round(run.accepted / seconds, 1),
                    "quota_throttled_s": {w: round(q.throttled_s() - throttled0[w], 1)
                                          for w, q in quotas.items()},
                    "window_s": [round(window[0], 1), round(window[1], 1)]})
            x.timeline.mark("quota lifted, connectors resumed: drain")
            for connector in CONNECTORS:
                x.ctl("start", connector)
            if x.wait_drained(600) is None:  # the next phase must not start on a backlog
                raise RuntimeError("the pipeline did not drain within 600 s after a phase")
    finally:
        x.ctl("stop", "router-2")
        for connector in CONNECTORS:
            x.ctl("start", connector)
    t1 = median(p["routed_per_s"] for p in phases if p["workers"] == 1)
    t2 = median(p["routed_per_s"] for p in phases if p["workers"] == 2)
    ratio = round(t2 / t1, 3) if t1 else 0.0
    split = phases[-1]["messages_processed_per_s_by_instance"]
    # Each 2-worker phase against the 1-worker phase just before it: how much the machine drifted.
    pair_ratios = [round(b["routed_per_s"] / a["routed_per_s"], 3)
                   for a, b in zip(phases[::2], phases[1::2], strict=True) if a["routed_per_s"]]
    return {"regime": f"CPU quota of {cores} core per router worker (cgroup), standing in for separate "
                      "nodes; Kafka, Cassandra, API and k6 share the rest of the 2 cores; messages to "
                      f"{RECIPIENTS} only, connectors paused while measuring (their status events are "
                      "applied in the drain between phases)",
            "offered_rps": rate, "t1_per_s": t1, "t2_per_s": t2, "ratio": ratio, "pair_ratios": pair_ratios,
            "per_worker_events_per_s": {n: median(sum(p["messages_processed_per_s_by_instance"].values()) / n
                                                  for p in phases if p["workers"] == n) for n in (1, 2)},
            "repeats": repeats, "phases": phases,
            "rebalance_log": log.lines(),
            "checks": {"offered load is more than one worker finishes": t1 < 0.9 * rate,
                       "both workers processed (split)": min(split.values()) > 0.25 * max(split.values()),
                       "ratio >= 1.8": ratio >= 1.8}}


def _max_sustained(x: Run, url: str, start: float, seconds: float, p95_ms: float) -> tuple[float, list]:
    """Open model (constant arrival rate): raise the rate by 15 % a step until a step is not served
    (P95 over p95_ms, errors, or k6 had to drop iterations). The last served rate is the maximum."""
    steps, best, rate = [], 0.0, start
    while True:
        # VUs allocated up front: k6 drops iterations while it creates VUs mid-run.
        run = x.load(rate, seconds, url=url, PRE_VUS="300", MAX_VUS="600").result()
        ok = run.sustained(max_error_rate=0.001, max_p95_ms=p95_ms)
        steps.append({"offered_rps": round(rate), "accepted_per_s": round(run.accepted / seconds, 1),
                      "p95_ms": round(run.p95_ms, 1), "error_rate": round(run.error_rate, 4),
                      "dropped": run.dropped, "served": ok})
        if not ok:
            return best, steps
        best, rate = rate, rate * 1.15


def scale_api(x: Run) -> dict:
    """Max sustainable rate through nginx with 1 then 2 API processes, each of a CPU quota."""
    # The first step must be one a single process serves: since the API reserves each message id in
    # Cassandra and checks membership (issues 16, 22), one process of 0.2 core no longer serves 150/s.
    cores, seconds, start, p95_ms = (0.2, 6, 40, 200) if x.fast else (0.2, 10, 40, 200)
    lb = x.topology.lb_url
    x.ctl("stop", "api-2")
    # The routers are paused: this measures the API tier alone, not the pipeline behind it (Kafka
    # keeps every accepted message; the accounting at the end waits for all of them).
    x.ctl("stop", "router")
    x.timeline.mark("router paused (API tier measured alone)")
    phases = []
    try:
        for apis in (("api",), ("api", "api-2")):
            if apis == ("api", "api-2"):
                x.ctl("start", "api-2")
                x.wait_for(lambda: http_answers(x.topology.process("api-2").port, "/health"), 60)
                x.until(x.timeline.now() + 6)  # nginx retries a failed upstream after fail_timeout 5 s
            with ExitStack() as stack:
                quotas = {a: stack.enter_context(CpuQuota(a, x.pid(a), cores)) for a in apis}
                throttled0 = {a: q.throttled_s() for a, q in quotas.items()}
                t0 = x.timeline.mark(f"rate steps via nginx, {len(apis)} API process(es) of {cores} core")
                # Two processes start where one stopped: the steps below it are served by one already
                # (where one served nothing, from the first step again).
                first = (phases[0]["max_sustained_rps"] if phases else 0) or start
                best, steps = _max_sustained(x, lb, first, seconds, p95_ms)
                t1 = x.timeline.now()
                phases.append({
                    "api_processes": len(apis), "max_sustained_rps": round(best), "steps": steps,
                    "accepted_per_s_by_instance_all_steps": _per_s(
                        x, "accepted_by_api", {a: x.topology.process(a).port for a in apis}, t0, t1),
                    "quota_throttled_s": {a: round(q.throttled_s() - throttled0[a], 1)
                                          for a, q in quotas.items()},
                    "window_s": [round(t0, 1), round(t1, 1)]})
    finally:
        x.ctl("start", "router")
        x.timeline.mark("router resumed")
        x.ctl("stop", "api-2")
    r1, r2 = phases[0]["max_sustained_rps"], phases[1]["max_sustained_rps"]
    ratio = round(r2 / r1, 3) if r1 else 0.0
    split = phases[1]["accepted_per_s_by_instance_all_steps"]
    return {"regime": f"CPU quota of {cores} core per API process (cgroup); nginx round robin, no "
                      f"session affinity; routers paused while measuring; served = P95 <= {p95_ms} ms, "
                      "errors <= 0.1 %, no dropped iterations",
            "rate_1_per_s": r1, "rate_2_per_s": r2, "ratio": ratio, "phases": phases,
            "checks": {"requests spread over both processes (each > 40 %)":
                           min(split.values()) > 0.4 * sum(split.values()),
                       "ratio >= 1.7": ratio >= 1.7}}


def failover(x: Run) -> dict:
    """Two router workers under steady load; SIGKILL one, restart it later."""
    rate, kill_at, restart_at, end = (40, 15, 30, 45) if x.fast else (100, 60, 120, 180)
    warm = kill_at / 3
    log = RebalanceLog(("router", "router-2"), x.timeline.wall0)
    settings = Settings.from_env()
    try:
        if _start_second_router(x, log) is None:
            raise RuntimeError("router-2 did not finish its rebalance within 300 s")
        t0 = x.timeline.mark(f"load {rate}/s")
        load = x.load(rate, end, ADDRESSES="per-conversation")
        x.until(t0 + kill_at)
        t_kill = x.timeline.mark("router SIGKILL")
        x.ctl("signal", "KILL", "router")
        x.until(t0 + restart_at)
        t_restart = x.timeline.mark("router restarted")
        x.ctl("start", "router")
        load.result()
        x.wait_for(lambda: x.last.router_group_lag == 0, 120, every=1.0)
    finally:
        x.ctl("stop", "router-2")
        x.ctl("start", "router")
    before = x.timeline.rate(lambda r: r.delivered_total, t0 + warm, t_kill)
    recovery = x.timeline.recovery(lambda r: r.delivered_total, t_kill, before)
    after_kill = [r.router_group_lag for t, r in x.timeline.points
                  if t >= t_kill and r.router_group_lag is not None]
    before_kill = [r.router_group_lag for t, r in x.timeline.points
                   if t0 + warm <= t < t_kill and r.router_group_lag is not None]
    rebalances = log.lines()
    assigned = sorted({line["t"] for line in rebalances if "Setting newly assigned" in line["message"]})
    # The survivor's takeover, and whether it commits what it took over (broker-side offsets).
    takeover = next((line["t"] for line in rebalances
                     if line["process"] == "router-2" and "Setting newly assigned" in line["message"]
                     and t_kill < line["t"] < t_restart), None)
    points = x.timeline.points
    stalled = stalled_at_kill(points, t_kill, takeover) if takeover else {}
    delays = first_commit_after(points, stalled, takeover) if takeover else {}
    # "Back to its pre-kill level": within half again the median before the kill.
    level = 1.5 * median(before_kill) if before_kill else None
    lag_back = lag_back_at(points, takeover, level) if takeover and level is not None else None
    return {"offered_rps": rate, "killed": "router (SIGKILL)", "kill_at_s": round(t_kill - t0, 1),
            "restart_at_s": round(t_restart - t0, 1),
            "delivered_per_s_before": round(before, 1), "recovery_s": recovery,
            "max_lag": max(after_kill, default=None),
            "median_lag_before": median(before_kill) if before_kill else None,
            "commit_interval_s": settings.broker_commit_interval_s,
            "takeover_at_s": round(takeover - t0, 1) if takeover else None,
            "taken_over_committed_after_s": delays,
            "lag_back_at_s": round(lag_back - t0, 1) if lag_back else None,
            "broker_session_timeout_s": settings.broker_session_timeout_s,
            "rebalance_timestamps_s": assigned,
            "rebalance_log": rebalances,
            "checks": {"the survivor took the partitions over (rebalance after the kill)":
                           any(t_kill < t < t_restart for t in assigned),
                       "the survivor committed every partition it took over, before the restart":
                           bool(delays) and all(d is not None and takeover + d < t_restart
                                                for d in delays.values()),
                       "lag back to its pre-kill level (1.5 x median) before the restart":
                           lag_back is not None and lag_back < t_restart,
                       "recovered (delivered rate back to >= 90 %)": recovery is not None}
            # The 10 s target is a measurement of the full run; the fast variant (make test) checks
            # behaviour only, not a time on a shared machine.
            | ({} if x.fast else {"recovery <= 10 s": recovery is not None and recovery <= 10})}

"""The fault experiments. Each drives the stack through its supervisor while k6 holds a load, marks
the faults on the timeline and returns its figures plus named checks (what the issue requires)."""

from __future__ import annotations

import subprocess
import uuid
from collections import Counter
from collections.abc import Callable

from benchmarks import accounting
from chat4all_app.storage.cassandra import connect
from experiments import alerting, scaling
from experiments.run import Run, status_of
from experiments.timeline import error_window


def connector_isolation(x: Run) -> dict:
    rate, before, outage, after = (60, 10, 12, 5) if x.fast else (150, 30, 30, 20)
    load = x.load(rate, before + outage + after, ADDRESSES="per-conversation")
    x.until(before)
    t_stop = x.timeline.mark("connector-instagram stopped")
    x.ctl("stop", "connector-instagram")
    x.until(before + 2)  # sends in flight at the stop have landed
    received_during = [len(x.providers.ledger("instagram")["received"])]
    x.until(before + outage)
    t_end = x.timeline.now()  # the WhatsApp window ends here: the listing below is not part of it
    received_during.append(len(x.providers.ledger("instagram")["received"]))
    pending = accounting.account_run(x.topology.api_url, x.users, {})["by_status"]
    x.timeline.mark("connector-instagram started")
    x.ctl("start", "connector-instagram")
    load.result()
    wa = lambda r: r.delivered.get("whatsapp", 0.0)  # noqa: E731
    wa_before = x.timeline.rate(wa, before / 3, t_stop)  # after k6's warm-up
    wa_during = x.timeline.rate(wa, t_stop + 2, t_end)
    ratio = wa_during / wa_before if wa_before else 0.0
    return {"offered_rps": rate, "whatsapp_delivered_per_s_before": round(wa_before, 1),
            "whatsapp_delivered_per_s_during": round(wa_during, 1), "whatsapp_ratio": round(ratio, 3),
            "statuses_at_restart": pending, "stopped_at_s": round(t_stop, 1),
            # Isolation = no loss of WhatsApp throughput; it may rise (the stopped connector's CPU is free).
            "checks": {"whatsapp not slowed by more than 10 %": ratio >= 0.90,
                       "instagram messages PENDING while stopped": pending.get("PENDING", 0) > 0,
                       "no instagram message left while stopped": received_during[0] == received_during[1]}}


def circuit_breaker(x: Run) -> dict:
    rate, before, broken, after = (30, 6, 10, 5) if x.fast else (60, 20, 30, 20)
    fail_max = x.settings.circuit_fail_max
    calls = lambda: x.timeline.points[-1][1].provider_calls.get("instagram", 0.0)  # noqa: E731
    state = lambda: x.timeline.points[-1][1].circuit.get("instagram")  # noqa: E731
    load = x.load(rate, before + broken + after, RECIPIENTS="instagram", ADDRESSES="per-conversation")
    x.until(before)
    attempts0 = sum(x.providers.ledger("instagram")["attempts"].values())
    t_err = x.timeline.mark("provider in error mode")
    x.providers.configure("instagram", mode="error")
    t_open = x.wait_for(lambda: state() == 1, timeout=30)
    attempts_to_open = sum(x.providers.ledger("instagram")["attempts"].values()) - attempts0
    x.timeline.mark("circuit OPEN")
    calls_open0, t_calls0 = calls(), x.timeline.now()
    x.until(before + broken)
    calls_while_open = calls() - calls_open0
    open_window = x.timeline.now() - t_calls0
    pending = accounting.account_run(x.topology.api_url, x.users, {})["by_status"]
    t_fix = x.timeline.mark("provider fixed")
    x.providers.configure("instagram", mode="up")
    t_closed = x.wait_for(lambda: state() == 0, timeout=60)
    if t_closed is not None:
        x.timeline.mark("circuit CLOSED")
    load.result()
    return {"offered_rps": rate, "circuit_fail_max": fail_max,
            "open_after_s": None if t_open is None else round(t_open - t_err, 2),
            "provider_attempts_until_open": attempts_to_open,
            "provider_calls_while_open": calls_while_open, "open_window_s": round(open_window, 1),
            "circuit_reset_s": x.settings.circuit_reset_s, "statuses_while_open": pending,
            "closed_after_fix_s": None if t_closed is None else round(t_closed - t_fix, 2),
            "checks": {"opened": t_open is not None,
                       # Concurrent conversations may each get a trial call per half-open window.
                       "fails fast while open (provider calls < 5 % of the messages held)":
                           calls_while_open < 0.05 * rate * open_window,
                       "messages PENDING while open": pending.get("PENDING", 0) > 0,
                       "closed again after the fix": t_closed is not None}}


def statuses_in_cassandra(x: Run, query: str) -> dict[str, int]:
    """Count the statuses the query returns for each of the run's conversations, read in Cassandra."""
    cluster, session = connect(x.settings)
    try:
        statement = session.prepare(query)
        found = Counter(row.status for entry in x.users
                        for row in session.execute(statement, [uuid.UUID(entry["conversation_id"])]))
    finally:
        cluster.shutdown()
    return dict(found)


def store_and_forward(x: Run) -> dict:
    rate, seconds, offline = (20, 6, 5) if x.fast else (50, 20, 10)
    query = (f"SELECT message_id, status FROM {x.settings.cassandra_keyspace}.messages "
             "WHERE conversation_id = ?")
    t_stop = x.timeline.mark("connector-instagram stopped")
    x.ctl("stop", "connector-instagram")
    load = x.load(rate, seconds, TO="instagram:@offline_user")
    run = load.result()
    x.until(t_stop + seconds + offline)
    statuses = statuses_in_cassandra(x, query)
    t_start = x.timeline.mark("connector-instagram started")
    x.ctl("start", "connector-instagram")
    total = run.accepted

    def all_delivered() -> bool:
        ledger = x.providers.ledger("instagram")
        return len(ledger["order"].get("@offline_user", [])) >= total

    t_done = x.wait_for(all_delivered, timeout=180, every=0.5)
    if t_done is not None:
        x.timeline.mark("all DELIVERED")
    return {"offered_rps": rate, "accepted": total, "statuses_while_offline": statuses,
            "cassandra_query": query,
            "delivered_after_restart_s": None if t_done is None else round(t_done - t_start, 2),
            "checks": {"all 202": run.error_rate == 0 and total > 0,
                       "all PENDING while offline": statuses == {"PENDING": total},
                       "all DELIVERED after restart": t_done is not None}}


def health_detection(x: Run) -> dict:
    rate, before, down, after = (30, 6, 10, 10) if x.fast else (80, 15, 25, 30)
    health = f"{x.topology.api_url}/health"
    load = x.load(rate, before + down + after, RECIPIENTS="mixed")
    x.until(before)
    t_stop = x.timeline.mark("kafka stopped")
    x.ctl("stop", "kafka")
    t_503 = x.wait_for(lambda: status_of(health)[0] == 503, timeout=60)
    healthcheck = subprocess.run(["curl", "-fsS", "-o", "/dev/null", "--max-time", "10", health]).returncode
    post = status_of(f"{x.topology.api_url}/v1/messages", timeout=30, method="POST",
                     body={"conversation_id": x.users[0]["conversation_id"], "content": "while down"},
                     headers={"Authorization": f"Bearer {x.users[0]['token']}"})
    x.until(before + down)
    t_start = x.timeline.mark("kafka started")
    x.ctl("start", "kafka")
    t_200 = x.wait_for(lambda: status_of(health)[0] == 200, timeout=180)
    if t_200 is not None:
        x.timeline.mark("api healthy")
    run = load.result()
    return {"offered_rps": rate, "detection_s": None if t_503 is None else round(t_503 - t_stop, 2),
            "recovery_s": None if t_200 is None else round(t_200 - t_start, 2),
            "healthcheck_exit_code_while_down": healthcheck,
            "post_while_down": {"status": post[0], "seconds": round(post[1], 2)},
            "kafka_publish_timeout_s": x.settings.kafka_publish_timeout_s,
            "client_error_rate": round(run.error_rate, 4),
            "api_5xx_window_s_after_stop": error_window(x.timeline, t_stop),
            "checks": {"/health 503 within 60 s": t_503 is not None,
                       "healthcheck unhealthy": healthcheck != 0,
                       "healthy again": t_200 is not None,
                       "POST while Kafka is down: 503, no hang":
                           post[0] == 503 and post[1] <= x.settings.kafka_publish_timeout_s + 2}}


def broker_restart(x: Run) -> dict:
    return _restart_under_load(x, "kafka")


def cassandra_restart(x: Run) -> dict:
    return _restart_under_load(x, "cassandra")


def _restart_under_load(x: Run, name: str) -> dict:
    rate, before, after = (30, 6, 30) if x.fast else (100, 20, 60)
    load = x.load(rate, before + after, RECIPIENTS="mixed")
    x.until(before)
    t_restart = x.timeline.mark(f"{name} restart")
    x.ctl("restart", name)
    x.timeline.mark(f"{name} back (supervisor)")
    run = load.result()
    window = error_window(x.timeline, t_restart)
    end = before + after
    accepting_again = x.timeline.rate(lambda r: r.accepted, end - 5, end) > 0.5 * rate
    return {"offered_rps": rate, "client_error_rate": round(run.error_rate, 4),
            "client_errors": round(run.error_rate * run.requests),
            "api_5xx_window_s_after_restart": window,
            "checks": {"API accepts again without manual action": accepting_again}}


CASES: dict[str, Callable[[Run], dict]] = {
    "scale-workers": scaling.scale_workers,
    "scale-api": scaling.scale_api,
    "failover": scaling.failover,
    "alerts": alerting.alerts,
    "connector-isolation": connector_isolation,
    "circuit-breaker": circuit_breaker,
    "store-and-forward": store_and_forward,
    "health-detection": health_detection,
    "broker-restart": broker_restart,
    "cassandra-restart": cassandra_restart,
}
# One line each, for `python -m experiments` without a name (and an unknown one).
DESCRIPTIONS = {
    "scale-workers": "1 then 2 router workers (CPU quota each), same offered load: throughput ratio",
    "scale-api": "max sustained rate through nginx, 1 then 2 API processes (CPU quota each)",
    "failover": "one of two router workers SIGKILLed under load: takeover, recovery time",
    "alerts": "each alert class provoked, then fixed, under load: fires and resolves (~23 min)",
    "connector-isolation": "connector-instagram stopped: WhatsApp not slowed, Instagram held PENDING",
    "circuit-breaker": "Instagram provider erroring: the circuit opens, fails fast, closes after the fix",
    "store-and-forward": "recipient offline (connector stopped): PENDING, then all DELIVERED",
    "health-detection": "Kafka stopped under load: /health 503, POST 503 without hanging, healthy again",
    "broker-restart": "Kafka restarted under load: the API accepts again without manual action",
    "cassandra-restart": "Cassandra restarted under load: the API accepts again without manual action",
}
CHANNELS = {"connector-isolation": ("whatsapp", "instagram"), "circuit-breaker": ("instagram",)}

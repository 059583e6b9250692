"""Pipeline accounting around a k6 run: what was accepted, what was delivered, what is still in Kafka.

    python -m benchmarks.accounting            print a snapshot of the stack's counters (JSON)
    python -m benchmarks.accounting before DIR write DIR/pipeline-before.json (run-loadtest.sh)
    python -m benchmarks.accounting after DIR --since T --k6-exit RC
                                               wait for the pipeline to drain, account for the run,
                                               write DIR/pipeline.json (format below)

Two accountings, because the stack may carry other traffic while a load test runs:

- ``global``: deltas of stack-wide counters between the two snapshots — Prometheus
  ``messages_accepted_total``, ``messages_sent_total{channel,status}``,
  ``message_delivery_latency_seconds_count{channel}`` ("internal" = delivered user-to-user) and
  the provider mocks' ledgers (``GET /admin/ledger``: message ids received). Exact only when
  nothing else used the stack during the run.
- ``run``: exactly the messages of this run: k6's setup data (in ``--summary-export``) names the
  run's conversations and tokens; every message of those conversations is listed through the API
  and counted as delivered when it is DELIVERED/READ (internal) or in its provider's ledger
  (whatsapp:/instagram: recipients). The tokens are then removed from k6-summary.json.

pipeline.json::

    {"version": 1, "case": "02-baseline", "k6_exit_code": 0,
     "accepted": 598,            # k6: POST /v1/messages answered 202 (counter `accepted`)
     "delivered": 598,           # run-scoped delivered (internal + providers)
     "lost": 0,                  # max(0, accepted - delivered)
     "duplicates": 0,            # run messages a provider received more than once
     "final_lag": 0,             # sum(kafka_consumer_lag) when the drain wait ended
     "drain": {"drained": true, "waited_s": 11.2, "final_lag": 0, "lag_by_topic": {...}},
     "run": {"conversations": 20, "stored": 598, "by_channel": {...}, "by_status": {...},
             "delivered": {"internal": 200, "whatsapp": 199, "instagram": 199, "total": 598},
             "failed": 0, "pending": 0, "duplicates": 0, "settled_after_s": 0.4},
     "global": {"messages_accepted": 598, "provider_messages": {"whatsapp": 199, ...},
                "provider_deliveries": 398, "internal_delivered": 200, "delivered": 598,
                "messages_sent": {"whatsapp/SENT": 199, ...}, "note": "..."},
     "before": {...snapshot...}, "after": {...snapshot...}}

Where the stack is: devstack.topology (PROMETHEUS_URL, CHAT4ALL_API_URL, PROVIDER_<CHANNEL>_URL
override it). Environment: STALL_CHECK_INTERVAL_S (5: how often the workers sample their lag),
DRAIN_TIMEOUT_S (120).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any

from chat4all_app.recipients import Recipient
from chat4all_app.settings import Settings
from devstack.stack_client import Prometheus, Providers, get_json, wait_drained
from devstack.topology import Topology, local

# Workers report lag once per stall check: a sample is fresh one interval after a moment.
STALL_INTERVAL_S = Settings.from_env().stall_check_interval_s
DRAIN_TIMEOUT_S = float(os.environ.get("DRAIN_TIMEOUT_S", "120"))
SERIES = ('{__name__=~"kafka_consumer_lag|messages_accepted_total|messages_sent_total'
          '|message_delivery_latency_seconds_count"}')
DELIVERED_STATUSES = {"DELIVERED", "READ"}


def log(msg: str) -> None:
    print(f"[pipeline] {msg}", file=sys.stderr, flush=True)


def sample_time(prometheus: Prometheus) -> float | None:
    """Oldest scrape time among the series this module reads (None: Prometheus has none)."""
    return prometheus.sample_time(SERIES)


def wait_fresh(prometheus: Prometheus, not_before: float, timeout: float = 15.0) -> float | None:
    return prometheus.wait_fresh(SERIES, not_before, timeout)


def ledgers(topology: Topology) -> dict[str, dict[str, int]]:
    """Per channel: {message_id: times received} from the provider mocks ({} if unreachable)."""
    out = {}
    for channel in topology.channels:
        try:
            out[channel] = Providers(topology).ledger(channel)["received"]
        except (OSError, ValueError, KeyError) as exc:
            log(f"ledger of {channel} unavailable: {exc}")
            out[channel] = {}
    return out


def snapshot(topology: Topology, received: dict[str, dict[str, int]] | None = None) -> dict:
    received = ledgers(topology) if received is None else received
    snap: dict[str, Any] = {"time": time.time(), "ledgers": {
        ch: {"messages": len(r), "deliveries": sum(r.values())} for ch, r in received.items()}}
    prometheus = Prometheus(topology.prometheus_url)
    try:
        lag_by_topic = prometheus.lag_by_topic()
        snap["prometheus"] = {
            "sample_time": sample_time(prometheus),
            "messages_accepted_total": prometheus.scalar("sum(messages_accepted_total)") or 0.0,
            "messages_sent_total": {f"{m.get('channel')}/{m.get('status')}": v for m, v in
                                    prometheus.query("sum by (channel, status) (messages_sent_total)")},
            "delivered_total": {m.get("channel", "?"): v for m, v in prometheus.query(
                "sum by (channel) (message_delivery_latency_seconds_count)")},
            "consumer_lag": sum(lag_by_topic.values()),
            "lag_by_topic": lag_by_topic,
        }
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        log(f"Prometheus unavailable: {exc}")
        snap["prometheus"] = None
    return snap


def conversation_messages(api_url: str, entry: dict) -> list[dict]:
    """Every message of one run conversation (message_id, recipient_id, status), all pages."""
    out, cursor = [], None
    headers = {"Authorization": f"Bearer {entry['token']}"}
    while True:
        params = {"limit": "500"} | ({"cursor": cursor} if cursor else {})
        url = (f"{api_url}/v1/conversations/{entry['conversation_id']}/messages?"
               + urllib.parse.urlencode(params))
        body = get_json(url, headers=headers, timeout=60, retries=4)
        out += [{"id": m["message_id"], "to": m.get("recipient_id"), "status": m.get("status")}
                for m in body["messages"]]
        cursor = body.get("next_cursor")
        if not cursor:
            return out


def channel_of(recipient: str | None) -> str:
    """The recipient's channel, or "internal" for a member (or no recipient)."""
    return (Recipient.read(recipient).channel if recipient else None) or "internal"


def run_messages(api_url: str, setup_data: list[dict]) -> list[list[dict]]:
    """Every run conversation's messages (acceptance order), one list per conversation."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(partial(conversation_messages, api_url), setup_data))


def account_run(api_url: str, setup_data: list[dict], received: dict[str, dict[str, int]],
                pages: list[list[dict]] | None = None) -> dict:
    """`pages`: what run_messages(api_url, setup_data) returned, if the caller already listed them."""
    pages = run_messages(api_url, setup_data) if pages is None else pages
    by_channel, by_status, delivered, duplicates = Counter(), Counter(), Counter(), 0
    for messages in pages:
        for m in messages:
            ch = channel_of(m["to"])
            by_channel[ch] += 1
            by_status[m["status"]] += 1
            if ch == "internal":
                delivered[ch] += m["status"] in DELIVERED_STATUSES
            else:
                n = received.get(ch, {}).get(m["id"], 0)
                delivered[ch] += n > 0
                duplicates += n > 1
    stored = sum(by_channel.values())
    total = sum(delivered.values())
    failed = by_status.get("FAILED", 0)  # final (a provider 4xx), not lost
    return {"conversations": len(setup_data), "stored": stored, "by_channel": dict(by_channel),
            "by_status": dict(by_status), "delivered": dict(delivered) | {"total": total},
            "failed": failed, "pending": stored - total - failed, "duplicates": duplicates}


def global_deltas(before: dict, after: dict) -> dict:
    out: dict[str, Any] = {"note": "stack-wide counter deltas: include any other traffic during the run"}
    bl, al = before.get("ledgers", {}), after.get("ledgers", {})
    out["provider_messages"] = {ch: al[ch]["messages"] - bl.get(ch, {}).get("messages", 0) for ch in al}
    out["provider_deliveries"] = sum(al[ch]["deliveries"] - bl.get(ch, {}).get("deliveries", 0) for ch in al)
    bp, ap = before.get("prometheus"), after.get("prometheus")
    if bp and ap:
        out["messages_accepted"] = ap["messages_accepted_total"] - bp["messages_accepted_total"]
        out["messages_sent"] = {k: v - bp["messages_sent_total"].get(k, 0.0)
                                for k, v in ap["messages_sent_total"].items()}
        out["internal_delivered"] = (ap["delivered_total"].get("internal", 0.0)
                                     - bp["delivered_total"].get("internal", 0.0))
        out["delivered"] = sum(out["provider_messages"].values()) + out["internal_delivered"]
    if any(v < 0 for v in out["provider_messages"].values()):
        out["note"] += "; a provider ledger shrank (reset during the run?)"
    if any(v < 0 for v in [out.get("messages_accepted", 0), out.get("internal_delivered", 0),
                           *out.get("messages_sent", {}).values()]):
        out["note"] += "; a counter went backwards (a process restarted during the run?)"
    return out


def k6_summary(directory: Path) -> dict:
    path = directory / "k6-summary.json"
    return json.loads(path.read_text()) if path.exists() else {}


def scrub_tokens(directory: Path, summary: dict) -> None:
    """The setup data in --summary-export carries bearer tokens: keep only the ids."""
    data = summary.get("setup_data")
    if isinstance(data, list) and any(isinstance(e, dict) and any(k.endswith("token") for k in e)
                                      for e in data):
        summary["setup_data"] = [{k: v for k, v in e.items() if not k.endswith("token")} for e in data]
        (directory / "k6-summary.json").write_text(json.dumps(summary, indent=2))


def drain(prometheus: Prometheus, since: float, timeout: float) -> dict:
    """Wait for sum(kafka_consumer_lag) == 0 in samples taken after `since` + one stall-watch
    interval, so the lag gauge itself was computed after the load stopped."""
    return asdict(wait_drained(prometheus, since + STALL_INTERVAL_S, timeout, log))


def after(topology: Topology, directory: Path, since: float, k6_exit: int | None, case: str | None,
          timeout: float) -> dict:
    started = time.time()
    prometheus = Prometheus(topology.prometheus_url)
    drained = drain(prometheus, since, timeout)
    wait_fresh(prometheus, drained["sample_time"] or time.time(), timeout=10)
    received = ledgers(topology)
    snap_after = snapshot(topology, received)
    before_path = directory / "pipeline-before.json"
    snap_before = json.loads(before_path.read_text()) if before_path.exists() else None

    summary = k6_summary(directory)
    accepted = int(summary.get("metrics", {}).get("accepted", {}).get("count", 0))
    setup_data = summary.get("setup_data")
    run = None
    if isinstance(setup_data, list) and setup_data and all("token" in e for e in setup_data):
        settle_until = max(started + timeout, time.time() + 10)
        while True:  # statuses may trail the lag gauge by a moment: re-count until complete
            try:
                run = account_run(topology.api_url, setup_data, received)
                run["settled_after_s"] = round(time.time() - started, 1)
                if run["stored"] >= accepted and run["pending"] <= 0:
                    break
                problem = f"not settled yet: {run}"
            except (OSError, ValueError, KeyError) as exc:
                problem = f"listing the run's messages failed: {exc!r}"
            if time.time() > settle_until:
                log(problem)
                break
            time.sleep(2)
            received = ledgers(topology)
        scrub_tokens(directory, summary)
    else:
        log("no setup data with tokens in k6-summary.json: run-scoped accounting skipped")

    report = {
        "version": 1, "case": case, "k6_exit_code": k6_exit,
        "accepted": accepted,
        "delivered": run["delivered"]["total"] if run else None,
        "lost": max(0, accepted - run["delivered"]["total"]) if run else None,
        "duplicates": run["duplicates"] if run else None,
        "final_lag": drained["final_lag"],
        "drain": {k: v for k, v in drained.items() if k != "sample_time"},
        "run": run,
        "global": global_deltas(snap_before, snap_after) if snap_before else None,
        "before": snap_before, "after": snap_after,
    }
    (directory / "pipeline.json").write_text(json.dumps(report, indent=2))
    if before_path.exists():
        before_path.unlink()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd")
    b = sub.add_parser("before", help="snapshot before the run into DIR/pipeline-before.json")
    b.add_argument("dir", type=Path)
    b.add_argument("--drain-timeout", type=float, default=float(os.environ.get("PRE_DRAIN_TIMEOUT_S", "20")),
                   help="wait up to this long for earlier traffic to drain first (default 20)")
    a = sub.add_parser("after", help="drain, snapshot and account into DIR/pipeline.json")
    a.add_argument("dir", type=Path)
    a.add_argument("--since", type=float, required=True, help="epoch seconds when the load stopped")
    a.add_argument("--k6-exit", type=int, default=None)
    a.add_argument("--case", default=None)
    a.add_argument("--timeout", type=float, default=DRAIN_TIMEOUT_S)
    args = parser.parse_args(argv)

    topology = local()
    if args.cmd is None:
        print(json.dumps(snapshot(topology), indent=2))
        return 0
    args.dir.mkdir(parents=True, exist_ok=True)
    if args.cmd == "before":
        now = time.time()
        prometheus = Prometheus(topology.prometheus_url)
        if args.drain_timeout > 0:  # earlier traffic still in flight would count as this run's
            drain(prometheus, now - STALL_INTERVAL_S, args.drain_timeout)
        wait_fresh(prometheus, now)
        (args.dir / "pipeline-before.json").write_text(json.dumps(snapshot(topology), indent=2))
        return 0
    report = after(topology, args.dir, args.since, args.k6_exit, args.case, args.timeout)
    log(f"accepted {report['accepted']}, delivered {report['delivered']}, lost {report['lost']}, "
        f"duplicates {report['duplicates']}, final lag {report['final_lag']} "
        f"(drained: {report['drain']['drained']} after {report['drain']['waited_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

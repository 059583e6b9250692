"""Exact accounting of one experiment's own messages: accepted (202s) == stored rows == delivered
(provider ledgers for external recipients, DELIVERED/READ for internal ones), duplicates == 0,
and per recipient the provider saw the messages in acceptance order."""

from __future__ import annotations

import time
from collections import defaultdict

from benchmarks import accounting
from chat4all_app.recipients import Recipient
from devstack.stack_client import Providers
from devstack.topology import Topology


def out_of_order(pages: list[list[dict]], ledgers: dict[str, dict]) -> int:
    """Recipients whose provider order differs from acceptance order (per-conversation addresses).
    `pages`: each run conversation's messages in acceptance order (accounting.run_messages)."""
    bad = 0
    for messages in pages:
        expected: dict[str, list[str]] = defaultdict(list)
        for m in messages:
            channel = accounting.channel_of(m["to"])
            if channel != "internal":
                expected[m["to"]].append(m["id"])
        for recipient, ids in expected.items():
            to = Recipient.read(recipient)
            channel, address = to.channel, to.address
            wanted = set(ids)
            seen = [i for i in ledgers[channel]["order"].get(address, []) if i in wanted]
            bad += seen != ids
    return bad


def account(topology: Topology, users: list[dict], accepted: int, retried: int = 0, abandoned: int = 0,
            settle_timeout_s: float = 180) -> dict:
    """Waits (up to the timeout) until every stored message is delivered, then counts.

    `retried`: resends after a 5xx (same message_id); `abandoned`: messages the client gave up on
    without a 202 — they may be stored or not, so any makes the accounting inexact."""
    deadline = time.monotonic() + settle_timeout_s
    while True:
        ledgers = {c: Providers(topology).ledger(c) for c in topology.channels}
        pages = accounting.run_messages(topology.api_url, users)
        received = {c: lg["received"] for c, lg in ledgers.items()}
        run = accounting.account_run(topology.api_url, users, received, pages)
        # Settled: every accepted message stored (the router may still be catching up) and out.
        if (run["stored"] >= accepted and run["pending"] == 0) or time.monotonic() > deadline:
            break
        time.sleep(2)
    return {"accepted": accepted, "retried": retried, "abandoned": abandoned,
            "stored": run["stored"], "delivered": run["delivered"]["total"],
            "failed": run["failed"], "pending": run["pending"], "duplicates": run["duplicates"],
            "lost": max(0, accepted - run["delivered"]["total"] - run["failed"]),
            "by_channel": run["by_channel"], "by_status": run["by_status"],
            "out_of_order_recipients": out_of_order(pages, ledgers),
            "exact": (accepted == run["stored"] == run["delivered"]["total"] and run["duplicates"] == 0
                      and abandoned == 0)}

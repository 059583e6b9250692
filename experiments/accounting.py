"""Exact accounting of one experiment's own messages: accepted (202s) == stored rows == delivered
(provider ledgers for external recipients, DELIVERED/READ for internal ones), duplicates == 0,
and per recipient the provider saw the messages in acceptance order."""

from __future__ import annotations

import importlib.util
import json
import time
import urllib.request
from collections import defaultdict

from devstack.layout import REPO_DIR

# scripts/pipeline_snapshot.py (make loadtest's accounting) is a script, not a package module.
_spec = importlib.util.spec_from_file_location("pipeline_snapshot", REPO_DIR / "scripts/pipeline_snapshot.py")
snapshot = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(snapshot)

MOCKS = {"whatsapp": "http://127.0.0.1:9101", "instagram": "http://127.0.0.1:9102"}


def ledger(channel: str) -> dict:
    with urllib.request.urlopen(f"{MOCKS[channel]}/admin/ledger", timeout=30) as resp:
        return json.load(resp)


def out_of_order(pages: list[list[dict]], ledgers: dict[str, dict]) -> int:
    """Recipients whose provider order differs from acceptance order (per-conversation addresses).
    `pages`: each run conversation's messages in acceptance order (snapshot.run_messages)."""
    bad = 0
    for messages in pages:
        expected: dict[str, list[str]] = defaultdict(list)
        for m in messages:
            channel = snapshot.channel_of(m["to"])
            if channel != "internal":
                expected[m["to"]].append(m["id"])
        for recipient, ids in expected.items():
            channel, address = recipient.split(":", 1)
            wanted = set(ids)
            seen = [i for i in ledgers[channel]["order"].get(address, []) if i in wanted]
            bad += seen != ids
    return bad


def account(users: list[dict], accepted: int, retried: int = 0, abandoned: int = 0,
            settle_timeout_s: float = 180) -> dict:
    """Waits (up to the timeout) until every stored message is delivered, then counts.

    `retried`: resends after a 5xx (same message_id); `abandoned`: messages the client gave up on
    without a 202 — they may be stored or not, so any makes the accounting inexact."""
    deadline = time.monotonic() + settle_timeout_s
    while True:
        ledgers = {c: ledger(c) for c in MOCKS}
        pages = snapshot.run_messages(users)
        run = snapshot.account_run(users, {c: lg["received"] for c, lg in ledgers.items()}, pages)
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

"""Proof of delivery for every message of one end-to-end step, by message id.

The step's senders are its own (fresh users, one conversation each, made for the step), so the
step's messages are exactly those conversations' messages, listed through the API in acceptance
order (benchmarks.accounting). For each one:

- a row, once, in DELIVERED (or READ, which comes after it);
- an external one (whatsapp:/instagram:) received exactly once by its provider (the mock's ledger:
  `received[id] == 1`), and per recipient address the provider's order equals acceptance order;
- as many rows as the API answered 202 for (k6 `accepted`, warm-up included), and no message k6
  abandoned without a 202 (`abandoned`: it may or may not be stored, so any makes the proof inexact).
"""

from __future__ import annotations

import sys
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from benchmarks import accounting
from chat4all_app.recipients import Recipient
from devstack.stack_client import Providers
from devstack.topology import Topology

DELIVERED_STATUSES = accounting.DELIVERED_STATUSES
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Proof:
    accepted: int  # 202s k6 counted
    abandoned: int  # messages k6 gave up on without a 202
    stored: int  # distinct message ids listed in the step's conversations
    duplicate_rows: int  # a message id listed more than once
    not_delivered: int  # stored, but not DELIVERED/READ
    external: int  # stored with a whatsapp:/instagram: recipient
    ledger_missing: int  # external ids their provider never received
    ledger_duplicates: int  # external ids their provider received more than once
    recipients: int  # external addresses whose order was checked
    out_of_order_recipients: int
    by_status: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)  # a few offending ids, to look up

    @property
    def ok(self) -> bool:
        return (self.stored == self.accepted and self.abandoned == 0 and self.duplicate_rows == 0
                and self.not_delivered == 0 and self.ledger_missing == 0 and self.ledger_duplicates == 0
                and self.out_of_order_recipients == 0)

    def as_dict(self) -> dict:
        return asdict(self) | {"proof_ok": self.ok}


def check(pages: Sequence[Sequence[Mapping[str, Any]]], ledgers: Mapping[str, Mapping[str, Any]],
          accepted: int, abandoned: int) -> Proof:
    """`pages`: per conversation its messages ({id, to, status}) in acceptance order; `ledgers`: per
    channel the provider's GET /admin/ledger ({"received": {id: n}, "order": {address: [id, ...]}})."""
    seen: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    expected: dict[tuple[str, str], list[str]] = defaultdict(list)  # (channel, address) -> ids in order
    not_delivered = missing = duplicates = external = 0
    examples: list[str] = []

    def example(text: str) -> None:
        if len(examples) < MAX_EXAMPLES:
            examples.append(text)

    for messages in pages:
        for m in messages:
            seen[m["id"]] += 1
            if seen[m["id"]] > 1:
                continue
            by_status[str(m["status"])] += 1
            if m["status"] not in DELIVERED_STATUSES:
                not_delivered += 1
                example(f"{m['id']}: {m['status']}")
            if not m.get("to") or accounting.channel_of(m["to"]) == "internal":
                continue
            external += 1
            to = Recipient.read(m["to"])
            channel = str(to.channel)
            n = ledgers.get(channel, {}).get("received", {}).get(m["id"], 0)
            if n == 0:
                missing += 1
                example(f"{m['id']}: not received by {channel}")
            elif n > 1:
                duplicates += 1
                example(f"{m['id']}: received {n} times by {channel}")
            expected[(channel, to.address)].append(m["id"])
    out_of_order = 0
    for (channel, address), ids in expected.items():
        wanted = set(ids)
        got = [i for i in ledgers.get(channel, {}).get("order", {}).get(address, []) if i in wanted]
        arrived = set(got)
        if got != [i for i in ids if i in arrived]:  # missing ones are counted above, not here
            out_of_order += 1
            example(f"{channel}:{address}: provider order differs from acceptance order")
    return Proof(accepted=accepted, abandoned=abandoned, stored=len(seen),
                 duplicate_rows=sum(n - 1 for n in seen.values()), not_delivered=not_delivered,
                 external=external, ledger_missing=missing, ledger_duplicates=duplicates,
                 recipients=len(expected), out_of_order_recipients=out_of_order,
                 by_status=dict(by_status), examples=examples)


def prove(topology: Topology, senders: list[dict], accepted: int, abandoned: int,
          settle_timeout_s: float = 180) -> Proof:
    """List the step's messages and read the ledgers until every accepted message is stored and
    delivered (statuses can trail the DELIVERED count by a moment), at most `settle_timeout_s`."""
    deadline = time.monotonic() + settle_timeout_s
    while True:
        try:
            ledgers = {c: Providers(topology).ledger(c) for c in topology.channels}
            proof = check(accounting.run_messages(topology.api_url, senders), ledgers, accepted, abandoned)
        except (OSError, ValueError, KeyError) as exc:
            if time.monotonic() > deadline:
                raise
            print(f"[bench] proof: listing failed ({exc!r}), again", file=sys.stderr, flush=True)
            time.sleep(2)
            continue
        settled = proof.stored >= accepted and proof.not_delivered == 0 and proof.ledger_missing == 0
        if settled or time.monotonic() > deadline:
            return proof
        time.sleep(2)

"""Acceptance ids: time-UUIDs minted by the API when Kafka acknowledged a message.

They order a conversation's messages (Cassandra clustering key) and carry the acceptance time,
which is where delivery latency starts — also for events, such as webhook receipts, that carry
only the ids.
"""

from __future__ import annotations

import os
import uuid

# Time-UUIDs from several API processes on one host must not collide: give each process its own
# random node id instead of the shared MAC address (uuid1 keeps timestamps increasing within it).
_NODE = int.from_bytes(os.urandom(6), "big") | (1 << 40)  # multicast bit: not a real MAC
_UUID_EPOCH = 0x01B21DD213814000  # 1582-10-15 -> 1970-01-01 in 100 ns ticks


def accepted_id() -> uuid.UUID:
    return uuid.uuid1(node=_NODE)


def accepted_epoch(accepted: str) -> float:
    """Epoch seconds at which `accepted_id()` minted this id."""
    return (uuid.UUID(accepted).time - _UUID_EPOCH) / 1e7

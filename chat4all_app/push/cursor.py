"""Where a WebSocket client is in the updates topic: the next offset per partition.

Kafka's offsets are the same for every API process, so a client that reconnects through another
replica resumes exactly where it was. On the wire the cursor is opaque to clients: "p:offset"
pairs joined by commas ("0:12,1:40,…").
"""

from __future__ import annotations

from collections.abc import Mapping

from chat4all_app.errors import Invalid

Positions = dict[int, int]  # partition -> next offset to push
MAX_CURSOR_CHARS = 4096


def encode(positions: Mapping[int, int]) -> str:
    return ",".join(f"{p}:{o}" for p, o in sorted(positions.items()))


def decode(text: str) -> Positions:
    """The positions a client sent back; Invalid for anything this module did not write."""
    if not isinstance(text, str) or not text or len(text) > MAX_CURSOR_CHARS:
        raise Invalid("'cursor' must be a cursor string the server sent")
    positions: Positions = {}
    for pair in text.split(","):
        partition, sep, offset = pair.partition(":")
        if not sep or not partition.isdigit() or not offset.isdigit() or int(partition) in positions:
            raise Invalid("'cursor' is not a cursor the server sent")
        positions[int(partition)] = int(offset)
    return positions


def behind(since: Mapping[int, int], until: Mapping[int, int]) -> int | None:
    """How many updates lie between two positions; None if `since` does not cover `until`'s
    partitions (a cursor of another topic layout). A partition where `since` is ahead counts 0:
    the client came from a replica whose feed was further on, and this one skips what it had."""
    if set(since) != set(until):
        return None
    return sum(max(0, until[p] - since[p]) for p in until)

"""Refuse to process past a hole in a partition's offsets.

Our topics are neither compacted nor transactional, so a partition's offsets are contiguous: an
agent that sees offset 41 and then 43 has lost 42 somewhere between the broker and the stream.
Faust can do that (records fetched while it filters a partition out, see `stall_watch`); going on
would send message 43 before 42 — out of order, and 42 only after the next restart. A worker that
sees a hole restarts instead: Faust then seeks to the committed offset (42) and replays in order;
the agents are idempotent, so the replay of what was already handled is harmless.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from faust.types import TP, EventT


@dataclass(frozen=True)
class Hole:
    tp: TP
    expected: int
    got: int


@dataclass
class OffsetContinuity:
    _next: dict[TP, int] = field(default_factory=dict)

    def holes(self, events: Sequence[EventT]) -> list[Hole]:
        """Check a batch (in arrival order) and remember where each partition is."""
        found = []
        for event in events:
            tp, offset = event.message.tp, event.message.offset
            expected = self._next.get(tp)
            if expected is not None and offset > expected:
                found.append(Hole(tp, expected, offset))
            # A lower offset is a replay (after a seek or rebalance): continuity restarts there.
            self._next[tp] = offset + 1
        return found

    def forget(self, tps: Iterable[TP]) -> None:
        """Revoked partitions: whoever gets them next starts from the committed offset."""
        for tp in tps:
            self._next.pop(tp, None)

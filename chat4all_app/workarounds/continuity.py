"""Refuse to process past a hole in a partition's offsets.

Our topics are neither compacted nor transactional, so a partition's offsets are contiguous: an
agent that sees offset 41 and then 43 has lost 42 somewhere between the broker and the stream.
Faust can do that (records fetched while it filters a partition out, see `stall_watch`); going on
would send message 43 before 42 — out of order, and 42 only after the next restart. A worker that
sees a hole restarts instead: Faust then seeks to the committed offset (42) and replays in order;
the agents are idempotent, so the replay of what was already handled is harmless.

A partition just assigned (or never seen) starts where Faust seeks it, its committed offset: a
rebalance can drop the records buffered for the stream while records fetched before it still
arrive, so the first batch after an assignment can begin past the committed offset. Seen in CI
(compose, a stopped connector started again): a conversation's 3rd to 7th messages reached the
provider before its 1st and 2nd, which came in only after Faust's seek.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from faust.types import TP, EventT


@dataclass(frozen=True)
class Hole:
    tp: TP
    expected: int
    got: int
    after_assignment: bool = False  # expected is the committed offset, not an offset seen here


@dataclass
class OffsetContinuity:
    # Where a partition with no offset seen here starts: its committed offset, None if unknown.
    start_of: Callable[[TP], int | None] = lambda tp: None
    _next: dict[TP, int] = field(default_factory=dict)

    def holes(self, events: Sequence[EventT]) -> list[Hole]:
        """Check a batch (in arrival order) and remember where each partition is."""
        found = []
        for event in events:
            tp, offset = event.message.tp, event.message.offset
            expected, assigned = self._next.get(tp), False
            if expected is None:
                expected, assigned = self.start_of(tp), True
            if expected is not None and offset > expected:
                found.append(Hole(tp, expected, offset, assigned))
            # A lower offset is a replay (after a seek or rebalance): continuity restarts there.
            self._next[tp] = offset + 1
        return found

    def forget(self, tps: Iterable[TP]) -> None:
        """Revoked partitions: whoever gets them next starts from the committed offset."""
        for tp in tps:
            self._next.pop(tp, None)


def real_holes(holes: Sequence[Hole], earliest: Mapping[TP, int]) -> list[Hole]:
    """The holes that are losses: a partition whose committed offset retention has deleted starts
    at its earliest offset (Kafka's offset reset), which is not a hole."""
    return [h for h in holes if not (h.after_assignment and h.got <= earliest.get(h.tp, -1))]

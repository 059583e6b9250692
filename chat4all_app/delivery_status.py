"""The delivery-status state machine: monotonic, never goes backwards.

ACCEPTED -> PENDING -> SENT -> DELIVERED -> READ, and FAILED (terminal, with a reason) for a
permanent error before delivery. READ needs DELIVERED first: a message is read only once it has
reached its reader (the API refuses /read before that; a channel's receipt saying READ before
DELIVERED contradicts what we know). A late or repeated event that would move a message backwards
is ignored, which makes applying status events idempotent and order-insensitive.

`transition()` tells the three cases apart: APPLY, STALE (a late or repeated event: ignore it) and
IMPOSSIBLE (it contradicts what happened: worth dead-lettering, not retrying).
"""

from enum import Enum, StrEnum


class Status(StrEnum):
    ACCEPTED = "ACCEPTED"
    PENDING = "PENDING"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    READ = "READ"
    FAILED = "FAILED"


class Transition(Enum):
    APPLY = "apply"
    STALE = "stale"            # repeated, or overtaken by a later status: nothing to do
    IMPOSSIBLE = "impossible"  # contradicts the current status (READ before DELIVERED, ...)


_RANK = {Status.ACCEPTED: 0, Status.PENDING: 1, Status.SENT: 2, Status.DELIVERED: 3, Status.READ: 4}
TERMINAL = frozenset({Status.READ, Status.FAILED})
_BEFORE_DELIVERY = frozenset({Status.ACCEPTED, Status.PENDING, Status.SENT})


def transition(current: Status | None, new: Status) -> Transition:
    """What an event saying `new` means for a message in `current` (None: no status known yet,
    e.g. a message the router stored as DELIVERED or PENDING without a status event)."""
    if current is None:
        return Transition.APPLY
    if new is current:
        return Transition.STALE
    if current is Status.FAILED or new is Status.FAILED:
        # Nothing follows a failure; a failure after delivery contradicts the delivery.
        return Transition.APPLY if current in _BEFORE_DELIVERY else Transition.IMPOSSIBLE
    if new is Status.READ and current is not Status.DELIVERED:
        return Transition.IMPOSSIBLE  # READ only after DELIVERED
    return Transition.APPLY if _RANK[new] > _RANK[current] else Transition.STALE


def can_transition(current: Status | None, new: Status) -> bool:
    """True if a message in `current` may move to `new`."""
    return transition(current, new) is Transition.APPLY

"""The delivery-status state machine: monotonic, never goes backwards.

ACCEPTED -> PENDING -> SENT -> DELIVERED -> READ, and FAILED (terminal, with a reason) for a
permanent error before delivery. A late or repeated event that would move a message backwards is
ignored, which makes applying status events idempotent and order-insensitive.
"""

from enum import StrEnum


class Status(StrEnum):
    ACCEPTED = "ACCEPTED"
    PENDING = "PENDING"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    READ = "READ"
    FAILED = "FAILED"


_RANK = {Status.ACCEPTED: 0, Status.PENDING: 1, Status.SENT: 2, Status.DELIVERED: 3, Status.READ: 4}
TERMINAL = frozenset({Status.READ, Status.FAILED})


def can_transition(current: Status | None, new: Status) -> bool:
    """True if a message in `current` may move to `new`."""
    if current is None:
        return True
    if current in TERMINAL:
        return False
    if new is Status.FAILED:
        return current in (Status.ACCEPTED, Status.PENDING, Status.SENT)
    return _RANK[new] > _RANK[current]

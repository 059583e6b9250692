"""What aiobreaker keeps to itself: when a circuit opened, and how to start a breaker from a snapshot.

aiobreaker 1.2 has no public accessor for the time its circuit opened (only `opens_at`, which mixes
local and UTC time) and no way to restore a breaker; both go through its state storage. It
compares `opened_at` with `datetime.utcnow()`, so it holds naive UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiobreaker import CircuitBreaker, CircuitBreakerState
from aiobreaker.storage.memory import CircuitMemoryStorage

from chat4all_app.workarounds.pins import Private

PRIVATE = (Private("aiobreaker.circuitbreaker:CircuitBreaker", "_state_storage", instance=True),)


def opened_at(breaker: CircuitBreaker) -> float | None:
    """Epoch seconds of the last time the circuit opened (None: never)."""
    naive_utc = breaker._state_storage.opened_at
    return naive_utc.replace(tzinfo=UTC).timestamp() if naive_utc else None


def restored_storage(state: CircuitBreakerState, fail_counter: int,
                     opened_at_epoch: float | None) -> CircuitMemoryStorage:
    """State storage for a new breaker that resumes where a snapshot left off."""
    storage = CircuitMemoryStorage(state)
    for _ in range(fail_counter):  # the storage has no setter for its counter
        storage.increment_counter()
    if opened_at_epoch:
        storage.opened_at = datetime.fromtimestamp(opened_at_epoch, UTC).replace(tzinfo=None)
    return storage

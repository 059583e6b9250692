"""The per-channel circuit breaker (aiobreaker), restorable from a snapshot.

CLOSED: calls go through; `fail_max` consecutive transient failures open it. OPEN: calls fail
fast until `reset_s` elapsed, then one trial call runs HALF_OPEN: success closes, failure reopens.
Permanent (4xx) errors are excluded: a bad message is not a sick provider.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from aiobreaker import CircuitBreaker, CircuitBreakerListener, CircuitBreakerState
from aiobreaker.storage.memory import CircuitMemoryStorage

from chat4all_app.connectors.provider_client import PermanentError
from chat4all_app.records import BreakerSnapshot

# The gauge encoding documented for circuit_breaker_state{channel}.
STATE_VALUE = {"CLOSED": 0, "OPEN": 1, "HALF_OPEN": 2}


def _naive_utc(epoch: float) -> datetime:
    # aiobreaker compares opened_at with datetime.utcnow(), a naive UTC datetime.
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)


def _epoch(naive_utc: datetime | None) -> float | None:
    return naive_utc.replace(tzinfo=UTC).timestamp() if naive_utc else None


def snapshot(channel: str, breaker: CircuitBreaker, state: str) -> BreakerSnapshot:
    # `state` comes from the listener: aiobreaker notifies listeners *before* it writes the new
    # state to its storage (`self.state = self._state_storage.state = X`), so storage is stale.
    return BreakerSnapshot(channel=channel, state=state,
                           fail_counter=breaker.fail_counter,
                           opened_at=_epoch(breaker._state_storage.opened_at), at=time.time())


class _Notify(CircuitBreakerListener):
    def __init__(self, on_change: Callable[[str, str, str], None]):
        self.on_change = on_change

    def state_change(self, breaker, old, new) -> None:
        self.on_change(breaker.name, old.state.name if old else "NONE", new.state.name)


def make_breaker(channel: str, fail_max: int, reset_s: float,
                 restored: BreakerSnapshot | None = None,
                 on_change: Callable[[str, str, str], None] | None = None) -> CircuitBreaker:
    state = CircuitBreakerState[restored.state] if restored else CircuitBreakerState.CLOSED
    storage = CircuitMemoryStorage(state)
    if restored:
        for _ in range(restored.fail_counter):
            storage.increment_counter()
        if restored.opened_at:
            storage.opened_at = _naive_utc(restored.opened_at)
    return CircuitBreaker(fail_max=fail_max, timeout_duration=timedelta(seconds=reset_s),
                          exclude=[PermanentError], state_storage=storage, name=channel,
                          listeners=[_Notify(on_change)] if on_change else [])

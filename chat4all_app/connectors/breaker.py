"""The per-channel circuit breaker (aiobreaker), restorable from a snapshot.

CLOSED: calls go through; `fail_max` consecutive transient failures open it. OPEN: calls fail
fast until `reset_s` elapsed, then one trial call runs HALF_OPEN: success closes, failure reopens.
Permanent (4xx) errors are excluded: a bad message is not a sick provider.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from aiobreaker import CircuitBreaker, CircuitBreakerListener, CircuitBreakerState

from chat4all_app.connectors.circuit_state import CircuitState
from chat4all_app.connectors.provider_client import PermanentError
from chat4all_app.records import BreakerSnapshot
from chat4all_app.workarounds import breaker_storage

# (channel, old state or None for a new breaker, new state)
OnChange = Callable[[str, CircuitState | None, CircuitState], None]


def snapshot(channel: str, breaker: CircuitBreaker, state: CircuitState) -> BreakerSnapshot:
    # `state` comes from the listener: aiobreaker notifies listeners *before* it writes the new
    # state to its storage (`self.state = self._state_storage.state = X`), so storage is stale.
    return BreakerSnapshot(channel=channel, state=state, fail_counter=breaker.fail_counter,
                           opened_at=breaker_storage.opened_at(breaker), at=time.time())


class _Notify(CircuitBreakerListener):
    def __init__(self, on_change: OnChange):
        self.on_change = on_change

    def state_change(self, breaker, old, new) -> None:
        self.on_change(breaker.name, CircuitState(old.state.name) if old else None,
                       CircuitState(new.state.name))


def make_breaker(channel: str, fail_max: int, reset_s: float,
                 restored: BreakerSnapshot | None = None,
                 on_change: OnChange | None = None) -> CircuitBreaker:
    if restored:
        storage = breaker_storage.restored_storage(CircuitBreakerState[restored.state],
                                                   restored.fail_counter, restored.opened_at)
    else:
        storage = breaker_storage.restored_storage(CircuitBreakerState.CLOSED, 0, None)
    return CircuitBreaker(fail_max=fail_max, timeout_duration=timedelta(seconds=reset_s),
                          exclude=[PermanentError], state_storage=storage, name=channel,
                          listeners=[_Notify(on_change)] if on_change else [])

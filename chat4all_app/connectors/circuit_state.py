"""A channel's circuit-breaker state: `BreakerSnapshot.state` and `/health`'s `circuit_breaker`."""

from __future__ import annotations

from enum import StrEnum


class CircuitState(StrEnum):
    """Named like aiobreaker's `CircuitBreakerState` members."""

    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"

    @property
    def gauge(self) -> int:
        """The encoding documented for circuit_breaker_state{channel}: 0 closed, 1 open, 2 half-open."""
        return _GAUGE[self]


_GAUGE = {CircuitState.CLOSED: 0, CircuitState.OPEN: 1, CircuitState.HALF_OPEN: 2}

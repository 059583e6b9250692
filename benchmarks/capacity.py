"""The highest arrival rate a target sustains: double until it fails, then bisect.

Sustained = errors <= max_error_rate, P95 <= max_p95_ms and (nearly) no dropped iterations over a
whole step at a constant arrival rate (an open model: clients do not slow down with the server).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from benchmarks.k6 import Run


@dataclass
class Search:
    start_rps: float = 200
    max_rps: float = 20_000
    precision: float = 0.1  # stop when the bracket is within 10 %
    steps: list[Run] = field(default_factory=list)

    def find(self, measure: Callable[[float], Run], ok: Callable[[Run], bool]) -> Run | None:
        """The best sustained run (None if even start_rps fails)."""
        best: Run | None = None
        low, high, rate = 0.0, None, self.start_rps
        while high is None and rate <= self.max_rps:
            step = measure(rate)
            self.steps.append(step)
            if ok(step):
                best, low, rate = step, rate, rate * 2
            else:
                high = rate
        while high is not None and low > 0 and (high - low) / low > self.precision:
            rate = (low + high) / 2
            step = measure(rate)
            self.steps.append(step)
            if ok(step):
                best, low = step, rate
            else:
                high = rate
        return best

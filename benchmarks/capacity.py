"""The highest arrival rate a target sustains: double until it fails, then bisect.

Sustained = errors, dropped iterations and P95 within bounds over a whole step at a constant arrival
rate (an open model: clients do not slow down with the server). A search that starts above the
capacity (it may start near an earlier search's result) halves instead, down to `start_rps / 8`,
until a step passes, then bisects as usual.
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
        """The best sustained run (None if even start_rps / 8 fails): double while it passes, halve
        while nothing has passed yet (a start above capacity), then bisect."""
        best: Run | None = None
        low, high, rate = 0.0, None, self.start_rps

        def probe(rate: float) -> bool:
            nonlocal best
            step = measure(rate)
            self.steps.append(step)
            if ok(step):
                best = step
            return ok(step)

        while high is None and rate <= self.max_rps:
            if probe(rate):
                low, rate = rate, rate * 2
            else:
                high = rate
        while low == 0 and high is not None and high / 2 >= self.start_rps / 8:
            if probe(high / 2):
                low = high / 2
            else:
                high = high / 2
        while high is not None and low > 0 and (high - low) / low > self.precision:
            rate = (low + high) / 2
            if probe(rate):
                low = rate
            else:
                high = rate
        return best

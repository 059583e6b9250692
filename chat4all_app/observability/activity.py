"""What this process has done lately, for /health and heartbeats (Prometheus has the history)."""

from __future__ import annotations

import time
from collections import deque

from chat4all_app.observability.metrics import CONSUMER_LAG


class Activity:
    """Events handled in total and within the last `window_s` (one bucket per second)."""

    def __init__(self, window_s: int = 60):
        self.window_s = window_s
        self.total = 0
        self.last_at: float | None = None
        self._buckets: deque[list[float]] = deque()  # [second, count]

    def add(self, count: int, now: float | None = None) -> None:
        if count <= 0:
            return
        now = time.time() if now is None else now
        second = float(int(now))
        if self._buckets and self._buckets[-1][0] == second:
            self._buckets[-1][1] += count
        else:
            self._buckets.append([second, count])
        self.total += count
        self.last_at = now
        self._expire(now)

    def recent(self, now: float | None = None) -> int:
        self._expire(time.time() if now is None else now)
        return int(sum(count for _, count in self._buckets))

    def _expire(self, now: float) -> None:
        while self._buckets and self._buckets[0][0] <= now - self.window_s:
            self._buckets.popleft()


PROCESSED = Activity()


def consumer_lag() -> int:
    """Sum of this process's `kafka_consumer_lag` samples (the stall watch keeps them current)."""
    return int(sum(sample.value for metric in CONSUMER_LAG.collect() for sample in metric.samples))

"""Notice a worker that stays out of consuming: a rebalance or table recovery that never ends.

The stall watch (`stall_watch`) runs on a Faust timer, and Faust starts timers only after the
first table recovery; it also steps aside while the app rebalances or recovers. So a recovery that
hangs — at start-up, or after a rebalance — leaves the worker looking alive (its web server and
/health answer) while its partitions are never processed. This watch runs from the worker's start
on, on a task of its own: when the app has not been consuming for `RECOVERY_LIMIT_S` while the
broker answers, it restarts the worker in place (`workarounds.restart`), which rejoins the group and
recovers its tables afresh. A broker outage is not counted: nobody can consume then.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import faust

from chat4all_app.lifecycle import cancelled
from chat4all_app.workarounds import stall_watch
from chat4all_app.workarounds.pins import Private
from chat4all_app.workarounds.restart import restart_in_place
from chat4all_app.workarounds.stall_watch import faust_consumer

# Faust's `App.consumer` property builds the consumer on first access; the watch must not.
PRIVATE = (Private("faust.app.base:App", "_consumer", instance=True),)

log = logging.getLogger(__name__)


@dataclass
class NotConsuming:
    """Pure bookkeeping: since when the worker has not been consuming, and whether that is too long."""

    limit_s: float
    since: float | None = None

    def overdue(self, now: float, consuming: bool) -> bool:
        if consuming:
            self.since = None
            return False
        if self.since is None:
            self.since = now
        return now - self.since >= self.limit_s


def consuming(app: faust.App) -> bool:
    """Faust hands events to the agents (no rebalance or recovery under way, the flow not stopped),
    or an agent is busy with a batch (a rebalance waits for it: store-and-forward holds one on
    purpose while a provider is down), or the worker is shutting down (nothing to restart)."""
    if app.should_stop or stall_watch.busy(app):
        return True
    if app.rebalancing or app.in_recovery:
        return False
    if getattr(app, "_consumer", None) is None:  # not built yet: starting up
        return False
    return faust_consumer(app).flow_active


class RecoveryWatch:
    """Owned by the worker's role (chat4all_app.lifecycle): runs from before recovery until stop."""

    def __init__(self, app: faust.App, broker_answers: Callable[[], Awaitable[object]], limit_s: float,
                 interval_s: float) -> None:
        self.app, self.broker_answers = app, broker_answers
        self.state = NotConsuming(limit_s)
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancelled(task)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a broker outage, or a bug here: never take the worker down
                log.warning("recovery watch: check skipped: %r", exc)

    async def check(self) -> None:
        """While the worker is not consuming, count only the time the broker answers: an outage
        starts the count afresh from the first check after it."""
        if consuming(self.app):
            self.state.overdue(time.monotonic(), consuming=True)
            return
        try:
            await self.broker_answers()
        except Exception:
            self.state.since = None  # nobody can consume without a broker
            raise
        if self.state.overdue(time.monotonic(), consuming=False):
            restart_in_place(
                self.app,
                f"not consuming for {self.state.limit_s:.0f}s while the broker answers "
                f"(rebalancing={self.app.rebalancing}, in_recovery={self.app.in_recovery}): "
                "a rebalance or table recovery that does not end")

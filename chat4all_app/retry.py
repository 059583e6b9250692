"""Retry a side effect until it succeeds: a Faust agent that raises skips (acks) its events.

Only transient failures are retried. A failure the caller's `permanent` predicate recognises (the
store refused the data itself) is raised at once: retrying it would block the partition forever.
`isolating` then finds which items of a batch were refused, so the others still go through.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from chat4all_app.observability.metrics import MESSAGES_FAILED

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741
log = logging.getLogger(__name__)


def never(exc: BaseException) -> bool:
    return False


async def until_done(action: Callable[[], Awaitable[T]], what: str, *, reason: str = "other",
                     first_delay: float = 0.1, max_delay: float = 5.0,
                     permanent: Callable[[BaseException], bool] = never) -> T:
    """Await `action()` until it returns; back off exponentially between transient failures.

    Cancellation (worker shutdown, rebalance) still propagates: the events stay unacked and are
    processed again by whoever owns the partition next. A permanent failure propagates too.
    """
    delay = first_delay
    while True:
        try:
            return await action()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if permanent(exc):
                raise
            MESSAGES_FAILED.labels(reason).inc()
            log.warning("%s failed (%s: %s); retrying in %.1fs", what, type(exc).__name__, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)


async def isolating(items: Sequence[I], write: Callable[[Sequence[I]], Awaitable[None]], what: str, *,
                    reason: str, permanent: Callable[[BaseException], bool]) -> list[tuple[I, Exception]]:
    """Write `items` together (retrying transient failures); if that fails for good, write them one
    by one. Returns the items refused for good, with why: every other item is written."""
    try:
        await until_done(lambda: write(items), what, reason=reason, permanent=permanent)
        return []
    except Exception as exc:
        if len(items) == 1:
            return [(items[0], exc)]
        log.warning("%s failed for good (%s: %s); writing one by one", what, type(exc).__name__, exc)
    refused = []
    for item in items:
        try:
            await until_done(functools.partial(write, [item]), what, reason=reason, permanent=permanent)
        except Exception as exc:  # until_done raises only permanent failures (and cancellation)
            refused.append((item, exc))
    return refused

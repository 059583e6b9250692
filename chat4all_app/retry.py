"""Retry a side effect until it succeeds: a Faust agent that raises skips (acks) its events."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from chat4all_app.observability.metrics import MESSAGES_FAILED

T = TypeVar("T")
log = logging.getLogger(__name__)


async def until_done(action: Callable[[], Awaitable[T]], what: str, *, reason: str = "other",
                     first_delay: float = 0.1, max_delay: float = 5.0) -> T:
    """Await `action()` until it returns; back off exponentially between failures.

    Cancellation (worker shutdown, rebalance) still propagates: the events stay unacked and are
    processed again by whoever owns the partition next.
    """
    delay = first_delay
    while True:
        try:
            return await action()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            MESSAGES_FAILED.labels(reason).inc()
            log.warning("%s failed (%s: %s); retrying in %.1fs", what, type(exc).__name__, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)

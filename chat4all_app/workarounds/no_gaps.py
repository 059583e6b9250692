"""Never commit past offsets that were not processed: Faust's "gap" bookkeeping is turned off.

When Faust's fetch loop reads an offset more than one past the last one it read in a partition, it
records the missing range as a *gap* (`Consumer._add_gap`): offsets it assumes do not exist, as in
compacted or transactional topics, and its commit then counts them as done. Ours are neither, so
offsets are contiguous and a jump only ever means records Faust lost on the way (records fetched
before a rebalance and handed over after its seek, see `continuity`). Counted as done, they were
committed unprocessed: seen in CI (compose failover test, a router stopped under load) as accepted
messages never stored, 45 of 720 and then 19 of 720.

With gaps refused, the commit stops before the missing offsets; the agent's offset check
(`continuity`) sees the jump and restarts the worker before acking anything after it, which
replays from the commit. (Faust's commit still passes a single lost record at exactly the
committed offset if the next one is acked; the batch agents' continuity check restarts before
that ack, the one-partition breaker agent has no such check.) The one real
gap is kept: offsets retention deleted (below the partition's log start) are skipped as Faust
would, or a consumer that fell behind retention would never commit again.
"""

from __future__ import annotations

import logging

from faust.transport.consumer import Consumer
from faust.types import TP

from chat4all_app.workarounds.pins import Private

PRIVATE = (Private("faust.transport.consumer:Consumer", "_add_gap"),)

log = logging.getLogger(__name__)
FAUSTS_OWN = Consumer._add_gap  # kept for the test that shows the bug is still there


async def _refuse_gap(self: Consumer, tp: TP, offset_from: int, offset_to: int) -> None:
    """Faust calls this with the missing offsets offset_from..offset_to (offset_to: the one it read)."""
    try:
        log_start = (await self.earliest_offsets(tp)).get(tp, 0)
    except Exception:  # the broker cannot say: refuse it all (a restart replays; nothing is skipped)
        log_start = 0
    if log_start > offset_from:  # deleted by retention: those offsets are gone for good
        await skip_deleted(self, tp, offset_from, min(offset_to, log_start))
        offset_from = log_start
    if offset_from < offset_to:
        log.warning("offsets %d..%d of %s were skipped on the way to the stream: not committing past them",
                    offset_from, offset_to - 1, tp)


async def skip_deleted(consumer: Consumer, tp: TP, offset_from: int, log_start: int) -> None:
    """Let the commit pass offsets offset_from..log_start-1, which retention deleted (Faust's own gap)."""
    if log_start > offset_from:
        await FAUSTS_OWN(consumer, tp, offset_from, log_start - 1)


def install() -> None:
    """Idempotent; every Faust worker calls it when its app is made (chat4all_app.faust_app)."""
    Consumer._add_gap = _refuse_gap  # type: ignore[method-assign]

"""Pin table reads and writes to the partition of the event they belong to.

Faust picks a table key's partition (its RocksDB database and its changelog partition) from the
*current* event. Inside a `take_events()` batch that is a single event for the whole batch, even
though the batch mixes partitions, so a key could land on another partition than the events that
carry it — and be missing after a rebalance. Every table access for an event runs inside
`for_event(event)`, which sets Faust's own (private) current-event context variable.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from faust.streams import _current_event
from faust.types import EventT

from chat4all_app.workarounds.pins import Private

PRIVATE = (Private("faust.streams", "_current_event"),)


@contextmanager
def for_event(event: EventT) -> Iterator[None]:
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


@contextmanager
def no_event() -> Iterator[None]:
    """Read a table outside any event (e.g. a one-partition table from another topic's agent):
    Faust then looks the key up in every local partition database."""
    token = _current_event.set(None)
    try:
        yield
    finally:
        _current_event.reset(token)

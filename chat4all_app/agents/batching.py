"""The one agent shape every worker uses: take a batch of events, hand it to a handler.

Batches (`take_events`) instead of `concurrency>1`: Faust can commit past an in-flight event with
concurrent agents; a batch is acked only after its handler returned, and the handler gets the
events themselves so it can pin table access to each event's partition.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import faust
from faust.types import EventT


def batch_agent(app: faust.App, topic: faust.TopicT, name: str, size: int, within: float,
                handle: Callable[[Sequence[EventT]], Awaitable[Any]]) -> faust.types.AgentT:
    async def process(stream):
        async for events in stream.take_events(size, within=within):
            await handle(events)

    process.__name__ = name.replace("-", "_")
    return app.agent(topic, name=name)(process)

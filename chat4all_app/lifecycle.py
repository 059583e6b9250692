"""What a process owns (its Kafka producer, Cassandra session, S3 and HTTP clients), started and
stopped with its Faust app.

Each resource has `async start()` and `async stop()`, both idempotent, and refuses to be used
(`NotRunning`) before `start()` or after `stop()`. `own(app, *resources)` puts them in one
`mode.Service` added with `app.add_dependency` while the role module builds the app. Why that
mechanism: mode starts a service's dependencies in the order they were added and stops them in
reverse, after the app's own `on_stop` (consumer stopped, streams drained). Added before the app
starts, ours precedes everything Faust adds at start-up (`App.on_init_dependencies`, the boot
strategy's list: sensors, producer, the web server, consumer, agents, conductor, tables): resources
are up before the first batch or request and closed only after agents and web server have stopped.
The web server every role runs (Faust's aiohttp driver `app.web`, ours subclassed in
web/server.py) is one of those start-up dependencies, so it listens *before* table recovery; only a
server registered with `App.web_server(...)`, which no role uses, waits for recovery. Faust's other
hooks fit worse: `@app.service` and `app.task` start only after table recovery, and
`on_before_shutdown` fires while agents still run.

`start()` does no network I/O: each resource connects on first use, as it always did, so a Kafka,
Cassandra or S3 outage at start-up neither holds up nor crashes the worker — /health probes each
dependency and answers 503 until it is back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

import faust
import mode

from chat4all_app.observability.logs import get_logger

log = get_logger(__name__)


class Resource(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class NotRunning(RuntimeError):
    """A resource was used before its `start()` or after its `stop()`."""


class OwnedResources(mode.Service):
    """Starts resources in order, stops them in reverse order."""

    def __init__(self, resources: Sequence[Resource]) -> None:
        super().__init__()
        self.resources = tuple(resources)

    async def on_start(self) -> None:
        for resource in self.resources:
            await resource.start()

    async def on_stop(self) -> None:
        for resource in reversed(self.resources):
            try:
                await resource.stop()
            except Exception as exc:  # one failed close must not leave the others open
                log.warning("could not stop a resource", resource=type(resource).__name__, error=repr(exc))


async def cancelled(task: asyncio.Task | None) -> None:
    """Cancel a resource's background task (if any) and wait until it has ended."""
    if task is not None:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # the caller itself is being cancelled: not ours to swallow


def own(app: faust.App, *resources: Resource) -> None:
    """Start `resources` with `app` (before its agents and web server) and stop them after."""
    app.add_dependency(OwnedResources(resources))

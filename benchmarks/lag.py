"""Every consumer group's lag as the broker sees it: end offset minus committed offset, summed over
every partition the group committed on (of the topics it consumes: `counted`).

The workers report their own lag too, but a worker that is slow, stopped or paused reports late or
not at all, and the end-to-end criterion is about the backlog itself; so this reads Kafka, with
clients of its own (no group), on an event loop of its own so a sampling loop can call it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from devstack.stack_client import partition_lag
from devstack.topology import Topology


def groups(topology: Topology) -> tuple[str, ...]:
    """The consumer groups that carry a message to DELIVERED: the router and each connector (the
    Faust app id of a role is its group: chat4all_app.faust_app.app_id)."""
    return ("chat4all-router", *(f"chat4all-connector-{c}" for c in topology.channels))


def counted(topic: str) -> bool:
    """A topic whose messages wait for the group: not a table's changelog nor Faust's assignor
    topic (a worker replays those to rebuild state; an offset committed there once would not move
    with the traffic and would read as a growing backlog)."""
    return not topic.endswith("-changelog") and "__assignor-__leader" not in topic


class BrokerLag:
    """`read()` -> {group: lag or None (not read)}; `close()` when done."""

    def __init__(self, bootstrap: str, group_ids: Iterable[str], timeout_s: float = 5.0):
        self.bootstrap, self.groups, self.timeout_s = bootstrap, tuple(group_ids), timeout_s
        self.loop = asyncio.new_event_loop()
        self._clients: tuple[AIOKafkaAdminClient, AIOKafkaConsumer] | None = None

    async def _open(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        if self._clients is None:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=3000)
            offsets = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, request_timeout_ms=3000)
            try:
                await admin.start()
                await offsets.start()
            except BaseException:
                await self._stop(admin, offsets)
                raise
            self._clients = (admin, offsets)
        return self._clients

    async def _read(self, group: str) -> float:
        lag = await partition_lag(*await self._open(), group, counted)
        return float(sum(max(0, n) for n in lag.values()))

    def read(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for group in self.groups:
            try:
                out[group] = self.loop.run_until_complete(asyncio.wait_for(self._read(group), self.timeout_s))
            except (KafkaError, OSError, TimeoutError):
                out[group] = None
                self._reset()  # open new clients next time: the broker may have come back
        return out

    def _reset(self) -> None:
        clients, self._clients = self._clients, None
        if clients is not None:
            with contextlib.suppress(KafkaError, OSError, TimeoutError):
                self.loop.run_until_complete(self._stop(*clients))

    @staticmethod
    async def _stop(admin: AIOKafkaAdminClient, offsets: AIOKafkaConsumer) -> None:
        with contextlib.suppress(KafkaError, OSError, TimeoutError):
            await offsets.stop()
        with contextlib.suppress(KafkaError, OSError, TimeoutError):
            await admin.close()

    def close(self) -> None:
        try:
            self._reset()
        finally:
            self.loop.close()

    def __enter__(self) -> BrokerLag:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

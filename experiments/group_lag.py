"""A consumer group's lag as the broker sees it: highwater minus the group's committed offset.

The workers report their own lag, but a SIGKILLed worker reports nothing, and its partitions' lag
is exactly what a failover experiment must see. This reads it from Kafka with a client of its own
(no group), on an event loop of its own (the timeline samples from a thread).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from chat4all_app.settings import Settings


async def partition_lag(admin: AIOKafkaAdminClient, offsets: AIOKafkaConsumer, group: str,
                        wanted: Callable[[str], bool]) -> dict[TopicPartition, int]:
    """Highwater minus the group's committed offset, per partition it committed on (of wanted topics)."""
    committed = await admin.list_consumer_group_offsets(group)
    tps = [tp for tp in committed if wanted(tp.topic) and committed[tp].offset >= 0]
    ends = await offsets.end_offsets(tps) if tps else {}
    return {tp: ends[tp] - committed[tp].offset for tp in tps}


class GroupLag:
    def __init__(self, group: str, topics: tuple[str, ...], settings: Settings | None = None):
        self.settings = settings or Settings.from_env()
        self.group, self.topics = group, topics
        self.loop = asyncio.new_event_loop()
        self._admin: AIOKafkaAdminClient | None = None
        self._offsets: AIOKafkaConsumer | None = None

    async def _read(self) -> float:
        if self._admin is None:
            servers = self.settings.kafka_bootstrap_servers
            admin = AIOKafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=3000)
            offsets = AIOKafkaConsumer(bootstrap_servers=servers, request_timeout_ms=3000)
            try:
                await admin.start()
                await offsets.start()
            except BaseException:
                await admin.close()
                await offsets.stop()
                raise
            self._admin, self._offsets = admin, offsets
        lag = await partition_lag(self._admin, self._offsets, self.group, lambda topic: topic in self.topics)
        return float(sum(max(0, n) for n in lag.values()))

    def read(self) -> float | None:
        """The lag now, None while the broker does not answer (e.g. Kafka is down)."""
        try:
            return self.loop.run_until_complete(asyncio.wait_for(self._read(), 5))
        except (KafkaError, OSError, TimeoutError):  # an experiment may have stopped Kafka: no reading
            return None

    def close(self) -> None:
        async def stop() -> None:
            if self._admin is not None:
                await self._admin.close()
                await self._offsets.stop()
        try:
            self.loop.run_until_complete(stop())
        finally:
            self.loop.close()

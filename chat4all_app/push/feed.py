"""The API process's follower of the updates topic: every partition, from the end, in order.

No consumer group: every API process must see every update (its clients may be members of any
conversation), and nothing is committed: a process that restarts has no clients to resume for;
clients resume with their own cursors (`replay`). Kafka is the only broker: a client connected to
any replica gets what the router announced, whichever replica accepted the message.

A resource of the API process (`lifecycle.own`): `start()` launches the follower task and returns
(no I/O, so a Kafka outage does not hold the API up), `stop()` ends it. If the consumer fails it is
rebuilt and resumes from the positions it had reached, so connected clients see no gap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from chat4all_app.lifecycle import cancelled
from chat4all_app.observability.logs import get_logger
from chat4all_app.push import cursor
from chat4all_app.push.entry import Entry
from chat4all_app.push.hub import Hub
from chat4all_app.records import ConversationUpdate
from chat4all_app.settings import Settings

log = get_logger(__name__)
RETRY_S = 2.0
REPLAY_TIMEOUT_S = 30.0
BATCH = 1000


class TooOld(Exception):
    """The cursor points before what the topic still holds (or too far back to replay)."""


def entries(records: Iterable[ConsumerRecord]) -> list[Entry]:
    found = []
    for record in records:
        try:
            update = ConversationUpdate.loads(record.value)
        except Exception as exc:  # the router wrote it; a bad one is skipped, not fatal
            log.warning("undecodable update skipped", partition=record.partition,
                        offset=record.offset, error=repr(exc)[:200])
            continue
        found.append(Entry(record.partition, record.offset, update))
    return found


class UpdateFeed:
    def __init__(self, settings: Settings, hub: Hub):
        self.settings = settings
        self.hub = hub
        self.positions: cursor.Positions = {}  # next offset per partition, once following
        self.following = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._follow(), name="updates-feed")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancelled(task)

    def _consumer(self, reset: str) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(bootstrap_servers=self.settings.kafka_bootstrap_servers,
                                group_id=None, enable_auto_commit=False, auto_offset_reset=reset,
                                fetch_max_wait_ms=50, max_partition_fetch_bytes=1 << 20)

    async def _partitions(self, consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        topic = self.settings.topic_updates
        while topic not in await consumer.topics():  # `chat4all migrate` creates it
            await asyncio.sleep(RETRY_S)
        # As declared (settings.topic_partition_counts): what `migrate` created.
        return [TopicPartition(topic, p) for p in range(self.settings.topic_partitions)]

    async def _follow(self) -> None:
        while True:
            consumer = self._consumer("latest")
            try:
                await consumer.start()
                partitions = await self._partitions(consumer)
                consumer.assign(partitions)
                for tp in partitions:
                    if tp.partition in self.positions:  # rebuilt: go on where it was
                        consumer.seek(tp, self.positions[tp.partition])
                    else:
                        await consumer.seek_to_end(tp)
                        self.positions[tp.partition] = await consumer.position(tp)
                self.following.set()
                log.info("following updates", topic=self.settings.topic_updates,
                         positions=cursor.encode(self.positions))
                while True:
                    batch = await consumer.getmany(timeout_ms=1000, max_records=BATCH)
                    for tp, records in batch.items():
                        await self._dispatch(tp.partition, records)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("updates feed failed; rebuilding it", error=repr(exc)[:300])
                await asyncio.sleep(RETRY_S)
            finally:
                await consumer.stop()

    async def _dispatch(self, partition: int, records: list[ConsumerRecord]) -> None:
        found = entries(records)
        prepared = await self.hub.prepare(found) if self.hub.connected else []
        # No await from here on: a connection registered from now on starts at these positions
        # and gets everything after them live.
        self.hub.deliver(prepared)
        self.positions[partition] = records[-1].offset + 1
        self.hub.passed(partition, self.positions[partition])

    async def replay(self, since: cursor.Positions, until: cursor.Positions,
                     visit: Callable[[list[Entry]], Awaitable[None]]) -> None:
        """Hand `visit` the updates from `since` up to (not including) `until`, per partition in
        order, a batch at a time. TooOld if the topic no longer holds them, or too many."""
        missed = cursor.behind(since, until)
        if missed is None or missed > self.settings.ws_replay_max:
            raise TooOld(f"{missed} updates behind" if missed else "cursor of another topic layout")
        if missed == 0:
            return
        consumer = self._consumer("earliest")
        try:
            await asyncio.wait_for(self._replay(consumer, since, until, visit), REPLAY_TIMEOUT_S)
        finally:
            await consumer.stop()

    async def _replay(self, consumer: AIOKafkaConsumer, since: cursor.Positions,
                      until: cursor.Positions, visit: Callable[[list[Entry]], Awaitable[None]]) -> None:
        await consumer.start()
        partitions = [TopicPartition(self.settings.topic_updates, p)
                      for p in sorted(until) if since[p] < until[p]]
        consumer.assign(partitions)
        first = await consumer.beginning_offsets(partitions)
        for tp in partitions:
            if since[tp.partition] < first[tp]:
                raise TooOld(f"partition {tp.partition} no longer holds offset {since[tp.partition]}")
            consumer.seek(tp, since[tp.partition])
        remaining = set(partitions)
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000, max_records=BATCH)
            for tp, records in batch.items():
                end = until[tp.partition]
                wanted = [r for r in records if r.offset < end]
                if wanted:
                    await visit(entries(wanted))
                if len(wanted) < len(records) or (records and records[-1].offset + 1 >= end):
                    remaining.discard(tp)
                    consumer.pause(tp)

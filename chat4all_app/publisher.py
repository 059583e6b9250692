"""Publishing from the API: a 202 means Kafka acknowledged the event (acks=all, idempotent).

A `Publisher` is a resource of the API process (`lifecycle.own`): `start()` opens it for
publishing without contacting Kafka — the producer connects on the first publish, under the
publish timeout, so the API starts (and /health says 503) while Kafka is down — and `stop()`
closes the producer. A publish outside start()..stop() raises `NotRunning` at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import faust
from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    InvalidProducerIdMapping,
    KafkaError,
    OutOfOrderSequenceNumber,
    ProducerFenced,
    UnknownProducerId,
)

from chat4all_app.lifecycle import NotRunning
from chat4all_app.observability.metrics import KAFKA_PUBLISH_DURATION
from chat4all_app.settings import Settings

# After a broker restart under load the broker may no longer accept this producer's id/sequence
# (measured: `make experiment NAME=broker-restart`); aiokafka never recovers from these, so the
# producer is replaced and the next request starts a fresh idempotent session.
_SESSION_LOST = (OutOfOrderSequenceNumber, UnknownProducerId, InvalidProducerIdMapping, ProducerFenced)
_NOT_RUNNING = "the publisher is not running: publish() before start() or after stop()"


class PublishFailed(Exception):
    """Kafka did not acknowledge the event in time; nothing may be promised to the client."""


class Publisher:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._running = False
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()
        # Per key (one key, one partition): held from building a record to its append to the
        # producer's batch (microseconds, unless a full batch waits to drain): see publish_minted.
        self._appending: dict[str, tuple[asyncio.Lock, int]] = {}  # key -> (lock, users)
        self._closing: set[asyncio.Task] = set()

    async def start(self) -> None:
        """Accept publishes from now on (no I/O: the producer connects on the first one)."""
        self._running = True

    async def stop(self) -> None:
        """Refuse further publishes; stop the producer and wait for replaced ones to finish closing."""
        self._running = False
        async with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    async def _started(self) -> AIOKafkaProducer:
        if self._producer is None:
            async with self._lock:
                if not self._running:
                    raise NotRunning(_NOT_RUNNING)  # stopped while this publish waited for the lock
                if self._producer is None:
                    producer = AIOKafkaProducer(
                        bootstrap_servers=self.settings.kafka_bootstrap_servers,
                        acks="all", enable_idempotence=True, linger_ms=1,
                        request_timeout_ms=int(self.settings.kafka_publish_timeout_s * 1000))
                    try:
                        await asyncio.wait_for(producer.start(), self.settings.kafka_publish_timeout_s)
                    except BaseException:
                        await producer.stop()  # a failed start still holds connections and tasks
                        raise
                    self._producer = producer
        return self._producer

    async def publish(self, topic: str, key: str, record: faust.Record,
                      headers: list[tuple[str, bytes]] | None = None) -> None:
        await self.publish_minted(topic, key, lambda: record, headers)

    async def publish_minted(self, topic: str, key: str, build: Callable[[], faust.Record],
                             headers: list[tuple[str, bytes]] | None = None) -> faust.Record:
        """Publish the record `build()` returns, called at the moment the record takes its place in
        the partition's log: an id it mints (a message's acceptance time-UUID) orders like the log.

        Minting and appending are one step under a lock. Without it, aiokafka reorders concurrent
        sends when a partition's batch is full: a send that waits for the batch to drain can be
        overtaken by one that arrives meanwhile and opens the next batch (measured: 6 of 20
        recipients out of acceptance order at 200 msg/s). The lock is the key's (a conversation's),
        so a partition whose batch waits holds up no other; it is not held for the ack."""
        if not self._running:
            raise NotRunning(_NOT_RUNNING)
        producer: AIOKafkaProducer | None = None
        try:
            producer = await self._started()
            with KAFKA_PUBLISH_DURATION.time():
                async with asyncio.timeout(self.settings.kafka_publish_timeout_s):
                    async with self._append_lock(key):
                        record = build()
                        acked = await producer.send(topic, record.dumps(), key=key.encode(),
                                                    headers=headers)
                    await acked
            return record
        except (KafkaError, TimeoutError, OSError) as exc:
            if isinstance(exc, _SESSION_LOST) and producer is not None:
                await self._replace(producer)
            raise PublishFailed(f"Kafka did not acknowledge the message: {type(exc).__name__}") from exc

    @contextlib.asynccontextmanager
    async def _append_lock(self, key: str) -> AsyncIterator[None]:
        lock, users = self._appending.get(key) or (asyncio.Lock(), 0)
        self._appending[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._appending[key]
            if users == 1:
                del self._appending[key]  # nobody holds or awaits it: the map stays small
            else:
                self._appending[key] = (lock, users - 1)

    async def _replace(self, broken: AIOKafkaProducer) -> None:
        async with self._lock:
            # Concurrent failures replace it once. (`is not None` first: AIOKafkaProducer is untyped,
            # and `is` alone would narrow `broken` to the attribute's `Any | None` for mypy.)
            if self._producer is not None and self._producer is broken:
                self._producer = None
                closing = asyncio.get_running_loop().create_task(broken.stop())
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)

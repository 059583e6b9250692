"""Publishing from the API: a 202 means Kafka acknowledged the event (acks=all, idempotent).

A `Publisher` is a resource of the API process (`lifecycle.own`): `start()` opens it for
publishing without contacting Kafka — the producer connects on the first publish, under the
publish timeout, so the API starts (and /health says 503) while Kafka is down — and `stop()`
closes the producer. A publish outside start()..stop() raises `NotRunning` at once.
"""

from __future__ import annotations

import asyncio

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
        if not self._running:
            raise NotRunning(_NOT_RUNNING)
        producer: AIOKafkaProducer | None = None
        try:
            producer = await self._started()
            with KAFKA_PUBLISH_DURATION.time():
                await asyncio.wait_for(
                    producer.send_and_wait(topic, record.dumps(), key=key.encode(), headers=headers),
                    self.settings.kafka_publish_timeout_s)
        except (KafkaError, TimeoutError, OSError) as exc:
            if isinstance(exc, _SESSION_LOST) and producer is not None:
                await self._replace(producer)
            raise PublishFailed(f"Kafka did not acknowledge the message: {type(exc).__name__}") from exc

    async def _replace(self, broken: AIOKafkaProducer) -> None:
        async with self._lock:
            # Concurrent failures replace it once. (`is not None` first: AIOKafkaProducer is untyped,
            # and `is` alone would narrow `broken` to the attribute's `Any | None` for mypy.)
            if self._producer is not None and self._producer is broken:
                self._producer = None
                closing = asyncio.get_running_loop().create_task(broken.stop())
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)

"""Publishing from the API: a 202 means Kafka acknowledged the event (acks=all, idempotent)."""

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

from chat4all_app.observability.metrics import KAFKA_PUBLISH_DURATION
from chat4all_app.settings import Settings

# After a broker restart under load the broker may no longer accept this producer's id/sequence
# (measured: `make experiment NAME=broker-restart`); aiokafka never recovers from these, so the
# producer is replaced and the next request starts a fresh idempotent session.
_SESSION_LOST = (OutOfOrderSequenceNumber, UnknownProducerId, InvalidProducerIdMapping, ProducerFenced)


class PublishFailed(Exception):
    """Kafka did not acknowledge the event in time; nothing may be promised to the client."""


class Publisher:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()
        self._closing: set[asyncio.Task] = set()

    async def _started(self) -> AIOKafkaProducer:
        if self._producer is None:
            async with self._lock:
                if self._producer is None:
                    producer = AIOKafkaProducer(
                        bootstrap_servers=self.settings.kafka_bootstrap_servers,
                        acks="all", enable_idempotence=True, linger_ms=1,
                        request_timeout_ms=int(self.settings.kafka_publish_timeout_s * 1000))
                    await asyncio.wait_for(producer.start(), self.settings.kafka_publish_timeout_s)
                    self._producer = producer
        return self._producer

    async def publish(self, topic: str, key: str, record: faust.Record,
                      headers: list[tuple[str, bytes]] | None = None) -> None:
        try:
            producer = await self._started()
            with KAFKA_PUBLISH_DURATION.time():
                await asyncio.wait_for(
                    producer.send_and_wait(topic, record.dumps(), key=key.encode(), headers=headers),
                    self.settings.kafka_publish_timeout_s)
        except (KafkaError, TimeoutError, OSError) as exc:
            if isinstance(exc, _SESSION_LOST):
                await self._replace(producer)
            raise PublishFailed(f"Kafka did not acknowledge the message: {type(exc).__name__}") from exc

    async def _replace(self, broken: AIOKafkaProducer) -> None:
        async with self._lock:
            if self._producer is broken:  # concurrent failures replace it once
                self._producer = None
                closing = asyncio.get_running_loop().create_task(broken.stop())
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)

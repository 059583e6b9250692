"""Dead letters: an event no agent can ever process goes to `chat4all.dlq`, and the pipeline moves on.

A poison event (undecodable bytes, an invalid value, a status for a message never stored, an
impossible transition) must neither block its partition (retried forever) nor vanish (skipped).
It is published with its original key, value and headers, plus `dlq.*` headers saying where it
came from and why. The agent acks the event only after Kafka acknowledged the dead letter, so a
poison event is never lost. `chat4all dlq` lists them; replaying one means producing its bytes
back to `dlq.source.topic` once the cause is fixed.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import faust
from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.types import EventT

from chat4all_app.observability import correlation
from chat4all_app.observability.logs import get_logger
from chat4all_app.observability.metrics import MESSAGES_DEAD_LETTERED
from chat4all_app.retry import until_done
from chat4all_app.settings import Settings

log = get_logger(__name__)

# Why an event is poison: the `reason` label of messages_dead_lettered_total (a closed set).
UNDECODABLE = "undecodable"                  # not a UTF-8 JSON object
INVALID_RECORD = "invalid_record"            # a field missing or of the wrong type
INVALID_ID = "invalid_id"                    # an id that is not a UUID (accepted_id: a time UUID)
INVALID_TIME = "invalid_time"                # a time that is NaN, negative or far in the future
KEY_MISMATCH = "key_mismatch"                # Kafka key is not the record's conversation/channel
WRONG_CHANNEL = "wrong_channel"              # a record for another channel than this topic's
UNKNOWN_STATUS = "unknown_status"
UNKNOWN_MESSAGE = "unknown_message"          # a status event for a message never stored
IMPOSSIBLE_TRANSITION = "impossible_transition"  # READ before DELIVERED, anything after FAILED...
STORE_REJECTED = "store_rejected"            # Cassandra refused the write for good
REASONS = (UNDECODABLE, INVALID_RECORD, INVALID_ID, INVALID_TIME, KEY_MISMATCH, WRONG_CHANNEL,
           UNKNOWN_STATUS, UNKNOWN_MESSAGE, IMPOSSIBLE_TRANSITION, STORE_REJECTED)


class Poison(Exception):
    """This event can never be processed: retrying cannot help."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


PREFIX = "dlq."
SOURCE_TOPIC, SOURCE_PARTITION = "dlq.source.topic", "dlq.source.partition"
SOURCE_OFFSET = "dlq.source.offset"
REASON, DETAIL, GROUP, AGENT, AT = "dlq.reason", "dlq.detail", "dlq.group", "dlq.agent", "dlq.at"
DETAIL_MAX = 500
TRUNCATED, ORIGINAL_SHA256 = "dlq.truncated", "dlq.original.sha256"
# A dead letter must fit the producer's and broker's request limits (about 1 MB by default), or
# publishing it would fail on every retry and block the partition: a larger value is cut to this
# size, and its original size and hash go into headers.
VALUE_MAX = 512 * 1024
KEY_MAX = 64 * 1024  # our keys are ids (36 bytes): a longer one is poison itself


def _header_pairs(headers) -> list[tuple[str, bytes | None]]:
    """aiokafka gives a sequence of (key, bytes); Faust's test context may give a mapping."""
    pairs = headers.items() if isinstance(headers, Mapping) else (headers or ())
    # Kafka allows a header without a value: keep it as it was.
    return [(k, v if v is None or isinstance(v, bytes) else str(v).encode()) for k, v in pairs]


def dead_letter_value(value: bytes | None) -> tuple[bytes | None, dict[str, str]]:
    """The value to dead-letter, and headers saying what was cut if it had to be."""
    if value is None or len(value) <= VALUE_MAX:
        return value, {}
    return value[:VALUE_MAX], {TRUNCATED: str(len(value)),
                               ORIGINAL_SHA256: hashlib.sha256(value).hexdigest()}


def dead_letter_headers(message, poison: Poison, group: str, agent: str,
                        at: float) -> list[tuple[str, bytes | None]]:
    """The original headers (minus those of an earlier dead-lettering), then where and why."""
    original = [(k, v) for k, v in _header_pairs(message.headers) if not k.startswith(PREFIX)]
    ours = {**dead_letter_value(message.value)[1],
            SOURCE_TOPIC: message.topic, SOURCE_PARTITION: str(message.partition),
            SOURCE_OFFSET: str(message.offset), REASON: poison.reason,
            DETAIL: poison.detail[:DETAIL_MAX], GROUP: group, AGENT: agent,
            AT: datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds")}
    return original + [(k, v.encode()) for k, v in ours.items()]


class DeadLetters:
    """One worker's way to the dead-letter topic (its Faust producer, acks=all)."""

    def __init__(self, app: faust.App, settings: Settings):
        self.topic = app.topic(settings.topic_dlq, key_type=bytes, value_type=bytes,
                               key_serializer="raw", value_serializer="raw")
        self.group = app.conf.id
        for reason in REASONS:  # a series that exists before its first event lets rate() see it
            MESSAGES_DEAD_LETTERED.labels(reason)

    async def publish(self, agent: str, poisoned: Sequence[tuple[EventT, Poison]]) -> None:
        """Dead-letter these events; returns once Kafka acknowledged every one (retries until then:
        the events must not be acked before)."""
        if not poisoned:
            return
        at = datetime.now(UTC).timestamp()

        async def send_all() -> None:
            pending = []
            for event, poison in poisoned:
                # Kafka (and aiokafka) allow a header without a value (None): `_header_pairs` keeps it.
                headers = dead_letter_headers(event.message, poison, self.group, agent, at)
                pending.append(await self.topic.send(
                    key=(event.message.key or b"")[:KEY_MAX] or None,
                    value=dead_letter_value(event.message.value)[0],
                    headers=headers))  # type: ignore[arg-type]  # Faust's HeadersArg omits None values
            await asyncio.gather(*pending)

        await until_done(send_all, f"dead-lettering {len(poisoned)} events", reason="kafka")
        for event, poison in poisoned:
            MESSAGES_DEAD_LETTERED.labels(poison.reason).inc()
            log.warning("event dead-lettered", correlation_id=correlation.of_event(event),
                        agent=agent, reason=poison.reason, detail=poison.detail,
                        topic=event.message.topic, partition=event.message.partition,
                        offset=event.message.offset)


# --- reading them back (`chat4all dlq`) ----------------------------------------------------------

@dataclass(frozen=True)
class DeadLetter:
    offset: int
    headers: dict[str, str]
    key: bytes | None
    value: bytes | None

    @classmethod
    def of(cls, record) -> DeadLetter:
        return cls(record.offset, {k: "" if v is None else v.decode(errors="replace")
                                   for k, v in record.headers or ()},
                   record.key, record.value)

    def preview(self, size: int = 60) -> str:
        """The start of the bytes, anything but printable ASCII escaped: safe on any terminal."""
        if self.value is None:
            return "(no value)"
        shown = "".join(chr(b) if 0x20 <= b < 0x7f else f"\\x{b:02x}" for b in self.value[:size])
        return shown + ("..." if len(self.value) > size else "")

    def as_json(self) -> dict:
        h = {k: _printable(v) for k, v in self.headers.items()}  # they may come from anyone
        return {"offset": self.offset, "at": h.get(AT), "reason": h.get(REASON),
                "detail": h.get(DETAIL), "source": {"topic": h.get(SOURCE_TOPIC),
                                                    "partition": _int(h.get(SOURCE_PARTITION)),
                                                    "offset": _int(h.get(SOURCE_OFFSET))},
                "group": h.get(GROUP), "agent": h.get(AGENT),
                "correlation_id": h.get(correlation.KAFKA_HEADER),
                "key": _printable(self.key.decode(errors="replace")) if self.key is not None else None,
                "size": len(self.value) if self.value is not None else None,
                "preview": self.preview()}


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


def _int(text: str | None) -> int | None:
    return int(text) if text and text.lstrip("-").isdigit() else None


async def assigned_consumer(settings: Settings):
    """A started consumer holding every partition of the dead-letter topic, without a group."""
    # Subscribing (no group: every partition) is aiokafka's way to load the topic's metadata.
    consumer = AIOKafkaConsumer(settings.topic_dlq, bootstrap_servers=settings.kafka_bootstrap_servers,
                                group_id=None, enable_auto_commit=False)
    await consumer.start()
    partitions = consumer.partitions_for_topic(settings.topic_dlq) or set()
    consumer.unsubscribe()
    consumer.assign([TopicPartition(settings.topic_dlq, p) for p in partitions])
    return consumer


async def read(settings: Settings, limit: int) -> list[DeadLetter]:
    """The newest `limit` dead letters, oldest first. Joins no consumer group and commits nothing:
    listing never moves anyone's offsets."""
    consumer = await assigned_consumer(settings)
    try:
        tps = sorted(consumer.assignment())
        if not tps:
            return []
        begin, end = await consumer.beginning_offsets(tps), await consumer.end_offsets(tps)
        found: list[DeadLetter] = []
        for tp in tps:
            if end[tp] <= begin[tp]:
                continue
            consumer.seek(tp, max(begin[tp], end[tp] - limit))
            while await consumer.position(tp) < end[tp]:
                batch = await consumer.getmany(tp, timeout_ms=1000)
                for record in batch.get(tp, []):
                    if record.offset < end[tp]:
                        found.append(DeadLetter.of(record))
        return sorted(found, key=lambda d: (d.headers.get(AT) or "", d.offset))[-limit:]
    finally:
        await consumer.stop()

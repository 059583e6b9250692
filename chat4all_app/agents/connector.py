"""Connector: channel message -> (skip if already sent) -> provider, through the breaker -> status.

Order: a batch is split by conversation; conversations are sent concurrently, the messages of one
conversation strictly one after another, in topic (= acceptance) order.
Store-and-forward: a message is only left behind once it is SENT or FAILED. While the provider is
down or the circuit is open the connector waits and retries — the events stay unacked in Kafka
and the messages stay PENDING — and resumes in order when the provider recovers.
Crash safety: `sent` records every message the provider accepted; a replay skips those, and the
message_id is the provider's idempotency key for the window between the call and the record.
Poison: an event that does not decode or validate (agents.decode) is dead-lettered, on the channel
topic and on the breaker topic alike; a message the provider refuses for good is FAILED, not poison.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import faust
from aiobreaker import CircuitBreaker, CircuitBreakerError
from faust.types import EventT

from chat4all_app.agents import decode
from chat4all_app.agents.batching import batch_agent, record_of, typed_events
from chat4all_app.connectors.breaker import make_breaker, snapshot
from chat4all_app.connectors.circuit_state import CircuitState
from chat4all_app.connectors.provider_client import PermanentError, ProviderClient, TransientError
from chat4all_app.dead_letters import DeadLetters, Poison
from chat4all_app.delivery_status import Status
from chat4all_app.lru import LruCache
from chat4all_app.observability import correlation
from chat4all_app.observability.logs import correlation_scope, get_logger
from chat4all_app.observability.metrics import (
    CIRCUIT_STATE,
    CIRCUIT_TRANSITIONS,
    CONNECTOR_API_DURATION,
    MESSAGES_FAILED,
    MESSAGES_SENT,
)
from chat4all_app.records import BreakerSnapshot, OutboundMessage, StatusEvent
from chat4all_app.retry import until_done
from chat4all_app.settings import Settings
from chat4all_app.tables.state import CircuitSnapshots, MessageKey, SentMessages
from chat4all_app.topics import consumed
from chat4all_app.workarounds.table_scope import for_event, no_event

log = get_logger(__name__)


@dataclass
class Connector:
    channel: str
    settings: Settings
    provider: ProviderClient
    status_topic: faust.TopicT
    breaker_topic: faust.TopicT
    sent: SentMessages
    breakers: CircuitSnapshots
    dead_letters: DeadLetters
    breaker: CircuitBreaker | None = None
    last_sent_at: float | None = None  # epoch of the last message the provider accepted
    # message_id -> (conversation_id, accepted_id) of recent sends: the provider's receipt names
    # only the message_id, and this saves the webhook a Cassandra lookup (receipts come within
    # seconds; 50k entries is about 10 MB; a miss just reads Cassandra).
    sent_where: LruCache[tuple[str, str]] = field(default_factory=lambda: LruCache(50_000))
    _changes: list[BreakerSnapshot] = field(default_factory=list)

    @property
    def receipt_url(self) -> str:
        return f"{self.settings.connector_url(self.channel)}/webhooks/{self.channel}/receipts"

    def circuit(self) -> CircuitBreaker:
        """The breaker, restored from the table on first use (tables are recovered by then)."""
        if self.breaker is None:
            restored = self.restored_snapshot()
            self.breaker = make_breaker(self.channel, self.settings.circuit_fail_max,
                                        self.settings.circuit_reset_s, restored, self._on_change)
            if restored:
                log.info(f"circuit {self.channel} restored as {restored.state}", channel=self.channel,
                         circuit_breaker=restored.state)
            state = restored.state if restored else CircuitState.CLOSED
            CIRCUIT_STATE.labels(self.channel).set(state.gauge)
        return self.breaker

    def restored_snapshot(self) -> BreakerSnapshot | None:
        """The stored snapshot, checked like one from the topic (a table written before poison was
        checked may hold an invalid one: the breaker then starts CLOSED)."""
        with no_event():
            stored = self.breakers.get(self.channel)
        if stored is None:
            return None
        try:
            return decode.breaker_snapshot(self.channel.encode(), stored.dumps(), channel=self.channel)
        except Poison as poison:
            log.warning("ignoring an invalid stored circuit state", channel=self.channel,
                        reason=poison.reason, detail=poison.detail)
            return None

    def circuit_state(self) -> CircuitState:
        """CLOSED until the first batch restores the breaker."""
        return CircuitState(self.breaker.current_state.name) if self.breaker else CircuitState.CLOSED

    def _on_change(self, channel: str, old: CircuitState | None, new: CircuitState) -> None:
        log.warning("circuit changed", channel=channel, old=old, new=new)
        CIRCUIT_STATE.labels(channel).set(new.gauge)
        CIRCUIT_TRANSITIONS.labels(channel, old or "NONE", new).inc()
        self._changes.append(snapshot(channel, self.breaker, new))

    async def publish_breaker_changes(self) -> None:
        while self._changes:
            change = self._changes.pop(0)
            await until_done(functools.partial(self.breaker_topic.send, key=self.channel, value=change),
                             "recording the circuit state", reason="kafka")

    async def deliver(self, msg: OutboundMessage) -> tuple[Status, str | None]:
        """Call the provider until it accepts (SENT) or refuses for good (FAILED)."""
        delay = 0.1
        while True:
            try:
                await self.circuit().call_async(self.timed_send, msg)
                return Status.SENT, None
            except PermanentError as exc:
                return Status.FAILED, str(exc)
            except CircuitBreakerError:
                MESSAGES_FAILED.labels("circuit_open").inc()
                await asyncio.sleep(min(self.settings.circuit_reset_s, 0.5))
            except TransientError as exc:
                MESSAGES_FAILED.labels("provider").inc()
                log.info("not sent yet, retrying", channel=self.channel, message_id=msg.message_id,
                         error=str(exc), retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
            finally:
                await self.publish_breaker_changes()

    async def timed_send(self, msg: OutboundMessage) -> None:
        with CONNECTOR_API_DURATION.labels(self.channel).time():
            await self.provider.send(msg, self.receipt_url)

    async def emit(self, msg: OutboundMessage, status: Status, reason: str | None) -> None:
        event = StatusEvent(message_id=msg.message_id, conversation_id=msg.conversation_id,
                            accepted_id=msg.accepted_id, status=status, at=time.time(),
                            channel=self.channel, reason=reason, accepted_at=msg.accepted_at,
                            correlation_id=msg.correlation_id)

        async def send_and_wait() -> None:
            await (await self.status_topic.send(key=msg.conversation_id, value=event,
                                                headers=correlation.kafka_headers(msg.correlation_id)))

        await until_done(send_and_wait, f"emitting {status} for {msg.message_id}", reason="kafka")

    async def send_conversation(self, events: Sequence[EventT]) -> None:
        """One conversation's messages to the provider, one after another. Each outcome's status
        event is emitted right away without waiting for Kafka's ack before the next provider call;
        the acks are awaited once, at the end, and only then is `sent` written: a crash before
        that replays the message, which the provider answers from its idempotency key."""
        outcomes: list[tuple[EventT, MessageKey, Status, asyncio.Future[None]]] = []
        handled: set[MessageKey] = set()  # `sent` is written at the end: a repeat in this batch
        try:
            for event in events:
                msg = record_of(event, OutboundMessage)
                key = MessageKey.of(msg)
                with for_event(event):
                    if key in handled or key in self.sent:
                        continue  # a replay after a crash: the provider already has it
                handled.add(key)
                # Before the call: the provider's receipt can arrive before its answer is read.
                self.sent_where.put(msg.message_id, (msg.conversation_id, msg.accepted_id))
                with correlation_scope(correlation.of_event(event) or msg.correlation_id):
                    started = time.perf_counter()
                    status, reason = await self.deliver(msg)
                    MESSAGES_SENT.labels(self.channel, status.value).inc()
                    if status is Status.SENT:
                        self.last_sent_at = time.time()
                    log.info("message sent" if status is Status.SENT else "message failed",
                             channel=self.channel, message_id=msg.message_id, status=status.value,
                             reason=reason, duration_ms=round((time.perf_counter() - started) * 1000, 2))
                    outcomes.append((event, key, status,
                                     asyncio.ensure_future(self.emit(msg, status, reason))))
        except BaseException:
            # Cancelled (shutdown) or failed: `sent` is not written, so these messages are replayed
            # and their events emitted again; an emit retrying against a Kafka that is down must
            # not hold the shutdown up.
            for *_, emitted in outcomes:
                emitted.cancel()
            await asyncio.gather(*(emitted for *_, emitted in outcomes), return_exceptions=True)
            raise
        await asyncio.gather(*(emitted for *_, emitted in outcomes))
        for event, key, status, _ in outcomes:
            with for_event(event):
                self.sent.add(key, status)

    async def handle(self, events: Sequence[EventT]) -> None:
        by_conversation: dict[str, list[EventT]] = {}
        for event in events:
            by_conversation.setdefault(record_of(event, OutboundMessage).conversation_id, []).append(event)
        await asyncio.gather(*(self.send_conversation(evs) for evs in by_conversation.values()))


def install(app: faust.App, connector: Connector, channel_topic: faust.TopicT) -> None:
    settings, channel = connector.settings, connector.channel
    batch_agent(app, channel_topic, f"send-{channel}", settings.connector_batch_size,
                connector.handle, settings, functools.partial(decode.outbound_message, channel=channel),
                connector.dead_letters)

    @app.task
    async def restore_circuit() -> None:
        # Tasks start once tables are recovered: the state gauge is right before the first send.
        connector.circuit()

    name = f"remember-circuit-{channel}"
    decode_snapshot = functools.partial(decode.breaker_snapshot, channel=channel)

    @app.agent(consumed(app, connector.breaker_topic), name=name)
    async def remember_circuit(stream):
        # The breaker topic has one partition, so the table key lives in one place.
        async for event in stream.events():
            typed, poisoned = typed_events(app, [event], decode_snapshot)
            await connector.dead_letters.publish(name, poisoned)  # before the event is acked
            for ev in typed:  # decoded: keyed by its own channel
                connector.breakers.set(ev.value)

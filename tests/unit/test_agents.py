"""Agents driven with Faust's test_context() (memory store, no Kafka); side effects recorded."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any
from unittest import mock

from chat4all_app.agents import connector as connector_agent
from chat4all_app.agents import router as router_agent
from chat4all_app.agents import status as status_agent
from chat4all_app.connectors.provider_client import PermanentError, TransientError
from chat4all_app.delivery_status import Status
from chat4all_app.records import MessageAccepted, OutboundMessage, StatusEvent
from chat4all_app.tables.state import (
    CircuitSnapshots,
    MessageKey,
    MessageStatuses,
    RoutedMessages,
    SentMessages,
)
from tests.unit.fakes import (
    SETTINGS,
    MessageRows,
    RecordingStore,
    done_future,
    recorded_dead_letters,
    recorded_updates,
    until,
)


def accepted(conv: str, mid: str, recipient: str | None = None) -> MessageAccepted:
    return MessageAccepted(message_id=mid, conversation_id=conv, accepted_id=str(uuid.uuid1()),
                           sender_id=str(uuid.uuid4()), content="hi", accepted_at=time.time(),
                           recipient_id=recipient, correlation_id=f"cid-{mid}")


async def test_router_stores_forwards_and_deduplicates(app):
    store = RecordingStore()
    whatsapp = app.topic("wa", key_type=str, value_type=OutboundMessage)
    forwarded = []

    async def fake_send(key, value, headers=None):
        forwarded.append((key, value, headers))
        return done_future()

    whatsapp.send = fake_send
    routed = RoutedMessages(app.Table("routed", key_type=str, value_type=str, partitions=1))
    messages = app.topic("messages", key_type=str, value_type=MessageAccepted)
    updates, announced = recorded_updates(app)
    router = router_agent.Router(SETTINGS, store, {"whatsapp": whatsapp}, routed,
                                 recorded_dead_letters(app)[0], updates)
    agent = router_agent.install(app, router, messages)
    conv, first, internal = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    async with agent.test_context() as test_agent:
        await test_agent.put(key=conv.encode(), value=accepted(conv, first, "whatsapp:+55").dumps())
        # a client's re-post:
        await test_agent.put(key=conv.encode(), value=accepted(conv, first, "whatsapp:+55").dumps())
        await test_agent.put(key=conv.encode(), value=accepted(conv, internal).dumps())
        await until(lambda: sum(c.startswith("UPDATE messages USING") for c, _ in store.statements) >= 2)
    assert [(k, v.message_id, v.recipient) for k, v, _ in forwarded] == [(conv, first, "+55")]
    # The correlation id travels on: in the record and as a Kafka header.
    assert forwarded[0][1].correlation_id == f"cid-{first}"
    assert forwarded[0][2] == [("x-correlation-id", f"cid-{first}".encode())]
    message_rows = [p for cql, p in store.statements if cql.startswith("UPDATE messages USING TIMESTAMP")]
    assert [(str(p[1]), p[7]) for p in message_rows] == [(first, "PENDING"), (internal, "DELIVERED")]
    # Each stored message is announced once to its conversation's members, with its first status.
    assert [(u.kind, u.message_id, u.status, u.channel, u.content) for u in announced] == [
        ("message", first, "PENDING", "whatsapp", "hi"), ("message", internal, "DELIVERED", None, "hi")]


async def test_router_announces_a_message_before_forwarding_it(app):
    """A status of a message can only follow its forward: its members see the message first."""
    whatsapp = app.topic("wa", key_type=str, value_type=OutboundMessage)
    updates, announced = recorded_updates(app)
    at_forward = []

    async def fake_send(key, value, headers=None):
        at_forward.append([u.message_id for u in announced])
        return done_future()

    whatsapp.send = fake_send
    routed = RoutedMessages(app.Table("routed", key_type=str, value_type=str, partitions=1))
    router = router_agent.Router(SETTINGS, RecordingStore(), {"whatsapp": whatsapp}, routed,
                                 recorded_dead_letters(app)[0], updates)
    agent = router_agent.install(app, router, app.topic("messages", key_type=str, value_type=MessageAccepted))
    conv, mid = str(uuid.uuid4()), str(uuid.uuid4())
    async with agent.test_context() as test_agent:
        await test_agent.put(key=conv.encode(), value=accepted(conv, mid, "whatsapp:+55").dumps())
        await until(lambda: bool(at_forward))
    assert at_forward == [[mid]]


async def test_router_records_a_channel_messages_pending_for_the_applier_before_forwarding_it(app):
    """Issue 18: the applier then answers the first SENT from its table, not from Cassandra."""
    conv, first, replayed, internal = (str(uuid.uuid4()) for _ in range(4))
    statuses = MessageStatuses(app.Table("st", key_type=str, value_type=str, partitions=1))
    key = lambda mid: MessageKey(conv, mid)  # noqa: E731
    statuses.table.data[key(replayed).encode()] = "DELIVERED"  # applied before a crash replayed it
    whatsapp = app.topic("wa", key_type=str, value_type=OutboundMessage)
    at_forward: dict[str, object] = {}

    async def fake_send(key, value, headers=None):
        at_forward[value.message_id] = statuses.get(MessageKey(conv, value.message_id))
        return done_future()

    whatsapp.send = fake_send
    routed = RoutedMessages(app.Table("routed", key_type=str, value_type=str, partitions=1))
    store = RecordingStore()
    router = router_agent.Router(SETTINGS, store, {"whatsapp": whatsapp}, routed,
                                 recorded_dead_letters(app)[0], recorded_updates(app)[0], statuses)
    agent = router_agent.install(app, router, app.topic("messages", key_type=str, value_type=MessageAccepted))
    async with agent.test_context() as test_agent:
        for mid, recipient in ((first, "whatsapp:+55"), (replayed, "whatsapp:+56"), (internal, None)):
            await test_agent.put(key=conv.encode(), value=accepted(conv, mid, recipient).dumps())
        await until(lambda: len(at_forward) == 2 and key(internal) in routed)
    assert at_forward == {first: Status.PENDING, replayed: Status.DELIVERED}
    assert statuses.get(key(internal)) is None  # internal: stored DELIVERED, nothing to answer


async def test_the_applier_reads_cassandra_only_for_a_message_its_table_does_not_know(app):
    conv, known, unknown = str(uuid.uuid4()), uuid.uuid4(), uuid.uuid4()
    known_at, unknown_at = uuid.uuid1(), uuid.uuid1()
    store = MessageRows({(uuid.UUID(conv), known_at): (known, "PENDING"),
                         (uuid.UUID(conv), unknown_at): (unknown, "PENDING")})
    statuses = MessageStatuses(app.Table("st", key_type=str, value_type=str, partitions=1))
    statuses.table.data[MessageKey(conv, str(known)).encode()] = "PENDING"  # as the router recorded it
    updates, announced = recorded_updates(app)
    agent = status_agent.install(
        app, status_agent.StatusApplier(SETTINGS, store, statuses, recorded_dead_letters(app)[0], updates),
        app.topic("status"))
    async with agent.test_context() as test_agent:
        for mid, at in ((known, known_at), (unknown, unknown_at)):
            await test_agent.put(key=conv.encode(), value=StatusEvent(
                message_id=str(mid), conversation_id=conv, accepted_id=str(at), status="SENT",
                at=time.time(), channel="whatsapp").dumps())
        await until(lambda: statuses.get(MessageKey(conv, str(unknown))) is Status.SENT)
    assert [p for cql, p in store.statements if cql.startswith("SELECT")] == [(uuid.UUID(conv), unknown_at)]
    assert statuses.get(MessageKey(conv, str(known))) is Status.SENT
    assert sorted((u.kind, u.message_id, u.status) for u in announced) == sorted(
        [("status", str(known), "SENT"), ("status", str(unknown), "SENT")])


def outbound(conv: str, n: int) -> OutboundMessage:
    return OutboundMessage(message_id=str(uuid.uuid4()), conversation_id=conv,
                           accepted_id=str(uuid.uuid1()), channel="whatsapp", recipient=f"r{n}",
                           sender_id=str(uuid.uuid4()), content=f"#{n}", accepted_at=time.time())


def whatsapp_connector_agent(app, provider_send, status_send) -> tuple[Any, SentMessages]:
    """A WhatsApp connector installed on `app` over fake provider and status topic: its agent and
    its `sent` table."""
    statuses = app.topic("status")
    statuses.send = status_send
    breaker_topic = app.topic("circuit")
    breaker_topic.send = mock.AsyncMock()
    channel = app.topic("channel", key_type=str, value_type=OutboundMessage)
    sent = SentMessages(app.Table("sent", key_type=str, value_type=str, partitions=1))
    connector = connector_agent.Connector(
        channel="whatsapp", settings=SETTINGS, provider=mock.Mock(send=provider_send),
        status_topic=statuses, breaker_topic=breaker_topic, sent=sent,
        breakers=CircuitSnapshots(app.Table("circuit", partitions=1)),
        dead_letters=recorded_dead_letters(app)[0])
    connector_agent.install(app, connector, channel)
    return next(a for a in app.agents.values() if a.name.endswith("send-whatsapp")), sent


async def test_connector_retries_until_sent_in_order_and_fails_permanent_errors(app):
    calls: list[str] = []
    outcomes = {"#1": [TransientError("503"), TransientError("503")], "#2": [PermanentError("400")]}

    async def send(msg, callback_url):
        calls.append(msg.content)
        queue = outcomes.get(msg.content, [])
        if queue:
            raise queue.pop(0)
        return "provider-id"

    emitted = []

    async def emit_status(key, value, headers=None):
        emitted.append((value.message_id, value.status, value.reason))
        return done_future()

    agent, _ = whatsapp_connector_agent(app, send, emit_status)
    conv = str(uuid.uuid4())
    msgs = [outbound(conv, n) for n in range(4)]
    async with agent.test_context() as test_agent:
        for m in msgs:
            await test_agent.put(key=conv.encode(), value=m.dumps())
        await test_agent.put(key=conv.encode(), value=msgs[0].dumps())  # replay of an already-sent message
        await until(lambda: len(emitted) >= 4 and len(calls) >= 6)
        await asyncio.sleep(0.1)  # would expose a (wrong) second send of the replayed message
    assert calls == ["#0", "#1", "#1", "#1", "#2", "#3"]  # retried in place, order kept
    assert [(mid, s) for mid, s, _ in emitted] == [
        (msgs[0].message_id, "SENT"), (msgs[1].message_id, "SENT"),
        (msgs[2].message_id, "FAILED"), (msgs[3].message_id, "SENT")]
    assert emitted[2][2] == "400"


async def test_a_connector_stopped_mid_batch_with_kafka_unreachable_stops_at_once(app):
    """The provider call of the second message is in flight and the first one's status event waits
    for an ack that never comes (Kafka down): stopping the agent must not wait for that ack, and
    nothing is recorded as sent (both are replayed after the restart)."""
    calls: list[str] = []
    provider_waits = asyncio.Event()

    async def send(msg, callback_url):
        calls.append(msg.content)
        if msg.content == "#1":
            await provider_waits.wait()  # never set: the call is in flight when the agent stops
        return "provider-id"

    async def emit_status(key, value, headers=None):
        return asyncio.get_running_loop().create_future()  # no ack, ever

    agent, sent = whatsapp_connector_agent(app, send, emit_status)
    conv = str(uuid.uuid4())
    msgs = [outbound(conv, n) for n in range(2)]
    context = agent.test_context()
    test_agent = await context.__aenter__()
    for m in msgs:
        await test_agent.put(key=conv.encode(), value=m.dumps())
    await until(lambda: calls == ["#0", "#1"])
    started = time.monotonic()
    await asyncio.wait_for(context.__aexit__(None, None, None), 5)
    assert time.monotonic() - started < 5
    assert not any(MessageKey.of(m) in sent for m in msgs)

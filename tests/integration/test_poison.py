"""Poison events cannot stop the pipeline (issue 16, item 3), on the real stack.

Poison is produced straight onto every topic a worker consumes, on the partition of a real
conversation; messages sent through the API afterwards must still be DELIVERED (so nothing blocks
that partition), and every poison record must be in the dead-letter topic, byte for byte, with
where it came from and why, counted by the workers and listed by `chat4all dlq`.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiokafka import AIOKafkaProducer, TopicPartition

from chat4all_app.dead_letters import assigned_consumer
from chat4all_app.storage.cassandra import connect
from devstack.stack_client import scrape_async
from tests.integration.helpers import STACK

WORKERS = (STACK.process("router").url, *STACK.connectors.values())  # those `make up` starts


@dataclass
class Poison:
    topic: str
    key: bytes
    value: bytes
    reason: str
    correlation_id: str = ""
    partition: int = -1
    offset: int = -1


def status(message_id: str, conv: str, accepted_id: str, **overrides) -> bytes:
    return json.dumps({"message_id": message_id, "conversation_id": conv, "accepted_id": accepted_id,
                       "status": "SENT", "at": time.time(), "channel": "whatsapp"} | overrides).encode()


def accepted(conv: str, **overrides) -> bytes:
    return json.dumps({"message_id": str(uuid.uuid4()), "conversation_id": conv,
                       "accepted_id": str(uuid.uuid1()), "sender_id": str(uuid.uuid4()),
                       "content": "poison", "accepted_at": time.time()} | overrides).encode()


def outbound(conv: str, channel: str, **overrides) -> bytes:
    return json.dumps({"message_id": str(uuid.uuid4()), "conversation_id": conv,
                       "accepted_id": str(uuid.uuid1()), "channel": channel, "recipient": "+5511",
                       "sender_id": str(uuid.uuid4()), "content": "poison",
                       "accepted_at": time.time()} | overrides).encode()


def poison_for(settings, conv: str, delivered: tuple[str, str]) -> list[Poison]:
    """Poison on every consumed topic, keyed like the real traffic (conversation, or channel)."""
    mid, accepted_id = delivered
    garbage = b"\x00\xff\xfe not json " + uuid.uuid4().bytes
    c = conv.encode()
    records = [
        Poison(settings.topic_messages, c, garbage, "undecodable"),
        Poison(settings.topic_messages, c, accepted(conv, accepted_at=1e12), "invalid_time"),
        Poison(settings.topic_messages, c, accepted(conv, message_id="not-a-uuid"), "invalid_id"),
        Poison(settings.topic_status, c, garbage, "undecodable"),
        Poison(settings.topic_status, c, status(mid, conv, accepted_id, at=1e12, status="DELIVERED"),
               "invalid_time"),
        Poison(settings.topic_status, c, status(mid, conv, accepted_id, status="EXPLODED"), "unknown_status"),
        Poison(settings.topic_status, c, status(str(uuid.uuid4()), conv, str(uuid.uuid1())),
               "unknown_message"),
        Poison(settings.topic_status, c, status("not-a-uuid", conv, accepted_id), "invalid_id"),
        # `delivered` is an internal message, DELIVERED when stored: nothing can fail it afterwards.
        Poison(settings.topic_status, c, status(mid, conv, accepted_id, status="FAILED"),
               "impossible_transition"),
    ]
    for channel in settings.channels:
        topic = settings.channel_topic(channel)
        breakers = settings.circuit_topic(channel)
        records += [
            Poison(topic, c, garbage, "undecodable"),
            Poison(topic, c, outbound(conv, channel, accepted_at=1e12), "invalid_time"),
            Poison(topic, c, outbound(conv, channel, message_id="nope"), "invalid_id"),
            Poison(breakers, channel.encode(), garbage, "undecodable"),
            Poison(breakers, channel.encode(), json.dumps(
                {"channel": channel, "state": "MELTED", "fail_counter": 0}).encode(), "invalid_record"),
        ]
    for n, p in enumerate(records):
        p.correlation_id = f"poison-{uuid.uuid4().hex[:8]}-{n}"
    return records


async def dead_lettered_counts(http: aiohttp.ClientSession) -> Counter:
    """messages_dead_lettered_total{reason} summed over the worker processes."""
    counts: Counter = Counter()
    for url in WORKERS:
        for sample in await scrape_async(http, url):
            if sample.name == "messages_dead_lettered_total":
                counts[sample.labels["reason"]] += sample.value
    return counts


async def dlq_end(settings) -> dict[TopicPartition, int]:
    consumer = await assigned_consumer(settings)
    try:
        return await consumer.end_offsets(list(consumer.assignment()))
    finally:
        await consumer.stop()


async def dead_letters_since(settings, start: dict[TopicPartition, int], wanted: set[str],
                             timeout: float = 60) -> dict[str, object]:
    """DLQ records by correlation id, read from `start` until every `wanted` one is there (or the
    timeout), and then on to the end of the topic."""
    consumer = await assigned_consumer(settings)
    found: dict[str, object] = {}
    try:
        for tp, offset in start.items():
            consumer.seek(tp, offset)
        deadline, end = time.monotonic() + timeout, None
        while True:
            if end is None and (wanted <= set(found) or time.monotonic() > deadline):
                end = await consumer.end_offsets(list(start))
            if end is not None and all([await consumer.position(tp) >= n for tp, n in end.items()]):
                return found
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    found[dict(record.headers).get("x-correlation-id", b"").decode()] = record
    finally:
        await consumer.stop()


async def test_poison_on_every_consumed_topic_is_dead_lettered_and_later_messages_flow(
        api, providers, settings, tmp_path):
    alice, bob = await api.user("alice"), await api.user("bob")
    conv = await api.conversation(alice, bob)
    first = await api.send(alice, conv, "before the poison")
    assert await api.wait_for(lambda: message_status(api, bob, first["message_id"], "DELIVERED"), 30)
    accepted_id = stored_accepted_id(settings, first["message_id"])
    poison = poison_for(settings, conv, (first["message_id"], accepted_id))

    before = await dead_lettered_counts(api.http)
    dlq_start = await dlq_end(settings)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        for p in poison:
            meta = await producer.send_and_wait(p.topic, p.value, key=p.key, headers=[
                ("x-correlation-id", p.correlation_id.encode()), ("origin", b"test_poison")])
            p.partition, p.offset = meta.partition, meta.offset
        # A replay of the status the message already has: at-least-once, not poison.
        replay = f"replay-{uuid.uuid4().hex[:8]}"
        await producer.send_and_wait(settings.topic_status, status(
            first["message_id"], conv, accepted_id, status="DELIVERED"), key=conv.encode(),
            headers=[("x-correlation-id", replay.encode())])
    finally:
        await producer.stop()

    # Later messages on the very partitions the poison sits on still flow.
    internal = await api.send(alice, conv, "after the poison")
    external = {channel: await api.send(alice, conv, f"after the poison, {channel}",
                                        recipient_id=f"{channel}:+5511{n}")
                for n, channel in enumerate(settings.channels)}
    for body in [internal, *external.values()]:
        assert await api.wait_for(lambda b=body: message_status(api, bob, b["message_id"], "DELIVERED"),
                                  60), f"{body['message_id']} was not DELIVERED: the pipeline is blocked"
    for channel, body in external.items():
        assert (await providers.ledger(channel))["received"].get(body["message_id"]) == 1

    found = await dead_letters_since(settings, dlq_start, {p.correlation_id for p in poison})
    assert replay not in found, "a replayed status is a duplicate, not poison"
    missing = [(p.topic, p.reason) for p in poison if p.correlation_id not in found]
    assert not missing, f"not dead-lettered: {missing}"
    for p in poison:
        record = found[p.correlation_id]
        headers = dict(record.headers)
        assert (record.key, record.value) == (p.key, p.value)  # the original bytes
        assert headers["origin"] == b"test_poison"  # the original headers travel along
        assert (headers["dlq.reason"].decode(), headers["dlq.source.topic"].decode(),
                int(headers["dlq.source.partition"]), int(headers["dlq.source.offset"])) == (
            p.reason, p.topic, p.partition, p.offset)
        assert headers["dlq.group"].startswith(b"chat4all-") and headers["dlq.agent"] and headers["dlq.at"]

    after = await dead_lettered_counts(api.http)
    for reason, n in Counter(p.reason for p in poison).items():
        assert after[reason] - before[reason] >= n, (reason, before, after)

    rows = {row["correlation_id"]: row
            for row in map(json.loads, (await chat4all("dlq", "--json", "--limit", "1000")).splitlines())}
    for p in poison:
        row = rows[p.correlation_id]
        assert (row["reason"], row["source"]) == (
            p.reason, {"topic": p.topic, "partition": p.partition, "offset": p.offset})
        assert row["preview"].isprintable()
    text = await chat4all("dlq", "--limit", "1000")
    assert f"{poison[0].topic}[{poison[0].partition}]@{poison[0].offset}" in text


async def chat4all(*args: str) -> str:
    """The installed `chat4all` command (its own process: it runs its own event loop)."""
    proc = await asyncio.create_subprocess_exec(str(Path(sys.executable).parent / "chat4all"), *args,
                                                stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def message_status(api, user, message_id: str, wanted: str) -> bool:
    code, body = await api.call("GET", f"/v1/messages/{message_id}", user)
    return code == 200 and body["status"] == wanted


def stored_accepted_id(settings, message_id: str) -> str:
    """The accepted_id a status event names (the API does not show it)."""
    cluster, session = connect(settings)
    try:
        session.set_keyspace(settings.cassandra_keyspace)
        row = session.execute("SELECT accepted_id FROM messages_by_id WHERE message_id = %s",
                              (uuid.UUID(message_id),)).one()
        return str(row.accepted_id)
    finally:
        cluster.shutdown()

"""The message pipeline end to end on the real stack: API -> Kafka -> router -> Cassandra."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid

from aiokafka import AIOKafkaConsumer


async def test_thousand_messages_with_reposted_duplicates_are_stored_exactly_once_in_order(api):
    """1,000 messages over 10 conversations, 10% re-posted with the same message_id."""
    alice, bob = await api.user("alice"), await api.user("bob")
    convs = [await api.conversation(alice, bob) for _ in range(10)]
    per_conv = 100
    sent: dict[str, list[str]] = {c: [] for c in convs}

    async def post_conversation(conv: str) -> None:
        for i in range(per_conv):
            mid = str(uuid.uuid4())
            body = await api.send(alice, conv, f"message {i}", message_id=mid)
            assert body == {"message_id": mid, "status": "ACCEPTED", "conversation_id": conv}
            sent[conv].append(mid)
            if random.random() < 0.10:  # a client retry of the same message
                again = await api.send(alice, conv, f"message {i}", message_id=mid)
                assert again["message_id"] == mid

    started = time.monotonic()
    await asyncio.gather(*(post_conversation(c) for c in convs))
    accepted_s = time.monotonic() - started

    async def all_stored() -> bool:
        counts = [len(await api.all_messages(bob, c)) for c in convs]
        return sum(counts) >= len(convs) * per_conv

    assert await api.wait_for(all_stored, timeout=120)
    done_s = time.monotonic() - started
    print(f"\n1000 messages: accepted in {accepted_s:.2f}s, all stored+DELIVERED in {done_s:.2f}s "
          f"({1000 / done_s:.0f} msg/s end to end, sequential per conversation)")
    for conv in convs:
        stored = await api.all_messages(bob, conv)
        assert [m["message_id"] for m in stored] == sent[conv]  # exactly once, acceptance order
        assert {m["status"] for m in stored} == {"DELIVERED"}
        assert [m["content"] for m in stored] == [f"message {i}" for i in range(per_conv)]


async def test_external_message_is_forwarded_to_its_channel_topic_keyed_by_conversation(api, settings):
    alice, bob = await api.user(), await api.user()
    conv = await api.conversation(alice, bob)
    consumer = AIOKafkaConsumer(settings.channel_topic("whatsapp"),
                                bootstrap_servers=settings.kafka_bootstrap_servers,
                                group_id=f"it-{uuid.uuid4().hex}", auto_offset_reset="latest")
    await consumer.start()
    try:
        await consumer.seek_to_end()
        body = await api.send(alice, conv, "hola", recipient_id="whatsapp:+5511999990000")
        forwarded = None
        deadline = time.monotonic() + 60
        while forwarded is None and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=1000)
            for records in batch.values():
                for record in records:
                    value = json.loads(record.value)
                    if value["message_id"] == body["message_id"]:
                        forwarded = (record.key.decode(), value)
    finally:
        await consumer.stop()
    assert forwarded is not None, "message never reached the whatsapp channel topic"
    key, value = forwarded
    assert key == conv
    assert (value["channel"], value["recipient"], value["content"]) == (
        "whatsapp", "+5511999990000", "hola")
    status, message = await api.call("GET", f"/v1/messages/{body['message_id']}", bob)
    assert status == 200 and message["channel"] == "whatsapp"


async def test_recipient_marks_read_and_status_never_goes_back(api):
    alice, bob = await api.user(), await api.user()
    conv = await api.conversation(alice, bob)
    mid = (await api.send(alice, conv, "read me"))["message_id"]

    async def status():
        code, body = await api.call("GET", f"/v1/messages/{mid}", bob)
        return body.get("status") if code == 200 else None

    assert await api.wait_for(lambda: _equals(status, "DELIVERED"))
    code, body = await api.call("POST", f"/v1/messages/{mid}/read", alice)
    assert code == 403 and "recipient" in body["error"]
    code, body = await api.call("POST", f"/v1/messages/{mid}/read", bob)
    assert (code, body) == (202, {"message_id": mid, "status": "READ"})
    assert await api.wait_for(lambda: _equals(status, "READ"))
    code, message = await api.call("GET", f"/v1/messages/{mid}", alice)
    assert list(message["timestamps"]) == ["ACCEPTED", "DELIVERED", "READ"]


async def _equals(fetch, want) -> bool:
    return await fetch() == want

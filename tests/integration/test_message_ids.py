"""A message_id is an idempotency key, not a handle on someone else's message; READ comes only
from a recipient, once, and only after DELIVERED (issue 16, item 5). Against the running stack."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

from aiokafka import AIOKafkaConsumer, TopicPartition


def spellings(message_id: str) -> list[str]:
    """Other ways to write the same UUID, all accepted by uuid.UUID()."""
    u = uuid.UUID(message_id)
    return [str(u).upper(), f"urn:uuid:{u}", u.hex, "{" + str(u).upper() + "}"]


async def stored(api, user, message_id: str, status: str | None = None) -> dict:
    async def ready():
        code, body = await api.call("GET", f"/v1/messages/{message_id}", user)
        return body if code == 200 and (status is None or body["status"] == status) else None

    found = await api.wait_for(ready, timeout=60)
    assert found, f"message {message_id} never reached {status or 'storage'}"
    return found


async def routed_after(api, user, conv: str) -> list[dict]:
    """The conversation's messages once a marker posted now is stored: the router has handled
    everything published to this conversation before it (one partition, in order)."""
    marker = await api.send(user, conv, "marker")
    await stored(api, user, marker["message_id"])
    return [m for m in await api.all_messages(user, conv) if m["message_id"] != marker["message_id"]]


async def test_another_user_cannot_take_a_message_id_in_another_conversation(api):
    alice, bob = await api.user("alice"), await api.user("bob")
    eve, mallory = await api.user("eve"), await api.user("mallory")
    conv = await api.conversation(alice, bob)
    theirs = await api.conversation(eve, mallory)
    mid = str(uuid.uuid4())
    await api.send(alice, conv, "secret", message_id=mid)
    original = await stored(api, bob, mid)

    for spelled in [mid, *spellings(mid)]:
        for extra in ({}, {"recipient_id": mallory.user_id}, {"recipient_id": "whatsapp:+5511"}):
            status, body = await api.call("POST", "/v1/messages", eve, json={
                "conversation_id": theirs, "content": "secret", "message_id": spelled, **extra})
            assert status == 409, (spelled, extra, body)
            assert "already used" in body["error"]

    assert await routed_after(api, eve, theirs) == []  # nothing of eve's was stored under that id
    for owner in (alice, bob):  # the owners still read their message, unchanged
        status, body = await api.call("GET", f"/v1/messages/{mid}", owner)
        assert (status, body) == (200, original)
    status, body = await api.call("GET", f"/v1/messages/{mid}", mallory)
    assert status == 403 and "not a member" in body["error"]
    assert [m["message_id"] for m in await api.all_messages(alice, conv)][:1] == [mid]


async def test_an_id_reused_with_other_content_recipient_file_or_sender_is_refused(api):
    alice, bob, carol = await api.user("alice"), await api.user("bob"), await api.user("carol")
    conv = await api.conversation(alice, bob, carol)
    mid = str(uuid.uuid4())
    first = await api.send(alice, conv, "v1", message_id=mid)
    assert first == {"message_id": mid, "status": "ACCEPTED", "conversation_id": conv}
    for user, payload in [
        (alice, {"content": "v2"}),                                  # new content
        (alice, {"content": "v1", "recipient_id": bob.user_id}),     # other recipient
        (alice, {"content": "v1", "recipient_id": "instagram:x"}),
        (alice, {"content": "v1", "file_id": str(uuid.uuid4())}),    # (unknown file: 400 first)
        (bob, {"content": "v1"}),                                    # another sender
    ]:
        status, body = await api.call("POST", "/v1/messages", user,
                                      json={"conversation_id": conv, "message_id": mid, **payload})
        if "file_id" in payload:
            assert status == 400 and "file_id" in body["error"], body
            continue
        assert status == 409 and "already used" in body["error"], (payload, body)

    # The identical message, in any spelling of its id: the same answer, still one message.
    for spelled in [mid, *spellings(mid)]:
        again = await api.send(alice, conv, "v1", message_id=spelled)
        assert again == first, spelled
    messages = await routed_after(api, alice, conv)
    assert [(m["message_id"], m["content"], m["sender_id"], m["recipient_id"]) for m in messages] == [
        (mid, "v1", alice.user_id, None)]


async def test_concurrent_posts_of_one_id_let_exactly_one_message_through(api):
    alice, bob = await api.user("alice"), await api.user("bob")
    conv = await api.conversation(alice, bob)

    async def post(mid: str, content: str) -> tuple[int, dict]:
        return await api.call("POST", "/v1/messages", alice,
                              json={"conversation_id": conv, "content": content, "message_id": mid})

    same = str(uuid.uuid4())  # 10 concurrent replays of one message: 10 identical 202s
    answers = await asyncio.gather(*(post(same, "same") for _ in range(10)))
    assert {(s, json.dumps(b, sort_keys=True)) for s, b in answers} == {
        (202, json.dumps({"message_id": same, "status": "ACCEPTED", "conversation_id": conv},
                         sort_keys=True))}

    raced = str(uuid.uuid4())  # 10 different messages racing for one id: one 202, nine 409s
    answers = await asyncio.gather(*(post(raced, f"racer {i}") for i in range(10)))
    codes = sorted(s for s, _ in answers)
    assert codes == [202] + [409] * 9, answers
    winner = next(f"racer {i}" for i, (s, _) in enumerate(answers) if s == 202)

    messages = await routed_after(api, alice, conv)
    assert sorted((m["message_id"], m["content"]) for m in messages) == sorted(
        [(same, "same"), (raced, winner)])


async def status_events(settings, conversation_id: str, publish) -> list[dict]:
    """The status events for a conversation that `publish()` put on the status topic."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers,
                                group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(settings.topic_status, p) for p in range(settings.topic_partitions)]
        consumer.assign(parts)
        start = await consumer.end_offsets(parts)
        await publish()
        end = await consumer.end_offsets(parts)  # every 202 came after Kafka's ack
        for tp in parts:
            consumer.seek(tp, start[tp])
        events = []
        deadline = time.monotonic() + 30
        while any([await consumer.position(tp) < end[tp] for tp in parts]):
            assert time.monotonic() < deadline, "status topic not read to its end"
            for records in (await consumer.getmany(timeout_ms=500)).values():
                events += [json.loads(r.value) for r in records if r.offset < end[
                    TopicPartition(r.topic, r.partition)]]
        return [e for e in events if e["conversation_id"] == conversation_id]
    finally:
        await consumer.stop()


async def test_read_in_any_spelling_is_recorded_once_under_the_canonical_id(api, settings):
    alice, bob = await api.user("alice"), await api.user("bob")
    conv = await api.conversation(alice, bob)
    mid = (await api.send(alice, conv, "read me"))["message_id"]
    await stored(api, bob, mid, "DELIVERED")
    answers = []

    async def read_in_every_spelling() -> None:
        # ({...} cannot reach the view: aiohttp's path parameters exclude braces, a plain 404.)
        for spelled in [*(s for s in spellings(mid) if "{" not in s), mid]:
            answers.append(await api.call("POST", f"/v1/messages/{spelled}/read", bob))
            if len(answers) == 1:  # the later ones find it READ (the router applied the first)
                await stored(api, bob, mid, "READ")

    events = await status_events(settings, conv, read_in_every_spelling)
    assert answers == [(202, {"message_id": mid, "status": "READ"})] * 4
    assert [(e["message_id"], e["status"]) for e in events] == [(mid, "READ")]
    message = await stored(api, alice, mid, "READ")
    assert list(message["timestamps"]) == ["ACCEPTED", "DELIVERED", "READ"]


async def test_only_a_recipient_marks_read(api):
    alice, bob, carol = await api.user("alice"), await api.user("bob"), await api.user("carol")
    conv = await api.conversation(alice, bob, carol)
    to_bob = (await api.send(alice, conv, "for bob", recipient_id=bob.user_id.upper()))["message_id"]
    to_all = (await api.send(alice, conv, "for everyone"))["message_id"]
    message = await stored(api, bob, to_bob, "DELIVERED")
    assert message["recipient_id"] == bob.user_id  # stored in canonical form
    await stored(api, bob, to_all, "DELIVERED")

    for user, mid in [(carol, to_bob), (alice, to_bob), (alice, to_all)]:
        status, body = await api.call("POST", f"/v1/messages/{mid}/read", user)
        assert status == 403 and "recipient" in body["error"], (user.username, body)
    assert (await api.call("GET", f"/v1/messages/{to_bob}", bob))[1]["status"] == "DELIVERED"
    for user, mid in [(bob, to_bob), (carol, to_all)]:
        status, body = await api.call("POST", f"/v1/messages/{mid}/read", user)
        assert (status, body) == (202, {"message_id": mid, "status": "READ"})
        await stored(api, alice, mid, "READ")


async def test_nobody_marks_an_external_message_read_through_the_api(api):
    """Its READ comes from the channel's (signed) webhook, never from a member: as soon as it is
    stored (PENDING, typically: the provider has not answered yet) and once DELIVERED. (The
    shared provider mocks are not taken down to hold it PENDING: the rule does not depend on it.)"""
    alice, bob = await api.user("alice"), await api.user("bob")
    conv = await api.conversation(alice, bob)
    mid = (await api.send(alice, conv, "hola", recipient_id="instagram:someone"))["message_id"]
    for user in (bob, alice, bob):
        await stored(api, bob, mid)
        status, body = await api.call("POST", f"/v1/messages/{mid.upper()}/read", user)
        assert status == 403 and "instagram" in body["error"], body
    await stored(api, bob, mid, "DELIVERED")
    status, body = await api.call("POST", f"/v1/messages/{mid}/read", bob)
    assert status == 403, body
    assert (await stored(api, alice, mid))["status"] == "DELIVERED"


async def test_read_before_delivery_is_409(api, settings):
    """A message accepted but not stored yet: its claim exists, its row does not. The claim is
    written here as the API writes it, which pins the message in that state for the test (the
    router stores a published message within milliseconds)."""
    from chat4all_app.ids import accepted_id
    from chat4all_app.storage.cassandra import connect

    alice, bob, eve = await api.user("alice"), await api.user("bob"), await api.user("eve")
    conv = await api.conversation(alice, bob)
    mid = uuid.uuid4()
    cluster, session = connect(settings)
    try:
        session.execute(
            f"INSERT INTO {settings.cassandra_keyspace}.message_claims (message_id, "
            "conversation_id, sender_id, fingerprint, accepted_id, accepted_at) "
            "VALUES (%s, %s, %s, %s, %s, %s) IF NOT EXISTS",
            (mid, uuid.UUID(conv), uuid.UUID(alice.user_id), "x" * 64, accepted_id(), time.time()))
    finally:
        cluster.shutdown()
    status, body = await api.call("POST", f"/v1/messages/{str(mid).upper()}/read", bob)
    assert status == 409 and "not yet delivered" in body["error"], body
    status, body = await api.call("POST", f"/v1/messages/{mid}/read", eve)
    assert status == 403, body  # a non-member learns nothing about it
    status, body = await api.call("POST", f"/v1/messages/{uuid.uuid4()}/read", bob)
    assert status == 404, body


async def test_messages_stored_before_claims_existed_are_claimed_by_the_migration(api, settings):
    """Migration 0003's data step (storage/claims.backfill) claims every stored message's id."""
    from chat4all_app.storage.cassandra import connect
    from chat4all_app.storage.claims import backfill

    alice, bob = await api.user("alice"), await api.user("bob")
    eve, mallory = await api.user("eve"), await api.user("mallory")
    conv, theirs = await api.conversation(alice, bob), await api.conversation(eve, mallory)
    mid = str(uuid.uuid4())
    first = await api.send(alice, conv, "from before", recipient_id=bob.user_id, message_id=mid)
    original = await stored(api, bob, mid)
    cluster, session = connect(settings)
    try:
        session.set_keyspace(settings.cassandra_keyspace)
        # What a message stored by the previous version looks like: a row, an index, no claim.
        session.execute("DELETE FROM message_claims WHERE message_id = %s", (uuid.UUID(mid),))
        assert backfill(session, only=[uuid.UUID(mid)]) == 1
        assert backfill(session, only=[uuid.UUID(mid)]) == 0  # idempotent
    finally:
        cluster.shutdown()
    status, body = await api.call("POST", "/v1/messages", eve, json={
        "conversation_id": theirs, "content": "from before", "message_id": mid})
    assert status == 409, body
    assert await api.send(alice, conv, "from before", recipient_id=bob.user_id.upper(),
                          message_id=mid.upper()) == first  # the owner's replay still works
    assert await routed_after(api, eve, theirs) == []
    assert (await api.call("GET", f"/v1/messages/{mid}", alice)) == (200, original)

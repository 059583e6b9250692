"""Poison events: what counts as permanent, and agents that dead-letter it and go on (no Kafka)."""

from __future__ import annotations

import json
import time
import uuid
from types import SimpleNamespace
from unittest import mock

import pytest
from cassandra import InvalidRequest, Unavailable
from cassandra.cluster import NoHostAvailable

from chat4all_app import dead_letters as dl
from chat4all_app.agents import connector as connector_agent
from chat4all_app.agents import decode
from chat4all_app.agents import router as router_agent
from chat4all_app.agents import status as status_agent
from chat4all_app.connectors.circuit_state import CircuitState
from chat4all_app.delivery_status import Status
from chat4all_app.records import BreakerSnapshot, MessageAccepted, OutboundMessage, StatusEvent
from chat4all_app.retry import isolating
from chat4all_app.storage.cassandra import refused_for_good
from chat4all_app.tables.state import CircuitSnapshots, MessageStatuses, RoutedMessages, SentMessages
from tests.unit.fakes import SETTINGS, MessageRows, recorded_dead_letters, recorded_updates, until

CONV, MID = str(uuid.uuid4()), str(uuid.uuid4())


def status_json(**overrides) -> bytes:
    ev = {"message_id": MID, "conversation_id": CONV, "accepted_id": str(uuid.uuid1()),
          "status": "SENT", "at": time.time(), "channel": "whatsapp"} | overrides
    return json.dumps(ev).encode()


def accepted_json(**overrides) -> bytes:
    msg = {"message_id": MID, "conversation_id": CONV, "accepted_id": str(uuid.uuid1()),
           "sender_id": str(uuid.uuid4()), "content": "hi", "accepted_at": time.time()} | overrides
    return json.dumps(msg).encode()


# --- decoding at the agent edge ----------------------------------------------------------------

def test_records_our_producers_write_decode_to_the_same_records():
    ev = StatusEvent(message_id=MID, conversation_id=CONV, accepted_id=str(uuid.uuid1()),
                     status=Status.DELIVERED, at=time.time(), channel="whatsapp", correlation_id="c-1")
    assert decode.status_event(CONV.encode(), ev.dumps()) == ev
    assert b'"status":"DELIVERED"' in ev.dumps()  # the enum is the same JSON string on the wire
    assert decode.status_event(CONV.encode(), ev.dumps()).status is Status.DELIVERED
    msg = MessageAccepted.loads(accepted_json(recipient_id="whatsapp:+55", file_id=str(uuid.uuid4())))
    assert decode.message_accepted(CONV.encode(), msg.dumps()) == msg
    out = OutboundMessage(message_id=MID, conversation_id=CONV, accepted_id=str(uuid.uuid1()),
                          channel="whatsapp", recipient="+55", sender_id=str(uuid.uuid4()),
                          content="hi", accepted_at=time.time())
    assert decode.outbound_message(CONV.encode(), out.dumps(), channel="whatsapp") == out
    snap = BreakerSnapshot(channel="whatsapp", state=CircuitState.OPEN, fail_counter=3, opened_at=time.time())
    assert decode.breaker_snapshot(b"whatsapp", snap.dumps(), channel="whatsapp") == snap
    assert b'"state":"OPEN"' in snap.dumps()
    assert decode.breaker_snapshot(b"whatsapp", snap.dumps(), channel="whatsapp").state is CircuitState.OPEN


@pytest.mark.parametrize(("raw", "reason"), [
    (None, dl.UNDECODABLE),
    (b"", dl.UNDECODABLE),
    (b"\xff\xfe\x00garbage", dl.UNDECODABLE),
    (b"{not json", dl.UNDECODABLE),
    (b"[1, 2]", dl.UNDECODABLE),
    (status_json(at=1e12), dl.INVALID_TIME),
    (status_json(at=-5), dl.INVALID_TIME),
    (status_json().replace(b'"at": ', b'"at": NaN, "x": '), dl.INVALID_TIME),
    (status_json(at="yesterday"), dl.INVALID_RECORD),
    (status_json(at=True), dl.INVALID_RECORD),
    (status_json(status="EXPLODED"), dl.UNKNOWN_STATUS),
    (status_json(status=None), dl.INVALID_RECORD),
    (status_json(message_id="not-a-uuid"), dl.INVALID_ID),
    (status_json(accepted_id=str(uuid.uuid4())), dl.INVALID_ID),  # not a time UUID
    (status_json(conversation_id=str(uuid.uuid4())), dl.KEY_MISMATCH),
    (json.dumps({"message_id": MID}).encode(), dl.INVALID_RECORD),
    (status_json(at=10**400), dl.INVALID_TIME),  # float() overflows
    (b"[" * 100_000 + b"]" * 100_000, dl.UNDECODABLE),  # json.loads recurses too deep
])
def test_poison_status_events_are_classified(raw, reason):
    with pytest.raises(dl.Poison) as caught:
        decode.status_event(CONV.encode(), raw)
    assert caught.value.reason == reason, caught.value


@pytest.mark.parametrize(("raw", "reason"), [
    (accepted_json(accepted_at=1e12), dl.INVALID_TIME),
    (accepted_json(sender_id="bob"), dl.INVALID_ID),
    (accepted_json(file_id="x"), dl.INVALID_ID),
    (accepted_json(content=7), dl.INVALID_RECORD),
])
def test_poison_accepted_messages_are_classified(raw, reason):
    with pytest.raises(dl.Poison) as caught:
        decode.message_accepted(CONV.encode(), raw)
    assert caught.value.reason == reason, caught.value


def test_records_for_another_channel_are_poison_on_this_channels_topics():
    out = OutboundMessage(message_id=MID, conversation_id=CONV, accepted_id=str(uuid.uuid1()),
                          channel="instagram", recipient="bob", sender_id=str(uuid.uuid4()),
                          content="hi", accepted_at=time.time())
    with pytest.raises(dl.Poison, match=dl.WRONG_CHANNEL):
        decode.outbound_message(CONV.encode(), out.dumps(), channel="whatsapp")
    broken = BreakerSnapshot(channel="whatsapp", state="MELTED", fail_counter=0)
    with pytest.raises(dl.Poison, match=dl.INVALID_RECORD):
        decode.breaker_snapshot(b"whatsapp", broken.dumps(), channel="whatsapp")


def test_only_data_errors_count_as_refused_for_good():
    assert refused_for_good(InvalidRequest("Batch too large"))
    assert refused_for_good(ValueError("year 33658 is out of range"))
    assert not refused_for_good(Unavailable("not enough replicas"))
    assert not refused_for_good(NoHostAvailable("down", {}))
    assert not refused_for_good(TimeoutError())
    # The schema, not the row: every write would fail, so retry rather than empty the stream.
    assert not refused_for_good(InvalidRequest("Error from server: code=2200 [Invalid query] "
                                               "message=\"unconfigured table messages\""))
    assert not refused_for_good(InvalidRequest("Undefined column name status_reason"))
    assert not refused_for_good(TypeError("a bug in our statement"))


async def test_isolating_writes_the_rest_and_returns_only_the_refused_item():
    written: list[int] = []
    attempts = {"transient": 0}

    async def write(items):
        if 3 in items:
            raise InvalidRequest("item 3 is bad")
        if attempts["transient"] < 2:  # a transient failure is retried, not isolated
            attempts["transient"] += 1
            raise Unavailable("try again")
        written.extend(items)

    refused = await isolating([1, 2, 3, 4], write, "test", reason="test", permanent=refused_for_good)
    assert [item for item, _ in refused] == [3]
    assert sorted(written) == [1, 2, 4]


def test_dead_letter_headers_keep_the_original_ones_and_say_where_and_why():
    message = SimpleNamespace(topic="chat4all.status", partition=4, offset=1234, value=b"{}",
                              headers=[("x-correlation-id", b"c-9"), ("dlq.reason", b"older")])
    headers = dl.dead_letter_headers(message, dl.Poison(dl.INVALID_TIME, "at is 1e12"),
                                     "chat4all-router", "apply-status", 0.0)
    assert headers[0] == ("x-correlation-id", b"c-9")
    as_dict = dict(headers)
    assert as_dict["dlq.reason"] == b"invalid_time"  # the earlier dead-lettering's is replaced
    assert (as_dict["dlq.source.topic"], as_dict["dlq.source.partition"], as_dict["dlq.source.offset"]) == (
        b"chat4all.status", b"4", b"1234")
    assert (as_dict["dlq.group"], as_dict["dlq.agent"]) == (b"chat4all-router", b"apply-status")
    assert as_dict["dlq.at"].startswith(b"1970-01-01T00:00:00")


def test_a_listed_dead_letter_shows_only_printable_text():
    letter = dl.DeadLetter(7, {"dlq.reason": "undecodable", "x-correlation-id": "evil\x1b[2J"},
                           b"k", b"\x00\xff{\"a\": 1}" + b"x" * 100)
    row = letter.as_json()
    assert row["preview"].startswith('\\x00\\xff{"a": 1}') and row["preview"].endswith("...")
    assert "\x1b" not in row["correlation_id"]


# --- agents: poison goes to the dead letters, the rest goes on ---------------------------------

def event_bytes(ev: StatusEvent) -> tuple[bytes, bytes]:
    return ev.conversation_id.encode(), ev.dumps()


async def test_status_applier_dead_letters_unknown_and_impossible_and_ignores_stale(app):
    conv, accepted = uuid.uuid4(), uuid.uuid1()
    mid, failed_mid, unknown_mid = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    failed_accepted = uuid.uuid1()
    store = MessageRows({(conv, accepted): (mid, "PENDING"),
                         (conv, failed_accepted): (failed_mid, "PENDING")})
    dead_letters, dead = recorded_dead_letters(app)
    statuses = MessageStatuses(app.Table("st", key_type=str, value_type=str, partitions=1))
    updates, announced = recorded_updates(app)
    applier = status_agent.StatusApplier(SETTINGS, store, statuses, dead_letters, updates)
    agent = status_agent.install(app, applier, app.topic("status"))

    def ev(message_id, status, where=accepted):
        return StatusEvent(message_id=str(message_id), conversation_id=str(conv), accepted_id=str(where),
                           status=status, at=time.time(), channel="whatsapp")

    sequence = [ev(mid, "SENT"), ev(mid, "READ"),  # READ before DELIVERED: impossible
                ev(mid, "DELIVERED"), ev(mid, "SENT"),  # late SENT: stale, ignored
                ev(unknown_mid, "SENT"),  # no such message
                ev(failed_mid, "FAILED", failed_accepted), ev(failed_mid, "SENT", failed_accepted)]
    async with agent.test_context() as test_agent:
        for e in sequence:
            key, value = event_bytes(e)
            await test_agent.put(key=key, value=value)
        await test_agent.put(key=str(conv).encode(), value=b"\x00garbage")
        await until(lambda: len(dead) >= 4)
    assert sorted((h["dlq.reason"], json.loads(v)["message_id"] if v[:1] == b"{" else v)
                  for _, v, h in dead) == sorted([
        (b"impossible_transition", str(mid)), (b"unknown_message", str(unknown_mid)),
        (b"impossible_transition", str(failed_mid)), (b"undecodable", b"\x00garbage")])
    # (the batches may split anywhere: what was applied to each row, in order)
    written = {}
    for cql, p in store.statements:
        if cql.startswith("UPDATE messages"):
            written.setdefault(p[4], []).extend(sorted(p[2], key=["SENT", "DELIVERED", "FAILED"].index))
    assert written == {accepted: ["SENT", "DELIVERED"], failed_accepted: ["FAILED"]}
    # Only what was applied is announced; poison and stale events are not.
    assert sorted((u.message_id, u.status) for u in announced) == sorted(
        [(str(mid), "SENT"), (str(mid), "DELIVERED"), (str(failed_mid), "FAILED")])


async def test_router_dead_letters_what_cassandra_refuses_and_stores_the_rest(app):
    bad, good = str(uuid.uuid4()), str(uuid.uuid4())
    store = MessageRows(refuse=bad)
    dead_letters, dead = recorded_dead_letters(app)
    routed = RoutedMessages(app.Table("routed", key_type=str, value_type=str, partitions=1))
    router = router_agent.Router(SETTINGS, store, {}, routed, dead_letters, recorded_updates(app)[0])
    agent = router_agent.install(app, router, app.topic("messages"))
    async with agent.test_context() as test_agent:
        for mid in (bad, good):
            await test_agent.put(key=CONV.encode(), value=accepted_json(message_id=mid))
        await test_agent.put(key=CONV.encode(), value=accepted_json(accepted_at=1e12))
        await until(lambda: len(dead) >= 2 and any(good in str(p) for _, p in store.statements))
    assert sorted(h["dlq.reason"] for _, _, h in dead) == [b"invalid_time", b"store_rejected"]
    assert all(h["dlq.agent"] == b"route-messages" for _, _, h in dead)


async def test_connector_dead_letters_poison_on_its_channel_and_breaker_topics(app):
    sent = []

    async def send(msg, callback_url):
        sent.append(msg.message_id)

    dead_letters, dead = recorded_dead_letters(app)
    statuses, breaker_topic = app.topic("status"), app.topic("circuit")
    statuses.send = breaker_topic.send = mock.AsyncMock()
    connector = connector_agent.Connector(
        channel="whatsapp", settings=SETTINGS, provider=SimpleNamespace(send=send),
        status_topic=statuses, breaker_topic=breaker_topic,
        sent=SentMessages(app.Table("sent", key_type=str, value_type=str, partitions=1)),
        breakers=CircuitSnapshots(app.Table("circuit", partitions=1)), dead_letters=dead_letters)
    connector_agent.install(app, connector, app.topic("channel"))
    send_agent = next(a for a in app.agents.values() if a.name.endswith("send-whatsapp"))
    remember = next(a for a in app.agents.values() if a.name.endswith("remember-circuit-whatsapp"))
    async with send_agent.test_context() as test_agent:
        await test_agent.put(key=CONV.encode(), value=b"garbage")
        await until(lambda: len(dead) >= 1)
    async with remember.test_context() as test_agent:
        await test_agent.put(key=b"whatsapp", value=BreakerSnapshot(channel="whatsapp", state="MELTED",
                                                                    fail_counter=0).dumps())
        await until(lambda: len(dead) >= 2)
    assert [(h["dlq.agent"], h["dlq.reason"]) for _, _, h in dead] == [
        (b"send-whatsapp", b"undecodable"), (b"remember-circuit-whatsapp", b"invalid_record")]
    assert sent == []


def test_an_invalid_stored_circuit_state_is_ignored_not_a_crash(app):
    breakers = app.Table("circuit-restore", partitions=1)
    breakers.data["whatsapp"] = BreakerSnapshot(channel="whatsapp", state="MELTED", fail_counter=0)
    connector = connector_agent.Connector(
        channel="whatsapp", settings=SETTINGS, provider=SimpleNamespace(), status_topic=app.topic("s"),
        breaker_topic=app.topic("c"), sent=SentMessages(app.Table("sent-restore", partitions=1)),
        breakers=CircuitSnapshots(breakers),
        dead_letters=recorded_dead_letters(app)[0])
    assert connector.circuit().current_state.name == "CLOSED"


def test_a_dead_letter_too_large_for_kafka_is_cut_and_says_so():
    big = b"x" * (dl.VALUE_MAX + 10)
    value, headers = dl.dead_letter_value(big)
    assert len(value) == dl.VALUE_MAX and headers[dl.TRUNCATED] == str(len(big))
    assert len(headers[dl.ORIGINAL_SHA256]) == 64
    assert dl.dead_letter_value(b"small") == (b"small", {})
    assert dl.dead_letter_value(None) == (None, {})


def test_ids_from_any_producer_are_rewritten_canonically():
    upper = json.loads(status_json())
    upper["message_id"] = MID.upper().replace("-", "")
    ev = decode.status_event(CONV.encode(), json.dumps(upper).encode())
    assert ev.message_id == MID
    with pytest.raises(dl.Poison, match=dl.KEY_MISMATCH):  # the key must be the canonical id
        decode.status_event(CONV.upper().encode(),
                            json.dumps({**upper, "conversation_id": CONV.upper()}).encode())

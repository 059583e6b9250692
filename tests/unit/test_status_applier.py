"""The status applier finds a channel message's first status without reading Cassandra when the
router (same process) routed it; anything else still reads the row (no Kafka, no Cassandra)."""

from __future__ import annotations

import time
import uuid

from chat4all_app.agents import status as status_agent
from chat4all_app.records import StatusEvent
from chat4all_app.tables.state import MessageKey, MessageStatuses, RoutedMessages
from tests.unit.fakes import SETTINGS, MessageRows, recorded_dead_letters, until


def reads(store: MessageRows) -> list[tuple]:
    return [params for cql, params in store.statements if cql.startswith("SELECT")]


def updates(store: MessageRows) -> dict[uuid.UUID, list[str]]:
    written: dict[uuid.UUID, list[str]] = {}
    for cql, p in store.statements:
        if cql.startswith("UPDATE messages"):
            written.setdefault(p[4], []).extend(sorted(p[2], key=["SENT", "DELIVERED", "READ"].index))
    return written


async def test_a_routed_channel_message_needs_no_read_and_the_rest_still_read(app):
    conv = uuid.uuid4()
    routed_mid, unrouted_mid, internal_mid = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    routed_at, unrouted_at, internal_at = uuid.uuid1(), uuid.uuid1(), uuid.uuid1()
    store = MessageRows({(conv, routed_at): (routed_mid, "PENDING"),
                         (conv, unrouted_at): (unrouted_mid, "PENDING"),
                         (conv, internal_at): (internal_mid, "DELIVERED")})
    routed = RoutedMessages(app.Table("routed", key_type=str, value_type=str, partitions=1))
    statuses = MessageStatuses(app.Table("st", key_type=str, value_type=str, partitions=1))
    dead_letters, dead = recorded_dead_letters(app)
    applier = status_agent.StatusApplier(SETTINGS, store, statuses, dead_letters, routed)
    agent = status_agent.install(app, applier, app.topic("status"))

    def ev(mid, at, status, channel="whatsapp"):
        return StatusEvent(message_id=str(mid), conversation_id=str(conv), accepted_id=str(at),
                           status=status, at=time.time(), channel=channel)

    async with agent.test_context() as test_agent:
        for mid, at in ((routed_mid, routed_at), (internal_mid, internal_at)):
            routed.table.data[MessageKey.of(ev(mid, at, "SENT")).encode()] = str(at)  # as the router did
        for e in (ev(routed_mid, routed_at, "SENT"), ev(unrouted_mid, unrouted_at, "SENT"),
                  ev(internal_mid, internal_at, "READ", channel=None)):  # READ: from the API
            await test_agent.put(key=str(conv).encode(), value=e.dumps())
        await until(lambda: len(updates(store)) == 3)
    assert dead == []
    assert sorted(reads(store)) == sorted([(conv, unrouted_at), (conv, internal_at)])
    assert updates(store) == {routed_at: ["SENT"], unrouted_at: ["SENT"], internal_at: ["READ"]}


async def test_without_the_routed_table_every_first_status_reads_cassandra(app):
    conv, mid, at = uuid.uuid4(), uuid.uuid4(), uuid.uuid1()
    store = MessageRows({(conv, at): (mid, "PENDING")})
    statuses = MessageStatuses(app.Table("st", key_type=str, value_type=str, partitions=1))
    dead_letters, _ = recorded_dead_letters(app)
    agent = status_agent.install(app, status_agent.StatusApplier(SETTINGS, store, statuses, dead_letters),
                                 app.topic("status"))
    async with agent.test_context() as test_agent:
        await test_agent.put(key=str(conv).encode(), value=StatusEvent(
            message_id=str(mid), conversation_id=str(conv), accepted_id=str(at), status="SENT",
            at=time.time(), channel="whatsapp").dumps())
        await until(lambda: updates(store) == {at: ["SENT"]})
    assert reads(store) == [(conv, at)]

"""The typed table facades keep the bytes Faust stores and replays: existing state still reads."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import faust
from faust.types.tuples import Message

from chat4all_app.connectors.circuit_state import CircuitState
from chat4all_app.delivery_status import Status
from chat4all_app.faust_app import app_id
from chat4all_app.records import BreakerSnapshot
from chat4all_app.settings import Settings
from chat4all_app.tables.state import (
    CircuitSnapshots,
    MessageKey,
    MessageStatuses,
    RoutedMessages,
    SentMessages,
    changelog_partitions,
)
from chat4all_app.workarounds.table_scope import for_event

CONV, MID = str(uuid.uuid4()), str(uuid.uuid4())


@contextmanager
def in_an_event(faust_app: faust.App) -> Iterator[None]:
    """Faust writes a table only on behalf of an event (its partition picks the changelog's)."""
    message = Message(topic="t", partition=0, offset=0, timestamp=0.0, timestamp_type=0, headers=[],
                      key=b"k", value=b"v", checksum=None)
    with for_event(event := faust_app.create_event(b"k", b"v", [], message)):
        yield
    del event


def stored_bytes(table, key: str) -> tuple[bytes, bytes]:
    """The key and value as they go to RocksDB and the changelog topic."""
    serializers = table.app.serializers
    return (serializers.dumps_key(table.key_type, key, serializer=table.key_serializer),
            serializers.dumps_value(table.value_type, table.data[key], serializer=table.value_serializer))


def test_a_message_key_is_the_text_every_existing_table_uses():
    assert MessageKey(CONV, MID).encode() == f"{CONV}:{MID}"
    assert MessageKey.of(MessageKey(CONV, MID)) == (CONV, MID)


async def test_the_router_tables_store_the_same_bytes_as_before(app):
    statuses = MessageStatuses.declare(app, 1)
    routed = RoutedMessages.declare(app, 1)
    key = MessageKey(CONV, MID)
    with in_an_event(app):
        statuses.set(key, Status.DELIVERED)
        routed.add(key, "accepted-1")
    assert stored_bytes(statuses.table, f"{CONV}:{MID}") == (f'"{CONV}:{MID}"'.encode(), b'"DELIVERED"')
    assert stored_bytes(routed.table, f"{CONV}:{MID}") == (f'"{CONV}:{MID}"'.encode(), b'"accepted-1"')


async def test_statuses_read_back_as_the_enum_and_unknown_keys_as_none(app):
    statuses = MessageStatuses.declare(app, 1)
    statuses.table.data[f"{CONV}:{MID}"] = "SENT"  # written by an earlier release
    assert statuses.get(MessageKey(CONV, MID)) is Status.SENT
    assert statuses.get(MessageKey(CONV, str(uuid.uuid4()))) is None


async def test_routed_and_sent_answer_membership_by_typed_key(app):
    routed, sent = RoutedMessages.declare(app, 1), SentMessages.declare(app, "whatsapp", 1)
    key, other = MessageKey(CONV, MID), MessageKey(CONV, str(uuid.uuid4()))
    with in_an_event(app):
        routed.add(key, "accepted-1")
        sent.add(key, Status.FAILED)
    assert key in routed and other not in routed
    assert key in sent and other not in sent
    assert sent.table.data[key.encode()] == "FAILED"


async def test_table_names_stay_what_inspect_tables_and_the_changelogs_know(app):
    assert (RoutedMessages.NAME, MessageStatuses.NAME) == ("routed-messages", "message-status")
    assert SentMessages.name("whatsapp") == "sent-whatsapp"
    assert CircuitSnapshots.name("whatsapp") == "circuit-whatsapp"
    circuits = CircuitSnapshots.declare(app, "whatsapp")
    snap = BreakerSnapshot(channel="whatsapp", state=CircuitState.OPEN, fail_counter=3)
    with in_an_event(app):
        circuits.set(snap)
    assert circuits.get("whatsapp") is snap and circuits.get("instagram") is None


def test_migrate_creates_the_changelog_topics_faust_names_for_every_table():
    settings = Settings.from_env({})
    wanted = changelog_partitions(settings)
    router = faust.App(app_id("router"), store="memory://")
    tables = [RoutedMessages.declare(router, settings.topic_messages_partitions).table,
              MessageStatuses.declare(router, settings.topic_partitions).table]
    for channel in settings.channels:
        connector = faust.App(app_id(f"connector-{channel}"), store="memory://")
        tables += [SentMessages.declare(connector, channel, settings.topic_partitions).table,
                   CircuitSnapshots.declare(connector, channel).table]
    assert {t.changelog_topic.get_topic_name(): t.partitions for t in tables} == wanted

"""Proof that the local stack is the real thing: Kafka, Cassandra, S3 and Prometheus answer.

`make test` starts the stack before pytest runs; these tests fail (never skip) if it is not up.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aiohttp
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from cassandra.util import uuid_from_time

from benchmarks.processes import pids
from chat4all_app.bootstrap.cassandra_schema import MigrationError, migrate
from chat4all_app.files.s3 import s3_client
from chat4all_app.storage.cassandra import connect
from devstack.components import CASSANDRA_TIMER_SLACK_NS

# --- Kafka -----------------------------------------------------------------------------------

async def test_kafka_round_trip_with_acks_all(settings):
    topic = f"it.roundtrip.{uuid.uuid4().hex}"
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers,
                                acks="all", enable_idempotence=True)
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=settings.kafka_bootstrap_servers,
                                auto_offset_reset="earliest", group_id=f"it-{uuid.uuid4().hex}")
    await producer.start()
    try:
        meta = await producer.send_and_wait(topic, b'{"hello": "kafka"}', key=b"conv-1")
        assert meta.offset == 0
    finally:
        await producer.stop()
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), timeout=30)
    finally:
        await consumer.stop()
    assert (record.key, record.value) == (b"conv-1", b'{"hello": "kafka"}')


async def test_bootstrap_created_topics_with_explicit_partition_counts(settings):
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        described = await admin.describe_topics(list(settings.topic_partition_counts()))
    finally:
        await admin.close()
    found = {d["topic"]: len(d["partitions"]) for d in described}
    assert found == settings.topic_partition_counts()
    assert found[settings.topic_messages] >= 6


# --- Cassandra -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cassandra(settings):
    cluster, session = connect(settings)
    yield session
    cluster.shutdown()


def test_cassandra_write_then_read_a_row(settings, cassandra):
    user_id = uuid.uuid4()
    cassandra.execute(
        f"INSERT INTO {settings.cassandra_keyspace}.users (user_id, username, email) "
        "VALUES (%s, %s, %s)", (user_id, f"it-{user_id.hex[:8]}", "it@example.org"))
    row = cassandra.execute(
        f"SELECT username, email FROM {settings.cassandra_keyspace}.users WHERE user_id = %s",
        (user_id,)).one()
    assert row.username == f"it-{user_id.hex[:8]}"
    assert row.email == "it@example.org"


def test_two_messages_in_the_same_millisecond_are_both_stored(settings, cassandra):
    conversation = uuid.uuid4()
    now = time.time()
    for _ in range(2):
        cassandra.execute(
            f"INSERT INTO {settings.cassandra_keyspace}.messages "
            "(conversation_id, accepted_id, message_id, content) VALUES (%s, %s, %s, %s)",
            (conversation, uuid_from_time(now), uuid.uuid4(), "same ms"))
    rows = list(cassandra.execute(
        f"SELECT message_id FROM {settings.cassandra_keyspace}.messages "
        "WHERE conversation_id = %s", (conversation,)))
    assert len(rows) == 2


def test_migrations_are_idempotent_and_guard_against_edited_history(settings, cassandra):
    scratch = dataclasses.replace(settings, cassandra_keyspace=f"it_{uuid.uuid4().hex[:12]}")
    try:
        first = migrate(scratch, cassandra)
        assert first and first[0] == "0001_initial"
        assert migrate(scratch, cassandra) == []  # second run: nothing to do
        cassandra.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
        with pytest.raises(MigrationError, match="changed after it was applied"):
            migrate(scratch, cassandra)
    finally:
        cassandra.execute(f"DROP KEYSPACE IF EXISTS {scratch.cassandra_keyspace}")
        cassandra.set_keyspace(settings.cassandra_keyspace)


# --- S3 --------------------------------------------------------------------------------------

def _with_query(url: str, **changes: str | None) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


async def test_s3_put_get_and_presigned_urls_are_verified(settings):
    key = f"it/{uuid.uuid4().hex}.bin"
    body = uuid.uuid4().bytes * 1000
    async with s3_client(settings) as s3, aiohttp.ClientSession() as http:
        await s3.put_object(Bucket=settings.s3_bucket, Key=key, Body=body)
        got = await s3.get_object(Bucket=settings.s3_bucket, Key=key)
        async with got["Body"] as stream:
            assert await stream.read() == body

        url = await s3.generate_presigned_url(
            "get_object", Params={"Bucket": settings.s3_bucket, "Key": key}, ExpiresIn=300)
        async with http.get(url) as resp:
            assert resp.status == 200
            assert await resp.read() == body

        signature = dict(parse_qsl(urlsplit(url).query))["X-Amz-Signature"]
        tampered_sig = _with_query(url, **{"X-Amz-Signature": signature[:-1] + (
            "0" if signature[-1] != "0" else "1")})
        longer_expiry = _with_query(url, **{"X-Amz-Expires": "604800"})
        other_key = url.replace(key, key.replace(".bin", ".other"), 1)
        unsigned = urlunsplit(urlsplit(url)._replace(query=""))
        for bad in (tampered_sig, longer_expiry, other_key, unsigned):
            async with http.get(bad) as resp:
                assert resp.status == 403, bad
                assert body not in await resp.read()
        await s3.delete_object(Bucket=settings.s3_bucket, Key=key)


async def test_bucket_is_private(settings):
    url = f"{settings.s3_endpoint_url}/{settings.s3_bucket}"
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        assert resp.status == 403


# --- Prometheus ------------------------------------------------------------------------------

async def test_prometheus_scrapes_targets_and_reports_up(settings):
    deadline = time.monotonic() + 60  # the first scrape lands a few seconds after start
    jobs: dict[str, str] = {}
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            async with http.get(f"{settings.prometheus_url}/api/v1/query",
                                params={"query": "up"}) as resp:
                assert resp.status == 200
                data = await resp.json()
            jobs = {r["metric"]["job"]: r["value"][1] for r in data["data"]["result"]}
            if jobs.get("prometheus") == "1" and jobs.get("minio") == "1":
                break
            await asyncio.sleep(0.5)
    assert jobs.get("prometheus") == "1", jobs
    assert jobs.get("minio") == "1", jobs


def test_cassandra_runs_with_the_stacks_timer_slack():
    """`make up` starts Cassandra through devstack/timer_slack.py (issue 18): every JVM thread has it."""
    pid = pids()["cassandra"]
    tasks = Path(f"/proc/{pid}/task").iterdir()
    slacks = {int(Path(f"/proc/{t.name}/timerslack_ns").read_text()) for t in tasks}
    assert slacks == {CASSANDRA_TIMER_SLACK_NS}

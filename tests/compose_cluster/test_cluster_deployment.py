"""docker-compose.cluster.yml on the real engine: every node healthy and in one cluster, every topic
and the keyspace replicated to three, and messages delivered once while a broker and then a
Cassandra node are killed."""

from __future__ import annotations

import json

import aiohttp

from tests.compose.deployment import CLUSTER_FILES, assert_every_service_up
from tests.compose.traffic import ledger, recipient, wait_statuses
from tests.integration.helpers import Api, post_with_retries

# Run inside a Chat4All container, with the settings compose gives it: what the brokers and the
# Cassandra nodes report about replication.
REPLICATION = """
import asyncio, json
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from chat4all_app.settings import Settings
from chat4all_app.storage.cassandra import connect

settings = Settings.from_env()

async def kafka():
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        topics = await admin.list_topics()
        described = await admin.describe_topics(topics)
        configs = {}
        for response in await admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, t) for t in topics if not t.startswith("__")]):
            for _c, _m, _t, name, entries in response.resources:
                configs[name] = {e[0]: e[1] for e in entries}.get("min.insync.replicas")
        brokers = len((await admin.describe_cluster())["brokers"])
        return brokers, {t["topic"]: [(len(p["replicas"]), len(p["isr"])) for p in t["partitions"]]
                         for t in described}, configs
    finally:
        await admin.close()

brokers, partitions, min_isr = asyncio.run(kafka())
cluster, session = connect(settings)
rf = session.execute("SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = %s",
                     [settings.cassandra_keyspace]).one().replication["replication_factor"]
up = sorted(str(h.address) for h in cluster.metadata.all_hosts() if h.is_up)
cluster.shutdown()
print(json.dumps({"brokers": brokers, "partitions": partitions, "min_isr": min_isr, "rf": rf, "up": up}))
"""


def test_every_node_and_service_is_healthy(deployment):
    assert deployment.files == CLUSTER_FILES
    assert_every_service_up(deployment)


def test_every_topic_and_the_keyspace_are_replicated_to_three_nodes(deployment):
    out = deployment.compose("exec", "-T", "router-worker", "python", "-c", REPLICATION).stdout
    report = json.loads(out.strip().splitlines()[-1])
    assert report["brokers"] == 3
    ours = {t for t in report["partitions"] if t.startswith("chat4all")}
    assert {"chat4all.messages", "chat4all.status", "__consumer_offsets"} <= set(report["partitions"])
    for topic in ours | {"__consumer_offsets"}:
        assert all(p == [3, 3] for p in report["partitions"][topic]), (topic, report["partitions"][topic])
    assert all(report["min_isr"][t] == "2" for t in ours), report["min_isr"]
    assert report["rf"] == "3" and len(report["up"]) == 3, report


async def test_messages_are_delivered_once_while_a_broker_then_a_cassandra_node_is_killed(deployment):
    async with aiohttp.ClientSession() as http:
        api = Api(http, deployment.api)
        alice, bob = await api.user("alice"), await api.user("bob")
        conv = await api.conversation(alice, bob)
        to = recipient("whatsapp")
        sent: list[str] = []

        async def send(n: int, label: str) -> None:
            for i in range(n):
                mid = f"{label}-{i}"
                await post_with_retries(api, alice, conv, mid, to, timeout=120)
                sent.append(mid)

        await send(5, "before")
        for node in ("kafka", "cassandra-2"):  # the first bootstrap server; a replica, not the seed
            deployment.compose("kill", node)
            try:
                await send(10, f"{node}-down")
            finally:
                deployment.compose("start", node)
            deployment.wait_health(node, "healthy", timeout=240)
        messages = await api.all_messages(bob, conv)
        ids = [m["message_id"] for m in messages]
        assert [m["content"] for m in messages] == sent  # each once, in order
        seen = await wait_statuses(api, bob, conv, ids, "DELIVERED", timeout=180)
        assert set(seen.values()) == {"DELIVERED"}, seen
        book = await ledger(http, deployment, "whatsapp")
        assert book["order"][to.split(":", 1)[1]] == ids
        assert all(book["received"][i] == 1 for i in ids)

"""A throwaway Faust worker whose consumer loses one record the way Faust sometimes does (read from
Kafka, never handed to the agent) and whose stall watch must get it back by a seek, without a
restart. Run by test_stall_watch: `python -m … DATADIR` writes DATADIR/result.json."""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from chat4all_app.faust_app import make_app
from chat4all_app.settings import Settings
from chat4all_app.workarounds import stall_watch

RECORDS, LOST = 5, 4  # the last record is lost once: nothing after it reveals a hole
settings = Settings.from_env()
datadir = sys.argv[1]
role = f"stall-probe-{uuid.uuid4().hex[:8]}"
app = make_app(role, settings, web_enabled=False, table_standby_replicas=0, datadir=datadir)
topic = app.topic(f"chat4all.{role}", value_type=bytes, partitions=1)
received: list[int] = []
restarts: list[str] = []
activity = stall_watch.BatchActivity()
stall_watch.restart_in_place = lambda _app, why: restarts.append(why)  # record, do not exec
stall_watch.install(app, topic.get_topic_name(), activity, interval_s=0.5, stall_after_s=2.0)

# Faust's conductor hands every record read from Kafka to the streams; this one drops one record once.
handed_over = app.topics.on_message
lost: list[int] = []


async def losing_one(message) -> None:
    if message.topic == topic.get_topic_name() and message.offset == LOST and not lost:
        lost.append(message.offset)
        return
    await handed_over(message)

app.topics.on_message = losing_one


@app.agent(topic)
async def collect(stream):
    async for event in stream.events():
        activity.batch_started([event.message.tp], time.monotonic())
        received.append(event.message.offset)
        activity.batch_done()


async def finish(result: dict) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        await admin.delete_topics([topic.get_topic_name()])  # leave nothing behind in the shared broker
    finally:
        await admin.close()
    # Faust redirects stdout to its logs: the answer goes to a file.
    with open(os.path.join(datadir, "result.json"), "wb") as out:
        out.write(orjson.dumps(result))
    os._exit(0)


@app.task
async def probe() -> None:
    while not app.consumer.assignment():
        await asyncio.sleep(0.2)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        for n in range(RECORDS):
            await producer.send_and_wait(topic.get_topic_name(), str(n).encode(), partition=0)
    finally:
        await producer.stop()
    deadline = time.monotonic() + 60
    while LOST not in received and not restarts and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    await finish({"received": received, "lost": lost, "restarts": restarts})


async def create_topic() -> None:
    """Before the worker subscribes: the broker does not create topics on first use."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic.get_topic_name(), num_partitions=1,
                                            replication_factor=settings.kafka_replication_factor)])
    finally:
        await admin.close()


if __name__ == "__main__":
    asyncio.run(create_topic())
    sys.argv = [sys.argv[0], "worker", "--without-web", "-l", "warn"]
    app.main()

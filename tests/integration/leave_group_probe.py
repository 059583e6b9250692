"""A throwaway Faust worker that calls `leave_group` once it has partitions, then asks the broker
whether its member is still in the group. Run by test_restart_in_place: `python -m … DATADIR`
writes DATADIR/result.json."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid

import orjson
from aiokafka.admin import AIOKafkaAdminClient

from chat4all_app.faust_app import make_app
from chat4all_app.settings import Settings
from chat4all_app.workarounds.restart import group_coordinator, leave_group

settings = Settings.from_env()
datadir = sys.argv[1]
role = f"leave-probe-{uuid.uuid4().hex[:8]}"
app = make_app(role, settings, web_enabled=False, table_standby_replicas=0, datadir=datadir)
topic = app.topic(f"chat4all.{role}", value_type=bytes, partitions=1)


@app.agent(topic)
async def idle(stream):
    async for _ in stream:
        pass


async def members(group: str, delete_topic: bool = False) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        if delete_topic:  # leave nothing behind in the shared broker
            await admin.delete_topics([topic.get_topic_name()])
        [description] = await admin.describe_consumer_groups([group])
        _error, _group, _state, _protocol_type, _protocol, group_members = description.groups[0][:6]
        return [member[0] for member in group_members]
    finally:
        await admin.close()


@app.task
async def probe() -> None:
    while not app.consumer.assignment():
        await asyncio.sleep(0.2)
    group = app.conf.id
    member = group_coordinator(app)[0].member_id
    before = await members(group)
    left = await asyncio.to_thread(leave_group, app)
    after = await members(group, delete_topic=True)
    # Faust redirects stdout to its logs: the answer goes to a file.
    with open(os.path.join(datadir, "result.json"), "wb") as out:
        out.write(orjson.dumps({"member": member, "before": before, "left": left, "after": after}))
    os._exit(0)


if __name__ == "__main__":
    sys.argv = [sys.argv[0], "worker", "--without-web", "-l", "warn"]
    app.main()

"""Publisher.publish_minted: the id a record mints orders like the partition's log, even when the
producer makes a send wait (aiokafka: a full batch waits to drain while a later send opens the
next batch and is appended first)."""

from __future__ import annotations

import asyncio
import itertools

import faust

from chat4all_app.publisher import Publisher
from chat4all_app.settings import Settings


class Minted(faust.Record):
    n: int


class FullBatchProducer:
    """Like aiokafka's accumulator when a batch is full: the first send waits for a drain, and a
    send that arrives meanwhile is appended straight away into a fresh batch."""

    def __init__(self) -> None:
        self.log: list[int] = []
        self.drained = asyncio.Event()
        self.first = True

    async def send(self, topic, value, key=None, headers=None):
        if self.first:
            self.first = False
            await self.drained.wait()
        self.log.append(Minted.loads(value).n)
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def test_records_reach_the_log_in_the_order_their_ids_were_minted():
    publisher = Publisher(Settings.from_env({}))
    producer = FullBatchProducer()
    publisher._producer = producer  # a started producer, without Kafka
    await publisher.start()
    counter = itertools.count()
    minted: list[int] = []

    def mint() -> Minted:
        minted.append(next(counter))
        return Minted(n=minted[-1])

    first = asyncio.ensure_future(publisher.publish_minted("t", "k", mint))
    await asyncio.sleep(0)  # the first send now waits for its batch to drain
    second = asyncio.ensure_future(publisher.publish_minted("t", "k", mint))
    await asyncio.sleep(0.01)
    producer.drained.set()
    records = await asyncio.gather(first, second)
    assert [r.n for r in records] == minted == [0, 1]
    assert producer.log == minted  # without the lock: [1, 0], the later id first in the log
    publisher._producer = None
    await publisher.stop()


async def test_a_key_waiting_for_its_batch_holds_up_no_other_key_and_no_lock_is_left():
    publisher = Publisher(Settings.from_env({}))
    producer = FullBatchProducer()
    publisher._producer = producer
    await publisher.start()
    waiting = asyncio.ensure_future(publisher.publish_minted("t", "conversation-a", lambda: Minted(n=0)))
    await asyncio.sleep(0)  # conversation-a's send waits for its batch to drain
    await asyncio.wait_for(publisher.publish_minted("t", "conversation-b", lambda: Minted(n=1)), 1)
    assert producer.log == [1]
    producer.drained.set()
    await waiting
    assert producer.log == [1, 0] and publisher._appending == {}
    publisher._producer = None
    await publisher.stop()

"""A channel's webhook receipts (chat4all_app.messaging.receipts): signed, plausible, this channel's."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from chat4all_app.connectors import webhook_signature
from chat4all_app.delivery_status import Status
from chat4all_app.errors import Invalid, NotFound, Unauthenticated
from chat4all_app.ids import accepted_id
from chat4all_app.messaging.receipts import (
    MAX_BATCH,
    Receipt,
    ReceiptBatch,
    ReceiptIntake,
    check_batch_size,
    receipt_status,
)
from chat4all_app.records import StatusEvent
from tests.unit.fakes import FakeMessageStore

SECRET, SKEW = b"s3cret", 5.0


@dataclass
class FakeStatusTopic:
    sent: list[StatusEvent] = field(default_factory=list)

    async def send(self, *, key: str, value: StatusEvent, headers: list[tuple[str, bytes]]) -> Any:
        self.sent.append(value)
        acked = asyncio.get_running_loop().create_future()
        acked.set_result(None)
        return acked


class World:
    def __init__(self):
        self.store, self.topic = FakeMessageStore(), FakeStatusTopic()
        self.intake = ReceiptIntake("whatsapp", self.store, self.topic, SECRET, SKEW)

    def stored(self, channel: str | None) -> uuid.UUID:
        message_id, conversation_id = uuid.uuid4(), uuid.uuid4()
        self.store.rows[(conversation_id, accepted_id())] = {"message_id": str(message_id),
                                                              "channel": channel}
        return message_id


def receipt(message_id: uuid.UUID, at: float | None = None) -> Receipt:
    return Receipt(message_id, Status.DELIVERED, time.time() if at is None else at, "cid")


@pytest.fixture
def world() -> World:
    return World()


def test_only_a_body_signed_with_the_channels_secret_is_accepted(world):
    body = b'{"message_id": "x"}'
    world.intake.check_signature(body, webhook_signature.sign(SECRET, body))
    for signature in (None, webhook_signature.sign(b"other", body)):
        with pytest.raises(Unauthenticated):
            world.intake.check_signature(body, signature)


async def test_receipts_of_this_channels_messages_become_status_events(world):
    ours, internal, theirs = world.stored("whatsapp"), world.stored(None), world.stored("instagram")
    recorded = await world.intake.record(ReceiptBatch([receipt(m) for m in (ours, internal, theirs)],
                                                      batched=True))
    assert [e.message_id for e in recorded.events] == [str(ours)] == [e.message_id for e in world.topic.sent]
    assert recorded.events[0].status is Status.DELIVERED and recorded.events[0].channel == "whatsapp"
    assert recorded.unknown == [str(internal), str(theirs)]


async def test_no_known_message_is_not_found(world):
    with pytest.raises(NotFound, match="unknown message"):
        await world.intake.record(ReceiptBatch([receipt(uuid.uuid4())], batched=False))
    with pytest.raises(NotFound, match="none of the 1 receipts"):
        await world.intake.record(ReceiptBatch([receipt(uuid.uuid4())], batched=True))


@pytest.mark.parametrize(("offset", "error"), [(SKEW + 60, "in the future"),
                                               (-(SKEW + 60), "before the message")])
async def test_a_receipt_timed_out_of_bounds_is_invalid(world, offset, error):
    message_id = world.stored("whatsapp")
    with pytest.raises(Invalid, match=error):
        await world.intake.record(ReceiptBatch([receipt(message_id, time.time() + offset)], batched=False))
    assert world.topic.sent == []


@pytest.mark.parametrize("value", ["DELIVERED", "READ"])
def test_a_receipt_reports_delivered_or_read(value):
    assert receipt_status(value) is Status(value)


@pytest.mark.parametrize("value", ["SENT", "FAILED", "ACCEPTED", "read", None, 3, ["READ"], {"a": 1}])
def test_any_other_receipt_status_is_invalid(value):
    with pytest.raises(Invalid) as refused:
        receipt_status(value)
    assert refused.value.message == "'status' must be one of ['DELIVERED', 'READ']"


@pytest.mark.parametrize(("count", "ok"), [(0, False), (1, True), (MAX_BATCH, True), (MAX_BATCH + 1, False)])
def test_a_batch_holds_one_to_max_batch_receipts(count, ok):
    if ok:
        check_batch_size(count)
        return
    with pytest.raises(Invalid) as refused:
        check_batch_size(count)
    assert refused.value.message == f"'receipts' must be a list of 1..{MAX_BATCH} receipts"


async def test_record_enforces_the_batch_size_and_the_statuses_itself(world):
    message_id = world.stored("whatsapp")
    with pytest.raises(Invalid, match="must be a list of"):
        await world.intake.record(ReceiptBatch([receipt(message_id)] * (MAX_BATCH + 1), batched=True))
    with pytest.raises(Invalid, match="a single receipt"):
        await world.intake.record(ReceiptBatch([receipt(message_id)] * 2, batched=False))
    sent = Receipt(message_id, Status.SENT, time.time(), "cid")
    with pytest.raises(Invalid, match=r"receipts\[1\]: 'status' must be one of"):
        await world.intake.record(ReceiptBatch([receipt(message_id), sent], batched=True))
    assert world.topic.sent == []

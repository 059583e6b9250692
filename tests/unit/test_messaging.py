"""The rules of accepting a message and marking one READ (chat4all_app.messaging), on fakes."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from chat4all_app.delivery_status import Status
from chat4all_app.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge, Unavailable
from chat4all_app.ids import accepted_id
from chat4all_app.messaging.membership import Membership
from chat4all_app.messaging.reading import MarkRead, MessageReader
from chat4all_app.messaging.sending import Accepted, MessageIntake, SendMessage
from chat4all_app.records import MessageAccepted, StatusEvent
from tests.unit.fakes import FakeConversations, FakeMessageStore, FakePublisher, conversation, file_of

ALICE, BOB, CAROL = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
MAX_CONTENT = 100


class World:
    def __init__(self):
        self.conversations = FakeConversations()
        self.conv = self.conversations.add(conversation(ALICE, BOB))
        self.store = FakeMessageStore()
        self.publisher = FakePublisher()
        membership = Membership(self.conversations)
        self.intake = MessageIntake(membership, self.store, self.publisher, "messages",
                                    ("whatsapp", "instagram"), MAX_CONTENT)
        self.reader = MessageReader(membership, self.store, self.publisher, "status")

    def request(self, **changes) -> SendMessage:
        fields = dict(user_id=ALICE, conversation_id=self.conv.conversation_id, content="hi",
                      recipient=None, message_id=uuid.uuid4(), file_id=None, correlation_id="cid-1")
        return SendMessage(**(fields | changes))

    def published(self) -> list[MessageAccepted]:
        return [record for _, _, record in self.publisher.sent]

    def stored(self, status: Status, *, sender=ALICE, recipient: str | None = None,
               channel: str | None = None) -> uuid.UUID:
        message_id, accepted = uuid.uuid4(), accepted_id()
        self.store.rows[(self.conv.conversation_id, accepted)] = {
            "message_id": str(message_id), "conversation_id": str(self.conv.conversation_id),
            "sender_id": str(sender), "recipient_id": recipient, "channel": channel,
            "content": "hi", "file_id": None, "status": status.value}
        return message_id


@pytest.fixture
def world() -> World:
    return World()


# --- accepting ---------------------------------------------------------------------------------

async def test_an_accepted_message_is_published_to_its_conversations_key(world):
    request = world.request(recipient=str(BOB).upper())
    assert await world.intake.send(request) == Accepted(request.message_id, world.conv.conversation_id)
    [(topic, key, event)] = world.publisher.sent
    assert (topic, key) == ("messages", str(world.conv.conversation_id))
    assert (event.message_id, event.sender_id, event.content, event.correlation_id) == (
        str(request.message_id), str(ALICE), "hi", "cid-1")
    assert event.recipient_id == str(BOB)  # canonical form, whatever the client's spelling


async def test_the_acceptance_id_is_minted_after_the_claim(world):
    during_claim: list[uuid.UUID] = []

    async def round_trip(_claim) -> None:
        await asyncio.sleep(0)
        during_claim.append(accepted_id())  # uuid1: later calls give later times in a process

    world.store.round_trip = round_trip
    await world.intake.send(world.request())
    [event] = world.published()
    assert uuid.UUID(event.accepted_id).time > during_claim[0].time


async def test_concurrent_sends_reach_kafka_in_the_order_of_their_acceptance_ids(world):
    first, second = world.request(content="first"), world.request(content="second")

    async def round_trip(claim) -> None:  # the first send's claim is the slower one
        await asyncio.sleep(0.05 if claim.message_id == first.message_id else 0)

    world.store.round_trip = round_trip
    await asyncio.gather(world.intake.send(first), world.intake.send(second))
    published = world.published()
    assert [e.content for e in published] == ["second", "first"]  # the second overtook the first
    # ... and its id is the earlier one: minted before the claim, the first's would be.
    ids = [uuid.UUID(e.accepted_id).time for e in published]
    assert ids == sorted(ids)


@pytest.mark.parametrize(("content", "error"), [("", Invalid), ("x" * (MAX_CONTENT + 1), TooLarge),
                                                ("é" * (MAX_CONTENT // 2 + 1), TooLarge)])
async def test_content_is_non_empty_and_at_most_the_maximum_in_bytes(world, content, error):
    with pytest.raises(error):
        await world.intake.send(world.request(content=content))
    assert world.publisher.sent == [] and world.store.claims == {}


async def test_content_of_exactly_the_maximum_is_accepted(world):
    await world.intake.send(world.request(content="x" * MAX_CONTENT))
    assert len(world.publisher.sent) == 1


async def test_only_members_send_to_a_conversation(world):
    with pytest.raises(Forbidden):
        await world.intake.send(world.request(user_id=CAROL))
    with pytest.raises(NotFound):
        await world.intake.send(world.request(conversation_id=uuid.uuid4()))
    assert world.publisher.sent == []


@pytest.mark.parametrize("recipient", [str(CAROL), "sms:+5511999", "whatsapp:", "not-a-uuid"])
async def test_a_recipient_is_a_member_or_an_address_on_a_configured_channel(world, recipient):
    with pytest.raises(Invalid):
        await world.intake.send(world.request(recipient=recipient))
    assert world.publisher.sent == []


async def test_a_channel_recipient_is_kept_as_given(world):
    await world.intake.send(world.request(recipient="whatsapp:+5511999"))
    assert world.published()[0].recipient_id == "whatsapp:+5511999"


async def test_a_file_must_be_one_of_the_conversations(world):
    other = conversation(ALICE, CAROL)
    theirs, ours = file_of(other.conversation_id, ALICE), file_of(world.conv.conversation_id, ALICE)
    world.store.files.update({theirs.file_id: theirs, ours.file_id: ours})
    for file_id in (theirs.file_id, uuid.uuid4()):
        with pytest.raises(Invalid, match="not a file of this conversation"):
            await world.intake.send(world.request(file_id=file_id))
    await world.intake.send(world.request(file_id=ours.file_id))
    assert world.published()[0].file_id == str(ours.file_id)


async def test_a_replay_is_published_again_under_the_first_claim(world):
    request = world.request()
    await world.intake.send(request)
    first = world.store.claims[request.message_id]
    await world.intake.send(request)
    assert world.store.claims[request.message_id] is first
    assert [e.message_id for e in world.published()] == [str(request.message_id)] * 2


@pytest.mark.parametrize("change", [
    {"content": "another"}, {"user_id": BOB}, {"recipient": str(BOB)}, {"recipient": "whatsapp:+1"}])
async def test_an_id_used_by_another_message_is_a_conflict(world, change):
    request = world.request()
    await world.intake.send(request)
    with pytest.raises(Conflict, match="already used by another message"):
        await world.intake.send(world.request(message_id=request.message_id, **change))
    assert len(world.publisher.sent) == 1


async def test_a_claim_of_unknown_outcome_is_unavailable_and_nothing_is_published(world):
    world.store.claims_fail = True
    with pytest.raises(Unavailable, match="storage unavailable"):
        await world.intake.send(world.request())
    assert world.publisher.sent == []


async def test_a_publish_without_kafkas_ack_is_unavailable(world):
    world.publisher.fails = True
    with pytest.raises(Unavailable, match="retry later"):
        await world.intake.send(world.request())


# --- reading -----------------------------------------------------------------------------------

async def test_a_page_shows_each_files_summary(world):
    f = file_of(world.conv.conversation_id, ALICE)
    world.store.files[f.file_id] = f
    message_id = world.stored(Status.DELIVERED)
    world.store.rows[next(iter(world.store.rows))]["file_id"] = str(f.file_id)
    page = await world.reader.page(BOB, world.conv.conversation_id, 50, None)
    [message] = page.messages
    assert message["message_id"] == str(message_id)
    assert message["file"] == {"filename": "cv.pdf", "content_type": "application/pdf",
                               "size_bytes": 3, "checksum": "sha256:abc"}
    with pytest.raises(Forbidden):
        await world.reader.page(CAROL, world.conv.conversation_id, 50, None)


async def test_one_message_is_for_members_only(world):
    message_id = world.stored(Status.DELIVERED)
    assert (await world.reader.message(BOB, message_id))["message_id"] == str(message_id)
    with pytest.raises(Forbidden):
        await world.reader.message(CAROL, message_id)
    with pytest.raises(NotFound, match="may still be in flight"):
        await world.reader.message(BOB, uuid.uuid4())


# --- marking READ ------------------------------------------------------------------------------

def mark(user: uuid.UUID, message_id: uuid.UUID) -> MarkRead:
    return MarkRead(user, message_id, "cid-2")


async def test_a_recipient_marks_a_delivered_message_read(world):
    message_id = world.stored(Status.DELIVERED, recipient=str(BOB))
    assert (await world.reader.mark_read(mark(BOB, message_id))).message_id == str(message_id)
    [(topic, key, event)] = world.publisher.sent
    assert isinstance(event, StatusEvent) and (topic, key) == ("status", str(world.conv.conversation_id))
    assert event.status is Status.READ and event.message_id == str(message_id)


async def test_any_member_but_the_sender_marks_a_message_without_recipient(world):
    message_id = world.stored(Status.DELIVERED)
    await world.reader.mark_read(mark(BOB, message_id))
    assert len(world.publisher.sent) == 1


@pytest.mark.parametrize("status", [Status.PENDING, Status.SENT, Status.FAILED])
async def test_read_before_delivered_is_a_conflict(world, status):
    message_id = world.stored(status)
    with pytest.raises(Conflict, match="not yet delivered"):
        await world.reader.mark_read(mark(BOB, message_id))
    assert world.publisher.sent == []


async def test_an_accepted_message_not_yet_stored_is_a_conflict_for_members(world):
    request = world.request()
    await world.intake.send(request)
    with pytest.raises(Conflict, match="ACCEPTED, not yet delivered"):
        await world.reader.mark_read(mark(BOB, request.message_id))
    with pytest.raises(Forbidden):
        await world.reader.mark_read(mark(CAROL, request.message_id))
    with pytest.raises(NotFound):
        await world.reader.mark_read(mark(BOB, uuid.uuid4()))


async def test_marking_read_again_records_nothing(world):
    message_id = world.stored(Status.READ)
    assert (await world.reader.mark_read(mark(BOB, message_id))).message_id == str(message_id)
    assert world.publisher.sent == []


@pytest.mark.parametrize(("reader", "row"), [
    (ALICE, {}),                                     # the sender
    (ALICE, {"recipient": str(BOB)}),                # not the recipient (the sender here)
    (BOB, {"sender": ALICE, "recipient": str(ALICE)}),  # not the recipient
    (BOB, {"channel": "whatsapp", "recipient": "whatsapp:+1"}),  # the channel's receipts do
])
async def test_only_a_recipient_marks_read(world, reader, row):
    message_id = world.stored(Status.DELIVERED, **row)
    with pytest.raises(Forbidden):
        await world.reader.mark_read(mark(reader, message_id))
    assert world.publisher.sent == []


async def test_a_member_recipient_stored_in_another_spelling_still_marks_read(world):
    message_id = world.stored(Status.DELIVERED, recipient=str(BOB).upper())
    await world.reader.mark_read(mark(BOB, message_id))
    assert len(world.publisher.sent) == 1


async def test_a_read_not_acknowledged_by_kafka_is_unavailable(world):
    world.publisher.fails = True
    with pytest.raises(Unavailable, match="not recorded"):
        await world.reader.mark_read(mark(BOB, world.stored(Status.DELIVERED)))

"""A recipient's one rule (chat4all_app.recipients), as clients name it and as stored rows hold it."""

from __future__ import annotations

import uuid

import pytest

from chat4all_app.agents.router import channel_of
from chat4all_app.errors import Invalid
from chat4all_app.recipients import Recipient
from chat4all_app.records import MessageAccepted

CHANNELS = ("whatsapp", "instagram")
MEMBER = uuid.uuid4()


def test_a_channel_address_is_kept_as_given():
    recipient = Recipient.parse("whatsapp:+55 11:999", CHANNELS)
    assert (recipient.channel, recipient.address) == ("whatsapp", "+55 11:999")
    assert str(recipient) == "whatsapp:+55 11:999" and recipient.member_id is None


def test_a_member_is_a_uuid_in_canonical_form():
    for spelling in (str(MEMBER).upper(), MEMBER.hex, f"{{{MEMBER}}}"):
        recipient = Recipient.parse(spelling, CHANNELS)
        assert (recipient.channel, str(recipient), recipient.member_id) == (None, str(MEMBER), MEMBER)


@pytest.mark.parametrize(("raw", "error"), [
    ("sms:+5511", "unknown channel 'sms' in recipient_id; use one of: whatsapp:<address>, "
                  "instagram:<address>"),
    (":+5511", "unknown channel ''"),
    ("whatsapp:", "recipient_id has an empty address after the channel prefix"),
    ("bob", "'recipient_id' is not a valid UUID: 'bob'"),
    ("", "not a valid UUID"),
])
def test_anything_else_is_invalid(raw, error):
    with pytest.raises(Invalid) as refused:
        Recipient.parse(raw, CHANNELS)
    assert error in refused.value.message


def test_an_accepted_recipient_always_reads():
    assert str(Recipient.read("sms:+5511")) == "sms:+5511"  # a channel no longer configured
    assert Recipient.read("sms:+5511").channel == "sms"
    assert str(Recipient.read("legacy-name")) == "legacy-name"
    assert Recipient.read("legacy-name").member_id is None
    assert str(Recipient.read(str(MEMBER).upper())) == str(MEMBER)


def message_to(recipient: str | None) -> MessageAccepted:
    return MessageAccepted(message_id=str(uuid.uuid4()), conversation_id=str(uuid.uuid4()),
                           accepted_id=str(uuid.uuid1()), sender_id=str(uuid.uuid4()), content="hi",
                           accepted_at=0.0, recipient_id=recipient)


@pytest.mark.parametrize(("recipient", "target"), [
    ("whatsapp:+5511", ("whatsapp", "+5511")), ("instagram:a:b", ("instagram", "a:b")),
    ("sms:+5511", None), (str(MEMBER), None), (None, None),
])
def test_the_router_forwards_only_configured_channels_addresses(recipient, target):
    assert channel_of(message_to(recipient), CHANNELS) == target

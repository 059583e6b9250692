"""Whom a message is for: an address on an external channel, or a member of the conversation.

`whatsapp:+5511...` names an address on a configured channel; anything without a colon names a
member by user id, canonical UUID form from the API on (fingerprints and read checks compare it).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from chat4all_app.errors import Invalid


@dataclass(frozen=True)
class Recipient:
    channel: str | None  # None: a member, whose user id is `address`
    address: str

    @classmethod
    def parse(cls, raw: str, channels: Collection[str]) -> Recipient:
        """A recipient as a client names it (`recipient_id`): a configured channel and a non-empty
        address, or a UUID; Invalid otherwise."""
        if ":" in raw:
            channel, _, address = raw.partition(":")
            if channel not in channels:
                raise Invalid(f"unknown channel {channel!r} in recipient_id; use one of: "
                              + ", ".join(f"{c}:<address>" for c in channels))
            if not address:
                raise Invalid("recipient_id has an empty address after the channel prefix")
            return cls(channel, address)
        try:
            return cls(None, str(uuid.UUID(raw)))
        except ValueError:
            raise Invalid(f"'recipient_id' is not a valid UUID: {raw[:64]!r}") from None

    @classmethod
    def read(cls, raw: str) -> Recipient:
        """A recipient already accepted (in an event or a stored row): never refused, so rows
        older than today's rules and channels no longer configured still read as they were."""
        if ":" in raw:
            channel, _, address = raw.partition(":")
            return cls(channel, address)
        try:
            return cls(None, str(uuid.UUID(raw)))
        except ValueError:
            return cls(None, raw)

    @property
    def member_id(self) -> uuid.UUID | None:
        """The member's user id; None for a channel address (or an unreadable stored id)."""
        if self.channel is not None:
            return None
        try:
            return uuid.UUID(self.address)
        except ValueError:
            return None

    def __str__(self) -> str:
        """The canonical form (a channel address exactly as given)."""
        return self.address if self.channel is None else f"{self.channel}:{self.address}"

"""A channel's delivery (and read) receipts, reported by its provider's webhook, as status events.

Nothing is applied unless the provider signed the exact body, every receipt reports DELIVERED or
READ, a batch holds 1..MAX_BATCH receipts, and every `at` is plausible: not before the message
was accepted, not in the future, each within the clock skew allowed. Receipts naming messages
that are not this channel's are `unknown`; none known is NotFound.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from chat4all_app.connectors import webhook_signature
from chat4all_app.delivery_status import Status
from chat4all_app.errors import Invalid, NotFound, Unauthenticated
from chat4all_app.ids import accepted_epoch
from chat4all_app.messaging.ports import MessageLookup
from chat4all_app.observability.correlation import kafka_headers
from chat4all_app.observability.logs import get_logger
from chat4all_app.records import StatusEvent

log = get_logger(__name__)

RECEIPT_STATUSES = frozenset({Status.DELIVERED.value, Status.READ.value})
MAX_BATCH = 500

StoredAt = tuple[str, str]  # (conversation_id, accepted_id)


def receipt_status(value: object) -> Status:
    """The status a receipt reports: DELIVERED or READ, else Invalid."""
    if not isinstance(value, str) or value not in RECEIPT_STATUSES:
        raise Invalid(f"'status' must be one of {sorted(RECEIPT_STATUSES)}")
    return Status(value)


def check_batch_size(count: int) -> None:
    """A batch holds 1..MAX_BATCH receipts, else Invalid. Pure, so a view checks the count before
    parsing each receipt; `ReceiptIntake.record` enforces it again."""
    if not 1 <= count <= MAX_BATCH:
        raise Invalid(f"'receipts' must be a list of 1..{MAX_BATCH} receipts")


@dataclass(frozen=True)
class Receipt:
    message_id: uuid.UUID
    status: Status
    at: float
    correlation_id: str


@dataclass(frozen=True)
class ReceiptBatch:
    receipts: list[Receipt]
    batched: bool  # a `{"receipts": [...]}` body, not a single receipt


@dataclass(frozen=True)
class Recorded:
    events: list[StatusEvent]
    unknown: list[str]  # ids of receipts naming no message of this channel


class StatusTopic(Protocol):
    """The status topic (a faust topic): `send` buffers, the awaitable it returns is Kafka's ack."""

    async def send(self, *, key: str, value: StatusEvent,
                   headers: list[tuple[str, bytes]]) -> Awaitable[Any]: ...


@dataclass
class ReceiptIntake:
    """A channel's provider receipts: `secret` is the channel's webhook signing key;
    `known(message_id)` says where a message this process sent to `channel` is stored, if it
    remembers."""

    channel: str
    messages: MessageLookup
    statuses: StatusTopic
    secret: bytes
    clock_skew_s: float
    known: Callable[[str], StoredAt | None] = lambda _id: None

    def check_signature(self, body: bytes, signature: str | None) -> None:
        if not webhook_signature.verify(self.secret, body, signature):
            raise Unauthenticated(
                f"missing or wrong {webhook_signature.HEADER} (HMAC-SHA256 of the body)")

    async def record(self, batch: ReceiptBatch) -> Recorded:
        """Returns once Kafka has every event: the provider retries the webhook otherwise."""
        receipts = batch.receipts
        if batch.batched:
            check_batch_size(len(receipts))
        elif len(receipts) != 1:
            raise Invalid(f"a single receipt, not {len(receipts)}")
        for i, r in enumerate(receipts):
            try:
                receipt_status(r.status)
            except Invalid as exc:
                raise Invalid(f"receipts[{i}]: {exc.message}" if batch.batched else exc.message) from None
        places = await asyncio.gather(*(self._where(r.message_id) for r in receipts))
        check_times(receipts, places, self.clock_skew_s, time.time())
        events = [StatusEvent(message_id=str(r.message_id), conversation_id=place[0],
                              accepted_id=place[1], status=r.status, at=r.at, channel=self.channel,
                              correlation_id=r.correlation_id)
                  for r, place in zip(receipts, places, strict=True) if place is not None]
        unknown = [str(r.message_id) for r, place in zip(receipts, places, strict=True) if place is None]
        if not events:
            raise NotFound(f"unknown message {unknown[0]}" if not batch.batched
                           else f"none of the {len(unknown)} receipts names a known message")
        sent = [await self.statuses.send(key=ev.conversation_id, value=ev,
                                         headers=kafka_headers(ev.correlation_id)) for ev in events]
        await asyncio.gather(*sent)
        for ev in events:
            log.info("receipt received", channel=self.channel, message_id=ev.message_id,
                     status=ev.status, correlation_id=ev.correlation_id)
        return Recorded(events, unknown)

    async def _where(self, message_id: uuid.UUID) -> StoredAt | None:
        """(conversation_id, accepted_id) of a message of this channel, else None."""
        found = self.known(str(message_id))
        if found is not None:
            return found
        place = await self.messages.locate(message_id)
        row = place and await self.messages.message_at(place)
        if not place or not row or row["channel"] != self.channel:  # internal or another channel's
            return None
        return str(place[0]), str(place[1])


def check_times(receipts: Sequence[Receipt], places: Sequence[StoredAt | None], skew_s: float,
                now: float) -> None:
    """Invalid for a receipt timed before its message was accepted or in the future (beyond skew)."""
    for i, (r, place) in enumerate(zip(receipts, places, strict=True)):
        where = f"receipts[{i}]: " if len(receipts) > 1 else ""
        if r.at > now + skew_s:
            raise Invalid(f"{where}'at' is in the future ({r.at:.0f} > now {now:.0f})")
        if place is not None and r.at < accepted_epoch(place[1]) - skew_s:
            raise Invalid(f"{where}'at' is before the message was accepted")

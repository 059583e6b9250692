"""POST /webhooks/<channel>/receipts: a provider reports delivery (or read) receipts.

Two shapes: one receipt `{message_id, status?, at?}`, or a batch `{"receipts": [...]}` with an
optional `correlation_id` per receipt, as providers' webhooks group status updates (WhatsApp's
`statuses` array). A batch is validated whole (400 names the bad item) and answered 202 once
Kafka has every event; receipts naming messages that are not this channel's are `unknown`.

Nothing is applied unless the provider signed the exact body (X-Hub-Signature-256, 401
otherwise), it is `application/json` (415: a browser's cross-site form or text/plain post is
not), and every `at` is plausible: not before the message was accepted, not in the future, each
within WEBHOOK_CLOCK_SKEW_S (400).
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import faust
from faust.web.exceptions import AuthenticationFailed, NotFound, UnsupportedMediaType, ValidationError

from chat4all_app.connectors import webhook_signature
from chat4all_app.delivery_status import Status
from chat4all_app.ids import accepted_epoch
from chat4all_app.observability import correlation
from chat4all_app.observability.correlation import kafka_headers
from chat4all_app.observability.logs import get_logger
from chat4all_app.records import StatusEvent
from chat4all_app.storage.cassandra import CassandraStore
from chat4all_app.storage.messages import locate, message_at
from chat4all_app.web.correlation import of_request
from chat4all_app.web.inputs import json_body, uuid_field, whole_body

log = get_logger(__name__)

RECEIPT_STATUSES = {Status.DELIVERED.value, Status.READ.value}
MAX_BATCH = 500


@dataclass(frozen=True)
class Receipt:
    message_id: uuid.UUID
    status: str
    at: float
    correlation_id: str


def parse_receipt(item: object, default_cid: str, where: str = "") -> Receipt:
    if not isinstance(item, dict):
        raise ValidationError(f"{where}a receipt must be a JSON object")
    try:
        message_id = uuid_field(item, "message_id")
        status = item.get("status", Status.DELIVERED.value)
        if status not in RECEIPT_STATUSES:
            raise ValidationError(f"'status' must be one of {sorted(RECEIPT_STATUSES)}")
        at = item.get("at", time.time())
        if not isinstance(at, int | float) or isinstance(at, bool) or not math.isfinite(at):
            raise ValidationError("'at' must be a number (epoch seconds)")
        raw_cid = item.get("correlation_id")
        if raw_cid is not None and not isinstance(raw_cid, str):
            raise ValidationError("'correlation_id' must be a string")
        cid = correlation.accept(raw_cid) if raw_cid else default_cid
    except correlation.InvalidCorrelationId as exc:
        raise ValidationError(f"{where}{exc}") from None
    except ValidationError as exc:
        raise ValidationError(f"{where}{exc.detail}") from None
    return Receipt(message_id, status, float(at), cid)


def parse_receipts(body: dict, default_cid: str) -> tuple[list[Receipt], bool]:
    """(receipts, batched)."""
    if "receipts" not in body:
        return [parse_receipt(body, default_cid)], False
    items = body["receipts"]
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        raise ValidationError(f"'receipts' must be a list of 1..{MAX_BATCH} receipts")
    return [parse_receipt(item, default_cid, f"receipts[{i}]: ") for i, item in enumerate(items)], True


def check_times(receipts: list[Receipt], places: list[tuple[str, str] | None], skew_s: float,
                now: float) -> None:
    """400 for a receipt timed before its message was accepted or in the future (beyond skew)."""
    for i, (r, place) in enumerate(zip(receipts, places, strict=True)):
        where = f"receipts[{i}]: " if len(receipts) > 1 else ""
        if r.at > now + skew_s:
            raise ValidationError(f"{where}'at' is in the future ({r.at:.0f} > now {now:.0f})")
        if place is not None and r.at < accepted_epoch(place[1]) - skew_s:
            raise ValidationError(f"{where}'at' is before the message was accepted")


def install(app: faust.App, channel: str, store: CassandraStore, statuses: faust.TopicT,
            secret: bytes, clock_skew_s: float,
            known: Callable[[str], tuple[str, str] | None] = lambda _id: None) -> None:
    """`known(message_id)`: where a message this process sent to `channel` is stored, if it
    remembers; `secret`: the channel's webhook signing key."""

    async def where(message_id: uuid.UUID) -> tuple[str, str] | None:
        """(conversation_id, accepted_id) of a message of this channel, else None."""
        found = known(str(message_id))
        if found is not None:
            return found
        place = await locate(store, message_id)
        row = place and await message_at(store, place)
        if not row or row["channel"] != channel:  # internal or another channel's: not ours to touch
            return None
        return str(place[0]), str(place[1])

    @app.page(f"/webhooks/{channel}/receipts")
    class Receipts(faust.web.View):
        async def post(self, request):
            raw = await whole_body(request)
            if not webhook_signature.verify(secret, raw,
                                            request.headers.get(webhook_signature.HEADER)):
                raise AuthenticationFailed(
                    f"missing or wrong {webhook_signature.HEADER} (HMAC-SHA256 of the body)")
            if request.content_type != "application/json":
                raise UnsupportedMediaType("Content-Type must be application/json")
            receipts, batched = parse_receipts(await json_body(request, raw), of_request(request))
            places = await asyncio.gather(*(where(r.message_id) for r in receipts))
            check_times(receipts, places, clock_skew_s, time.time())
            events = [StatusEvent(message_id=str(r.message_id), conversation_id=place[0],
                                  accepted_id=place[1], status=r.status, at=r.at, channel=channel,
                                  correlation_id=r.correlation_id)
                      for r, place in zip(receipts, places, strict=True) if place is not None]
            unknown = [str(r.message_id) for r, place in zip(receipts, places, strict=True) if place is None]
            if not events:
                raise NotFound(f"unknown message {unknown[0]}" if not batched
                               else f"none of the {len(unknown)} receipts names a known message")
            # 202 only once Kafka has every event: the provider retries the webhook otherwise.
            sent = [await statuses.send(key=ev.conversation_id, value=ev,
                                        headers=kafka_headers(ev.correlation_id)) for ev in events]
            await asyncio.gather(*sent)
            for ev in events:
                log.info("receipt received", channel=channel, message_id=ev.message_id,
                         status=ev.status, correlation_id=ev.correlation_id)
            if not batched:
                return self.json({"message_id": events[0].message_id, "status": events[0].status},
                                 status=202)
            return self.json({"accepted": len(events), "unknown": unknown}, status=202)

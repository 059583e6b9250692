"""POST /webhooks/<channel>/receipts: a provider reports delivery (or read) receipts.

Two shapes: one receipt `{message_id, status?, at?}`, or a batch `{"receipts": [...]}` with an
optional `correlation_id` per receipt, as providers' webhooks group status updates (WhatsApp's
`statuses` array). A batch is validated whole (400 names the bad item) and answered 202 once
Kafka has every event; receipts for messages we never stored are listed as `unknown`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import faust
from faust.web.exceptions import NotFound, ValidationError

from chat4all_app.observability import correlation
from chat4all_app.observability.correlation import kafka_headers
from chat4all_app.observability.logs import get_logger
from chat4all_app.records import StatusEvent
from chat4all_app.status import Status
from chat4all_app.storage.cassandra import CassandraStore
from chat4all_app.storage.messages import locate
from chat4all_app.web.correlation import of_request
from chat4all_app.web.inputs import json_body, uuid_field

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
        if not isinstance(at, int | float) or isinstance(at, bool):
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


def install(app: faust.App, channel: str, store: CassandraStore, statuses: faust.TopicT,
            known: Callable[[str], tuple[str, str] | None] = lambda _id: None) -> None:
    """`known(message_id)`: where a message this process sent is stored, if it remembers."""

    async def where(message_id: uuid.UUID) -> tuple[str, str] | None:
        found = known(str(message_id))
        if found is None:
            found = await locate(store, message_id)
        return found and (str(found[0]), str(found[1]))

    @app.page(f"/webhooks/{channel}/receipts")
    class Receipts(faust.web.View):
        async def post(self, request):
            receipts, batched = parse_receipts(await json_body(request), of_request(request))
            places = await asyncio.gather(*(where(r.message_id) for r in receipts))
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

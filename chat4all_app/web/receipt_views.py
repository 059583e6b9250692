"""POST /webhooks/<channel>/receipts: a provider reports delivery (or read) receipts.

Two shapes: one receipt `{message_id, status?, at?}`, or a batch `{"receipts": [...]}` with an
optional `correlation_id` per receipt, as providers' webhooks group status updates (WhatsApp's
`statuses` array). A batch is validated whole (400 names the bad item) and answered 202 once
Kafka has every event; receipts naming messages that are not this channel's are `unknown`.

Nothing is applied unless the provider signed the exact body (X-Hub-Signature-256, 401
otherwise), it is `application/json` (415: a browser's cross-site form or text/plain post is
not), and every `at` is plausible: not before the message was accepted, not in the future, each
within WEBHOOK_CLOCK_SKEW_S (400). The rules are chat4all_app.messaging.receipts'.
"""

from __future__ import annotations

import math
import time

import faust
from aiohttp import web

from chat4all_app.connectors import webhook_signature
from chat4all_app.delivery_status import Status
from chat4all_app.errors import Invalid, UnsupportedMediaType
from chat4all_app.messaging.receipts import (
    Receipt,
    ReceiptBatch,
    ReceiptIntake,
    check_batch_size,
    receipt_status,
)
from chat4all_app.observability import correlation
from chat4all_app.web.correlation import of_request
from chat4all_app.web.inputs import json_body, uuid_field, whole_body
from chat4all_app.web.server import aiohttp_app

INTAKE = web.AppKey("chat4all_receipts", ReceiptIntake)


def parse_receipt(item: object, default_cid: str, where: str = "") -> Receipt:
    if not isinstance(item, dict):
        raise Invalid(f"{where}a receipt must be a JSON object")
    try:
        message_id = uuid_field(item, "message_id")
        status = receipt_status(item.get("status", Status.DELIVERED.value))
        at = item.get("at", time.time())
        if not isinstance(at, int | float) or isinstance(at, bool) or not math.isfinite(at):
            raise Invalid("'at' must be a number (epoch seconds)")
        raw_cid = item.get("correlation_id")
        if raw_cid is not None and not isinstance(raw_cid, str):
            raise Invalid("'correlation_id' must be a string")
        cid = correlation.accept(raw_cid) if raw_cid else default_cid
    except correlation.InvalidCorrelationId as exc:
        raise Invalid(f"{where}{exc}") from None
    except Invalid as exc:
        raise Invalid(f"{where}{exc.message}") from None
    return Receipt(message_id, status, float(at), cid)


def parse_receipts(body: dict, default_cid: str) -> ReceiptBatch:
    if "receipts" not in body:
        return ReceiptBatch([parse_receipt(body, default_cid)], batched=False)
    items = body["receipts"]
    check_batch_size(len(items) if isinstance(items, list) else 0)  # before parsing each receipt
    return ReceiptBatch([parse_receipt(item, default_cid, f"receipts[{i}]: ")
                         for i, item in enumerate(items)], batched=True)


class Receipts(faust.web.View):
    async def post(self, request: web.Request) -> faust.web.Response:
        intake = aiohttp_app(self.web)[INTAKE]
        raw = await whole_body(request)
        intake.check_signature(raw, request.headers.get(webhook_signature.HEADER))
        if request.content_type != "application/json":
            raise UnsupportedMediaType("Content-Type must be application/json")
        batch = parse_receipts(await json_body(request, raw), of_request(request))
        recorded = await intake.record(batch)
        if not batch.batched:
            first = recorded.events[0]
            return self.json({"message_id": first.message_id, "status": str(first.status)}, status=202)
        return self.json({"accepted": len(recorded.events), "unknown": recorded.unknown}, status=202)


def install(app: faust.App, intake: ReceiptIntake) -> None:
    # The view finds its intake under one key of the app: a second install (another channel) would
    # silently hand the first channel's webhook to the second's intake. A connector role serves one
    # channel, so a second install is a mistake: refused, not keyed per channel.
    web_app = aiohttp_app(app.web)
    if INTAKE in web_app:
        raise RuntimeError(f"receipt views already installed for {web_app[INTAKE].channel!r}: "
                           "one channel per app")
    web_app[INTAKE] = intake
    app.page(f"/webhooks/{intake.channel}/receipts")(Receipts)

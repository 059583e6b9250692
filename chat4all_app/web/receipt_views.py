"""POST /webhooks/<channel>/receipts: a provider reports a delivery (or read) receipt."""

from __future__ import annotations

import time
from collections.abc import Callable

import faust
from faust.web.exceptions import NotFound, ValidationError

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


def install(app: faust.App, channel: str, store: CassandraStore, statuses: faust.TopicT,
            known: Callable[[str], tuple[str, str] | None] = lambda _id: None) -> None:
    """`known(message_id)`: where a message this process sent is stored, if it remembers."""

    @app.page(f"/webhooks/{channel}/receipts")
    class Receipts(faust.web.View):
        async def post(self, request):
            body = await json_body(request)
            message_id = uuid_field(body, "message_id")
            status = body.get("status", Status.DELIVERED.value)
            if status not in RECEIPT_STATUSES:
                raise ValidationError(f"'status' must be one of {sorted(RECEIPT_STATUSES)}")
            at = body.get("at", time.time())
            if not isinstance(at, int | float):
                raise ValidationError("'at' must be a number (epoch seconds)")
            where = known(str(message_id)) or await locate(store, message_id)
            if where is None:
                raise NotFound(f"unknown message {message_id}")
            conversation_id, accepted_id = where
            event = StatusEvent(message_id=str(message_id), conversation_id=str(conversation_id),
                                accepted_id=str(accepted_id), status=status, at=float(at),
                                channel=channel, correlation_id=of_request(request))
            # 202 only once Kafka has the event: the provider retries the webhook otherwise.
            await (await statuses.send(key=event.conversation_id, value=event,
                                       headers=kafka_headers(event.correlation_id)))
            log.info("receipt received", channel=channel, message_id=event.message_id, status=status)
            return self.json({"message_id": str(message_id), "status": status}, status=202)

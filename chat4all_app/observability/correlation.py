"""Correlation ids: one id follows a message from the API request through every hop.

The API takes `X-Correlation-ID` from the client (or mints one), returns it, and sends it with the
event as a Kafka header; the records carry it as well, so each hop (router, connector, provider
webhook, status update) logs the same id.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping

from faust.types import EventT

HTTP_HEADER = "X-Correlation-ID"
KAFKA_HEADER = "x-correlation-id"
# Printable ASCII without spaces: safe in a header, a log line and a Kafka header.
_VALID = re.compile(r"[!-~]{1,128}")


class InvalidCorrelationId(ValueError):
    """The client sent an X-Correlation-ID we cannot carry safely."""


def accept(raw: str | None) -> str:
    """The client's id if it is usable, a new one if it sent none."""
    if raw is None or raw == "":
        return uuid.uuid4().hex
    if not _VALID.fullmatch(raw):
        raise InvalidCorrelationId(f"{HTTP_HEADER} must be 1-128 printable ASCII characters without spaces")
    return raw


def kafka_headers(correlation_id: str | None) -> list[tuple[str, bytes]]:
    return [(KAFKA_HEADER, correlation_id.encode())] if correlation_id else []


def of_event(event: EventT) -> str | None:
    """The id a consumed event travels with: its Kafka header, else its record's field."""
    headers = event.headers or ()
    # aiokafka hands over a sequence of (key, bytes); Faust passes it on unchanged.
    raw = (headers if isinstance(headers, Mapping) else dict(headers)).get(KAFKA_HEADER)
    if raw:
        return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
    return getattr(event.value, "correlation_id", None)

"""Parsing and validating request input; each failure is a 4xx with a message naming the field."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from aiohttp import web
from faust.web.exceptions import ValidationError

from chat4all_app.web.errors import PayloadTooLarge

MAX_JSON_BODY = 64 * 1024


async def json_body(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_JSON_BODY:
        raise PayloadTooLarge(f"request body larger than {MAX_JSON_BODY} bytes")
    raw = await request.content.read(MAX_JSON_BODY + 1)
    if len(raw) > MAX_JSON_BODY:
        raise PayloadTooLarge(f"request body larger than {MAX_JSON_BODY} bytes")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ValidationError("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ValidationError("request body must be a JSON object")
    return body


def text(body: dict, name: str, *, required: bool = True, max_len: int = 256,
         min_len: int = 1) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise ValidationError(f"'{name}' is required")
        return None
    if not isinstance(value, str):
        raise ValidationError(f"'{name}' must be a string")
    if not min_len <= len(value) <= max_len:
        raise ValidationError(f"'{name}' must be {min_len}..{max_len} characters long")
    return value


def uuid_value(value: Any, name: str) -> uuid.UUID:
    if not isinstance(value, str):
        raise ValidationError(f"'{name}' must be a UUID string")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationError(f"'{name}' is not a valid UUID: {value[:64]!r}") from None


def uuid_field(body: dict, name: str, *, required: bool = True) -> uuid.UUID | None:
    value = body.get(name)
    if value is None:
        if required:
            raise ValidationError(f"'{name}' is required")
        return None
    return uuid_value(value, name)


def int_query(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(f"query parameter '{name}' must be an integer") from None
    if not lo <= value <= hi:
        raise ValidationError(f"query parameter '{name}' must be between {lo} and {hi}")
    return value

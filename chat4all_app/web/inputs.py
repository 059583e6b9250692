"""Parsing and validating request input; each failure is a refusal (chat4all_app.errors: Invalid,
400, or TooLarge, 413) with a message naming the field."""

from __future__ import annotations

import re
import uuid
from typing import Any, Literal, overload

import orjson
from aiohttp import web

from chat4all_app.errors import Invalid, TooLarge

MAX_JSON_BODY = 64 * 1024
_INTEGER = re.compile(r"-?[0-9]{1,18}")  # and short: int() refuses > 4300 digits


async def whole_body(request: web.Request, limit: int = MAX_JSON_BODY) -> bytes:
    """Every byte of the body, however it arrives (TCP segments, chunks), or 413 beyond `limit`.

    `content.read(n)` returns what has arrived so far, not n bytes: read until end of stream."""
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(f"request body larger than {limit} bytes")
    raw = bytearray()
    while chunk := await request.content.read(limit + 1 - len(raw)):
        raw += chunk
        if len(raw) > limit:
            raise TooLarge(f"request body larger than {limit} bytes")
    return bytes(raw)


async def json_body(request: web.Request, raw: bytes | None = None) -> dict[str, Any]:
    """The body as a JSON object (`raw`: the body already read, e.g. to verify a signature)."""
    if raw is None:
        raw = await whole_body(request)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise Invalid("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise Invalid("request body must be a JSON object")
    return body


@overload
def text(body: dict, name: str, *, required: Literal[True] = ..., max_len: int = ...,
         min_len: int = ...) -> str: ...
@overload
def text(body: dict, name: str, *, required: bool, max_len: int = ..., min_len: int = ...) -> str | None: ...
def text(body: dict, name: str, *, required: bool = True, max_len: int = 256,
         min_len: int = 1) -> str | None:
    """The field as a string of `min_len..max_len` characters (None if absent and not `required`)."""
    value = body.get(name)
    if value is None:
        if required:
            raise Invalid(f"'{name}' is required")
        return None
    if not isinstance(value, str):
        raise Invalid(f"'{name}' must be a string")
    if not min_len <= len(value) <= max_len:
        raise Invalid(f"'{name}' must be {min_len}..{max_len} characters long")
    return value


def uuid_value(value: Any, name: str, *, time_based: bool = False) -> uuid.UUID:
    """`time_based`: only a version-1 (time) UUID, e.g. a cursor compared with a timeuuid column."""
    if not isinstance(value, str):
        raise Invalid(f"'{name}' must be a UUID string")
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        raise Invalid(f"'{name}' is not a valid UUID: {value[:64]!r}") from None
    if time_based and parsed.version != 1:
        raise Invalid(f"'{name}' is not a valid cursor (a time UUID from 'next_cursor')")
    return parsed


@overload
def uuid_field(body: dict, name: str, *, required: Literal[True] = ...) -> uuid.UUID: ...
@overload
def uuid_field(body: dict, name: str, *, required: bool) -> uuid.UUID | None: ...
def uuid_field(body: dict, name: str, *, required: bool = True) -> uuid.UUID | None:
    value = body.get(name)
    if value is None:
        if required:
            raise Invalid(f"'{name}' is required")
        return None
    return uuid_value(value, name)


def int_query(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    # Plain ASCII digits only: int() would also take " 7", "1_0" and non-ASCII digits.
    if not _INTEGER.fullmatch(raw):
        raise Invalid(f"query parameter '{name}' must be an integer")
    value = int(raw)
    if not lo <= value <= hi:
        raise Invalid(f"query parameter '{name}' must be between {lo} and {hi}")
    return value

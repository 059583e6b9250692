"""The agent edge: Kafka bytes -> a typed, valid record, or `Poison` saying why not.

Agents subscribe to their topics as raw bytes (`topics.consumed`) and decode here, so an event
Faust could not decode is not silently acked and thrown into the agent (Faust's behaviour on a
`ValueDecodeError`) but dead-lettered like any other poison. Validation covers what would make a
later step fail for good (a non-UUID id breaks the Cassandra write, `at` = 1e12 breaks the datetime
conversion), so such an event never reaches a step that retries. An enum field (`Status`,
`CircuitState`) comes out as its member; a value the enum does not know is poison.
"""

from __future__ import annotations

import json
import math
import time
import types
import typing
import uuid
from enum import Enum
from typing import Any, TypeVar, overload

import faust

from chat4all_app.dead_letters import (
    INVALID_ID,
    INVALID_RECORD,
    INVALID_TIME,
    KEY_MISMATCH,
    UNDECODABLE,
    UNKNOWN_STATUS,
    WRONG_CHANNEL,
    Poison,
)
from chat4all_app.delivery_status import Status
from chat4all_app.records import BreakerSnapshot, MessageAccepted, OutboundMessage, StatusEvent
from chat4all_app.workarounds.record_fields import declared_fields, defaulted_fields

R = TypeVar("R", bound=faust.Record)

# Times are epoch seconds written by our own clocks: anything later than this past "now" is not a
# clock skew but a wrong value (1e12 is year 33658; Python's datetime ends at year 9999).
MAX_FUTURE_S = 24 * 3600.0
# Why a value its enum does not know is poison (INVALID_RECORD for an enum not listed).
UNKNOWN_VALUE: dict[type[Enum], str] = {Status: UNKNOWN_STATUS}
# A restored breaker replays its counter one increment at a time: bound it.
MAX_FAIL_COUNTER = 1_000_000


def fields(raw: bytes | None, record: type[R]) -> R:
    """The record in `raw` (JSON object), every field present and of its declared type."""
    if not raw:
        raise Poison(UNDECODABLE, "empty value")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # RecursionError: deep nesting
        raise Poison(UNDECODABLE, f"not UTF-8 JSON: {type(exc).__name__}: {str(exc)[:200]}") from None
    if not isinstance(data, dict):
        raise Poison(UNDECODABLE, f"not a JSON object but {type(data).__name__}")
    defaults = defaulted_fields(record)
    values: dict[str, Any] = {}
    for name, declared in declared_fields(record).items():
        if name not in data:
            if name in defaults:
                continue
            raise Poison(INVALID_RECORD, f"{name} is missing")
        values[name] = _typed(name, data[name], declared)
    return record(**values)


def _typed(name: str, value: Any, declared: Any) -> Any:
    args = typing.get_args(declared) if isinstance(declared, types.UnionType) else (declared,)
    if value is None:
        if type(None) in args:
            return None
        raise Poison(INVALID_RECORD, f"{name} is null")
    base = next(a for a in args if a is not type(None))
    if base is float and isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:  # an integer of hundreds of digits
            raise Poison(INVALID_TIME if name.endswith("at") else INVALID_RECORD,
                         f"{name} is too large for a number") from None
    if base is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if base is str and isinstance(value, str):
        return value
    if issubclass(base, Enum) and isinstance(value, str):
        return _member(name, value, base)
    raise Poison(INVALID_RECORD, f"{name} must be {base.__name__}, not {type(value).__name__}")


def _member(name: str, value: str, enum: type[Enum]) -> Enum:
    try:
        return enum(value)
    except ValueError:
        raise Poison(UNKNOWN_VALUE.get(enum, INVALID_RECORD), f"unknown {name} {value[:40]!r}") from None


@overload
def uuid_field(name: str, value: str, *, time_based: bool = ...) -> str: ...
@overload
def uuid_field(name: str, value: str | None, *, time_based: bool = ...) -> str | None: ...
def uuid_field(name: str, value: str | None, *, time_based: bool = False) -> str | None:
    """The id in canonical form (lowercase, dashed), which every table key and row uses."""
    if value is None:
        return None
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        raise Poison(INVALID_ID, f"{name} is not a UUID: {value[:80]!r}") from None
    if time_based and parsed.version != 1:
        raise Poison(INVALID_ID, f"{name} is not a time UUID: {value!r}")
    return str(parsed)


def canonical_ids(record: faust.Record, *names: str) -> None:
    """Validate these id fields and rewrite them canonically: an id spelled another way (upper
    case, no dashes) from a producer other than our API must not become a second table key."""
    for name in names:
        setattr(record, name, uuid_field(name, getattr(record, name)))


def time_field(name: str, value: float | None, *, allow_zero: bool = False) -> None:
    if value is None:
        return
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero) \
            or value > time.time() + MAX_FUTURE_S:
        raise Poison(INVALID_TIME, f"{name} is not a plausible epoch time: {value!r}")


def keyed_by(key: bytes | None, expected: str) -> None:
    """Tables and per-conversation order rely on the Kafka key being the record's own key."""
    if key is None or key != expected.encode():
        shown = key[:80] if key is not None else None
        raise Poison(KEY_MISMATCH, f"Kafka key {shown!r} is not {expected!r}")


def message_accepted(key: bytes | None, raw: bytes | None) -> MessageAccepted:
    msg = fields(raw, MessageAccepted)
    canonical_ids(msg, "message_id", "conversation_id", "sender_id", "file_id")
    msg.accepted_id = uuid_field("accepted_id", msg.accepted_id, time_based=True)
    time_field("accepted_at", msg.accepted_at)
    keyed_by(key, msg.conversation_id)
    return msg


def outbound_message(key: bytes | None, raw: bytes | None, *, channel: str) -> OutboundMessage:
    msg = fields(raw, OutboundMessage)
    canonical_ids(msg, "message_id", "conversation_id", "sender_id")
    msg.accepted_id = uuid_field("accepted_id", msg.accepted_id, time_based=True)
    time_field("accepted_at", msg.accepted_at)
    if msg.channel != channel:
        raise Poison(WRONG_CHANNEL, f"a {msg.channel[:40]!r} message on the {channel} topic")
    if not msg.recipient:
        raise Poison(INVALID_RECORD, "recipient is empty")
    keyed_by(key, msg.conversation_id)
    return msg


def status_event(key: bytes | None, raw: bytes | None) -> StatusEvent:
    ev = fields(raw, StatusEvent)
    canonical_ids(ev, "message_id", "conversation_id")
    ev.accepted_id = uuid_field("accepted_id", ev.accepted_id, time_based=True)
    time_field("at", ev.at)
    time_field("accepted_at", ev.accepted_at)
    keyed_by(key, ev.conversation_id)
    return ev


def breaker_snapshot(key: bytes | None, raw: bytes | None, *, channel: str) -> BreakerSnapshot:
    snap = fields(raw, BreakerSnapshot)
    if snap.channel != channel:
        raise Poison(WRONG_CHANNEL, f"a {snap.channel[:40]!r} circuit on the {channel} topic")
    if not 0 <= snap.fail_counter <= MAX_FAIL_COUNTER:
        raise Poison(INVALID_RECORD, f"fail_counter out of range: {snap.fail_counter}")
    time_field("opened_at", snap.opened_at)
    time_field("at", snap.at, allow_zero=True)
    keyed_by(key, channel)
    return snap

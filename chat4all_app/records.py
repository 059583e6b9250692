"""Typed records at every topic boundary (JSON on the wire).

messages topic  -> MessageAccepted   (API -> router), key = conversation_id
channel topics  -> OutboundMessage   (router -> connector), key = conversation_id
status topic    -> StatusEvent       (router/connectors -> router), key = conversation_id
updates topic   -> ConversationUpdate (router -> every API process), key = conversation_id

Enum fields (`Status`, `CircuitState`) are `StrEnum`s: on the wire they are the same JSON strings
as before. Faust does not turn a string back into the enum when it decodes a record; the agents'
decoder (`agents.decode`) does, and dead-letters a value the enum does not know.
"""


import faust

from chat4all_app.connectors.circuit_state import CircuitState
from chat4all_app.delivery_status import Status


class MessageAccepted(faust.Record, serializer="json"):
    """A message the API accepted: Kafka acknowledged it before the client got its 202."""

    message_id: str
    conversation_id: str
    # Time-UUID assigned at acceptance: the Cassandra clustering key, so order = acceptance order.
    accepted_id: str
    sender_id: str
    content: str
    accepted_at: float
    recipient_id: str | None = None
    file_id: str | None = None
    correlation_id: str | None = None


class OutboundMessage(faust.Record, serializer="json"):
    """A stored message on its way to an external channel's connector."""

    message_id: str
    conversation_id: str
    accepted_id: str
    channel: str
    recipient: str  # the address within the channel (recipient_id without "channel:")
    sender_id: str
    content: str
    accepted_at: float
    correlation_id: str | None = None


class StatusEvent(faust.Record, serializer="json"):
    """A message reached a new status (see chat4all_app.delivery_status for the state machine)."""

    message_id: str
    conversation_id: str
    accepted_id: str
    status: Status
    at: float
    channel: str | None = None
    reason: str | None = None
    accepted_at: float | None = None
    correlation_id: str | None = None


class ConversationUpdate(faust.Record, serializer="json"):
    """What a conversation's members see live: a message was stored (`kind` "message", with the
    row's fields) or a status applied to it (`kind` "status"). The router writes it once Cassandra
    holds the change, so whatever a push shows, a REST read shows too."""

    kind: str  # "message" | "status"
    conversation_id: str
    message_id: str
    accepted_id: str
    accepted_at: float
    status: Status
    at: float  # when the row was stored / the status applied (epoch seconds)
    reason: str | None = None
    channel: str | None = None
    # kind "message" only: the stored row.
    sender_id: str | None = None
    recipient_id: str | None = None
    content: str | None = None
    file_id: str | None = None
    correlation_id: str | None = None


class BreakerSnapshot(faust.Record, serializer="json"):
    """A channel's circuit-breaker state, kept in a table so a restarted connector resumes it."""

    channel: str
    state: CircuitState
    fail_counter: int
    opened_at: float | None = None  # epoch seconds
    at: float = 0.0

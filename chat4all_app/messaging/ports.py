"""What the messaging services need from storage and Kafka (Cassandra adapters: cassandra.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Protocol

import faust

from chat4all_app.storage.claims import Claim
from chat4all_app.storage.conversations import Conversation
from chat4all_app.storage.files import FileRecord

Place = tuple[uuid.UUID, uuid.UUID]  # (conversation_id, accepted_id): where a message is stored


class ClaimUnknown(Exception):
    """The claim's outcome is unknown (e.g. a Paxos timeout): replaying the same message is safe."""


class ConversationLookup(Protocol):
    async def conversation(self, conversation_id: uuid.UUID) -> Conversation | None: ...


class ConversationStore(ConversationLookup, Protocol):
    async def create(self, creator: uuid.UUID, participants: set[uuid.UUID],
                     name: str | None) -> Conversation: ...

    async def page_of(self, user_id: uuid.UUID, limit: int,
                      after: uuid.UUID | None) -> tuple[list[Conversation], str | None]: ...

    async def existing_users(self, user_ids: list[uuid.UUID]) -> set[uuid.UUID]: ...


class MessageLookup(Protocol):
    async def locate(self, message_id: uuid.UUID) -> Place | None: ...

    async def message_at(self, where: Place) -> dict | None:
        """The stored message as JSON (storage.messages.message_json)."""


class MessageStore(MessageLookup, Protocol):
    async def claim(self, mine: Claim) -> Claim:
        """The id's claim: `mine` if this call made it, else the first one; ClaimUnknown if
        storage could not tell."""

    async def claim_of(self, message_id: uuid.UUID) -> Claim | None: ...

    async def messages(self, conversation_id: uuid.UUID, limit: int,
                       after: uuid.UUID | None) -> tuple[list[dict], str | None]: ...

    async def file(self, file_id: uuid.UUID) -> FileRecord | None: ...


class EventPublisher(Protocol):
    async def publish(self, topic: str, key: str, record: faust.Record,
                      headers: list[tuple[str, bytes]] | None = None) -> None:
        """Returns once Kafka acknowledged the event; PublishFailed otherwise."""

    async def publish_minted(self, topic: str, key: str, build: Callable[[], faust.Record],
                             headers: list[tuple[str, bytes]] | None = None) -> faust.Record:
        """Like publish, for the record `build()` makes when it takes its place in the log."""

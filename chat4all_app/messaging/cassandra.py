"""The messaging ports over Cassandra (chat4all_app.storage), with caches for what never changes."""

from __future__ import annotations

import uuid

from cassandra import DriverException
from cassandra.cluster import NoHostAvailable

from chat4all_app.lru import LruCache
from chat4all_app.messaging.ports import ClaimUnknown, Place
from chat4all_app.storage import claims, conversations, files, messages, users
from chat4all_app.storage.cassandra import CassandraStore
from chat4all_app.storage.claims import Claim
from chat4all_app.storage.conversations import Conversation
from chat4all_app.storage.files import FileRecord

CACHE_SIZE = 10_000


class CassandraConversations:
    def __init__(self, store: CassandraStore):
        self.store = store
        # Membership never changes after creation, so conversations are safe to cache.
        self._cache: LruCache[Conversation] = LruCache(CACHE_SIZE)

    async def conversation(self, conversation_id: uuid.UUID) -> Conversation | None:
        return await self._cache.get_or_load(
            conversation_id, lambda: conversations.get_conversation(self.store, conversation_id))

    async def create(self, creator: uuid.UUID, participants: set[uuid.UUID],
                     name: str | None) -> Conversation:
        return await conversations.create_conversation(self.store, creator, participants, name)

    async def page_of(self, user_id: uuid.UUID, limit: int,
                      after: uuid.UUID | None) -> tuple[list[Conversation], str | None]:
        return await conversations.conversations_page(self.store, user_id, limit, after)

    async def existing_users(self, user_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        return await users.existing_user_ids(self.store, user_ids)


class CassandraMessages:
    def __init__(self, store: CassandraStore):
        self.store = store
        # A stored file's metadata never changes either.
        self._files: LruCache[FileRecord] = LruCache(CACHE_SIZE)

    async def locate(self, message_id: uuid.UUID) -> Place | None:
        return await messages.locate(self.store, message_id)

    async def message_at(self, where: Place) -> dict | None:
        return await messages.message_at(self.store, where)

    async def claim(self, mine: Claim) -> Claim:
        try:
            return await claims.claim(self.store, mine)
        except (DriverException, NoHostAvailable) as exc:
            raise ClaimUnknown(str(exc)) from exc

    async def claim_of(self, message_id: uuid.UUID) -> Claim | None:
        return await claims.claim_of(self.store, message_id)

    async def messages(self, conversation_id: uuid.UUID, limit: int,
                       after: uuid.UUID | None) -> tuple[list[dict], str | None]:
        return await messages.list_messages(self.store, conversation_id, limit, after)

    async def file(self, file_id: uuid.UUID) -> FileRecord | None:
        return await self._files.get_or_load(file_id, lambda: files.get_file(self.store, file_id))

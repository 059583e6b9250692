"""What the API's views share: settings, Cassandra, the Kafka publisher, tokens, authorization."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from aiohttp import web
from faust.web.exceptions import AuthenticationFailed, NotAuthenticated, NotFound, PermissionDenied

from chat4all_app.auth.tokens import InvalidToken, TokenIssuer
from chat4all_app.lru import LruCache
from chat4all_app.publisher import Publisher
from chat4all_app.settings import Settings
from chat4all_app.storage.cassandra import CassandraStore
from chat4all_app.storage.conversations import Conversation, get_conversation
from chat4all_app.storage.files import FileRecord, get_file

_CACHE_SIZE = 10_000


@dataclass
class ApiContext:
    settings: Settings
    store: CassandraStore
    publisher: Publisher
    tokens: TokenIssuer
    # Membership never changes after creation, so conversations are safe to cache.
    _conversations: LruCache[Conversation] = field(default_factory=lambda: LruCache(_CACHE_SIZE))
    # A stored file's metadata never changes either.
    _files: LruCache[FileRecord] = field(default_factory=lambda: LruCache(_CACHE_SIZE))

    @classmethod
    def from_settings(cls, settings: Settings) -> ApiContext:
        return cls(settings, CassandraStore(settings), Publisher(settings),
                   TokenIssuer(settings.jwt_secret, settings.jwt_ttl_s))

    def authenticate(self, request: web.Request) -> uuid.UUID:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("missing bearer token (Authorization: Bearer <token>)")
        try:
            return self.tokens.verify(token.strip())
        except InvalidToken as exc:
            raise AuthenticationFailed(str(exc)) from None

    async def conversation(self, conversation_id: uuid.UUID) -> Conversation:
        conv = await self._conversations.get_or_load(
            conversation_id, lambda: get_conversation(self.store, conversation_id))
        if conv is None:
            raise NotFound(f"conversation {conversation_id} not found")
        return conv

    async def member_conversation(self, conversation_id: uuid.UUID, user_id: uuid.UUID) -> Conversation:
        conv = await self.conversation(conversation_id)
        if user_id not in conv.participant_ids:
            raise PermissionDenied("you are not a member of this conversation")
        return conv

    async def file(self, file_id: uuid.UUID) -> FileRecord | None:
        return await self._files.get_or_load(file_id, lambda: get_file(self.store, file_id))

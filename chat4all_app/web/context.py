"""What the API's views share: the services (attached to the web app), and who is calling.

Views are module-level classes deriving from ApiView: `self.services` is the ApiServices that
roles/api.py assembled and `attach`ed to the app before installing the views.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import faust
from aiohttp import web

from chat4all_app.auth.accounts import Accounts
from chat4all_app.auth.throttle import LoginThrottle, TrustedProxies
from chat4all_app.auth.tokens import InvalidToken, TokenIssuer
from chat4all_app.errors import Unauthenticated
from chat4all_app.files.cassandra import CassandraFiles
from chat4all_app.files.uploads import Objects, Uploads
from chat4all_app.messaging.cassandra import CassandraConversations, CassandraMessages
from chat4all_app.messaging.conversations import Conversations
from chat4all_app.messaging.membership import Membership
from chat4all_app.messaging.ports import EventPublisher
from chat4all_app.messaging.reading import MessageReader
from chat4all_app.messaging.sending import MessageIntake
from chat4all_app.push.feed import UpdateFeed
from chat4all_app.push.hub import Hub
from chat4all_app.push.sessions import PushSessions
from chat4all_app.settings import Settings
from chat4all_app.storage.cassandra import CassandraStore
from chat4all_app.web.server import aiohttp_app


@dataclass(frozen=True)
class ApiServices:
    settings: Settings
    tokens: TokenIssuer
    trusted_proxies: TrustedProxies
    accounts: Accounts
    conversations: Conversations
    intake: MessageIntake
    reader: MessageReader
    uploads: Uploads
    push: PushSessions

    @classmethod
    def assemble(cls, settings: Settings, store: CassandraStore, publisher: EventPublisher,
                 objects: Objects) -> ApiServices:
        """The services over the process's connections. The push feed is a resource the role
        starts and stops (`services.push.feed`)."""
        tokens = TokenIssuer(settings.jwt_secret, settings.jwt_ttl_s)
        conversations = CassandraConversations(store)
        membership = Membership(conversations)
        messages = CassandraMessages(store)
        reader = MessageReader(membership, messages, publisher, settings.topic_status)
        hub = Hub(conversations, reader.attach_files, settings.ws_max_connections_per_user)
        return cls(
            settings, tokens, TrustedProxies(settings.trusted_proxies),
            Accounts(store, LoginThrottle(settings, store), tokens),
            Conversations(conversations),
            MessageIntake(membership, messages, publisher, settings.topic_messages, settings.channels,
                          settings.max_content_bytes),
            reader,
            Uploads(membership, CassandraFiles(store), objects, settings.file_max_bytes,
                    settings.file_part_bytes),
            PushSessions(settings, hub, UpdateFeed(settings, hub)))

    def authenticate(self, request: web.Request) -> uuid.UUID:
        """The caller's user id from `Authorization: Bearer <token>` (401 without a valid one)."""
        return self.authenticate_until(request)[0]

    def authenticate_until(self, request: web.Request) -> tuple[uuid.UUID, float]:
        """As authenticate, with the token's expiry."""
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("missing bearer token (Authorization: Bearer <token>)")
        return self.token_owner(token.strip())

    def token_owner(self, token: str) -> tuple[uuid.UUID, float]:
        """The user id and expiry of a bearer token (Unauthenticated if it is not valid)."""
        try:
            return self.tokens.verify_until(token)
        except InvalidToken as exc:
            raise Unauthenticated(str(exc)) from None


SERVICES = web.AppKey("chat4all_api_services", ApiServices)


def attach(app: faust.App, services: ApiServices) -> None:
    aiohttp_app(app.web)[SERVICES] = services


class ApiView(faust.web.View):
    @property
    def services(self) -> ApiServices:
        return aiohttp_app(self.web)[SERVICES]

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

    @classmethod
    def assemble(cls, settings: Settings, store: CassandraStore, publisher: EventPublisher,
                 objects: Objects) -> ApiServices:
        tokens = TokenIssuer(settings.jwt_secret, settings.jwt_ttl_s)
        conversations = CassandraConversations(store)
        membership = Membership(conversations)
        messages = CassandraMessages(store)
        return cls(
            settings, tokens, TrustedProxies(settings.trusted_proxies),
            Accounts(store, LoginThrottle(settings, store), tokens),
            Conversations(conversations),
            MessageIntake(membership, messages, publisher, settings.topic_messages, settings.channels,
                          settings.max_content_bytes),
            MessageReader(membership, messages, publisher, settings.topic_status),
            Uploads(membership, CassandraFiles(store), objects, settings.file_max_bytes,
                    settings.file_part_bytes))

    def authenticate(self, request: web.Request) -> uuid.UUID:
        """The caller's user id from `Authorization: Bearer <token>` (401 without a valid one)."""
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("missing bearer token (Authorization: Bearer <token>)")
        try:
            return self.tokens.verify(token.strip())
        except InvalidToken as exc:
            raise Unauthenticated(str(exc)) from None


SERVICES = web.AppKey("chat4all_api_services", ApiServices)


def attach(app: faust.App, services: ApiServices) -> None:
    aiohttp_app(app.web)[SERVICES] = services


class ApiView(faust.web.View):
    @property
    def services(self) -> ApiServices:
        return aiohttp_app(self.web)[SERVICES]

"""Creating conversations (of existing users) and listing a user's conversations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from chat4all_app.errors import Invalid
from chat4all_app.messaging.ports import ConversationStore
from chat4all_app.storage.conversations import Conversation

MAX_PARTICIPANTS = 100


def check_participant_count(count: int) -> None:
    """1..MAX_PARTICIPANTS listed participants, else Invalid. Pure, so a view checks the count
    before parsing each entry (as the API always did); `Conversations.create` enforces it again."""
    if count < 1:
        raise Invalid("'participant_ids' must be a non-empty list of user ids")
    if count > MAX_PARTICIPANTS:
        raise Invalid(f"at most {MAX_PARTICIPANTS} participants")


@dataclass(frozen=True)
class CreateConversation:
    creator: uuid.UUID  # a member too, listed or not
    participant_ids: tuple[uuid.UUID, ...]  # as listed (repeats allowed)
    name: str | None


@dataclass(frozen=True)
class ConversationPage:
    conversations: list[Conversation]
    next_cursor: str | None


class Conversations:
    def __init__(self, store: ConversationStore):
        self.store = store

    async def create(self, request: CreateConversation) -> Conversation:
        check_participant_count(len(request.participant_ids))
        participants = set(request.participant_ids)
        unknown = participants - await self.store.existing_users(sorted(participants))
        if unknown:
            raise Invalid(f"unknown user ids: {', '.join(sorted(map(str, unknown)))}")
        return await self.store.create(request.creator, participants, request.name)

    async def page(self, user_id: uuid.UUID, limit: int, after: uuid.UUID | None) -> ConversationPage:
        """One page (one query) of the user's conversations."""
        return ConversationPage(*await self.store.page_of(user_id, limit, after))

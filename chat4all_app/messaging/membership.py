"""Who may see a conversation: its members, and nobody else."""

from __future__ import annotations

import uuid

from chat4all_app.errors import Forbidden, NotFound
from chat4all_app.messaging.ports import ConversationLookup
from chat4all_app.storage.conversations import Conversation


class Membership:
    def __init__(self, conversations: ConversationLookup):
        self.conversations = conversations

    async def conversation(self, conversation_id: uuid.UUID, user_id: uuid.UUID) -> Conversation:
        """The conversation if `user_id` is a member: NotFound, else Forbidden."""
        conv = await self.conversations.conversation(conversation_id)
        if conv is None:
            raise NotFound(f"conversation {conversation_id} not found")
        if user_id not in conv.participant_ids:
            raise Forbidden("you are not a member of this conversation")
        return conv

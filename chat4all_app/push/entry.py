"""One update as the API's push sees it: where it sits in the updates topic, and what it says."""

from __future__ import annotations

from dataclasses import dataclass

from chat4all_app.records import ConversationUpdate


@dataclass(frozen=True)
class Entry:
    partition: int
    offset: int
    update: ConversationUpdate
    # kind "message": the message object as a REST read shows it (with its file's summary),
    # prepared once for every connection that gets it.
    message: dict | None = None

    @property
    def dedupe_key(self) -> tuple[str, str, str]:
        """The same change announced twice (a router replay) has the same key at another offset."""
        return (self.update.kind, self.update.message_id, str(self.update.status))

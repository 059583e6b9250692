"""The JSON a WebSocket client receives: the same shapes the REST API returns.

- `message`: the object `GET /v1/messages/{id}` returns for a message just stored;
- `status`: a status a message reached (`message_id`, `conversation_id`, `status`, …), as a
  REST read of that message shows it once the frame arrived;
- `ready` (after authentication, with the cursor to resume from) and `reset` (the cursor is too
  old or unusable: reload by REST, then go on from the cursor given).
Every update frame carries the cursor to send back on reconnection.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from chat4all_app.push.updates import MESSAGE, STATUS  # an update's kind is its frame's type
from chat4all_app.records import ConversationUpdate


def iso(epoch_s: float) -> str:
    """As a REST read shows the stored time, so a push and a read agree: storage writes the
    datetime of `epoch_s` (microseconds) and Cassandra keeps its milliseconds."""
    at = datetime.fromtimestamp(epoch_s, UTC)
    return at.replace(microsecond=at.microsecond // 1000 * 1000).isoformat()


def message_json(u: ConversationUpdate) -> dict:
    times = sorted({"ACCEPTED": u.accepted_at, str(u.status): u.at}.items(), key=lambda kv: kv[1])
    return {
        "message_id": u.message_id,
        "conversation_id": u.conversation_id,
        "sender_id": u.sender_id,
        "recipient_id": u.recipient_id,
        "channel": u.channel,
        "content": u.content,
        "file_id": u.file_id,
        "status": str(u.status),
        "status_reason": u.reason,
        "timestamps": {k: iso(v) for k, v in times},
    }


def status_json(u: ConversationUpdate) -> dict:
    return {"message_id": u.message_id, "conversation_id": u.conversation_id, "status": str(u.status),
            "status_reason": u.reason, "at": iso(u.at), "channel": u.channel}


def update_frame(u: ConversationUpdate, cursor: str, message: dict | None = None) -> str:
    """`message`: the message object with what the API adds to a read (its file's summary)."""
    if u.kind == MESSAGE:
        return json.dumps({"type": MESSAGE, "cursor": cursor, "message": message or message_json(u)},
                          ensure_ascii=False)
    return json.dumps({"type": STATUS, "cursor": cursor, "status": status_json(u)}, ensure_ascii=False)


def ready_frame(user_id: str, cursor: str, resumed: bool) -> str:
    return json.dumps({"type": "ready", "user_id": user_id, "cursor": cursor, "resumed": resumed})


def cursor_frame(cursor: str) -> str:
    """Where an idle client now is (the feed moved on with nothing for it)."""
    return json.dumps({"type": "cursor", "cursor": cursor})


def reset_frame(reason: str, cursor: str) -> str:
    return json.dumps({"type": "reset", "reason": reason, "cursor": cursor})

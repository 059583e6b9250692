"""The CLI's human output: API answers (plain JSON data) to aligned tables and short lines.

Pure functions, data in, lines out; `output.emit` prints them only when a person reads stdout."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

# WhatsApp-like ticks: one for handed to the channel, two for delivered, and so on.
MARKS = {"ACCEPTED": "·", "PENDING": "…", "SENT": "✓", "DELIVERED": "✓✓", "READ": "✓✓", "FAILED": "✗"}
CONTENT_WIDTH = 40
Names = Callable[[str], str | None]  # a user id -> its username (None: unknown, show the id)


def mark(status: str | None) -> str:
    return f"{MARKS.get(status or '', '?')} {status or '-'}"


def when(iso: str | None) -> str:
    """An API timestamp (ISO 8601, UTC) in the reader's local time, to the second."""
    if not iso:
        return "-"
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return iso


def short(text: str | None, width: int = CONTENT_WIDTH) -> str:
    flat = " ".join((text or "").split())  # one line per row, whatever the content holds
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """Left-aligned columns, two spaces apart; the last column is not padded. No rows: no lines
    (a header over nothing reads like a failure; the count line below says it)."""
    if not rows:
        return []
    cells = [[str(c) for c in headers], *[["-" if c is None else str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    return ["  ".join([*(c.ljust(w) for c, w in zip(r[:-1], widths, strict=False)), r[-1]]) for r in cells]


def fields(pairs: Sequence[tuple[str, Any]]) -> list[str]:
    width = max(len(k) for k, _ in pairs)
    return [f"{k.ljust(width)}  {'-' if v is None else v}" for k, v in pairs]


# --- one renderer per kind of answer -----------------------------------------------------------
def user(data: dict) -> list[str]:
    return [f"registered {data['username']} ({data['user_id']})"]


def conversations(data: dict) -> list[str]:
    listed = data["conversations"]
    rows = [(c["conversation_id"], c.get("name") or "-", len(c.get("participant_ids") or ()),
             when(c.get("created_at"))) for c in listed]
    return [*table(("CONVERSATION", "NAME", "MEMBERS", "CREATED"), rows), f"{len(listed)} conversation(s)"]


def conversation(data: dict) -> list[str]:
    members = data.get("participant_ids") or []
    return [f"✓ created conversation {data['conversation_id']}"
            + (f" “{data['name']}”" if data.get("name") else "") + f" with {len(members)} member(s)"]


def accepted(data: dict) -> list[str]:
    return [f"{mark(data['status'])} {data['message_id']} in conversation {data['conversation_id']}"]


def marked_read(data: dict) -> list[str]:
    return [f"{mark(data['status'])} {data['message_id']}"]


def _who(user_id: str | None, me: str | None, names: Names | None = None) -> str:
    if me and user_id == me:
        return "you"
    if not user_id:
        return "-"
    return (names(user_id) if names else None) or user_id


def _to(message: dict, me: str | None = None, names: Names | None = None) -> str:
    return _who(message["recipient_id"], me, names) if message.get("recipient_id") else "members"


def messages(data: dict, me: str | None = None, names: Names | None = None) -> list[str]:
    """`me`: the logged-in user's id, shown as "you"; `names`: usernames for the other ids."""
    listed = data["messages"]
    rows = [(m["message_id"], when((m.get("timestamps") or {}).get("ACCEPTED")),
             _who(m.get("sender_id"), me, names), _to(m, me, names), mark(m.get("status")),
             short(m.get("content")))
            for m in listed]
    lines = table(("MESSAGE", "SENT", "FROM", "TO", "STATUS", "CONTENT"), rows)
    lines.append(f"{len(listed)} message(s)" + (f"; more: --cursor {data['next_cursor']}"
                                                if data.get("next_cursor") else ""))
    return lines


def message(data: dict, me: str | None = None, names: Names | None = None) -> list[str]:
    pairs: list[tuple[str, Any]] = [
        ("message", data["message_id"]), ("conversation", data.get("conversation_id")),
        ("from", _who(data.get("sender_id"), me, names)), ("to", _to(data, me, names)),
        ("content", short(data.get("content"), 200)),
        ("status", mark(data.get("status"))
         + (f" ({data['status_reason']})" if data.get("status_reason") else ""))]
    if data.get("file"):
        f = data["file"]
        pairs.append(("file", f"{data.get('file_id')} {f.get('filename')} ({f.get('size_bytes')} bytes)"))
    history = sorted((data.get("timestamps") or {}).items(), key=lambda kv: kv[1])
    lines = fields(pairs)
    lines += [f"  {mark(status).ljust(12)} {when(at)}" for status, at in history]
    return lines


def live(frame: dict, me: str | None = None, names: Names | None = None) -> list[str]:
    """One line per frame of `chat4all watch`: a new message, or a status a message reached."""
    if frame.get("type") == "message":
        m = frame["message"]
        attached = ""
        if m.get("file_id"):
            attached = f" [file {(m.get('file') or {}).get('filename') or m['file_id']}]"
        return [f"{when((m.get('timestamps') or {}).get('ACCEPTED'))}  {m['message_id']}  "
                f"{_who(m.get('sender_id'), me, names)} → {_to(m, me, names)}: "
                f"{short(m.get('content'), 200)}{attached}"]
    s = frame["status"]
    return [f"{when(s.get('at'))}  {s['message_id']}  {mark(s.get('status'))}"
            + (f" ({s['status_reason']})" if s.get("status_reason") else "")]


def file(data: dict) -> list[str]:
    pairs = [("file", data.get("file_id")), ("name", data.get("filename")),
             ("type", data.get("content_type")), ("size", f"{data.get('size_bytes')} bytes"),
             ("checksum", data.get("checksum")), ("conversation", data.get("conversation_id")),
             ("uploaded", when(data.get("uploaded_at")))]
    if data.get("download_url"):
        pairs += [("expires", when(data.get("expires_at"))), ("download", data["download_url"])]
    return fields(pairs)


def pending(data: dict) -> list[str]:
    lines = []
    for backlog in data["channels"]:
        lines.append(f"{backlog['channel']}: {backlog['count']} pending")
        shown = backlog["messages"]
        if shown:
            rows = [(m["message_id"], m.get("recipient_id"), mark(m["status"]), when(m["timestamp"]))
                    for m in shown]
            lines += ["  " + line for line in table(("MESSAGE", "RECIPIENT", "STATUS", "SINCE"), rows)]
        if backlog["count"] > len(shown):
            lines.append(f"  … and {backlog['count'] - len(shown)} more (--limit)")
    lines.append(f"{data['total']} message(s) pending")
    return lines

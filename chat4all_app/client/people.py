"""Naming people on the command line: a user id or a username, wherever a user id is taken."""

from __future__ import annotations

import uuid
from collections.abc import Callable


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def user_id_of(name_or_id: str, lookup: Callable[[str], str]) -> str:
    """A UUID as given (no round trip, and it works for ids the directory would not show);
    anything else is a username, looked up (`lookup`: username -> user id)."""
    return name_or_id if is_uuid(name_or_id) else lookup(name_or_id)


def recipient_of(text: str, lookup: Callable[[str], str]) -> str:
    """`--to`: a channel address (`whatsapp:+55...`, the colon says so) as given, else a member."""
    return text if ":" in text else user_id_of(text, lookup)

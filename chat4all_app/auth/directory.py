"""Finding people: a username to its user id, for callers who know a name but need the id
(creating a conversation, addressing a member), and a user id to its username, for clients that
show people by name. Shows nothing but the two (never e-mail or hash)."""

from __future__ import annotations

import uuid

from chat4all_app.auth.accounts import Registered
from chat4all_app.errors import Invalid, NotFound
from chat4all_app.lru import LruCache
from chat4all_app.storage.cassandra import CassandraStore
from chat4all_app.storage.users import user_by_username, username_of

MAX_USERNAME = 64  # registration's limit: a longer name cannot exist
# user id -> username: a username never changes, so an entry is never stale (an unknown id is
# not cached: it may be registered later).
_USERNAMES: LruCache[str] = LruCache(50_000)


def checked_username(raw: str | None) -> str:
    """The looked-up name as given (exact match, no case folding); Invalid if absent, empty, too
    long, or not text the store can take (a lone surrogate would fail in the driver: a 5xx)."""
    if raw is None:
        raise Invalid("query parameter 'username' is required")
    if not 1 <= len(raw) <= MAX_USERNAME:
        raise Invalid(f"query parameter 'username' must be 1..{MAX_USERNAME} characters long")
    try:
        raw.encode()
    except UnicodeEncodeError:
        raise Invalid("query parameter 'username' is not valid text") from None
    return raw


async def find_user(store: CassandraStore, raw: str | None) -> Registered:
    """The user called exactly `raw`; NotFound if nobody is."""
    username = checked_username(raw)
    user = await user_by_username(store, username)
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return Registered(user.user_id, user.username)


async def user_named(store: CassandraStore, user_id: uuid.UUID) -> Registered:
    """Who `user_id` is; NotFound if nobody is."""
    username = await _USERNAMES.get_or_load(user_id, lambda: username_of(store, user_id))
    if username is None:
        raise NotFound(f"no user with id {user_id}")
    return Registered(user_id, username)

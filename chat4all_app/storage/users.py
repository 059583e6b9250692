"""Users: created once per username (lightweight transaction), looked up by name or id."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from chat4all_app.storage.cassandra import CassandraStore


@dataclass(frozen=True)
class User:
    user_id: uuid.UUID
    username: str
    password_hash: str


async def create_user(store: CassandraStore, username: str, email: str | None,
                      password_hash: str) -> User | None:
    """Create a user; None if the username is taken (two racing registrations: one wins)."""
    user_id, now = uuid.uuid4(), datetime.now(UTC)
    (applied,) = await store.execute(
        "INSERT INTO users_by_username (username, user_id, password_hash, created_at) "
        "VALUES (?, ?, ?, ?) IF NOT EXISTS", (username, user_id, password_hash, now))
    if not applied[0]:
        return None
    await store.execute(
        "INSERT INTO users (user_id, username, email, password_hash, created_at) VALUES (?, ?, ?, ?, ?)",
        (user_id, username, email, password_hash, now))
    return User(user_id, username, password_hash)


async def user_by_username(store: CassandraStore, username: str) -> User | None:
    rows = await store.execute(
        "SELECT user_id, password_hash FROM users_by_username WHERE username = ?", (username,))
    return User(rows[0].user_id, username, rows[0].password_hash) if rows else None


async def existing_user_ids(store: CassandraStore, user_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    rows = await store.execute("SELECT user_id FROM users WHERE user_id IN ?", (user_ids,))
    return {r.user_id for r in rows}


async def username_of(store: CassandraStore, user_id: uuid.UUID) -> str | None:
    """The username of `user_id`; None if no such user."""
    rows = await store.execute("SELECT username FROM users WHERE user_id = ?", (user_id,))
    return rows[0].username if rows else None

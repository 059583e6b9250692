"""Versioned, idempotent Cassandra migrations.

Migrations are the numbered files in `cql/` (`NNNN_name.cql`), applied in order. Each applied
version is recorded in `schema_migrations` with its checksum; an already-applied file whose text
changed is an error (write a new migration instead). Statements use IF NOT EXISTS, so a run that
died halfway re-applies cleanly. A migration may have a data step (`DATA_STEPS`), run once, right
after its statements and before it is recorded; it must be idempotent too.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

from cassandra.cluster import Session

from chat4all_app.settings import Settings

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.cql$")


def _backfill_message_claims(session: Session) -> None:
    from chat4all_app.storage.claims import backfill

    backfill(session)


# version -> data step: fn(session with the keyspace set)
DATA_STEPS = {3: _backfill_message_claims}


class MigrationError(RuntimeError):
    """The recorded schema history disagrees with the migration files."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    text: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    def statements(self) -> list[str]:
        without_comments = "\n".join(
            line for line in self.text.splitlines() if not line.strip().startswith("--")
        )
        return [s.strip() for s in without_comments.split(";") if s.strip()]


def load_migrations() -> list[Migration]:
    found = []
    for entry in resources.files("chat4all_app.bootstrap").joinpath("cql").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text()))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration versions: {versions}")
    return found


def migrate(settings: Settings, session: Session) -> list[str]:
    """Apply pending migrations; return the names applied by this call."""
    ks = settings.cassandra_keyspace
    session.execute(
        f"CREATE KEYSPACE IF NOT EXISTS {ks} WITH replication = "
        f"{{'class': 'SimpleStrategy', 'replication_factor': {settings.cassandra_replication_factor}}}"
    )
    session.execute(
        f"CREATE TABLE IF NOT EXISTS {ks}.schema_migrations ("
        "version int PRIMARY KEY, name text, checksum text, applied_at timestamp)"
    )
    applied = {
        row.version: row.checksum
        for row in session.execute(f"SELECT version, checksum FROM {ks}.schema_migrations")
    }
    session.set_keyspace(ks)
    done = []
    for migration in load_migrations():
        if migration.version in applied:
            if applied[migration.version] != migration.checksum:
                raise MigrationError(
                    f"migration {migration.version:04d}_{migration.name} changed after it was "
                    "applied; add a new migration instead of editing an applied one"
                )
            continue
        for statement in migration.statements():
            session.execute(statement)
        if migration.version in DATA_STEPS:
            DATA_STEPS[migration.version](session)
        session.execute(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) "
            "VALUES (%s, %s, %s, %s)",
            (migration.version, migration.name, migration.checksum, datetime.now(UTC)),
        )
        done.append(f"{migration.version:04d}_{migration.name}")
    return done

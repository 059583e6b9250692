"""Read a worker's RocksDB tables from outside the worker (the `inspect-tables` faust command).

RocksDB allows one writer per database, so the databases are opened read-only: this works while
the worker runs and shows what it has flushed (recent writes may still sit in its memtable/WAL).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import faust
from faust.cli import option
from rocksdict import AccessType, Options, Rdict

OFFSET_KEY = b"__faust\x00offset__"


def partitions(tabledir: Path, table: str) -> list[tuple[int, Path]]:
    found = []
    for path in tabledir.glob(f"{table}-*.db"):
        suffix = path.name[len(table) + 1:-3]
        if suffix.isdigit():
            found.append((int(suffix), path))
    return sorted(found)


def entries(tabledir: Path, table: str) -> Iterator[tuple[int, str, str]]:
    """(partition, key, value) for every key of `table`, values as stored (JSON text)."""
    for partition, path in partitions(tabledir, table):
        db = Rdict(str(path), options=Options(raw_mode=True), access_type=AccessType.read_only())
        try:
            for key, value in db.items():
                if key != OFFSET_KEY:  # raw_mode: keys are the stored bytes (rocksdict types any key)
                    yield partition, cast(bytes, key).decode(errors="replace"), value.decode(errors="replace")
        finally:
            db.close()


def report(tabledir: Path, table: str, limit: int, key: str | None) -> list[str]:
    lines, count = [], 0
    for partition, k, v in entries(tabledir, table):
        if key is not None and k not in (key, json.dumps(key)):  # keys are stored as JSON
            continue
        count += 1
        if count <= limit:
            lines.append(f"  [p{partition}] {k} = {v}")
    header = f"{table}: {count} key(s)" + (f" matching {key!r}" if key else "")
    if count > limit:
        lines.append(f"  ... {count - limit} more (use --limit)")
    return [header, *lines]


def command(app: faust.App, tables: list[str]):
    """Add `faust -A <app module> --datadir <dir> inspect-tables` for these tables.

    Assign the result to a name in the app's module so Faust's command discovery finds it.
    """

    @app.command(option("--table", type=str, default=None, help=" or ".join(tables)),
                 option("--key", type=str, default=None, help="show only this key"),
                 option("--limit", type=int, default=20, show_default=True))
    async def inspect_tables(self, table: str | None, key: str | None, limit: int) -> None:
        """Show this worker's tables (read-only; works while the worker runs)."""
        for name in [table] if table else tables:
            self.say("\n".join(report(app.conf.tabledir, name, limit, key)))

    return inspect_tables

"""An asyncio face for cassandra-driver: lazy connect, prepared statements, awaitable queries."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Sequence
from typing import Any

from cassandra import InvalidRequest
from cassandra.cluster import Cluster, ResponseFuture, Session
from cassandra.query import BatchStatement, BatchType, PreparedStatement

from chat4all_app.bootstrap.cassandra_schema import connect
from chat4all_app.settings import Settings


class CassandraStore:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._cluster: Cluster | None = None
        self._session: Session | None = None
        self._prepared: dict[str, Any] = {}
        self._connecting: asyncio.Future | None = None

    async def session(self) -> Session:
        if self._session is None:
            # One shared attempt, shielded: a caller that times out (a /health probe) must not
            # leave a half-made Cluster behind while the next caller starts another.
            if self._connecting is None or self._connecting.done():
                self._connecting = asyncio.ensure_future(self._connect())
            await asyncio.shield(self._connecting)
        return self._session

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        cluster, session = await loop.run_in_executor(None, connect, self.settings)
        session.set_keyspace(self.settings.cassandra_keyspace)
        self._cluster, self._session = cluster, session

    async def _prepare(self, session: Session, cql: str) -> PreparedStatement:
        statement = self._prepared.get(cql)
        if statement is None:
            loop = asyncio.get_running_loop()
            statement = await loop.run_in_executor(None, session.prepare, cql)
            self._prepared[cql] = statement
        return statement

    async def execute(self, cql: str, params: tuple | list = ()) -> list[Any]:
        """Run a (prepared, cached) statement; return its first page of rows."""
        session = await self.session()
        return await _wait(session.execute_async(await self._prepare(session, cql), params))

    async def execute_batch(self, statements: Sequence[tuple[str, tuple | list]]) -> None:
        """Several writes as one UNLOGGED batch: one request, one round trip (callers keep a
        batch to one partition's rows and their index entries, and small)."""
        session = await self.session()
        batch = BatchStatement(batch_type=BatchType.UNLOGGED)
        for cql, params in statements:
            batch.add(await self._prepare(session, cql), params)
        await _wait(session.execute_async(batch))


def _wait(future: ResponseFuture) -> asyncio.Future:
    loop = asyncio.get_running_loop()
    result: asyncio.Future = loop.create_future()

    def done(rows: Any) -> None:
        loop.call_soon_threadsafe(_settle, result, list(rows or []), None)

    def failed(exc: BaseException) -> None:
        loop.call_soon_threadsafe(_settle, result, None, exc)

    future.add_callbacks(done, failed)
    return result


def _settle(result: asyncio.Future, value: Any, exc: BaseException | None) -> None:
    if result.done():
        return
    if exc is not None:
        result.set_exception(exc)
    else:
        result.set_result(value)


# InvalidRequest messages that speak of the schema, not of the row: a router started before
# `chat4all migrate`, or a half-applied migration. Every write fails until it is fixed, so
# these are retried (and visible as a stalled partition), never dead-lettered.
_SCHEMA_PROBLEMS = ("unconfigured table", "undefined column", "unknown identifier", "keyspace")


def refused_for_good(exc: BaseException) -> bool:
    """The data itself was refused (a batch too large, a value its column cannot hold): the same
    write fails however often it is retried. Unavailable, timeouts and lost connections are
    transient; so are schema errors and a TypeError (our code, since decoders check every type),
    which refuse every write until fixed: dead-lettering would empty the stream into the DLQ."""
    if isinstance(exc, InvalidRequest):
        return not any(p in str(exc).lower() for p in _SCHEMA_PROBLEMS)
    return isinstance(exc, ValueError | OverflowError | struct.error)

"""An asyncio face for cassandra-driver: lazy connect, prepared statements, awaitable queries.

`connect()` is the one way any code here (the store, `chat4all migrate`, tools) opens a cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import struct
from collections.abc import Sequence
from typing import Any

from cassandra import ConsistencyLevel, InvalidRequest
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, ResponseFuture, Session
from cassandra.policies import DCAwareRoundRobinPolicy, ExponentialReconnectionPolicy, TokenAwarePolicy
from cassandra.query import BatchStatement, BatchType, PreparedStatement, named_tuple_factory

from chat4all_app.lifecycle import NotRunning
from chat4all_app.settings import Settings


@functools.lru_cache(maxsize=512)
def _row_type(colnames: tuple[str, ...]) -> Any:
    """The driver's own Row namedtuple for these columns, made once: its `named_tuple_factory`
    builds a new namedtuple class for every result (measured: about 3 % of the API's CPU, on
    every claim and lookup)."""
    return type(named_tuple_factory(list(colnames), [tuple(range(len(colnames)))])[0])


def cached_named_tuple_factory(colnames: list[str], rows: list[Sequence[Any]]) -> list[Any]:
    """Rows as the driver's default factory makes them (attributes by column name), class cached."""
    row_type = _row_type(tuple(colnames))
    if not issubclass(row_type, tuple) or row_type is tuple:  # the driver fell back to plain tuples
        return named_tuple_factory(colnames, rows)
    return [row_type(*row) for row in rows]


def connect(settings: Settings, connect_timeout: float = 10) -> tuple[Cluster, Session]:
    """A connected cluster and session (blocking: from asyncio, run it in a thread). The caller
    owns the cluster and shuts it down; a failed connect shuts its own down."""
    # Every statement at the configured level (LOCAL_QUORUM: one node of a replication factor of
    # 3 may be down), claims' Paxos rounds at LOCAL_SERIAL; sent to a replica of its partition.
    profile = ExecutionProfile(
        load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=settings.cassandra_local_dc)),
        consistency_level=getattr(ConsistencyLevel, settings.cassandra_consistency),
        serial_consistency_level=ConsistencyLevel.LOCAL_SERIAL,
        row_factory=cached_named_tuple_factory)
    cluster = Cluster(
        contact_points=list(settings.cassandra_hosts),
        port=settings.cassandra_port,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        protocol_version=5,
        connect_timeout=connect_timeout,
        # Retry a lost node every <= 5 s (driver default backs off to 10 min): a restarted
        # Cassandra is used again within seconds, without restarting our workers.
        reconnection_policy=ExponentialReconnectionPolicy(base_delay=0.5, max_delay=5.0),
    )
    try:
        return cluster, cluster.connect()
    except BaseException:
        cluster.shutdown()  # its event loop and executor threads would outlive the failure
        raise


_NOT_RUNNING = "the Cassandra store is not running: used before start() or after stop()"


class CassandraStore:
    """A process's Cassandra session, a resource (`lifecycle.own`): `start()` does no I/O (the
    session connects on first use, so a worker starts while Cassandra is down), `stop()` shuts
    the driver's cluster down (connections and threads)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._running = False
        self._cluster: Cluster | None = None
        self._session: Session | None = None
        self._prepared: dict[str, Any] = {}
        self._connecting: asyncio.Future | None = None

    async def start(self) -> None:
        self._running = True

    async def stop(self) -> None:
        self._running = False
        if self._connecting is not None and not self._connecting.done():
            with contextlib.suppress(Exception):  # a connect in flight: let it end, then close it
                await asyncio.shield(self._connecting)
        cluster, self._cluster, self._session = self._cluster, None, None
        self._prepared.clear()
        if cluster is not None:
            await asyncio.get_running_loop().run_in_executor(None, cluster.shutdown)

    def nodes_up(self) -> tuple[int, int]:
        """(nodes the driver reaches, nodes it knows) of the cluster; (0, 0) before it connected."""
        if self._cluster is None:
            return 0, 0
        hosts = self._cluster.metadata.all_hosts()
        return sum(1 for h in hosts if h.is_up), len(hosts)

    async def session(self) -> Session:
        if not self._running:
            raise NotRunning(_NOT_RUNNING)
        if self._session is None:
            # One shared attempt, shielded: a caller that times out (a /health probe) must not
            # leave a half-made Cluster behind while the next caller starts another.
            if self._connecting is None or self._connecting.done():
                self._connecting = asyncio.ensure_future(self._connect())
            await asyncio.shield(self._connecting)
        session = self._session
        if session is None or not self._running:  # stop() ran while this caller awaited the connect
            raise NotRunning(_NOT_RUNNING)
        return session

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        cluster, session = await loop.run_in_executor(None, connect, self.settings)
        try:
            session.set_keyspace(self.settings.cassandra_keyspace)
        except BaseException:
            await loop.run_in_executor(None, cluster.shutdown)
            raise
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

"""The workers' RocksDB tables, each behind a small typed facade.

Router: `RoutedMessages` (deduplication) and `MessageStatuses` (latest status per message).
Each connector: `SentMessages` (never send twice) and `CircuitSnapshots` (its breaker's state).

Underneath, every Faust table keeps the encoding it always had: `str -> str`, keyed by the text
"<conversation_id>:<message_id>" (`MessageKey.encode`), values as plain strings (the circuit
table: channel -> BreakerSnapshot JSON). The facades convert only at their edge, so the RocksDB
databases under state/data and the Kafka changelogs written before these types still read, byte
for byte, and `inspect-tables` shows the same keys.

The messages and status topics are keyed by conversation_id, so a table key always arrives on the
same partition as the events that read and write it (see `workarounds.table_scope`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Protocol

import faust
from faust.types import TableT

from chat4all_app.delivery_status import Status
from chat4all_app.faust_app import app_id
from chat4all_app.records import BreakerSnapshot
from chat4all_app.settings import Settings

# Faust's RocksDB defaults are sized for big servers (2 GiB block cache per partition database);
# these keep a worker with 6 partitions per table in tens of MB.
ROCKSDB_OPTIONS = {
    "block_cache_size": 8 * 1024 * 1024,
    "write_buffer_size": 4 * 1024 * 1024,
    "max_write_buffer_number": 2,
}


class AboutAMessage(Protocol):
    conversation_id: str
    message_id: str


class MessageKey(NamedTuple):
    """A message's key in the per-message tables."""

    conversation_id: str
    message_id: str

    @classmethod
    def of(cls, record: AboutAMessage) -> MessageKey:
        return cls(record.conversation_id, record.message_id)

    def encode(self) -> str:
        """The table's key text (unchanged since the first release: existing state depends on it)."""
        return f"{self.conversation_id}:{self.message_id}"


def _table(app: faust.App, name: str, partitions: int, description: str,
           value_type: type = str) -> TableT:
    return app.Table(name, key_type=str, value_type=value_type, partitions=partitions,
                     options=ROCKSDB_OPTIONS, help=description)


@dataclass(frozen=True)
class RoutedMessages:
    """Deduplication: message key -> accepted_id of the first acceptance that was routed."""

    NAME = "routed-messages"

    table: TableT

    @classmethod
    def declare(cls, app: faust.App, partitions: int) -> RoutedMessages:
        return cls(_table(app, cls.NAME, partitions,
                          "message keys already stored and forwarded (effectively-once)"))

    def __contains__(self, key: MessageKey) -> bool:
        return key.encode() in self.table

    def add(self, key: MessageKey, accepted_id: str) -> None:
        self.table[key.encode()] = accepted_id


@dataclass(frozen=True)
class MessageStatuses:
    """Latest applied status per message, so transitions stay monotonic without reading Cassandra."""

    NAME = "message-status"

    table: TableT

    @classmethod
    def declare(cls, app: faust.App, partitions: int) -> MessageStatuses:
        return cls(_table(app, cls.NAME, partitions, "latest status applied per message"))

    def get(self, key: MessageKey) -> Status | None:
        stored = self.table.get(key.encode())
        return Status(stored) if stored else None

    def set(self, key: MessageKey, status: Status) -> None:
        self.table[key.encode()] = status.value


@dataclass(frozen=True)
class SentMessages:
    """Messages the provider accepted (SENT) or refused for good (FAILED): a replay never sends them again."""

    table: TableT

    @staticmethod
    def name(channel: str) -> str:
        return f"sent-{channel}"

    @classmethod
    def declare(cls, app: faust.App, channel: str, partitions: int) -> SentMessages:
        return cls(_table(app, cls.name(channel), partitions, f"message keys already sent to {channel}"))

    def __contains__(self, key: MessageKey) -> bool:
        return key.encode() in self.table

    def add(self, key: MessageKey, outcome: Status) -> None:
        self.table[key.encode()] = outcome.value


@dataclass(frozen=True)
class CircuitSnapshots:
    """A channel's circuit-breaker snapshot (one key, the channel; one partition)."""

    table: TableT

    @staticmethod
    def name(channel: str) -> str:
        return f"circuit-{channel}"

    @classmethod
    def declare(cls, app: faust.App, channel: str) -> CircuitSnapshots:
        return cls(_table(app, cls.name(channel), 1, f"circuit breaker state of {channel}",
                          value_type=BreakerSnapshot))

    def get(self, channel: str) -> BreakerSnapshot | None:
        """The snapshot as stored: Faust decodes it without checking it (`agents.decode` does)."""
        return self.table.get(channel)

    def set(self, snapshot: BreakerSnapshot) -> None:
        self.table[snapshot.channel] = snapshot


def changelog_partitions(settings: Settings) -> dict[str, int]:
    """Every table's changelog topic (Faust names it `<app id>-<table>-changelog`) and its partition
    count. `chat4all migrate` creates them: one Faust creates at start-up can be missing from the
    consumer group's first assignment, and the agent writing that table then fails with
    PartitionsMismatch until the next rebalance (a restarted connector forgot its OPEN circuit)."""
    router = app_id("router")
    counts = {f"{router}-{RoutedMessages.NAME}-changelog": settings.topic_messages_partitions,
              f"{router}-{MessageStatuses.NAME}-changelog": settings.topic_partitions}
    for channel in settings.channels:
        connector = app_id(f"connector-{channel}")
        counts[f"{connector}-{SentMessages.name(channel)}-changelog"] = settings.topic_partitions
        counts[f"{connector}-{CircuitSnapshots.name(channel)}-changelog"] = 1
    return counts

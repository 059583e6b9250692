"""The router's RocksDB tables, keyed "<conversation_id>:<message_id>".

The messages and status topics are keyed by conversation_id, so a table key always arrives on the
same partition as the events that read and write it.
"""

from __future__ import annotations

import faust

from chat4all_app.records import BreakerSnapshot

# Faust's RocksDB defaults are sized for big servers (2 GiB block cache per partition database);
# these keep a worker with 6 partitions per table in tens of MB.
ROCKSDB_OPTIONS = {
    "block_cache_size": 8 * 1024 * 1024,
    "write_buffer_size": 4 * 1024 * 1024,
    "max_write_buffer_number": 2,
}


def message_key(conversation_id: str, message_id: str) -> str:
    return f"{conversation_id}:{message_id}"


def routed_table(app: faust.App, partitions: int) -> faust.Table:
    """Deduplication: message key -> accepted_id of the first acceptance that was routed."""
    return app.Table("routed-messages", key_type=str, value_type=str, partitions=partitions,
                     options=ROCKSDB_OPTIONS,
                     help="message keys already stored and forwarded (effectively-once)")


def status_table(app: faust.App, partitions: int) -> faust.Table:
    """Latest applied status per message, so transitions stay monotonic without reading Cassandra."""
    return app.Table("message-status", key_type=str, value_type=str, partitions=partitions,
                     options=ROCKSDB_OPTIONS, help="latest status applied per message")


def sent_table(app: faust.App, channel: str, partitions: int) -> faust.Table:
    """Messages the provider accepted (or refused for good): a replay never sends them again."""
    return app.Table(f"sent-{channel}", key_type=str, value_type=str, partitions=partitions,
                     options=ROCKSDB_OPTIONS, help=f"message keys already sent to {channel}")


def breaker_table(app: faust.App, channel: str) -> faust.Table:
    """The channel's circuit-breaker snapshot (one key, one partition)."""
    return app.Table(f"circuit-{channel}", key_type=str, value_type=BreakerSnapshot, partitions=1,
                     options=ROCKSDB_OPTIONS, help=f"circuit breaker state of {channel}")

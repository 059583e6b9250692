"""RocksDB-backed Faust tables: deduplication and circuit-breaker state."""

"""Every workaround for a library's bug or missing API, in one place.

Each one was written against the versions in `pins.WRITTEN_FOR` (faust-streaming 0.15.3,
aiokafka 0.14.0, aiobreaker 1.2.0) and declares the private names it reaches for in a `PRIVATE`
tuple; `tests/unit/test_workaround_pins.py` fails when an installed version differs or a private
name is gone. After an upgrade: re-read each module below, check whether the bug is fixed or a
public API exists now, then update `pins.py`.

- `stall_watch`: faust-streaming #175/#629/#640 — an assigned partition is never fetched again, or
  fetched records are dropped; the worker looks healthy while its lag never drains. Detects it
  (broker highwater vs committed offset), seeks the partition back to its committed offset, and
  restarts the worker if that did not help. Reads Faust's consumer
  bookkeeping (`Consumer._committed_offset`, `_read_offset`, `_active_partitions`,
  `_paused_partitions`, `_buffered_partitions`) and aiokafka's fetch state
  (`AIOKafkaConsumer._fetcher`, `Fetcher._subscriptions`) for the log line.
- `recovery_watch`: the stall watch runs on a Faust timer, which Faust starts only after the first
  table recovery, and it steps aside during rebalances and recoveries: a rebalance or recovery that
  never ends would go unnoticed. Restarts a worker not consuming for `RECOVERY_LIMIT_S` while the
  broker answers. Reads `App._consumer` (the `consumer` property would build one).
- `continuity`: the same Faust bug seen from the agent: an offset missing inside a partition.
  Restarts instead of processing past it (no private names).
- `no_gaps`: Faust counts offsets its fetch loop skipped as a "gap" of offsets that do not exist
  (compacted or transactional topics) and commits past them: records it lost on the way were
  committed unprocessed. Replaces `Consumer._add_gap` with a warning, so the commit stops there.
- `restart`: the remedy for both: exec the same command. aiokafka has no public "leave the group
  but keep running" call, so it sends LeaveGroup through `AIOKafkaConsumer._coordinator` and
  `GroupCoordinator._maybe_leave_group`.
- `consumer_thread`: how the two above reach aiokafka's consumer, which Faust runs on a thread of
  its own (`ThreadDelegateConsumer._thread`, `AIOKafkaConsumerThread._ensure_consumer`).
- `table_scope`: Faust picks a table key's partition from the *current event*, which inside a
  `take_events()` batch is one event for the whole batch. Sets Faust's `faust.streams._current_event`
  context variable per event.
- `record_fields`: Faust has no public way to list a Record's declared fields and defaults; the
  agent-edge decoder reads `Record._options`.
- `breaker_storage`: aiobreaker exposes neither the time its circuit opened nor a way to restore
  one; reads `CircuitBreaker._state_storage`, and converts epochs to the naive-UTC datetimes
  aiobreaker compares with `datetime.utcnow()`.

Not here: `chat4all_app/web/server.py` subclasses aiohttp's request handler and runner internals
(`_make_server`, `_wrap_into_asyncdef`) so protocol-level errors answer JSON; it lives with the
web server it configures.
"""

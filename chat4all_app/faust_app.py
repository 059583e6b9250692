"""One factory for every role's Faust app, so they share broker, store and safety settings.

Each role (api, router, connector-<channel>) is its own app id = its own consumer group, so roles
scale and fail independently.
"""

from __future__ import annotations

from typing import Any

import faust

from chat4all_app.observability import logs
from chat4all_app.settings import Settings
from chat4all_app.web import server as web_server
from chat4all_app.workarounds import controller_node, no_gaps


def make_app(role: str, settings: Settings, **overrides: Any) -> faust.App:
    no_gaps.install()  # before any consumer exists: never commit past unprocessed offsets
    controller_node.install()  # a worker starts while any one broker is down
    instance_id = settings.instance_id or logs.default_instance_id()
    logs.configure(role, instance_id, settings.log_level)
    options: dict[str, Any] = dict(
        broker="kafka://" + ";".join(settings.kafka_bootstrap_servers.split(",")),
        store="rocksdb://",
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.kafka_replication_factor,
        # Faust serves every table at /table/... by default: that would leak state.
        web_tables_enabled=False,
        # Our driver: none of Faust's built-in pages (/router, /, /stats, /graph...) on any port,
        # and aiohttp's own errors (bad request line, oversized headers) as JSON too.
        web=web_server.DRIVER_URL,
        web_host="127.0.0.1",
        web_bind="127.0.0.1",
        producer_acks=-1,
        # Records sent while a batch is handled share produce requests instead of one each.
        producer_linger=settings.producer_linger_s,
        consumer_auto_offset_reset="earliest",
        # Notice a dead worker in seconds, not Faust's default 60 s.
        broker_session_timeout=settings.broker_session_timeout_s,
        broker_heartbeat_interval=settings.broker_heartbeat_interval_s,
        # Commit often: the lag (highwater - committed) counts what is processed but uncommitted,
        # and a crash replays it (deduplicated, but delayed).
        broker_commit_interval=settings.broker_commit_interval_s,
        # A standby follows the changelog all along, so a failover does not replay it from far back.
        table_standby_replicas=settings.table_standby_replicas,
        logging_config=logs.logging_config(role, instance_id, settings.log_level),
    )
    options.update(overrides)
    return faust.App(app_id(role), **options)


def app_id(role: str) -> str:
    """The Faust app id of a role: its consumer group, and the prefix of its changelog topics."""
    return f"chat4all-{role}"

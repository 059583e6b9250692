"""The `/health` body of each role, built from real probes and this process's own counters.

200 when the role can do its job, 503 (status DOWN) when a dependency it needs is unreachable.
A connector whose *provider* is failing stays UP: its circuit is OPEN and it stores and forwards,
which is the designed behaviour, not a fault to restart it for.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from chat4all_app.observability import activity
from chat4all_app.observability.health import KafkaProbe, Probe, cassandra_probe, check_all, now_iso, overall
from chat4all_app.settings import Settings
from chat4all_app.storage.cassandra import CassandraStore

if TYPE_CHECKING:
    from chat4all_app.agents.connector import Connector
    from chat4all_app.files.objects import ObjectStore

Report = Callable[[], Awaitable[dict]]


def api_report(settings: Settings, kafka: KafkaProbe, store: CassandraStore, objects: ObjectStore) -> Report:
    probes: dict[str, Probe] = {"kafka": kafka, "s3": objects.ping,
                                "cassandra": cassandra_probe(store, settings.cassandra_keyspace)}

    async def report() -> dict:
        components = await check_all(probes, settings.health_timeout_s)
        return {"status": overall(components), "components": components, "timestamp": now_iso()}
    return report


def _worker_probes(settings: Settings, kafka: KafkaProbe, store: CassandraStore) -> dict[str, Probe]:
    return {"kafka": kafka, "cassandra": cassandra_probe(store, settings.cassandra_keyspace)}


def router_report(settings: Settings, kafka: KafkaProbe, store: CassandraStore) -> Report:
    probes = _worker_probes(settings, kafka, store)

    async def report() -> dict:
        components = await check_all(probes, settings.health_timeout_s)
        return {"status": overall(components), "consumer_lag": activity.consumer_lag(),
                "messages_processed_last_minute": activity.PROCESSED.recent(),
                "components": components, "timestamp": now_iso()}
    return report


def connector_report(settings: Settings, kafka: KafkaProbe, store: CassandraStore,
                     connector: Connector) -> Report:
    probes = _worker_probes(settings, kafka, store)

    async def report() -> dict:
        components = await check_all(probes, settings.health_timeout_s)
        last = connector.last_sent_at
        return {"status": overall(components), "channel": connector.channel,
                "circuit_breaker": connector.circuit_state(),
                "last_successful_send": now_iso(last) if last else None,
                "consumer_lag": activity.consumer_lag(),
                "messages_processed_last_minute": activity.PROCESSED.recent(),
                "components": components, "timestamp": now_iso()}
    return report

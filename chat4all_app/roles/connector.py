"""connector-<channel>: one Faust app per external channel (own consumer group, own web port)."""

from __future__ import annotations

import faust

from chat4all_app.agents import connector as connector_agent
from chat4all_app.connectors.provider_client import ProviderClient
from chat4all_app.dead_letters import DeadLetters
from chat4all_app.faust_app import make_app
from chat4all_app.lifecycle import own
from chat4all_app.messaging.cassandra import CassandraMessages
from chat4all_app.messaging.receipts import ReceiptIntake
from chat4all_app.observability import heartbeat
from chat4all_app.observability.health import KafkaProbe
from chat4all_app.observability.reports import connector_report
from chat4all_app.settings import Settings
from chat4all_app.storage.cassandra import CassandraStore
from chat4all_app.tables import inspect
from chat4all_app.tables.state import CircuitSnapshots, SentMessages
from chat4all_app.topics import breaker_topic, channel_topic, status_topic
from chat4all_app.web import health_view, metrics_view, receipt_views
from chat4all_app.web.correlation import correlation_ids
from chat4all_app.web.errors import json_errors
from chat4all_app.web.http_metrics import http_metrics
from chat4all_app.web.server import aiohttp_app
from chat4all_app.workarounds.recovery_watch import RecoveryWatch


def build(channel: str, settings: Settings) -> tuple[faust.App, connector_agent.Connector]:
    app = make_app(f"connector-{channel}", settings, origin=f"chat4all_app.roles.connector_{channel}")
    statuses = status_topic(app, settings)
    provider = ProviderClient(settings.provider_url(channel), settings.provider_timeout_s)
    store = CassandraStore(settings)  # the receipts webhook's lookups
    kafka_probe = KafkaProbe(settings)
    recovery_watch = RecoveryWatch(app, kafka_probe, settings.recovery_limit_s,
                                   settings.stall_check_interval_s)
    # started before the agents and web server, stopped after them
    own(app, provider, store, kafka_probe, recovery_watch)
    connector = connector_agent.Connector(
        channel=channel, settings=settings, provider=provider,
        status_topic=statuses, breaker_topic=breaker_topic(app, settings, channel),
        sent=SentMessages.declare(app, channel, settings.topic_partitions),
        breakers=CircuitSnapshots.declare(app, channel), dead_letters=DeadLetters(app, settings))
    connector_agent.install(app, connector, channel_topic(app, settings, channel))
    receipt_views.install(app, ReceiptIntake(channel, CassandraMessages(store), statuses,
                                             settings.webhook_secret(channel),
                                             settings.webhook_clock_skew_s, connector.sent_where.get))
    metrics_view.install(app)
    health = connector_report(settings, kafka_probe, store, connector)
    health_view.install(app, health)
    heartbeat.install(app, settings, health)
    aiohttp_app(app.web).middlewares.extend([http_metrics, correlation_ids, json_errors])
    return app, connector


def inspect_command(app: faust.App, channel: str):
    """`faust -A chat4all_app.roles.connector_<channel> inspect-tables`."""
    return inspect.command(app, [CircuitSnapshots.name(channel), SentMessages.name(channel)])

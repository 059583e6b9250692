"""router-worker: routes accepted messages and applies status events.

    faust -A chat4all_app.roles.router worker --web-port 8082 --datadir state/data/faust-router-1
"""

from chat4all_app.agents import router as router_agent
from chat4all_app.agents import status as status_agent
from chat4all_app.dead_letters import DeadLetters
from chat4all_app.faust_app import make_app
from chat4all_app.lifecycle import own
from chat4all_app.observability import heartbeat
from chat4all_app.observability.health import KafkaProbe
from chat4all_app.observability.reports import router_report
from chat4all_app.push.updates import Announcer
from chat4all_app.settings import load
from chat4all_app.storage.cassandra import CassandraStore
from chat4all_app.tables import inspect
from chat4all_app.tables.state import MessageStatuses, RoutedMessages
from chat4all_app.topics import channel_topic, messages_topic, status_topic, updates_topic
from chat4all_app.web import health_view, metrics_view
from chat4all_app.web.errors import json_errors
from chat4all_app.web.server import aiohttp_app
from chat4all_app.workarounds.recovery_watch import RecoveryWatch

settings = load("router")
app = make_app("router", settings, origin=__name__)
store = CassandraStore(settings)
kafka_probe = KafkaProbe(settings)
recovery_watch = RecoveryWatch(app, kafka_probe, settings.recovery_limit_s, settings.stall_check_interval_s)
own(app, store, kafka_probe, recovery_watch)  # connected before the agents start, closed after they stopped
dead_letters = DeadLetters(app, settings)

messages = messages_topic(app, settings)
statuses = status_topic(app, settings)
channels = {c: channel_topic(app, settings, c) for c in settings.channels}
updates = Announcer(updates_topic(app, settings))

routed = RoutedMessages.declare(app, settings.topic_messages_partitions)
message_statuses = MessageStatuses.declare(app, settings.topic_partitions)
copartitioned = settings.topic_messages_partitions == settings.topic_partitions
route = router_agent.install(
    app,
    router_agent.Router(settings, store, channels, routed, dead_letters, updates,
                        message_statuses if copartitioned else None),
    messages)
apply_status = status_agent.install(
    app, status_agent.StatusApplier(settings, store, message_statuses, dead_letters, updates),
    statuses)
inspect_tables = inspect.command(app, [RoutedMessages.NAME, MessageStatuses.NAME])
metrics_view.install(app)
health = router_report(settings, kafka_probe, store)
health_view.install(app, health)
heartbeat.install(app, settings, health)
# Unknown paths, wrong methods and bugs answer JSON here too, like on the API and connectors.
aiohttp_app(app.web).middlewares.append(json_errors)

"""api-service: the HTTP API (Faust web views). Stateless; run as many as you like.

    faust -A chat4all_app.roles.api worker --web-port 8080 --datadir state/data/faust-api
"""

from chat4all_app.faust_app import make_app
from chat4all_app.files.objects import ObjectStore
from chat4all_app.lifecycle import own
from chat4all_app.observability import heartbeat
from chat4all_app.observability.health import KafkaProbe
from chat4all_app.observability.reports import api_report
from chat4all_app.publisher import Publisher
from chat4all_app.settings import load
from chat4all_app.storage.cassandra import CassandraStore
from chat4all_app.web import (
    auth_views,
    conversation_views,
    file_views,
    health_view,
    live_view,
    message_views,
    metrics_view,
    user_views,
)
from chat4all_app.web.context import ApiServices, attach
from chat4all_app.web.correlation import correlation_ids
from chat4all_app.web.errors import json_errors
from chat4all_app.web.http_metrics import http_metrics
from chat4all_app.web.server import aiohttp_app
from chat4all_app.webclient import views as webclient_views

settings = load("api", "jwt_secret", "s3_access_key", "s3_secret_key")
app = make_app("api", settings)
# Web + producer only: the API joins no consumer group, so API processes scale freely.
app.producer_only = True

# The process's connections (Cassandra, the Kafka producer, S3, the health probe's Kafka client).
store = CassandraStore(settings)
publisher = Publisher(settings)
objects = ObjectStore(settings)
kafka_probe = KafkaProbe(settings)
services = ApiServices.assemble(settings, store, publisher, objects)
# Started before the web server, stopped after it; the push feed follows Kafka in a task of its own.
own(app, store, publisher, objects, kafka_probe, services.push.feed)

attach(app, services)
auth_views.install(app)
conversation_views.install(app)
message_views.install(app)
file_views.install(app)
live_view.install(app, services)
user_views.install(app)
metrics_view.install(app)
webclient_views.install(app)
health = api_report(settings, kafka_probe, store, objects)
health_view.install(app, health)
heartbeat.install(app, settings, health)
# Outermost first: metrics see the final status; every response (errors too) carries its id.
aiohttp_app(app.web).middlewares.extend([http_metrics, correlation_ids, json_errors])

"""Topic declarations shared by producers and consumers (names/partitions from the settings).

Producers send typed records through these. Agents subscribe through `consumed()`: the same topic
as raw bytes, decoded into the same records at the agent edge (`agents.decode`), so an event that
does not decode is dead-lettered instead of being dropped by Faust.
"""

from __future__ import annotations

import faust

from chat4all_app.records import (
    BreakerSnapshot,
    ConversationUpdate,
    MessageAccepted,
    OutboundMessage,
    StatusEvent,
)
from chat4all_app.settings import Settings


def messages_topic(app: faust.App, settings: Settings) -> faust.TopicT:
    return app.topic(settings.topic_messages, key_type=str, value_type=MessageAccepted,
                     key_serializer="raw", partitions=settings.topic_messages_partitions)


def status_topic(app: faust.App, settings: Settings) -> faust.TopicT:
    return app.topic(settings.topic_status, key_type=str, value_type=StatusEvent,
                     key_serializer="raw", partitions=settings.topic_partitions)


def updates_topic(app: faust.App, settings: Settings) -> faust.TopicT:
    return app.topic(settings.topic_updates, key_type=str, value_type=ConversationUpdate,
                     key_serializer="raw", partitions=settings.topic_partitions)


def channel_topic(app: faust.App, settings: Settings, channel: str) -> faust.TopicT:
    return app.topic(settings.channel_topic(channel), key_type=str, value_type=OutboundMessage,
                     key_serializer="raw", partitions=settings.topic_partitions)


def breaker_topic(app: faust.App, settings: Settings, channel: str) -> faust.TopicT:
    """Circuit-state changes of one channel; one partition so its table key has one home."""
    return app.topic(settings.circuit_topic(channel), key_type=str, value_type=BreakerSnapshot,
                     key_serializer="raw", partitions=1, internal=True)


def consumed(app: faust.App, topic: faust.TopicT) -> faust.TopicT:
    """`topic` as an agent subscribes to it: keys and values as the bytes Kafka holds."""
    return app.topic(*topic.topics, key_type=bytes, value_type=bytes, key_serializer="raw",
                     value_serializer="raw", partitions=topic.partitions, internal=topic.internal)

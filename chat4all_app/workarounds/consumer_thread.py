"""Reach aiokafka's consumer behind Faust's: Faust runs it on a thread (and event loop) of its own."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, cast

import faust
from aiokafka import AIOKafkaConsumer

from chat4all_app.workarounds.pins import Private

if TYPE_CHECKING:
    from faust.transport.consumer import ThreadDelegateConsumer
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

PRIVATE = (
    Private("faust.transport.consumer:ThreadDelegateConsumer", "_thread", instance=True),
    Private("faust.transport.drivers.aiokafka:AIOKafkaConsumerThread", "_ensure_consumer"),
)


def aiokafka_consumer(app: faust.App) -> tuple[AIOKafkaConsumer, asyncio.AbstractEventLoop]:
    """aiokafka's consumer of this worker, and the loop of the thread it runs on."""
    # Faust types `app.consumer` as its ConsumerT interface; the Kafka transport's consumer is a
    # ThreadDelegateConsumer whose thread is an AIOKafkaConsumerThread (see PRIVATE).
    delegate = cast("ThreadDelegateConsumer", app.consumer)
    thread = cast("AIOKafkaConsumerThread", delegate._thread)
    return thread._ensure_consumer(), thread.thread_loop

"""What a process owns starts and stops explicitly: refused before start() and after stop(), never
blocked by a dependency that is down at start-up, stopped in reverse order."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
import uuid

import faust
import pytest

from chat4all_app.connectors.provider_client import ProviderClient
from chat4all_app.files.objects import ObjectStore
from chat4all_app.lifecycle import NotRunning, OwnedResources, own
from chat4all_app.observability.health import KafkaProbe
from chat4all_app.publisher import Publisher, PublishFailed
from chat4all_app.records import BreakerSnapshot
from chat4all_app.settings import Settings
from chat4all_app.storage.cassandra import CassandraStore

# Nothing listens on port 1: Kafka, Cassandra and S3 are "down".
DOWN = Settings.from_env({"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "KAFKA_PUBLISH_TIMEOUT_S": "1",
                          "CASSANDRA_PORT": "1", "S3_ENDPOINT_URL": "http://127.0.0.1:1",
                          "S3_ACCESS_KEY": "app-key", "S3_SECRET_KEY": "x" * 40})
SNAP = BreakerSnapshot(channel="whatsapp", state="CLOSED", fail_counter=0)


async def test_a_publish_outside_start_and_stop_fails_at_once():
    publisher = Publisher(DOWN)
    with pytest.raises(NotRunning, match="before start"):
        await publisher.publish("t", "k", SNAP)
    await publisher.start()
    await publisher.stop()
    await publisher.stop()  # idempotent
    with pytest.raises(NotRunning):
        await publisher.publish("t", "k", SNAP)


async def test_start_does_not_wait_for_a_kafka_that_is_down_and_publish_fails_in_time():
    publisher = Publisher(DOWN)
    started = time.monotonic()
    await publisher.start()
    await publisher.start()  # idempotent
    assert time.monotonic() - started < 0.1
    with pytest.raises(PublishFailed):
        await publisher.publish("t", "k", SNAP)
    assert time.monotonic() - started < 5
    await publisher.stop()


async def test_the_kafka_health_probe_is_used_only_between_start_and_stop():
    probe = KafkaProbe(DOWN)
    with pytest.raises(NotRunning):
        await probe()
    await probe.start()
    with pytest.raises(Exception) as down:  # port 1: the bootstrap fails, the probe reports DOWN
        await asyncio.wait_for(probe(), 5)
    assert not isinstance(down.value, NotRunning)
    await probe.stop()
    await probe.stop()
    with pytest.raises(NotRunning):
        await probe()


async def test_the_cassandra_store_is_used_only_between_start_and_stop():
    store = CassandraStore(DOWN)
    with pytest.raises(NotRunning):
        await store.execute("SELECT release_version FROM system.local")
    await store.start()  # no I/O: Cassandra being down does not matter yet
    await store.stop()
    await store.stop()
    with pytest.raises(NotRunning):
        await store.execute("SELECT release_version FROM system.local")


async def test_a_caller_waiting_for_the_connection_when_the_store_stops_gets_not_running():
    store = CassandraStore(DOWN)
    connecting = asyncio.Event()
    release = asyncio.Event()

    async def slow_connect() -> None:  # a connect that succeeds, only late
        connecting.set()
        await release.wait()
        store._session = object()

    store._connect = slow_connect  # type: ignore[method-assign]
    await store.start()
    waiting = asyncio.ensure_future(store.session())
    await connecting.wait()
    stopping = asyncio.ensure_future(store.stop())  # waits for the connect in flight, then closes
    await asyncio.sleep(0)
    release.set()
    await stopping
    with pytest.raises(NotRunning):
        await waiting


async def test_the_object_store_opens_its_clients_at_start_and_closes_them_at_stop():
    objects = ObjectStore(DOWN)
    with pytest.raises(NotRunning):
        await objects.ping()
    await objects.start()
    await objects.start()
    client = objects._client()
    assert objects._client(public=True) is not client
    await objects.stop()
    await objects.stop()
    with pytest.raises(NotRunning):
        await objects.delete("k")


async def test_the_provider_client_owns_its_http_session():
    provider = ProviderClient("http://127.0.0.1:1", 1.0)
    with pytest.raises(NotRunning):
        provider._session()
    await provider.start()
    session = provider._session()
    await provider.stop()
    assert session.closed
    with pytest.raises(NotRunning):
        provider._session()


class Recorder:
    def __init__(self, name: str, calls: list[str], fail_stop: bool = False):
        self.name, self.calls, self.fail_stop = name, calls, fail_stop

    async def start(self) -> None:
        self.calls.append(f"start {self.name}")

    async def stop(self) -> None:
        self.calls.append(f"stop {self.name}")
        if self.fail_stop:
            raise OSError("close failed")


async def test_owned_resources_start_in_order_and_stop_in_reverse_even_when_one_fails():
    calls: list[str] = []
    service = OwnedResources([Recorder("store", calls), Recorder("publisher", calls, fail_stop=True),
                              Recorder("objects", calls)])
    await service.start()
    await service.stop()
    assert calls == ["start store", "start publisher", "start objects",
                     "stop objects", "stop publisher", "stop store"]


class WithoutKafka(faust.App.BootStrategy):
    """No producer, consumer, tables or web server: what is left starts without a broker."""

    enable_kafka = False
    enable_web = False
    enable_sensors = False


class AppWithoutKafka(faust.App):
    BootStrategy = WithoutKafka


async def test_an_owned_resource_starts_before_the_apps_agents_and_stops_after_them():
    calls: list[str] = []
    app = AppWithoutKafka(f"test-{uuid.uuid4().hex[:6]}", store="memory://", broker="kafka://127.0.0.1:1")
    own(app, Recorder("store", calls))

    @app.agent(app.topic("chat4all-test-in"))
    async def agent(stream):
        calls.append("agent running")
        try:
            async for _ in stream:
                pass
        finally:
            calls.append("agent stopped")

    await asyncio.wait_for(app.start(), 10)
    deadline = time.monotonic() + 5
    while "agent running" not in calls and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    await asyncio.wait_for(app.stop(), 10)
    assert calls == ["start store", "agent running", "agent stopped", "stop store"]


def test_importing_the_logs_module_starts_nothing():
    code = ("import threading, chat4all_app.observability.logs as logs; "
            "before = {t.name for t in threading.enumerate()}; "
            "logs.configure('test', 'i-1'); "
            "print(sorted(before), sorted({t.name for t in threading.enumerate()} - before))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['MainThread'] ['log-drain']"


async def test_cancelled_ends_a_task_but_never_swallows_the_callers_own_cancellation():
    import asyncio

    from chat4all_app.lifecycle import cancelled

    async def forever() -> None:
        await asyncio.Event().wait()

    task = asyncio.create_task(forever())
    await cancelled(task)
    assert task.cancelled()

    async def stopping(inner: asyncio.Task) -> None:
        await cancelled(inner)

    stubborn_started = asyncio.Event()

    async def stubborn() -> None:  # takes a while to end after its cancel
        stubborn_started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await asyncio.sleep(0.2)
            raise

    inner = asyncio.create_task(stubborn())
    await stubborn_started.wait()
    outer = asyncio.create_task(stopping(inner))
    await asyncio.sleep(0.05)
    outer.cancel()  # whoever called stop() is cancelled meanwhile
    with contextlib.suppress(asyncio.CancelledError):
        await outer
    assert outer.cancelled()

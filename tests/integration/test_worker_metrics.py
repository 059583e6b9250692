"""Router and connector metrics move with real traffic; the lag gauge follows the real backlog."""

from __future__ import annotations

import asyncio
import time
import uuid

from devstack.stack_client import AsyncProviders, scrape_async, total
from tests.integration.helpers import STACK, delivered, delta, value

ROUTER = STACK.process("router").url
WHATSAPP, INSTAGRAM = STACK.connector_url("whatsapp"), STACK.connector_url("instagram")


async def measured_traffic(api):
    """Scrapes of the router and the WhatsApp connector before and after 5 external and 5 internal
    messages were delivered."""
    alice, bob = await api.user(), await api.user()
    external, internal = await api.conversation(alice, bob), await api.conversation(alice, bob)
    router0, wa0 = await scrape_async(api.http, ROUTER), await scrape_async(api.http, WHATSAPP)
    for i in range(5):
        await api.send(alice, external, f"out {i}", recipient_id=f"whatsapp:m-{uuid.uuid4().hex[:8]}")
        await api.send(alice, internal, f"in {i}")
    assert await delivered(api, bob, external, 5) and await delivered(api, bob, internal, 5)
    await asyncio.sleep(0.5)  # the DELIVERED status event is applied after the row is visible
    router1, wa1 = await scrape_async(api.http, ROUTER), await scrape_async(api.http, WHATSAPP)
    return router0, router1, wa0, wa1


def reset_between(before, after) -> bool:
    """A counter went down: the process restarted in place between the scrapes (the stall watch's
    remedy, by design), so its counters started again from zero and no delta is meaningful."""
    names = {"messages_consumed_total", "messages_sent_total"}
    old = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in before if s.name in names}
    return any(s.value < old.get((s.name, tuple(sorted(s.labels.items()))), 0) for s in after)


async def test_router_and_connector_metrics_move_when_messages_flow(api):
    for _ in range(3):  # measured again if a worker restarted in place meanwhile (seen in CI)
        router0, router1, wa0, wa1 = await measured_traffic(api)
        if not (reset_between(router0, router1) or reset_between(wa0, wa1)):
            break

    consumed = delta(router0, router1, "messages_consumed_total", topic="chat4all.messages")
    assert consumed >= 10
    assert delta(router0, router1, "messages_processed_total", status="routed") >= 10
    assert delta(router0, router1, "messages_processed_total", status="DELIVERED") >= 5
    assert delta(router0, router1, "processing_duration_seconds_count", agent="route-messages") >= 1
    # One observation per write step (rows of a batch, statuses of a batch), not per message.
    assert delta(router0, router1, "cassandra_write_duration_seconds_count") >= 2
    assert delta(router0, router1, "message_delivery_latency_seconds_count", channel="whatsapp") >= 5
    assert delta(router0, router1, "message_delivery_latency_seconds_count", channel="internal") >= 5
    assert any(s.name == "kafka_consumer_lag" and "partition" in s.labels
               and s.labels.get("topic") == "chat4all.messages" for s in router1)
    assert delta(wa0, wa1, "messages_sent_total", channel="whatsapp", status="SENT") >= 5
    assert delta(wa0, wa1, "connector_api_duration_seconds_count", channel="whatsapp") >= 5
    assert value(wa1, "circuit_breaker_state", channel="whatsapp") == 0


async def instagram_lag(api) -> float:
    samples = await scrape_async(api.http, INSTAGRAM)
    return total(samples, "kafka_consumer_lag", topic="chat4all.channel.instagram")


async def test_consumer_lag_is_sampled_from_the_broker_and_circuit_metrics_follow(api):
    mock = AsyncProviders(STACK, api.http)
    alice, bob = await api.user(), await api.user()
    conv = await api.conversation(alice, bob)
    before = await scrape_async(api.http, INSTAGRAM)
    await mock.configure("instagram", mode="error")
    try:
        for i in range(30):
            await api.send(alice, conv, f"held {i}", recipient_id="instagram:lag-test")
        deadline = time.monotonic() + 30
        while (lag := await instagram_lag(api)) < 25 and time.monotonic() < deadline:
            await asyncio.sleep(1)
        assert lag >= 25  # held by the open circuit: the backlog is visible
        during = await scrape_async(api.http, INSTAGRAM)
        assert value(during, "circuit_breaker_state", channel="instagram") in (1, 2)
        opened = {"channel": "instagram", "from": "CLOSED", "to": "OPEN"}
        assert delta(before, during, "circuit_breaker_transitions_total", **opened) >= 1
        assert delta(before, during, "messages_failed_total", reason="provider") >= 1
    finally:
        await mock.configure("instagram", mode="up", failure_rate=0.0, latency_ms={"min": 1, "max": 5})
    assert await delivered(api, bob, conv, 30)
    deadline = time.monotonic() + 30
    while (lag := await instagram_lag(api)) > 0 and time.monotonic() < deadline:
        await asyncio.sleep(1)
    assert lag == 0
    after = await scrape_async(api.http, INSTAGRAM)
    assert value(after, "circuit_breaker_state", channel="instagram") == 0

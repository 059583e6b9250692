"""Router and connector metrics move with real traffic; the lag gauge follows the real backlog."""

from __future__ import annotations

import asyncio
import time
import uuid

from tests.integration.stack_control import Mock
from tests.integration.test_api_metrics import delta, scrape_url

ROUTER, WHATSAPP, INSTAGRAM = "http://127.0.0.1:8082", "http://127.0.0.1:8083", "http://127.0.0.1:8084"


async def delivered(api, user, conv, count: int) -> bool:
    async def done():
        msgs = await api.all_messages(user, conv)
        return len(msgs) >= count and all(m["status"] == "DELIVERED" for m in msgs)

    return await api.wait_for(done, timeout=90)


async def test_router_and_connector_metrics_move_when_messages_flow(api):
    alice, bob = await api.user(), await api.user()
    external, internal = await api.conversation(alice, bob), await api.conversation(alice, bob)
    router0, wa0 = await scrape_url(api.http, ROUTER), await scrape_url(api.http, WHATSAPP)
    for i in range(5):
        await api.send(alice, external, f"out {i}", recipient_id=f"whatsapp:m-{uuid.uuid4().hex[:8]}")
        await api.send(alice, internal, f"in {i}")
    assert await delivered(api, bob, external, 5) and await delivered(api, bob, internal, 5)
    await asyncio.sleep(0.5)  # the DELIVERED status event is applied after the row is visible
    router1, wa1 = await scrape_url(api.http, ROUTER), await scrape_url(api.http, WHATSAPP)

    consumed = sum(v for k, v in router1.items() if k.startswith('messages_consumed_total{') and
                   'topic="chat4all.messages"' in k) - \
        sum(v for k, v in router0.items() if k.startswith('messages_consumed_total{') and
            'topic="chat4all.messages"' in k)
    assert consumed >= 10
    assert delta(router0, router1, 'messages_processed_total{status="routed"}') >= 10
    assert delta(router0, router1, 'messages_processed_total{status="DELIVERED"}') >= 5
    assert delta(router0, router1, 'processing_duration_seconds_count{agent="route-messages"}') >= 1
    # One observation per write step (rows of a batch, statuses of a batch), not per message.
    assert delta(router0, router1, "cassandra_write_duration_seconds_count") >= 2
    assert delta(router0, router1, 'message_delivery_latency_seconds_count{channel="whatsapp"}') >= 5
    assert delta(router0, router1, 'message_delivery_latency_seconds_count{channel="internal"}') >= 5
    assert any(k.startswith('kafka_consumer_lag{partition=') and 'topic="chat4all.messages"' in k
               for k in router1)
    assert delta(wa0, wa1, 'messages_sent_total{channel="whatsapp",status="SENT"}') >= 5
    assert delta(wa0, wa1, 'connector_api_duration_seconds_count{channel="whatsapp"}') >= 5
    assert wa1['circuit_breaker_state{channel="whatsapp"}'] == 0


async def instagram_lag(api) -> float:
    samples = await scrape_url(api.http, INSTAGRAM)
    return sum(v for k, v in samples.items()
               if k.startswith("kafka_consumer_lag{") and 'topic="chat4all.channel.instagram"' in k)


async def test_consumer_lag_is_sampled_from_the_broker_and_circuit_metrics_follow(api):
    mock = Mock(api.http, "instagram")
    alice, bob = await api.user(), await api.user()
    conv = await api.conversation(alice, bob)
    before = await scrape_url(api.http, INSTAGRAM)
    await mock.configure(mode="error")
    try:
        for i in range(30):
            await api.send(alice, conv, f"held {i}", recipient_id="instagram:lag-test")
        deadline = time.monotonic() + 30
        while (lag := await instagram_lag(api)) < 25 and time.monotonic() < deadline:
            await asyncio.sleep(1)
        assert lag >= 25  # held by the open circuit: the backlog is visible
        during = await scrape_url(api.http, INSTAGRAM)
        assert during['circuit_breaker_state{channel="instagram"}'] in (1, 2)
        opened = 'circuit_breaker_transitions_total{channel="instagram",from="CLOSED",to="OPEN"}'
        assert delta(before, during, opened) >= 1
        assert delta(before, during, 'messages_failed_total{reason="provider"}') >= 1
    finally:
        await mock.configure(mode="up", failure_rate=0.0, latency_ms={"min": 1, "max": 5})
    assert await delivered(api, bob, conv, 30)
    deadline = time.monotonic() + 30
    while (lag := await instagram_lag(api)) > 0 and time.monotonic() < deadline:
        await asyncio.sleep(1)
    assert lag == 0
    after = await scrape_url(api.http, INSTAGRAM)
    assert after['circuit_breaker_state{channel="instagram"}'] == 0

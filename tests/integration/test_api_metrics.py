"""The api-service's Prometheus metrics move with real traffic."""

from __future__ import annotations

import re
import uuid


async def scrape(api) -> dict[str, float]:
    return await scrape_url(api.http, api.base)


async def scrape_url(http, base: str) -> dict[str, float]:
    """{"name{labels}": value} of a process's /metrics."""
    async with http.get(base + "/metrics") as resp:
        assert resp.status == 200 and resp.content_type == "text/plain"
        text = await resp.text()
    samples = {}
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][\w:]*(?:\{.*\})?) (\S+)$", line)
        if match:
            samples[match[1]] = float(match[2])
    return samples


def delta(before: dict, after: dict, key: str) -> float:
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_requests_messages_and_kafka_publishes_are_counted_and_timed(api):
    alice, bob = await api.user(), await api.user()
    conv = await api.conversation(alice, bob)
    before = await scrape(api)
    sent = await api.send(alice, conv, "counted")
    status, _ = await api.call("POST", "/v1/messages", alice, json={"conversation_id": conv})
    assert status == 400
    status, _ = await api.call("POST", "/v1/messages", None, json={"conversation_id": conv, "content": "x"})
    assert status == 401
    status, _ = await api.call("GET", f"/v1/messages/{uuid.uuid4()}", alice)
    assert status == 404
    status, _ = await api.call("GET", "/no/such/route", alice)
    assert status == 404
    after = await scrape(api)

    assert delta(before, after, "messages_accepted_total") == 1
    assert delta(before, after, 'messages_rejected_total{reason="validation"}') == 1
    assert delta(before, after, 'messages_rejected_total{reason="auth"}') == 1
    assert delta(before, after, "kafka_publish_duration_seconds_count") == 1
    assert 0 < delta(before, after, "kafka_publish_duration_seconds_sum") < 10
    post = 'method="POST",path="/v1/messages"'
    assert delta(before, after, f'http_requests_total{{{post},status="202"}}') == 1
    assert delta(before, after, f'http_requests_total{{{post},status="400"}}') == 1
    assert delta(before, after, f'http_requests_total{{{post},status="401"}}') == 1
    # The route template, never the raw URL (one series per route, not per message id).
    one = 'method="GET",path="/v1/messages/{message_id}",status="404"'
    assert delta(before, after, f"http_requests_total{{{one}}}") == 1
    assert not any(sent["message_id"] in key for key in after)
    assert delta(before, after, 'http_requests_total{method="GET",path="unmatched",status="404"}') == 1
    assert delta(before, after, f'http_request_duration_seconds_count{{{post}}}') == 3
    assert delta(before, after, f'http_request_duration_seconds_bucket{{le="0.5",{post}}}') == 3

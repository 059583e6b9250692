"""The api-service's Prometheus metrics move with real traffic."""

from __future__ import annotations

import uuid

from prometheus_client.samples import Sample

from devstack.stack_client import parse_metrics
from tests.integration.helpers import delta


async def scrape(api) -> list[Sample]:
    async with api.http.get(api.base + "/metrics") as resp:
        assert resp.status == 200 and resp.content_type == "text/plain"
        return parse_metrics(await resp.text())


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
    assert delta(before, after, "messages_rejected_total", reason="validation") == 1
    assert delta(before, after, "messages_rejected_total", reason="auth") == 1
    assert delta(before, after, "kafka_publish_duration_seconds_count") == 1
    assert 0 < delta(before, after, "kafka_publish_duration_seconds_sum") < 10
    post = {"method": "POST", "path": "/v1/messages"}
    assert delta(before, after, "http_requests_total", **post, status="202") == 1
    assert delta(before, after, "http_requests_total", **post, status="400") == 1
    assert delta(before, after, "http_requests_total", **post, status="401") == 1
    # The route template, never the raw URL (one series per route, not per message id).
    one = {"method": "GET", "path": "/v1/messages/{message_id}", "status": "404"}
    assert delta(before, after, "http_requests_total", **one) == 1
    assert not any(sent["message_id"] in label for s in after for label in s.labels.values())
    assert delta(before, after, "http_requests_total", method="GET", path="unmatched", status="404") == 1
    assert delta(before, after, "http_request_duration_seconds_count", **post) == 3
    assert delta(before, after, "http_request_duration_seconds_bucket", le="0.5", **post) == 3

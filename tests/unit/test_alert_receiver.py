"""The alert receiver Alertmanager notifies: one record per alert, numbered, listed after a seq,
and a body that is not a webhook payload refused with a JSON 400."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from chat4all_app.observability.alert_receiver import AlertReceiver, PayloadError, alert_events

PAYLOAD = {"receiver": "chat4all-log", "status": "firing", "alerts": [
    {"status": "firing", "labels": {"alertname": "ServiceDown", "severity": "page", "service": "router"},
     "annotations": {"summary": "router is down", "runbook_url": "/consoles/runbooks.html#servicedown"},
     "startsAt": "2026-11-30T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z"},
    {"status": "resolved", "labels": {"alertname": "CircuitBreakerOpen", "channel": "instagram"},
     "annotations": {}, "startsAt": "2026-11-30T00:00:00Z", "endsAt": "2026-11-30T00:01:00Z"}]}


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    client = TestClient(TestServer(AlertReceiver(keep=3).app()))
    await client.start_server()
    yield client
    await client.close()


def test_each_alert_of_a_payload_becomes_one_flat_record():
    events = alert_events(PAYLOAD)
    assert [(e["status"], e["alertname"], e["severity"]) for e in events] == [
        ("firing", "ServiceDown", "page"), ("resolved", "CircuitBreakerOpen", None)]
    assert events[0]["runbook_url"] == "/consoles/runbooks.html#servicedown"
    assert events[0]["receiver"] == "chat4all-log"


@pytest.mark.parametrize("body", [[], {"alerts": "x"}, {"alerts": [1]}, {}])
def test_what_is_not_a_webhook_payload_is_refused(body):
    with pytest.raises(PayloadError):
        alert_events(body)


async def test_notifications_are_numbered_and_listed_after_a_seq(client):
    assert (await client.post("/alerts", json=PAYLOAD)).status == 200
    assert (await client.post("/alerts", json=PAYLOAD)).status == 200
    listed = (await (await client.get("/alerts")).json())["alerts"]
    assert [e["seq"] for e in listed] == [2, 3, 4]  # keep=3: the oldest is gone, numbers are not
    after = (await (await client.get("/alerts?after=3")).json())["alerts"]
    assert [e["seq"] for e in after] == [4]


async def test_bad_bodies_and_a_bad_seq_get_a_json_400(client):
    for body in (b"not json", b'{"alerts": "x"}'):
        resp = await client.post("/alerts", data=body)
        assert resp.status == 400 and "error" in await resp.json()
    resp = await client.get("/alerts?after=x")
    assert resp.status == 400 and "error" in await resp.json()

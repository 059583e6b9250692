"""What an on-call engineer opens works on the local stack: Prometheus' own UI (graph, targets,
alerts, rules) and the live consoles, every alert rule loaded and healthy, and an alert routed by
the real Alertmanager to the project's webhook receiver, which logs it."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
import yaml
from playwright.async_api import async_playwright

from chat4all_app.settings import Settings
from devstack.layout import REPO_DIR, Layout
from tests.integration.helpers import STACK

PROMETHEUS = STACK.prometheus_url
SETTINGS = Settings.from_env()
ALERTS = yaml.safe_load((REPO_DIR / "monitoring/alerts.yml").read_text())
ALERT_NAMES = {rule["alert"] for group in ALERTS["groups"] for rule in group["rules"] if "alert" in rule}


async def get(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with http.get(url) as resp:
        return resp.status, await resp.text()


@pytest.mark.parametrize(("path", "must_contain"), [
    ("/", ["Prometheus", "js/graph/index.js"]),  # redirects to the classic graph page
    ("/classic/targets", ["chat4all", "127.0.0.1:8080", "alertmanager"]),
    ("/classic/alerts", ["ConsumerLagHigh", "ServiceDown"]),
    ("/classic/rules", ["chat4all", "CircuitBreakerOpen"]),
    ("/consoles/index.html", ["System Overview", "Component Health", "Alerts firing now"]),
    ("/classic/static/rickshaw/rickshaw.min.js", ["Rickshaw"]),  # Debian's JavaScript packages
])
async def test_prometheus_ui_pages_answer_with_their_content(path, must_contain):
    async with aiohttp.ClientSession() as http:
        status, body = await get(http, PROMETHEUS + path)
    assert status == 200, body[:500]
    missing = [text for text in must_contain if text not in body]
    assert not missing, f"{path} lacks {missing}"


async def test_every_asset_of_the_graph_page_is_served():
    """Debian's UI links JavaScript packages (jQuery, d3, Rickshaw...): each must be there."""
    async with aiohttp.ClientSession() as http:
        status, page = await get(http, f"{PROMETHEUS}/classic/graph")
        assert status == 200
        assets = re.findall(r'(?:src|href)="(/classic/static/[^"?]+)', page)
        assert len(assets) >= 10
        answers = {}
        for asset in assets:
            async with http.get(PROMETHEUS + asset) as resp:
                answers[asset] = resp.status if await resp.read() else 0  # 0: an empty body
    assert {asset: s for asset, s in answers.items() if s != 200} == {}


async def test_the_graph_page_runs_a_query_in_a_real_browser():
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=SETTINGS.chromium_path, args=["--no-sandbox"])
        try:
            page = await browser.new_page()
            await page.goto(f"{PROMETHEUS}/graph?g0.expr=up&g0.tab=1")  # the demo's links
            await page.wait_for_selector("text=Total time series", timeout=20_000)
            body = await page.inner_text("body")
        finally:
            await browser.close()
    assert 'job="chat4all"' in body and 'service="router"' in body


async def test_every_alert_rule_is_loaded_and_evaluates_without_error():
    async with aiohttp.ClientSession() as http, http.get(f"{PROMETHEUS}/api/v1/rules") as resp:
        groups = (await resp.json())["data"]["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert {r["name"] for r in rules if r["type"] == "alerting"} == ALERT_NAMES
    assert len(ALERT_NAMES) >= 7
    broken = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
    assert not broken


async def test_an_alert_reaches_the_receiver_through_alertmanager_and_is_logged():
    name = f"RouteCheck{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    alert = {"labels": {"alertname": name, "severity": "ticket", "service": "route-check"},
             "annotations": {"summary": "route check", "runbook_url": "docs/runbooks.md"},
             "startsAt": now.isoformat(), "endsAt": (now + timedelta(minutes=1)).isoformat()}
    log = Layout.from_env().log("alert-receiver")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{SETTINGS.alertmanager_url}/api/v2/alerts", json=[alert]) as resp:
            assert resp.status == 200, await resp.text()
        deadline, received = time.monotonic() + 60, []
        while time.monotonic() < deadline and not received:
            await asyncio.sleep(1)
            _, body = await get(http, f"{SETTINGS.alert_receiver_url}/alerts")
            received = [a for a in json.loads(body)["alerts"] if a["alertname"] == name]
    assert received and received[0]["status"] == "firing"
    assert received[0]["receiver"] == "chat4all-log"
    lines: list[dict] = []
    while time.monotonic() < deadline + 10 and not lines:  # the log is written asynchronously
        lines = [json.loads(line) for line in log.read_text().splitlines() if name in line]
        await asyncio.sleep(0.5)
    assert lines and lines[0]["message"] == "alert" and lines[0]["labels"]["service"] == "route-check"


async def test_the_receiver_refuses_a_body_that_is_not_a_webhook_payload():
    async with aiohttp.ClientSession() as http:
        for body in (b"not json", b'{"alerts": "x"}', b"[]"):
            async with http.post(f"{SETTINGS.alert_receiver_url}/alerts", data=body) as resp:
                assert resp.status == 400
                assert "error" in await resp.json()


async def test_every_runbook_link_opens_its_section_on_prometheus():
    async with aiohttp.ClientSession() as http:
        status, page = await get(http, f"{PROMETHEUS}/consoles/runbooks.html")
    assert status == 200
    # What Prometheus hands out: the template at its --web.external-url (devstack sets our URL).
    links = {rule["alert"]: rule["annotations"]["runbook_url"].replace("{{ $externalURL }}", PROMETHEUS)
             for group in ALERTS["groups"] for rule in group["rules"] if "alert" in rule}
    wrong = {name: url for name, url in links.items()
             if not url.startswith(f"{PROMETHEUS}/consoles/runbooks.html#")
             or f'id="{url.split("#", 1)[1]}"' not in page}
    assert not wrong

"""Monitoring in the compose deployment: Prometheus with its UI, the alert rules and the live
dashboards mounted from the repository, and an alert routed by Alertmanager to alert-receiver."""

import json
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta

import yaml

from devstack.layout import REPO_DIR

RULES = {rule["alert"] for group in yaml.safe_load((REPO_DIR / "monitoring/alerts.yml").read_text())["groups"]
         for rule in group["rules"] if "alert" in rule}


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, resp.read()


def test_prometheus_serves_its_ui_the_live_dashboards_and_every_alert_rule(deployment):
    # Paths both the official image (new UI only) and the Debian stand-in (classic UI only) serve.
    for path, text in (("/graph", b"Prometheus"), ("/consoles/index.html", b"Component Health"),
                       ("/consoles/system-overview.html", b"Messages per second"),
                       ("/consoles/runbooks.html", b'id="consumerlaghigh"')):
        status, body = get(deployment.prometheus + path)
        assert status == 200 and text in body, path
    groups = json.loads(get(f"{deployment.prometheus}/api/v1/rules")[1])["data"]["groups"]
    rules = [r for g in groups for r in g["rules"]]
    assert {r["name"] for r in rules if r["type"] == "alerting"} == RULES
    assert all(r["health"] == "ok" for r in rules)


def test_an_alert_reaches_alert_receiver_through_alertmanager(deployment):
    env = deployment.env()
    name = f"ComposeRouteCheck{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    alert = [{"labels": {"alertname": name, "severity": "ticket"}, "annotations": {"summary": "route check"},
              "startsAt": now.isoformat(), "endsAt": (now + timedelta(minutes=1)).isoformat()}]
    request = urllib.request.Request(f"{env['ALERTMANAGER_URL']}/api/v2/alerts", method="POST",
                                     data=json.dumps(alert).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert resp.status == 200
    deadline, received = time.monotonic() + 60, []
    while time.monotonic() < deadline and not received:
        time.sleep(1)
        alerts = json.loads(get(f"{env['ALERT_RECEIVER_URL']}/alerts")[1])["alerts"]
        received = [a for a in alerts if a["alertname"] == name]
    assert received and received[0]["status"] == "firing"
    logs = deployment.compose("logs", "--no-log-prefix", "alert-receiver").stdout
    assert any(name in line and '"message":"alert"' in line for line in logs.splitlines())

"""The webhook receiver Alertmanager notifies: every alert it is told about becomes one JSON log line.

    python -m chat4all_app.observability.alert_receiver [--host 127.0.0.1] [--port 9097]

POST /alerts  Alertmanager's webhook payload (version 4): logs one `alert` line per alert, with
              its status (firing|resolved), name, labels, summary, runbook and times.
GET  /alerts  the latest notifications received (newest last), for people and tests; each has
              a `seq` (1, 2, ... since start); `?after=N` lists only those past N.
GET  /health  {"status": "UP"}

A malformed body is answered 400 with a JSON error (and not logged as an alert). Only the log is
durable: the in-memory list is what this process saw since it started.
"""

from __future__ import annotations

import argparse
from collections import deque
from typing import Any

from aiohttp import web

from chat4all_app.observability.logs import configure, default_instance_id, get_logger
from chat4all_app.settings import load

KEEP = 500  # notifications GET /alerts returns

log = get_logger(__name__)


class PayloadError(ValueError):
    """The body is not an Alertmanager webhook payload."""


def alert_events(payload: Any) -> list[dict[str, Any]]:
    """One flat record per alert of an Alertmanager webhook payload."""
    if not isinstance(payload, dict) or not isinstance(payload.get("alerts"), list):
        raise PayloadError("expected Alertmanager's webhook JSON: an object with an 'alerts' list")
    events = []
    for alert in payload["alerts"]:
        if not isinstance(alert, dict):
            raise PayloadError("every item of 'alerts' must be an object")
        labels = alert.get("labels") or {}
        annotations = alert.get("annotations") or {}
        events.append({
            "status": alert.get("status"),
            "alertname": labels.get("alertname"),
            "severity": labels.get("severity"),
            "labels": labels,
            "summary": annotations.get("summary"),
            "runbook_url": annotations.get("runbook_url"),
            "starts_at": alert.get("startsAt"),
            "ends_at": alert.get("endsAt"),
            "receiver": payload.get("receiver"),
        })
    return events


class AlertReceiver:
    def __init__(self, keep: int = KEEP) -> None:
        self.received: deque[dict[str, Any]] = deque(maxlen=keep)
        self.seq = 0  # numbers every notification: a reader asks for those after the last it saw

    async def notify(self, request: web.Request) -> web.Response:
        try:
            events = alert_events(await request.json())
        except ValueError as exc:  # a JSONDecodeError, or a PayloadError
            return web.json_response({"error": str(exc)}, status=400)
        for event in events:
            self.seq += 1
            event = {"seq": self.seq, **event}
            # Firing at WARNING, so a log filter on the level shows what is wrong now.
            (log.warning if event["status"] == "firing" else log.info)("alert", **event)
            self.received.append(event)
        return web.json_response({"logged": len(events)})

    async def list_alerts(self, request: web.Request) -> web.Response:
        try:
            after = int(request.query.get("after", "0"))
        except ValueError:
            return web.json_response({"error": "'after' must be an integer (a seq)"}, status=400)
        return web.json_response({"alerts": [e for e in self.received if e["seq"] > after]})

    async def health(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "UP"})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/alerts", self.notify)
        app.router.add_get("/alerts", self.list_alerts)
        app.router.add_get("/health", self.health)
        return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=9097, help="port to listen on")
    args = parser.parse_args()
    settings = load("alert-receiver")
    configure("alert-receiver", settings.instance_id or default_instance_id(), settings.log_level)
    web.run_app(AlertReceiver().app(), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()

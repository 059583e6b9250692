"""Every HEARTBEAT_INTERVAL_S each service logs one `heartbeat` line (and one at start).

`scripts/monitor-heartbeats.sh` follows these lines and alerts on a service that goes silent: a
frozen (SIGSTOP) or killed process stops writing them, whatever its port still accepts. Each beat
also sets the gauge heartbeat_timestamp_seconds, which Prometheus' HeartbeatMissing alert watches.
"""

from __future__ import annotations

import time

import faust

from chat4all_app.observability import activity, metrics
from chat4all_app.observability.logs import get_logger
from chat4all_app.observability.reports import Report
from chat4all_app.settings import Settings

log = get_logger(__name__)


def install(app: faust.App, settings: Settings, report: Report) -> None:
    started = time.monotonic()

    async def beat() -> None:
        health = await report()
        metrics.HEARTBEAT.set_to_current_time()
        log.info("heartbeat", status=health["status"], messages_processed=activity.PROCESSED.total,
                 consumer_lag=activity.consumer_lag(),
                 uptime_seconds=round(time.monotonic() - started, 1))

    app.task(beat)  # at start: the monitor knows the service before the first interval
    app.timer(settings.heartbeat_interval_s, name="heartbeat")(beat)

"""Chat4All's Grafana dashboards, built in code with grafana-foundation-sdk.

    python -m monitoring.dashboards           # (re)write monitoring/grafana/dashboards/*.json
    python -m monitoring.dashboards --check   # exit 1 if the committed JSON is not what this builds

The JSON is committed so Grafana's file provisioning can load it without Python; `--check` (and
tests/integration/test_dashboards.py) keeps the two from drifting apart. Metric names are the ones
declared in chat4all_app/observability/metrics.py; every expression is run against the real
Prometheus by the integration tests, so a renamed metric breaks a test, not just a dashboard.

PromQL conventions: rates over [1m] (four 5 s scrapes: enough samples for rate() to be stable,
short enough to follow a test run); quantiles from summed buckets (`sum by (le)`), since the
processes of one role are replicas of one histogram. `or on() vector(0)` is used only where a
metric is legitimately absent on a healthy system (no 5xx, no rejection, no upload yet): without
it the panel would say "No data" instead of 0. `on()` keeps the 0 from being added next to real
series once they exist.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from grafana_foundation_sdk.builders import (
    bargauge,
    gauge,
    piechart,
    prometheus,
    stat,
    statetimeline,
    timeseries,
)
from grafana_foundation_sdk.builders import common as common_b
from grafana_foundation_sdk.builders import dashboard as dashboard_b
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common, dashboard
from grafana_foundation_sdk.models.piechart import PieChartType

from monitoring import generated

OUT_DIR = Path(__file__).resolve().parent / "grafana" / "dashboards"
# The provisioned datasource (grafana/provisioning/datasources/prometheus.yml) has this uid.
DATASOURCE = dashboard.DataSourceRef(type_val="prometheus", uid="prometheus")
# The api-service's user traffic only: connectors serve HTTP too (receipt webhooks), and
# Prometheus' scrapes of /metrics and the /health probes are fixed-rate calls that would dominate
# the latency and error figures at low traffic (a DOWN dependency still shows: user requests fail).
API_REQUESTS = 'service="api",path!~"/metrics|/health"'
# The router's two agents (connectors have their own `send-<channel>` agents).
ROUTER_AGENTS = 'agent=~"route-messages|apply-status"'
LAG_THRESHOLD = 100

P = TypeVar("P", timeseries.Panel, stat.Panel, gauge.Panel, piechart.Panel, bargauge.Panel,
            statetimeline.Panel)
# Panels that reduce each series to one value.
R = TypeVar("R", stat.Panel, gauge.Panel, piechart.Panel, bargauge.Panel)


def query(expr: str, legend: str) -> prometheus.Dataquery:
    """A range query: a line over the dashboard's time range."""
    return prometheus.Dataquery().expr(expr).legend_format(legend).range().datasource(DATASOURCE)


def current(expr: str, legend: str) -> prometheus.Dataquery:
    """An instant query, for panels that show one value per series: only the series that exist
    now (over a range, a `... or on() vector(0)` fallback would linger as an extra 0 series)."""
    return prometheus.Dataquery().expr(expr).legend_format(legend).instant().datasource(DATASOURCE)


def quantile(q: float, metric: str, by: str = "", selector: str = "") -> str:
    """P<q> of a histogram over all processes; `by` keeps extra labels (e.g. ", channel")."""
    selector = f"{{{selector}}}" if selector else ""
    return f"histogram_quantile({q}, sum by (le{by}) (rate({metric}_bucket{selector}[1m])))"


def thresholds(*steps: tuple[float | None, str]) -> dashboard_b.ThresholdsConfig:
    return (dashboard_b.ThresholdsConfig().mode(dashboard.ThresholdsMode.ABSOLUTE)
            .steps([dashboard.Threshold(value=v, color=c) for v, c in steps]))


def value_texts(texts: dict[str, tuple[str, str]]) -> list[dashboard.ValueMapping]:
    """Show a gauge's encoded values as words, e.g. {"0": ("closed", "green")}."""
    return [dashboard.ValueMap(options={
        value: dashboard.ValueMappingResult(text=text, color=color, index=i)
        for i, (value, (text, color)) in enumerate(texts.items())})]


def with_queries(panel: P, title: str, *queries: prometheus.Dataquery, w: int = 12, h: int = 8) -> P:
    """Common settings of every panel: title, size, datasource and its queries (refIds A, B, ...)."""
    panel.title(title).span(w).height(h).datasource(DATASOURCE)
    for i, target in enumerate(queries):
        panel.with_target(target.ref_id(chr(ord("A") + i)))
    return panel


def series(title: str, unit: str, *queries: prometheus.Dataquery, w: int = 12) -> timeseries.Panel:
    return with_queries(timeseries.Panel().unit(unit), title, *queries, w=w)


def latest(panel: R) -> R:
    """Show each series' latest value (counters are totals since process start, not increments)."""
    return panel.reduce_options(common_b.ReduceDataOptions().calcs(["lastNotNull"]).values(False))


def new_dashboard(slug: str, title: str, description: str) -> dashboard_b.Dashboard:
    return (dashboard_b.Dashboard(title).uid(f"chat4all-{slug}").description(description)
            .tags(["chat4all"]).time("now-15m", "now").refresh("10s").timezone("browser")
            .editable())


def system_overview() -> dashboard_b.Dashboard:
    errors = (f'(sum(rate(http_requests_total{{status=~"5..",{API_REQUESTS}}}[1m])) or on() vector(0))'
              f" / clamp_min(sum(rate(http_requests_total{{{API_REQUESTS}}}[1m])), 1e-9)")
    return (new_dashboard("system-overview", "System Overview", "Throughput, API latency and errors.")
            .with_panel(series(
                "Messages per second", "mps",
                query("sum(rate(messages_accepted_total[1m]))", "accepted"),
                # Every DELIVERED message, internal ones included (messages_sent_total has only
                # the external channels).
                query("sum(rate(message_delivery_latency_seconds_count[1m]))", "delivered")))
            .with_panel(series("API latency P95", "s",
                               query(quantile(0.95, "http_request_duration_seconds",
                                              selector=API_REQUESTS), "P95")))
            .with_panel(with_queries(
                latest(gauge.Panel()).unit("percentunit").min(0).max(1)
                .thresholds(thresholds((None, "green"), (0.01, "orange"), (0.05, "red"))),
                "API error rate (5xx)", current(errors, "5xx share")))
            .with_panel(with_queries(
                latest(stat.Panel()).unit("short").graph_mode(common.BigValueGraphMode.NONE),
                "Messages processed (since process start)",
                # Messages, not events: the router counts each stored message once as `routed` (a
                # redelivery it has seen is `duplicate`); the other statuses count the same message
                # again at SENT, DELIVERED, READ.
                current('sum(messages_processed_total{status="routed"})', "messages"))))


def component_health() -> dashboard_b.Dashboard:
    lag = (series("Consumer lag per topic partition", "short",
                  query("max by (topic, partition) (kafka_consumer_lag)", "{{topic}}[{{partition}}]"))
           .thresholds(thresholds((None, "green"), (LAG_THRESHOLD, "red")))
           .thresholds_style(common_b.GraphThresholdsStyleConfig().mode(common.GraphThresholdsStyleMode.LINE)))

    def push_latency(q: float) -> prometheus.Dataquery:
        return query(quantile(q, "ws_push_latency_seconds", selector='kind="message"'),
                     f"P{round(q * 100)}")

    return (new_dashboard("component-health", "Component Health",
                          "Kafka flow, lag, liveness, router timings, circuit breakers and live push.")
            .with_panel(series(
                "Published vs consumed", "mps",
                query("sum(rate(messages_accepted_total[1m]))", "published (api)"),
                query("sum by (topic) (rate(messages_consumed_total[1m]))", "consumed {{topic}}")))
            .with_panel(lag)
            .with_panel(with_queries(
                latest(stat.Panel()).mappings(value_texts({"0": ("DOWN", "red"), "1": ("UP", "green")}))
                .color_mode(common.BigValueColorMode.BACKGROUND).graph_mode(common.BigValueGraphMode.NONE),
                "Service up", current('max by (service, instance) (up{job="chat4all"})',
                                      "{{service}} {{instance}}"), w=24, h=4))
            .with_panel(series(
                "Router processing time per batch", "s",
                query(quantile(0.95, "processing_duration_seconds", ", agent", ROUTER_AGENTS),
                      "P95 {{agent}}"),
                query(quantile(0.5, "processing_duration_seconds", ", agent", ROUTER_AGENTS),
                      "P50 {{agent}}")))
            .with_panel(series("Cassandra write P95", "s",
                               query(quantile(0.95, "cassandra_write_duration_seconds"), "P95")))
            .with_panel(with_queries(
                statetimeline.Panel().mappings(value_texts({
                    "0": ("closed", "green"), "1": ("open", "red"), "2": ("half-open", "orange")})),
                "Circuit breaker state", query("max by (channel) (circuit_breaker_state)",
                                               "{{channel}}"), w=24))
            .with_row(dashboard_b.Row("Live push"))
            .with_panel(series(
                # The gauge is exported by every process (one registry); only the API's count.
                "WebSocket connections", "short",
                query('sum(ws_connections{service="api"})', "open")))
            .with_panel(series("Pushes per second by kind", "mps",
                               query("sum by (kind) (rate(ws_pushes_total[1m]))", "{{kind}}")))
            .with_panel(series("Push latency (accepted to pushed)", "s",
                               push_latency(0.5), push_latency(0.95), push_latency(0.99)))
            .with_panel(series(
                "WebSocket drops by reason", "reqps",
                # No drop is the healthy case: 0 rather than "No data".
                query("sum by (reason) (rate(ws_drops_total[1m])) or on() vector(0)",
                      "{{reason}}"))))


def infrastructure() -> dashboard_b.Dashboard:
    per_process = "{{job}} {{service}} {{instance}}"
    return (new_dashboard("infrastructure", "Infrastructure", "Processes and Kafka publishing.")
            .with_panel(series(
                "CPU per process", "percentunit",  # CPU seconds per second: 1.0 = one core
                query("sum by (job, service, instance) (rate(process_cpu_seconds_total[1m]))",
                      per_process)))
            .with_panel(series(
                "Resident memory per process", "bytes",
                query("sum by (job, service, instance) (process_resident_memory_bytes)", per_process)))
            .with_panel(series(
                "Kafka publish latency (acks=all)", "s",
                query(quantile(0.95, "kafka_publish_duration_seconds"), "P95"),
                query(quantile(0.5, "kafka_publish_duration_seconds"), "P50"), w=24)))


def business() -> dashboard_b.Dashboard:
    def latency(q: float) -> prometheus.Dataquery:
        return query(quantile(q, "message_delivery_latency_seconds", ", channel"),
                     f"P{round(q * 100)} {{{{channel}}}}")

    return (new_dashboard("business", "Business", "What users send, where it goes, how fast.")
            .with_panel(with_queries(
                # Events, not messages: the router's routed/duplicate beside the statuses it applied
                # (one message is routed, then SENT, DELIVERED, ...).
                latest(piechart.Panel().pie_type(PieChartType.DONUT)), "Events processed by outcome",
                current("sum by (status) (messages_processed_total)", "{{status}}"), w=8))
            .with_panel(with_queries(
                latest(bargauge.Panel()), "Provider outcomes by channel and status",
                current("sum by (channel, status) (messages_sent_total)", "{{channel}} {{status}}"), w=8))
            .with_panel(with_queries(
                latest(piechart.Panel().pie_type(PieChartType.DONUT)), "Messages by external channel",
                current("sum by (channel) (messages_sent_total)", "{{channel}}"), w=8))
            .with_panel(series("Delivery latency (accepted to DELIVERED)", "s",
                               latency(0.5), latency(0.95), latency(0.99), w=24))
            .with_panel(with_queries(
                latest(bargauge.Panel()), "Files uploaded by size",
                # No upload yet is normal: 0 rather than "No data".
                current("sum by (size_bucket) (files_uploaded_total) or on() vector(0)", "{{size_bucket}}")))
            .with_panel(series(
                "Rejected messages by reason", "reqps",
                # No rejection is the healthy case: 0 rather than "No data".
                query("sum by (reason) (rate(messages_rejected_total[1m])) or on() vector(0)",
                      "{{reason}}"))))


# slug (file name) -> builder; the slug also names the rendered PNG directory.
DASHBOARDS: dict[str, Callable[[], dashboard_b.Dashboard]] = {
    "system-overview": system_overview,
    "component-health": component_health,
    "infrastructure": infrastructure,
    "business": business,
}


def generate() -> dict[Path, str]:
    """{path: JSON text} of every dashboard; sorted keys and a final newline keep diffs stable."""
    return {OUT_DIR / f"{slug}.json":
            json.dumps(build().build(), cls=JSONEncoder, indent=2, sort_keys=True) + "\n"
            for slug, build in DASHBOARDS.items()}


def main(argv: list[str] | None = None) -> int:
    return generated.main(argv, __doc__.splitlines()[0], generate, "monitoring.dashboards")


if __name__ == "__main__":
    sys.exit(main())

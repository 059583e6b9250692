"""The dashboard panels the report shows, as `make render-dashboards` writes them (PNG per panel).

Chosen by file name (<dashboard slug>/<panel slug>.png, see scripts/render_dashboards.py); the
build stops if the directory or one of these files is missing rather than print a report without
its observability evidence.
"""

from __future__ import annotations

from pathlib import Path

from report.data import ReportDataError

PANELS = {
    "system-overview/messages-per-second.png": "Mensagens por segundo aceitas e entregues (System Overview)",
    "component-health/consumer-lag-per-topic-partition.png":
        "Lag dos consumidores por tópico e partição (Component Health)",
    "component-health/circuit-breaker-state.png": "Estado dos circuit breakers por canal (Component Health)",
    "business/delivery-latency-accepted-to-delivered.png":
        "Latência de entrega, aceita → DELIVERED, P50/P95/P99 por canal (Business)",
}

HOW = ("run `make render-dashboards MINUTES=30` with the stack up (after a load test, so that the "
       "panels have data) and commit results/dashboards/")


def collect(directory: Path) -> list[dict[str, object]]:
    """[{"file", "caption", "path"}] for every chosen panel, in PANELS order."""
    if not directory.is_dir():
        raise ReportDataError(f"{directory} is missing: {HOW}")
    missing = [name for name in PANELS if not (directory / name).is_file()]
    if missing:
        raise ReportDataError(f"{directory} lacks {', '.join(missing)}: {HOW}")
    return [{"file": name, "caption": caption, "path": directory / name} for name, caption in PANELS.items()]

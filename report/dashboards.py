"""The dashboard panels the report shows, as `make render-dashboards` writes them (PNG per panel).

Each panel is named by its dashboard and its title in the generated dashboards (monitoring/panels.py
reads them); its file is <dashboard slug>/<panel slug>.png, as monitoring/render.py writes
it. The build stops if a chosen panel is no longer in the dashboards, or if the directory or one of
its files is missing, rather than print a report without its observability evidence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from monitoring.panels import dashboards, panels, slug
from report.data import ReportDataError

# (dashboard slug, panel title): what the panel shows, in Portuguese.
PANELS = {
    ("system-overview", "Messages per second"): "Mensagens por segundo aceitas e entregues",
    ("component-health", "Consumer lag per topic partition"): "Lag dos consumidores por tópico e partição",
    ("component-health", "Circuit breaker state"): "Estado dos circuit breakers por canal",
    ("business", "Delivery latency (accepted to DELIVERED)"):
        "Latência de entrega, aceita → DELIVERED, P50/P95/P99 por canal",
}

HOW = ("run `make render-dashboards MINUTES=30` with the stack up (after a load test, so that the "
       "panels have data) and commit results/dashboards/")


def chosen(boards: dict[str, dict[str, Any]]) -> list[dict[str, str]]:
    """[{"file", "caption"}] of every panel in PANELS, looked up in the dashboards."""
    found = []
    for (board_slug, title), caption in PANELS.items():
        board = boards.get(board_slug)
        if board is None or title not in {panel["title"] for panel in panels(board)}:
            raise ReportDataError(f"the dashboards have no panel {title!r} in {board_slug!r}: update "
                                  "PANELS in report/dashboards.py")
        found.append({"file": f"{board_slug}/{slug(title)}.png", "caption": f"{caption} ({board['title']})"})
    return found


def collect(directory: Path, boards: dict[str, dict[str, Any]] | None = None) -> list[dict[str, object]]:
    """[{"file", "caption", "path"}] for every chosen panel, in PANELS order; `boards`: the
    dashboards (monitoring.panels.dashboards(), read if not given)."""
    if not directory.is_dir():
        raise ReportDataError(f"{directory} is missing: {HOW}")
    found = chosen(dashboards() if boards is None else boards)
    missing = [panel["file"] for panel in found if not (directory / panel["file"]).is_file()]
    if missing:
        raise ReportDataError(f"{directory} lacks {', '.join(missing)}: {HOW}")
    return [panel | {"path": directory / panel["file"]} for panel in found]

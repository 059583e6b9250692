"""Read the generated dashboards back: their panels and every PromQL query in them.

Works on the committed JSON (what Grafana loads), not on the builders, so the tests and the PNG
renderer check exactly what users see. Standard library only: no Grafana SDK needed to read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

DASHBOARD_DIR = Path(__file__).resolve().parent / "grafana" / "dashboards"


class PanelQuery(NamedTuple):
    dashboard: str
    panel: str
    expr: str
    legend: str


def slug(text: str) -> str:
    """File-system friendly name: "API latency P95" -> "api-latency-p95"."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def dashboards(directory: Path = DASHBOARD_DIR) -> dict[str, dict[str, Any]]:
    """{slug (the file's stem): dashboard JSON}, in file-name order."""
    return {path.stem: json.loads(path.read_text()) for path in sorted(directory.glob("*.json"))}


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel with queries, also those nested in (collapsed) rows."""
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row":
            yield from panels(panel)
        elif panel.get("targets"):
            yield panel


def panel_queries(directory: Path = DASHBOARD_DIR) -> list[PanelQuery]:
    """(dashboard title, panel title, expr, legendFormat) of every target of every panel."""
    return [PanelQuery(board["title"], panel["title"], target["expr"], target.get("legendFormat", ""))
            for board in dashboards(directory).values()
            for panel in panels(board)
            for target in panel["targets"]]

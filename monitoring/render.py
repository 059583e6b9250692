"""Render every Grafana dashboard panel to PNG from real Prometheus data, without Grafana.

    python -m monitoring.render [--prometheus URL] [--minutes 15] [--step 5] [--out results/dashboards]

Reads the committed dashboards (monitoring/grafana/dashboards/*.json), runs each panel's queries
as Grafana would (range queries over the window, instant targets at its end) and draws them with
matplotlib: one PNG per panel (<out>/<dashboard>/<panel>.png) and one grid of all panels per
dashboard (<out>/<dashboard>.png). Prints every path written. Time series are drawn as lines
(thresholds as dashed lines); panels of current values (stat, gauge, pie, bar gauge) as one big
number or as bars, coloured by their thresholds and value mappings.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and CI
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from devstack.stack_client import Prometheus
from devstack.topology import local
from monitoring.panels import dashboards, panels, slug

LINE_PANELS = {"timeseries", "state-timeline"}
# Grafana unit -> (factor, axis label), for the units the dashboards use.
UNITS = {"s": (1000.0, "ms"), "bytes": (1 / 2**20, "MiB"), "percentunit": (100.0, "%"),
         "mps": (1.0, "messages/s"), "reqps": (1.0, "requests/s"), "short": (1.0, "")}


@dataclass
class Series:
    label: str
    seconds: list[float]  # relative to the end of the window (<= 0)
    values: list[float]

    @property
    def last(self) -> float:
        finite = [v for v in self.values if math.isfinite(v)]
        return finite[-1] if finite else math.nan


def legend(fmt: str, labels: dict[str, str]) -> str:
    """Grafana's legendFormat: {{label}} replaced by the series' label value."""
    if fmt and fmt != "__auto":
        text = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m[1], ""), fmt)
    else:
        text = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "__name__")
    return " ".join(text.split()) or "value"


def panel_series(prometheus: Prometheus, panel: dict[str, Any], start: float, end: float,
                 step: float) -> list[Series]:
    """The panel's data as Grafana would fetch it: instant targets at `end`, others over the range."""
    out = []
    for target in panel["targets"]:
        label = target.get("legendFormat", "")
        if target.get("instant"):
            out += [Series(legend(label, labels), [0.0], [value])
                    for labels, value in prometheus.query(target["expr"], at=end)]
        else:
            out += [Series(legend(label, s.labels), [t - end for t, _ in s.points], [v for _, v in s.points])
                    for s in prometheus.query_range(target["expr"], start, end, step)]
    return out


def defaults(panel: dict[str, Any]) -> dict[str, Any]:
    return panel.get("fieldConfig", {}).get("defaults", {})


def threshold_lines(panel: dict[str, Any]) -> list[float]:
    """Threshold values the panel draws as lines (Grafana: custom.thresholdsStyle.mode != off)."""
    if defaults(panel).get("custom", {}).get("thresholdsStyle", {}).get("mode", "off") == "off":
        return []
    return [s["value"] for s in defaults(panel).get("thresholds", {}).get("steps", [])
            if s.get("value") is not None]


def mapped(panel: dict[str, Any]) -> dict[float, dict[str, str]]:
    """{0.0: {"text": "closed", "color": "green"}, ...} from the panel's value mappings."""
    return {float(value): result for mapping in defaults(panel).get("mappings", [])
            for value, result in mapping.get("options", {}).items()}


def color_of(panel: dict[str, Any], value: float) -> str:
    """A value's colour as Grafana picks it: its mapping, else the highest threshold reached."""
    if value in mapped(panel):
        return mapped(panel)[value].get("color", "tab:blue")
    color = "tab:blue"
    for step in defaults(panel).get("thresholds", {}).get("steps", []):
        if step.get("value") is None or value >= step["value"]:
            color = step["color"]
    return color


def draw(ax: Axes, panel: dict[str, Any], series: list[Series], minutes: float) -> None:
    ax.set_title(panel["title"], fontsize=10)
    if not series:
        ax.text(0.5, 0.5, "No data", ha="center", va="center", transform=ax.transAxes)
    elif panel["type"] in LINE_PANELS:
        draw_lines(ax, panel, series, minutes)
    else:
        draw_values(ax, panel, series)


def draw_lines(ax: Axes, panel: dict[str, Any], series: list[Series], minutes: float) -> None:
    factor, unit = UNITS.get(defaults(panel).get("unit", ""), (1.0, ""))
    # Seconds for short windows, minutes otherwise, counted back from the end of the window.
    scale, xunit = (60.0, "min") if minutes >= 2 else (1.0, "s")
    for s in series:
        ax.plot([t / scale for t in s.seconds], [v * factor for v in s.values], label=s.label,
                drawstyle="steps-post" if panel["type"] == "state-timeline" else "default")
    for value in threshold_lines(panel):
        ax.axhline(value * factor, color=color_of(panel, value), linestyle="--", linewidth=1.2,
                   label=f"threshold {value:g}")
        ax.set_ylim(top=max(ax.get_ylim()[1], value * factor * 1.1))
    ax.set_xlim(-minutes * 60 / scale, 0)
    ax.set_xlabel(f"{xunit} before the end of the window")
    ax.set_ylabel(unit)
    if texts := mapped(panel):
        ax.set_yticks(sorted(texts), [texts[v].get("text", f"{v:g}") for v in sorted(texts)])
    ax.grid(alpha=0.3)
    if len(series) > 8:  # e.g. lag per partition: beside the plot rather than over the lines
        ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1), ncol=1 + len(series) // 16)
    else:
        ax.legend(fontsize=7, loc="upper left")


def draw_values(ax: Axes, panel: dict[str, Any], series: list[Series]) -> None:
    """Stat, gauge, pie and bar gauge panels: each series' latest value."""
    factor, unit = UNITS.get(defaults(panel).get("unit", ""), (1.0, ""))
    values = [s.last for s in series]
    texts = [mapped(panel).get(v, {}).get("text") or f"{v * factor:.4g} {unit}".strip() for v in values]
    colors = [color_of(panel, v) for v in values]
    if len(series) == 1 and panel["type"] in ("stat", "gauge"):  # one big number, as Grafana
        ax.text(0.5, 0.55, texts[0], fontsize=32, color=colors[0], ha="center", va="center",
                transform=ax.transAxes)
        ax.text(0.5, 0.2, series[0].label, fontsize=9, ha="center", transform=ax.transAxes)
        ax.axis("off")
        return
    bars = ax.barh([s.label for s in series], [0 if math.isnan(v) else v * factor for v in values],
                   color=colors)
    ax.bar_label(bars, texts, fontsize=7, padding=2)
    if "min" in defaults(panel) and "max" in defaults(panel):
        ax.set_xlim(defaults(panel)["min"] * factor, defaults(panel)["max"] * factor)
    ax.set_xlabel(unit)
    ax.tick_params(axis="y", labelsize=7)


def render(prometheus: Prometheus, out: Path, minutes: float, step: float) -> list[Path]:
    end = time.time()
    start = end - minutes * 60
    written = []
    for board_slug, board in dashboards().items():
        data = [(panel, panel_series(prometheus, panel, start, end, step)) for panel in panels(board)]
        (out / board_slug).mkdir(parents=True, exist_ok=True)
        for panel, series in data:
            fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
            draw(ax, panel, series, minutes)
            written.append(save(fig, out / board_slug / f"{slug(panel['title'])}.png"))
        cols = 2
        rows = math.ceil(len(data) / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(8 * cols, 4.5 * rows), layout="constrained",
                                 squeeze=False)
        for ax, (panel, series) in zip(axes.flat, data, strict=False):
            draw(ax, panel, series, minutes)
        for ax in axes.flat[len(data):]:
            ax.set_visible(False)
        fig.suptitle(f"{board['title']}: {minutes:g} min to "
                     f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(end))}")
        written.append(save(fig, out / f"{board_slug}.png"))
    return written


def save(fig: plt.Figure, path: Path) -> Path:
    fig.savefig(path, dpi=100)
    plt.close(fig)  # many figures in one process: free each one
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prometheus", default=local().prometheus_url)
    parser.add_argument("--minutes", type=float, default=15.0, help="window ending now")
    parser.add_argument("--step", type=float, default=5.0, help="seconds between points")
    parser.add_argument("--out", type=Path, default=Path("results/dashboards"))
    args = parser.parse_args(argv)
    for path in render(Prometheus(args.prometheus.rstrip("/")), args.out, args.minutes, args.step):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

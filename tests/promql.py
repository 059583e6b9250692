"""What PromQL reads, for the tests of the dashboards and of the alert rules: the metric names an
expression selects, and the sample names chat4all_app/observability/metrics.py declares."""

from __future__ import annotations

import re

from prometheus_client.metrics import MetricWrapperBase

import chat4all_app.observability.metrics as metrics


def declared_series() -> set[str]:
    """Sample names of every metric in chat4all_app/observability/metrics.py."""
    suffixes = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum")}
    names = set()
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            for family in value.describe():
                names |= {family.name + suffix for suffix in suffixes[family.type]}
    return names


def metric_names(expr: str) -> set[str]:
    """Metric names an expression selects (strings, label matchers, windows, groupings, function
    calls and keywords removed)."""
    expr = re.sub(r'"[^"]*"', "", expr)
    expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = re.findall(r"(?<![\w.:])([a-zA-Z_:][\w:]*)(?![\w:]|\s*\()", expr)
    return set(names) - {"or", "and", "unless", "bool", "offset"}

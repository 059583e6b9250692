"""monitoring/alerts.yml: valid for Prometheus, its unit tests pass, every alert is complete (severity,
summary, description, a runbook section that exists) and reads only metrics the code declares."""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import yaml

from chat4all_app.settings import Settings
from devstack.layout import REPO_DIR, Layout
from monitoring.dashboards import LAG_THRESHOLD
from tests.promql import declared_series, metric_names

RULES = REPO_DIR / "monitoring" / "alerts.yml"
RULE_TESTS = REPO_DIR / "monitoring" / "alerts.test.yml"
RUNBOOKS = REPO_DIR / "docs" / "runbooks.md"
# docs/runbooks.md as Prometheus serves it (monitoring/consoles.py makes the page), at its
# --web.external-url (promtool's tests expand $externalURL to nothing)
RUNBOOK_PREFIX = "{{ $externalURL }}/consoles/runbooks.html#"


def promtool() -> Path:
    """Debian's Prometheus package in the install cache (deploy/install.sh puts it there)."""
    return Layout.from_env().prometheus_root / "usr/bin/promtool"


def run_promtool(*args: str) -> None:
    binary = promtool()
    assert binary.exists(), f"{binary} missing: run `make install`"
    proc = subprocess.run([str(binary), *args], cwd=REPO_DIR, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def rules() -> list[dict]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def alerts() -> dict[str, dict]:
    return {rule["alert"]: rule for rule in rules() if "alert" in rule}


def github_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings: lower case, punctuation dropped, spaces to hyphens,
    a repeated one suffixed -1, -2, ... Lines inside code fences are not headings."""
    anchors: set[str] = set()
    seen: Counter[str] = Counter()
    fenced = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        heading = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if fenced or not heading:
            continue
        anchor = re.sub(r"[^\w\- ]", "", heading.group(1).lower()).replace(" ", "-")
        anchors.add(f"{anchor}-{seen[anchor]}" if seen[anchor] else anchor)
        seen[anchor] += 1
    return anchors


@pytest.mark.installed  # promtool comes with the full install (make test), not the venv
def test_prometheus_accepts_the_rules():
    run_promtool("check", "rules", str(RULES))


@pytest.mark.installed  # promtool comes with the full install (make test), not the venv
def test_the_rules_pass_their_unit_tests():
    run_promtool("test", "rules", str(RULE_TESTS))


def test_every_alert_has_a_severity_a_summary_a_description_and_a_runbook_section():
    anchors = github_anchors(RUNBOOKS.read_text())
    assert {"servicedown", "service-level-objective"} <= anchors
    assert alerts()
    for name, rule in alerts().items():
        assert rule.get("labels", {}).get("severity") in {"page", "ticket"}, name
        notes = rule.get("annotations", {})
        assert notes.get("summary") and notes.get("description"), name
        url = notes.get("runbook_url", "")
        assert url.startswith(RUNBOOK_PREFIX), (name, url)
        assert url.removeprefix(RUNBOOK_PREFIX) in anchors, (name, url)
        # The runbooks' table lists every alert, with its severity.
        assert f"| `{name}` | {rule['labels']['severity']} |" in RUNBOOKS.read_text(), name


def test_the_anchors_are_computed_like_github():
    assert github_anchors("# A b\n## `X_y` (z)!\n```\n# not a heading\n```\n## A b\n") == {
        "a-b", "x_y-z", "a-b-1"}


def test_every_alert_has_a_case_that_fires_and_one_that_stays_quiet():
    cases = [case for group in yaml.safe_load(RULE_TESTS.read_text())["tests"]
             for case in group.get("alert_rule_test", [])]
    for name in alerts():
        outcomes = [bool(case.get("exp_alerts")) for case in cases if case["alertname"] == name]
        assert True in outcomes and False in outcomes, name


# Every scraped process has these (Prometheus' own `up`, prometheus_client's process collector).
STANDARD = {"up", "process_start_time_seconds"}


def test_the_rules_read_only_declared_metrics_or_standard_ones():
    declared = declared_series()
    assert {"http_requests_total", "message_delivery_latency_seconds_bucket",
            "heartbeat_timestamp_seconds"} <= declared
    assert metric_names('sum by (le) (rate(a_bucket{x="y"}[1m])) / (b > 0) or on() vector(0)') == {
        "a_bucket", "b"}
    recorded = {rule["record"] for rule in rules() if "record" in rule}
    unknown = {(rule.get("alert") or rule["record"], name) for rule in rules()
               for name in metric_names(rule["expr"]) if name not in declared | recorded | STANDARD}
    assert not unknown


def test_thresholds_follow_the_code():
    """The lag threshold is the dashboards' (the assignment's 100); the heartbeat's is 3 intervals
    of the default HEARTBEAT_INTERVAL_S."""
    assert re.search(rf"\)\s*> {LAG_THRESHOLD}\s*$", alerts()["ConsumerLagHigh"]["expr"])
    interval = Settings().heartbeat_interval_s
    assert interval == int(interval)
    assert alerts()["HeartbeatMissing"]["expr"].rstrip().endswith(f"> 3 * {int(interval)}")

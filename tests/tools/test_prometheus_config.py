"""Both Prometheus configurations pass Prometheus' own checker and scrape every Chat4All role."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from chat4all_app.settings import Settings
from devstack.components import _render, applications, prometheus_targets
from devstack.layout import REPO_DIR, Layout


def promtool() -> str:
    layout = Layout.from_env()
    return str(layout.cache / f"prometheus-{layout.versions['PROMETHEUS_DEB_VERSION']}" / "usr/bin/promtool")


def check(path) -> None:
    proc = subprocess.run([promtool(), "check", "config", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.installed  # promtool comes with the full install (make test), not the venv
def test_the_local_config_renders_to_a_valid_one(tmp_path):
    rendered = _render(REPO_DIR / "monitoring/prometheus.yml", tmp_path / "prometheus.yml",
                       prometheus_port=9090, s3_port=9000, targets_dir=tmp_path, scrape_interval="7s")
    check(rendered)
    assert yaml.safe_load(rendered.read_text())["global"]["scrape_interval"] == "7s"


def test_the_local_stack_registers_every_role_as_a_target():
    layout, settings = Layout.from_env(), Settings()
    targets = prometheus_targets(applications(layout, settings))
    services = {t["labels"]["service"] for t in targets}
    assert services == {"api", "router", *(f"connector-{c}" for c in settings.channels)}
    assert all(len(t["targets"]) == 1 and t["targets"][0].startswith("127.0.0.1:") for t in targets)


@pytest.mark.installed  # promtool comes with the full install (make test), not the venv
def test_the_compose_config_is_valid_and_discovers_every_role():
    path = REPO_DIR / "monitoring/prometheus.compose.yml"
    check(path)
    job = next(j for j in yaml.safe_load(path.read_text())["scrape_configs"] if j["job_name"] == "chat4all")
    names = {n for sd in job["dns_sd_configs"] for n in sd["names"]}
    assert names == {"api-service", "router-worker", "connector-whatsapp", "connector-instagram"}

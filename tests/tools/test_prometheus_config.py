"""Both Prometheus configurations pass Prometheus' own checker and scrape every Chat4All role."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from chat4all_app.settings import Settings
from devstack.components import _render, applications, prometheus_targets
from devstack.layout import REPO_DIR, Layout

COMPOSE = yaml.safe_load((REPO_DIR / "docker-compose.yml").read_text())


def promtool() -> str:
    return str(Layout.from_env().prometheus_root / "usr/bin/promtool")


def check(path) -> None:
    proc = subprocess.run([promtool(), "check", "config", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.installed  # promtool comes with the full install (make test), not the venv
def test_the_local_config_renders_to_a_valid_one(tmp_path):
    rendered = _render(REPO_DIR / "monitoring/prometheus.yml", tmp_path / "prometheus.yml",
                       prometheus_port=9090, s3_port=9000, targets_dir=tmp_path, scrape_interval="7s",
                       rules_file=REPO_DIR / "monitoring/alerts.yml", alertmanager_port=9095)
    check(rendered)  # promtool also checks the rule file it names
    config = yaml.safe_load(rendered.read_text())
    assert config["global"]["scrape_interval"] == "7s"
    assert config["rule_files"] == [str(REPO_DIR / "monitoring/alerts.yml")]
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["127.0.0.1:9095"]


def test_the_local_stack_registers_every_role_as_a_target():
    layout, settings = Layout.from_env(), Settings()
    targets = prometheus_targets(applications(layout, settings))
    services = {t["labels"]["service"] for t in targets}
    assert services == {"api", "router", *(f"connector-{c}" for c in settings.channels)}
    assert all(len(t["targets"]) == 1 and t["targets"][0].startswith("127.0.0.1:") for t in targets)


@pytest.mark.installed  # promtool comes with the full install (make test), not the venv
def test_the_compose_config_is_valid_and_discovers_every_role(tmp_path):
    path = REPO_DIR / "monitoring/prometheus.compose.yml"
    # Its rule file is where docker-compose.yml mounts monitoring/alerts.yml: checked at that place.
    mounted = "/etc/prometheus/alerts.yml"
    assert f"./monitoring/alerts.yml:{mounted}:ro" in COMPOSE["services"]["prometheus"]["volumes"]
    here = tmp_path / "prometheus.yml"
    here.write_text(path.read_text().replace(mounted, str(REPO_DIR / "monitoring/alerts.yml")))
    check(here)
    job = next(j for j in yaml.safe_load(path.read_text())["scrape_configs"] if j["job_name"] == "chat4all")
    names = {n for sd in job["dns_sd_configs"] for n in sd["names"]}
    assert names == {"api-service", "router-worker", "connector-whatsapp", "connector-instagram"}


def amtool() -> str:
    return str(Layout.from_env().alertmanager_root / "usr/bin/amtool")


def test_the_compose_alertmanager_config_is_the_local_one_with_the_receivers_compose_address(tmp_path):
    local = _render(REPO_DIR / "monitoring/alertmanager.yml", tmp_path / "alertmanager.yml",
                    receiver_url="http://alert-receiver:9097")
    compose = REPO_DIR / "monitoring/alertmanager.compose.yml"
    assert yaml.safe_load(compose.read_text()) == yaml.safe_load(local.read_text())


@pytest.mark.installed  # amtool comes with the full install (make test), not the venv
def test_both_alertmanager_configs_pass_amtool(tmp_path):
    local = _render(REPO_DIR / "monitoring/alertmanager.yml", tmp_path / "alertmanager.yml",
                    receiver_url="http://127.0.0.1:9097")
    for path in (local, REPO_DIR / "monitoring/alertmanager.compose.yml"):
        proc = subprocess.run([amtool(), "check-config", str(path)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert " - 1 receivers" in proc.stdout

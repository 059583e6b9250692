"""`docker compose ps` after `docker compose up --wait`: every service healthy, every init job done,
Grafana left out by its profile only, and the host's firewall untouched by the engine."""

import yaml

from devstack.layout import REPO_DIR
from tests.compose.conftest import host_firewall
from tests.compose.deployment import ONE_SHOT


def test_docker_compose_ps_shows_every_service_healthy_and_every_job_done(deployment):
    services = set(yaml.safe_load((REPO_DIR / "docker-compose.yml").read_text())["services"])
    ps = {c["Service"]: c for c in deployment.ps()}
    assert set(ps) == services - {"grafana"}, sorted(ps)
    for name, c in ps.items():
        if name in ONE_SHOT:
            assert (c["State"], c["ExitCode"]) == ("exited", 0), c
        else:
            assert (c["State"], c["Health"]) == ("running", "healthy"), c


def test_the_engine_never_touched_the_host_firewall_or_forwarding(deployment, engine, firewall_before):
    assert host_firewall(engine) == firewall_before

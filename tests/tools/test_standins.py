"""The compose check's override and stand-ins agree with docker-compose.yml: every public image has a
stand-in the builder makes, the Dockerfile's base is one of them, and every published host port
is moved by +20000 (so the check never collides with the local stack)."""

from __future__ import annotations

import yaml

from devstack.layout import REPO_DIR, Layout
from devstack.standins import dockerfile_base, standins
from tests.compose.deployment import COMPOSE_FILES, app_image, published_ports


def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILES[0].read_text())


def override() -> dict:
    from tests.compose.deployment import _ComposeLoader
    return yaml.load(COMPOSE_FILES[1].read_text(), Loader=_ComposeLoader)


def test_every_public_image_is_swapped_for_a_stand_in_the_builder_makes():
    built = {s.tag for s in standins(Layout.from_env())}
    services, swapped = compose()["services"], override()["services"]
    public = {name for name, svc in services.items() if svc.get("image") != app_image()}
    assert public == {"kafka", "cassandra", "minio", "prometheus", "alertmanager", "nginx", "grafana"}
    for name in public - {"grafana"}:
        assert swapped[name]["image"] in built, name
    assert swapped["grafana"]["profiles"] == ["grafana"]  # no image obtainable: left out
    assert "image" not in swapped["grafana"]
    assert dockerfile_base(REPO_DIR / "Dockerfile") in built


def test_every_published_port_is_moved_by_20000_and_nothing_else_changes():
    moved = published_ports()
    for name, svc in compose()["services"].items():
        for spec in svc.get("ports", []):
            _, host, container = spec.rsplit(":", 2)
            assert moved[(name, int(container))] == int(host) + 20000, (name, spec)
    allowed = {"image", "ports", "profiles"}
    assert all(set(svc) <= allowed for svc in override()["services"].values())

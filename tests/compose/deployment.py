"""The docker-compose deployment under test: the real docker-compose.yml plus the stand-in override,
on the private engine of devstack/engine.py. Drives `docker compose` and reads what it shows."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from chat4all_app.settings import Settings
from devstack.engine import Engine
from devstack.layout import REPO_DIR
from devstack.topology import Topology

COMPOSE_FILES = (REPO_DIR / "docker-compose.yml", REPO_DIR / "deploy/compose/standins.override.yml")
# The replicated backbone: the cluster file over the default one, its stand-ins over theirs.
CLUSTER_FILES = (*COMPOSE_FILES, REPO_DIR / "docker-compose.cluster.yml",
                 REPO_DIR / "deploy/compose/standins.cluster.override.yml")
ONE_SHOT = {"secrets-init", "topic-init", "schema-init", "bucket-init"}


def services(files: tuple[Path, ...]) -> set[str]:
    """Every service the compose files define together."""
    return {name for f in files for name in yaml.load(f.read_text(), Loader=_ComposeLoader)["services"]}


def app_image() -> str:
    """The image every Chat4All service of docker-compose.yml runs (x-chat4all's `image`)."""
    return yaml.safe_load(COMPOSE_FILES[0].read_text())["x-chat4all"]["image"]


def host_network_state(engine: Engine) -> dict[str, object]:
    """What the engine must leave as it found it: the host's iptables rules, IP forwarding, routes,
    and /etc/docker (20.10 writes its trust key there unless told otherwise)."""
    def run(*argv: str) -> str:
        return subprocess.run(argv, capture_output=True, text=True, check=True).stdout

    rules = run(str(engine.root / "usr/sbin/iptables-save"))
    etc_docker = Path("/etc/docker")
    return {
        "iptables": sorted(line for line in rules.splitlines() if line.startswith("-A")),
        "ipv4 forwarding": Path("/proc/sys/net/ipv4/ip_forward").read_text().strip(),
        "ipv6 forwarding": Path("/proc/sys/net/ipv6/conf/all/forwarding").read_text().strip(),
        "routes": sorted(run("ip", "-4", "route", "show", "table", "all").splitlines()
                         + run("ip", "-6", "route", "show", "table", "all").splitlines()),
        "/etc/docker": sorted(p.name for p in etc_docker.iterdir()) if etc_docker.is_dir() else [],
    }


def compose_bridges() -> list[str]:
    """The `br-*` bridges in the host's kernel: one per network the engine has made."""
    out = subprocess.run(["ip", "-o", "link", "show", "type", "bridge"], capture_output=True, text=True,
                         check=True).stdout
    return [name for name in (line.split(":")[1].strip().split("@")[0] for line in out.splitlines())
            if name.startswith("br-")]


class _ComposeLoader(yaml.SafeLoader):
    """YAML with compose's merge tags (`!override`, `!reset`), read as their plain values."""


for _tag in ("!override", "!reset"):
    _ComposeLoader.add_constructor(_tag, lambda loader, node: (
        loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode)
        else loader.construct_mapping(node) if isinstance(node, yaml.MappingNode)
        else loader.construct_scalar(node)))


def published_ports(override: Path = COMPOSE_FILES[1]) -> dict[tuple[str, int], int]:
    """{(service, container port): host port} as the override publishes them."""
    ports = {}
    for name, svc in yaml.load(override.read_text(), Loader=_ComposeLoader)["services"].items():
        for spec in svc.get("ports", []):
            _, host, container = spec.rsplit(":", 2)
            ports[(name, int(container))] = int(host)
    return ports


@dataclass
class Deployment:
    engine: Engine
    ports: dict[tuple[str, int], int]
    files: tuple[Path, ...] = COMPOSE_FILES

    def url(self, service: str, port: int) -> str:
        return f"http://127.0.0.1:{self.ports[(service, port)]}"

    @property
    def api(self) -> str:
        return self.url("nginx", 8080)

    @property
    def prometheus(self) -> str:
        return self.url("prometheus", 9090)

    def env(self) -> dict[str, str]:
        """What a host-side client (compose itself, the demo, the CLI) needs to find this deployment."""
        # The CLI the demo runs needs no secrets; the local stack's secrets file (tests/conftest.py)
        # may not even exist when this check runs alone.
        inherited = {k: v for k, v in self.engine.env().items() if k != "CHAT4ALL_SECRETS_FILE"}
        return {
            **inherited,
            "COMPOSE_FILE": ":".join(str(f) for f in self.files),
            # Presigned URLs must name MinIO where the host reaches it (the moved port).
            "S3_PUBLIC_URL": self.url("minio", 9000),
            "CHAT4ALL_API_URL": self.api,
            "PROMETHEUS_URL": self.prometheus,
            "ALERTMANAGER_URL": self.url("alertmanager", 9093),
            "ALERT_RECEIVER_URL": self.url("alert-receiver", 9097),
            "PROVIDER_WHATSAPP_URL": self.url("mock-whatsapp", 9101),
            "PROVIDER_INSTAGRAM_URL": self.url("mock-instagram", 9102),
            "CONNECTOR_WHATSAPP_URL": self.url("connector-whatsapp", 8083),
            "CONNECTOR_INSTAGRAM_URL": self.url("connector-instagram", 8084),
        }

    @property
    def topology(self) -> Topology:
        """Where this deployment listens from the host, for devstack.stack_client (its mocks'
        ledgers, its Prometheus): the addresses env() hands every host-side client."""
        return Topology.from_settings(Settings.from_env(self.env()))

    def compose(self, *args: str, timeout: float = 600,
                check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(["docker", "compose", *args], cwd=REPO_DIR, env=self.env(), text=True,
                              capture_output=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"docker compose {' '.join(args)} exited {proc.returncode}:\n"
                                 f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        return proc

    def docker(self, *args: str, timeout: float = 120) -> str:
        return self.engine.docker(*args, timeout=timeout).stdout

    def ps(self) -> list[dict]:
        """`docker compose ps -a` as records: Service, Name, State, Health, ExitCode, ..."""
        out = self.compose("ps", "-a", "--format", "json").stdout.strip()
        if out.startswith("["):
            return json.loads(out)
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def health(self, service: str) -> list[str]:
        """The health of each running container of a service ("healthy", "unhealthy", "starting")."""
        return [c["Health"] or c["State"] for c in self.ps() if c["Service"] == service
                and c["State"] == "running"]

    def wait_health(self, service: str, want: str, timeout: float) -> float:
        """Seconds until every running container of `service` shows `want`; AssertionError after."""
        started, seen = time.monotonic(), []
        while time.monotonic() - started < timeout:
            seen = self.health(service)
            if seen and all(h == want for h in seen):
                return time.monotonic() - started
            time.sleep(1)
        raise AssertionError(f"{service} not {want} within {timeout:.0f} s: {seen}")

    def containers(self, service: str) -> list[str]:
        return self.compose("ps", "-q", service).stdout.split()

    def logs(self, *services: str, tail: int = 60, timeout: float = 600) -> str:
        return self.compose("logs", "--no-color", "--tail", str(tail), *services, check=False,
                            timeout=timeout).stdout


def assert_every_service_up(dep: Deployment) -> None:
    """`docker compose ps` of the deployment's files: every service there (Grafana aside, left out by
    its profile), each one-shot job exited 0, every other service running and healthy."""
    ps = {c["Service"]: c for c in dep.ps()}
    assert set(ps) == services(dep.files) - {"grafana"}, sorted(ps)
    for name, c in ps.items():
        if name in ONE_SHOT:
            assert (c["State"], c["ExitCode"]) == ("exited", 0), c
        else:
            assert (c["State"], c["Health"]) == ("running", "healthy"), c

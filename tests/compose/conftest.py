"""The compose check's deployment, once per run: engine up, images built, `docker compose up --wait`,
and everything it started stopped again (containers, volumes, and the engine if it started it).

Run alone with `make compose-test`; `make test` runs it after the local stack's suite."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from devstack.engine import Engine
from devstack.layout import Layout
from devstack.standins import Builder, build
from tests.compose.deployment import Deployment, published_ports

APP_IMAGE = "chat4all:0.1.0"
EXPORTS = ("DOCKER_HOST", "DOCKER_CONFIG", "COMPOSE_FILE", "S3_PUBLIC_URL", "PATH")


def host_firewall(engine: Engine) -> tuple[list[str], str]:
    """The host's iptables rules and IPv4 forwarding: the engine must never change them."""
    rules = subprocess.run([str(engine.root / "usr/sbin/iptables-save")], capture_output=True,
                           text=True, check=True).stdout
    forwarding = Path("/proc/sys/net/ipv4/ip_forward").read_text().strip()
    return sorted(line for line in rules.splitlines() if line.startswith("-A")), forwarding


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine.of(Layout.from_env())


@pytest.fixture(scope="session")
def firewall_before(engine) -> tuple[list[str], str]:
    return host_firewall(engine)


@pytest.fixture(scope="session")
def deployment(engine, firewall_before) -> Deployment:
    layout = Layout.from_env()
    started_engine = engine.start()
    dep = Deployment(engine, published_ports())
    try:
        t0 = time.monotonic()
        Builder(layout, engine, say=lambda m: print(f"[compose-test] {m}", flush=True)).build_all()
        # The project's own image from the real Dockerfile (compose would build the same; here with
        # the machine's CA bundle as a build secret).
        proc = build(engine, layout.repo, APP_IMAGE)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        print(f"[compose-test] images ready in {time.monotonic() - t0:.0f} s", flush=True)
        dep.compose("down", "--volumes", "--remove-orphans", check=False)  # an interrupted run's
        t0 = time.monotonic()
        up = dep.compose("up", "--detach", "--wait", "--no-build", check=False, timeout=600)
        assert up.returncode == 0, f"{up.stderr[-3000:]}\n{dep.logs(tail=30)}"
        print(f"[compose-test] every service healthy {time.monotonic() - t0:.0f} s after up", flush=True)
        yield dep
    finally:
        if os.environ.get("CHAT4ALL_COMPOSE_KEEP"):  # to look at a failure: docker compose logs ...
            print(f"[compose-test] left running (CHAT4ALL_COMPOSE_KEEP); to use it:\n"
                  f"{''.join(f'export {k}={v!r}; ' for k, v in dep.env().items() if k in EXPORTS)}")
        else:
            dep.compose("down", "--volumes", "--remove-orphans", "--timeout", "20", check=False)
            if started_engine:
                engine.stop()

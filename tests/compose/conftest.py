"""The compose check's deployment, once per run: engine up, images built, `docker compose up --wait`,
and everything it started stopped again (containers, volumes, and the engine if it started it).

Collected only when CHAT4ALL_COMPOSE_TEST=1 (tests/conftest.py): `make compose-test` runs it alone,
`make test` after the local stack's suite."""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.engine import Engine
from devstack.layout import Layout
from devstack.standins import Builder, build_image
from tests.compose.deployment import (
    Deployment,
    app_image,
    compose_bridges,
    host_network_state,
    published_ports,
)
from tests.failure_context import attach

EXPORTS = ("DOCKER_HOST", "DOCKER_CONFIG", "COMPOSE_FILE", "S3_PUBLIC_URL", "PATH")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under this directory needs the compose deployment: marked here, not per module."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.compose)


APP_SERVICES = ("api-service", "router-worker", "connector-whatsapp", "connector-instagram")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A failed test's report carries what the deployment's app containers logged of note."""
    outcome = yield
    dep = item.funcargs.get("deployment") if hasattr(item, "funcargs") else None
    if dep is not None:
        attach(item, call, outcome.get_result(),
               {name: lambda name=name: dep.logs(name, tail=2000, timeout=60).splitlines()
                for name in APP_SERVICES})


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine.of(Layout.from_env())


@pytest.fixture(scope="session")
def host_before(engine) -> dict[str, object]:
    """The host's network state before this run started the engine (test_9_host compares).

    A deployment an interrupted run left behind (its engine still running, or its `br-*` bridges
    still in the kernel) is taken down first: its bridges are not the host's own, and the final
    comparison would otherwise count their removal by this run's `down` as a change (CI at stop 28)."""
    if engine.answers() or compose_bridges():
        started = engine.start()
        Deployment(engine, published_ports()).compose("down", "--volumes", "--remove-orphans", check=False)
        if started:
            engine.stop()
    return host_network_state(engine)


@pytest.fixture(scope="session")
def deployment(engine, host_before) -> Iterator[Deployment]:
    yield from deployed(engine, Deployment(engine, published_ports()))


def deployed(engine: Engine, dep: Deployment) -> Iterator[Deployment]:
    """Images built or reused, `docker compose up --wait` of `dep`'s files, then everything this
    started stopped again (tests/compose_cluster deploys its files the same way)."""
    layout = Layout.from_env()
    started_engine = False
    try:
        started_engine = engine.start()
        t0 = time.monotonic()
        builder = Builder(layout, engine, say=lambda m: print(f"[compose-test] {m}", flush=True))
        builder.build_all()
        # The project's own image from the real Dockerfile (compose would build the same; here with
        # the machine's CA bundle as a build secret).
        proc = build_image(engine, layout.repo, app_image())
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        builder.prune()
        print(f"[compose-test] images ready in {time.monotonic() - t0:.0f} s", flush=True)
        dep.compose("down", "--volumes", "--remove-orphans", check=False)  # an interrupted run's
        t0 = time.monotonic()
        up = dep.compose("up", "--detach", "--wait", "--no-build", check=False, timeout=600)
        assert up.returncode == 0, f"{up.stderr[-3000:]}\n{dep.logs(tail=30)}"
        print(f"[compose-test] every service healthy {time.monotonic() - t0:.0f} s after up", flush=True)
        yield dep
    finally:
        if os.environ.get("CHAT4ALL_COMPOSE_KEEP"):  # to look at a failure: docker compose logs ...
            exports = "".join(f"export {k}={shlex.quote(v)}; " for k, v in dep.env().items() if k in EXPORTS)
            print(f"[compose-test] left running (CHAT4ALL_COMPOSE_KEEP); to use it:\n{exports}\n"
                  f"stop it: docker compose down -v; {layout.venv_bin}/python -m devstack engine down")
        else:
            dep.compose("down", "--volumes", "--remove-orphans", "--timeout", "20", check=False)
            if started_engine:
                engine.stop()

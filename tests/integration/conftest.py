import os
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from devstack.layout import Layout
from devstack.stack_client import AsyncProviders
from tests.failure_context import APP_SERVICES, attach, tail
from tests.integration.helpers import STACK, Api, wait_http


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under this directory needs the running local stack: marked here, not per module."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.integration)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A failed test's report carries what the local stack's services logged of note."""
    outcome = yield
    report = outcome.get_result()
    if call.when == "call" and report.failed:
        layout = Layout.from_env()
        attach(item, call, report,
               {name: lambda name=name: tail(layout.log(name), 2000)
                for name in (*APP_SERVICES, "router-2") if layout.log(name).exists()})


@pytest.fixture(autouse=True)
def app_processes_serving():
    """Each test starts with every app process serving HTTP. A test that stops Kafka or Cassandra
    restores them, but a worker may then restart itself in place (workarounds.restart) a few
    seconds later: without this wait the next test met a closed port (seen in CI)."""
    ports = [STACK.process("api").port, STACK.process("router").port,
             *(STACK.connector_port(c) for c in STACK.channels)]
    for port in ports:
        wait_http(port, "/health", timeout=120)


@pytest.fixture
async def api():
    async with aiohttp.ClientSession() as http:
        yield Api(http)


@pytest.fixture(scope="session")
def limited_api(tmp_path_factory):
    """A second api-service (it is stateless) with small file limits: 20 MiB max, 5 MiB parts.

    Proving "413 and the partial S3 upload aborted" this way takes megabytes, not 2 GB."""
    port, mib = 18091, 1024 * 1024
    datadir = tmp_path_factory.mktemp("limited-api")
    env = os.environ | {"FILE_MAX_BYTES": str(20 * mib), "FILE_PART_BYTES": str(5 * mib)}
    with open(datadir / "api.log", "w") as log:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "faust"), "-A", "chat4all_app.roles.api",
             "--datadir", str(datadir), "worker", "--web-port", str(port), "--web-bind", "127.0.0.1"],
            env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_http(port, "/metrics", timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


HEALTHY = {"mode": "up", "failure_rate": 0.0, "latency_ms": {"min": 1, "max": 5}, "receipt_delay_ms": 10,
           "receipt_batch_max": 100, "receipt_batch_ms": 20}


@pytest.fixture
async def providers(api):
    """The provider mocks (configure, ledger), healthy before (an interrupted run may have left one
    down) and after each test."""
    mocks = AsyncProviders(STACK, api.http)
    for channel in STACK.channels:
        await mocks.configure(channel, **HEALTHY)
    yield mocks
    for channel in STACK.channels:
        await mocks.configure(channel, **HEALTHY)

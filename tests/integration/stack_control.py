"""Drive the running local stack from tests: supervisord programs and the provider mocks."""

from __future__ import annotations

import subprocess
import sys
import time

import aiohttp

from devstack.layout import REPO_DIR
from devstack.probes import http_answers

MOCK_URLS = {"whatsapp": "http://127.0.0.1:9101", "instagram": "http://127.0.0.1:9102"}


def ctl(*args: str) -> str:
    """supervisorctl on the stack `make test` started, e.g. ctl("signal", "KILL", "router")."""
    proc = subprocess.run([sys.executable, "-m", "devstack", "ctl", *args], cwd=REPO_DIR,
                          capture_output=True, text=True, timeout=120)
    return proc.stdout + proc.stderr


def wait_http(port: int, path: str = "/", timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not http_answers(port, path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"port {port} did not answer within {timeout}s")
        time.sleep(0.2)


class Mock:
    def __init__(self, http: aiohttp.ClientSession, channel: str):
        self.http, self.base = http, MOCK_URLS[channel]

    async def configure(self, **config) -> dict:
        async with self.http.post(f"{self.base}/admin/config", json=config) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()

    async def ledger(self) -> dict:
        async with self.http.get(f"{self.base}/admin/ledger") as resp:
            return await resp.json()


async def group_lag(bootstrap: str, group: str) -> dict[str, int]:
    """{"topic[partition]": highwater - committed} for a consumer group (diagnostics)."""
    from aiokafka import AIOKafkaConsumer
    from aiokafka.admin import AIOKafkaAdminClient

    from experiments.group_lag import partition_lag

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await admin.start()
    await consumer.start()
    try:
        lag = await partition_lag(admin, consumer, group, lambda topic: topic.startswith("chat4all."))
        return {f"{tp.topic}[{tp.partition}]": n for tp, n in lag.items() if n}
    finally:
        await consumer.stop()
        await admin.close()

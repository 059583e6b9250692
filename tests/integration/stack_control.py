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

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        tps = [tp for tp in committed if tp.topic.startswith("chat4all.")]
        ends = await consumer.end_offsets(tps)
        return {f"{tp.topic}[{tp.partition}]": ends[tp] - committed[tp].offset for tp in tps
                if ends[tp] - committed[tp].offset}
    finally:
        await consumer.stop()
        await admin.close()

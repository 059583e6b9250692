"""What the integration tests share: a client for the API, the local stack's controls (supervisord
programs, the provider mocks), provider-signed webhooks, metric deltas and delivery waits.

Addresses come from devstack.topology and reads of /metrics, the mocks and Kafka from
devstack.stack_client: the tests find and read the stack exactly as the tools do.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt
import orjson
from prometheus_client.samples import Sample

from chat4all_app.connectors import webhook_signature
from chat4all_app.settings import Settings
from devstack import stack_client
from devstack.layout import REPO_DIR
from devstack.probes import http_answers
from devstack.topology import local

STACK = local()


# --- the API ----------------------------------------------------------------------------------
def _fresh_address() -> str:
    return "198.18." + ".".join(str(b) for b in uuid.uuid4().bytes[:2])  # RFC 2544 test range


@dataclass
class User:
    user_id: str
    username: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Api:
    """A small HTTP client for the API under test (real aiohttp against the running api-service)."""

    def __init__(self, http: aiohttp.ClientSession, base: str = STACK.api_url):
        self.http, self.base = http, base

    async def call(self, method: str, path: str, user: User | None = None, *,
                   json: Any = None, data: Any = None, headers: dict | None = None,
                   params: dict | None = None) -> tuple[int, Any]:
        hdrs = dict(user.auth if user else {}) | (headers or {})
        async with self.http.request(method, self.base + path, json=json, data=data, headers=hdrs,
                                     params=params) as resp:
            assert resp.content_type == "application/json", (resp.status, await resp.text())
            return resp.status, await resp.json()

    async def user(self, prefix: str = "u") -> User:
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        status, body = await self.call("POST", "/auth/register",
                                       json={"username": name, "password": "pw-" + name})
        assert status == 201, body
        # Counted under an address of its own (the API trusts X-Real-IP from 127.0.0.1, the local
        # nginx): failed logins elsewhere in the suite or a fuzzer can never lock the tests out.
        status, tok = await self.call("POST", "/auth/token", headers={"X-Real-IP": _fresh_address()},
                                      json={"username": name, "password": "pw-" + name})
        assert status == 200, tok
        return User(body["user_id"], name, tok["access_token"])

    async def conversation(self, owner: User, *others: User) -> str:
        status, body = await self.call("POST", "/v1/conversations", owner,
                                       json={"participant_ids": [o.user_id for o in others]})
        assert status == 201, body
        return body["conversation_id"]

    async def send(self, user: User, conversation_id: str, content: str, **extra: Any) -> dict:
        status, body = await self.call("POST", "/v1/messages", user,
                                       json={"conversation_id": conversation_id, "content": content,
                                             **extra})
        assert status == 202, body
        return body

    async def all_messages(self, user: User, conversation_id: str) -> list[dict]:
        out, cursor = [], None
        while True:
            params = {"limit": "500"} | ({"cursor": cursor} if cursor else {})
            status, body = await self.call("GET", f"/v1/conversations/{conversation_id}/messages",
                                           user, params=params)
            assert status == 200, body
            out += body["messages"]
            cursor = body["next_cursor"]
            if cursor is None:
                return out

    async def wait_for(self, predicate, timeout: float = 60, interval: float = 0.2):
        """Poll `await predicate()` until it returns a truthy value (no fixed sleeps)."""
        deadline = time.monotonic() + timeout
        while True:
            value = await predicate()
            if value or time.monotonic() > deadline:
                return value
            await asyncio.sleep(interval)


FORGERY_KEY = "not-the-real-secret-but-long-enough-for-hs256"


def forged(user_id: str, *, secret: str = FORGERY_KEY, exp_delta: int = 3600) -> str:
    """An HS256 token for `user_id` signed with `secret` (by default not the API's)."""
    now = int(time.time())
    return jwt.encode({"sub": user_id, "iat": now, "exp": now + exp_delta}, secret, "HS256")


# --- messages through the pipeline ------------------------------------------------------------
async def statuses(api: Api, user: User, conv: str) -> dict[str, str]:
    return {m["message_id"]: m["status"] for m in await api.all_messages(user, conv)}


async def delivered(api: Api, user: User, conv: str, count: int) -> bool:
    async def done():
        msgs = await api.all_messages(user, conv)
        return len(msgs) >= count and all(m["status"] == "DELIVERED" for m in msgs)

    return await api.wait_for(done, timeout=90)


async def wait_all(api: Api, user: User, convs, want: str, count: int, timeout: float = 120) -> bool:
    async def done() -> bool:
        seen = [s for c in convs for s in (await statuses(api, user, c)).values()]
        return len(seen) >= count and all(s == want for s in seen)

    if await api.wait_for(done, timeout=timeout, interval=0.3):
        return True
    # Say where it got stuck: which statuses, and which consumer group has lag where.
    seen = [s for c in convs for s in (await statuses(api, user, c)).values()]
    groups = ("router", *(f"connector-{c}" for c in STACK.channels))
    lag = {g: await group_lag(f"chat4all-{g}") for g in groups}
    print(f"\nwait_all: {len(seen)}/{count} stored, statuses {Counter(seen)}, consumer lag {lag}")
    return False


async def group_lag(group: str) -> dict[str, int]:
    """{"topic[partition]": highwater - committed} where a consumer group lags (diagnostics)."""
    lag = await stack_client.group_lag(STACK.kafka_bootstrap, group, lambda t: t.startswith("chat4all."))
    return {f"{tp.topic}[{tp.partition}]": n for tp, n in lag.items() if n}


# --- the stack's processes --------------------------------------------------------------------
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


# --- a process's /metrics ---------------------------------------------------------------------
def delta(before: list[Sample], after: list[Sample], name: str, **labels: str) -> float:
    """How much the samples called `name` with `labels` grew between two scrapes."""
    return stack_client.total(after, name, **labels) - stack_client.total(before, name, **labels)


def value(samples: list[Sample], name: str, **labels: str) -> float:
    """The one sample called `name` with exactly `labels` (a gauge's state); KeyError when absent."""
    found = [s.value for s in samples if s.name == name and s.labels == labels]
    if len(found) != 1:
        raise KeyError(f"{name}{labels}: {len(found)} samples")
    return found[0]


# --- the connectors' receipts webhooks --------------------------------------------------------
async def signed_webhook(http: aiohttp.ClientSession, channel: str, body, *, secret: bytes | None = None,
                         content_type: str = "application/json",
                         signature: str | None = None) -> tuple[int, dict]:
    """POST `body` (JSON-encoded unless bytes) to a connector's receipts webhook the way its provider
    does, signed with `secret` (default: the channel's own); `signature` replaces the computed
    header, "" leaves it out."""
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    if secret is None:
        secret = Settings.from_env().webhook_secret(channel)
    sig = webhook_signature.sign(secret, raw) if signature is None else signature
    headers = {"Content-Type": content_type, **({webhook_signature.HEADER: sig} if sig else {})}
    url = f"{STACK.connector_url(channel)}/webhooks/{channel}/receipts"
    async with http.post(url, data=raw, headers=headers) as resp:
        assert resp.content_type == "application/json", (resp.status, await resp.text())
        return resp.status, await resp.json()


async def post_with_retries(api, user, conv, content: str, recipient: str, timeout: float = 60,
                            message_id: str | None = None) -> int:
    """As a careful client does: the same message_id again after a 5xx or no answer, until a 202.
    Returns how many attempts were not answered 202."""
    mid, failures, deadline = message_id or str(uuid.uuid4()), 0, time.monotonic() + timeout
    while True:
        try:
            status, body = await api.call("POST", "/v1/messages", user, json={
                "conversation_id": conv, "content": content, "recipient_id": recipient, "message_id": mid})
        except (TimeoutError, OSError):
            status, body = 0, None
        if status == 202:
            return failures
        assert status == 0 or status >= 500, (status, body)  # never a 4xx for a good request
        failures += 1
        assert time.monotonic() < deadline, f"no 202 within {timeout:.0f}s: last {status} {body}"
        await asyncio.sleep(0.2)

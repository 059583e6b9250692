"""Login throttling (issue 16, item 6) against the running stack.

After 5 failed logins for one username, or 20 from one client address, within the window,
`POST /auth/token` answers 429 with Retry-After without checking the password; this holds across
API processes and restarts (the failures live in Cassandra), and unknown usernames cost what known
ones do.

Every test uses fresh usernames and fresh client addresses: a client socket bound to a random
127.x.y.z (all of 127/8 is loopback on Linux), so no test counts failures under 127.0.0.1, the
address every other test and tool shares, and nothing here can throttle them.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.integration.helpers import STACK, wait_http

API, LB = STACK.process("api").url, STACK.lb_url
SECOND_API_PORT = 18094


def fresh_address() -> str:
    """A loopback address no other test uses (never 127.0.0.x)."""
    return f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


def fresh_name(prefix: str = "thr") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@asynccontextmanager
async def client_at(address: str):
    """An HTTP client whose connections come from `address`."""
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    async with aiohttp.ClientSession(connector=connector) as http:
        yield http


async def login(http: aiohttp.ClientSession, base: str, username: str, password: str,
                headers: dict | None = None) -> tuple[int, dict, Any]:
    async with http.post(f"{base}/auth/token", json={"username": username, "password": password},
                         headers=headers or {}) as resp:
        assert resp.content_type == "application/json", (resp.status, await resp.text())
        return resp.status, await resp.json(), resp.headers


async def register(api, username: str | None = None) -> tuple[str, str]:
    username = username or fresh_name()
    password = "pw-" + username
    status, body = await api.call("POST", "/auth/register",
                                  json={"username": username, "password": password})
    assert status == 201, body
    return username, password


def assert_throttled(status: int, body: dict, headers, window_s: int) -> None:
    assert status == 429, (status, body)
    assert "too many failed logins" in body["error"]
    assert 1 <= int(headers["Retry-After"]) <= window_s, headers.get("Retry-After")


async def test_five_wrong_passwords_then_the_right_one_gets_429(api, settings):
    username, password = await register(api)
    async with client_at(fresh_address()) as http:
        for _ in range(settings.login_max_failures_per_user):
            status, body, _ = await login(http, API, username, "wrong-password")
            assert (status, body["error"]) == (401, "invalid username or password")
        # The right password is not even checked now; nor a wrong one.
        assert_throttled(*await login(http, API, username, password), settings.login_window_s)
        assert_throttled(*await login(http, API, username, "wrong-again"), settings.login_window_s)
    # The limit is the username's, whatever address asks (and through nginx too).
    async with client_at(fresh_address()) as http:
        assert_throttled(*await login(http, API, username, password), settings.login_window_s)
        assert_throttled(*await login(http, LB, username, password), settings.login_window_s)
    # Another user is not affected.
    other, other_password = await register(api)
    async with client_at(fresh_address()) as http:
        status, body, _ = await login(http, API, other, other_password)
        assert status == 200 and body["access_token"]


async def test_unknown_usernames_are_throttled_like_known_ones(settings):
    """Same answers for a name that does not exist: 401s, then 429 (no enumeration)."""
    nobody = fresh_name("nobody")
    async with client_at(fresh_address()) as http:
        for _ in range(settings.login_max_failures_per_user):
            status, body, _ = await login(http, API, nobody, "whatever")
            assert (status, body["error"]) == (401, "invalid username or password")
        assert_throttled(*await login(http, API, nobody, "whatever"), settings.login_window_s)


async def test_a_success_does_not_reset_the_failures(api, settings):
    username, password = await register(api)
    async with client_at(fresh_address()) as http:
        for _ in range(settings.login_max_failures_per_user - 1):
            assert (await login(http, API, username, "wrong-password"))[0] == 401
        assert (await login(http, API, username, password))[0] == 200
        assert (await login(http, API, username, "wrong-password"))[0] == 401  # the 5th failure
        assert_throttled(*await login(http, API, username, password), settings.login_window_s)


@pytest.fixture
def second_api(tmp_path):
    """Another api-service process (like `limited_api`), which the test may restart."""
    datadir = tmp_path / "faust"
    procs: list[subprocess.Popen] = []

    def start() -> str:
        log = open(tmp_path / f"api-{len(procs)}.log", "w")  # noqa: SIM115 - closed with the process
        procs.append(subprocess.Popen(
            [str(Path(sys.executable).parent / "faust"), "-A", "chat4all_app.roles.api",
             "--datadir", str(datadir), "worker", "--web-port", str(SECOND_API_PORT),
             "--web-bind", "127.0.0.1"],
            env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT))
        wait_http(SECOND_API_PORT, "/metrics", timeout=90)
        return f"http://127.0.0.1:{SECOND_API_PORT}"

    def stop() -> None:
        proc = procs[-1]
        proc.terminate()
        proc.wait(timeout=30)

    yield start, stop
    if procs and procs[-1].poll() is None:
        stop()


async def test_the_limit_holds_across_api_processes_and_a_restart(api, settings, second_api):
    start, stop = second_api
    other = await asyncio.to_thread(start)
    username, password = await register(api)
    async with client_at(fresh_address()) as http:
        # Failures spread over two processes add up: 3 on the stack's api, 2 on the other.
        for base in (API, other, API, other, API):
            assert (await login(http, base, username, "wrong-password"))[0] == 401
        for base in (API, other):
            assert_throttled(*await login(http, base, username, password), settings.login_window_s)
    # A restarted process still knows (nothing was kept in its memory).
    stop()
    other = await asyncio.to_thread(start)
    async with client_at(fresh_address()) as http:
        assert_throttled(*await login(http, other, username, password), settings.login_window_s)


async def test_per_address_limit_through_nginx_and_no_spoofing(api, settings):
    attacker, bystander = fresh_address(), fresh_address()
    victim, victim_password = await register(api)
    async with client_at(attacker) as http:
        # Password spraying: one failure for each of many names (none reaches its own limit).
        for _ in range(settings.login_max_failures_per_address):
            status, _, _ = await login(http, LB, fresh_name("spray"), "guess")
            assert status == 401
        # The address is throttled now, even for a right password of an untouched account.
        assert_throttled(*await login(http, LB, victim, victim_password), settings.login_window_s)
        # Naming another client in the headers does not help through nginx: nginx overwrites them.
        spoofed = fresh_address()
        for header in ({"X-Real-IP": spoofed}, {"X-Forwarded-For": spoofed},
                       {"X-Real-IP": spoofed, "X-Forwarded-For": f"{spoofed}, {spoofed}"}):
            assert_throttled(*await login(http, LB, victim, victim_password, header),
                             settings.login_window_s)
        # Nor talking to the API directly: this peer is not a trusted proxy, so its headers are
        # ignored.
        assert_throttled(*await login(http, API, victim, victim_password, {"X-Real-IP": spoofed}),
                         settings.login_window_s)
    # Another address is not affected (the victim's own limit was never touched).
    async with client_at(bystander) as http:
        status, body, _ = await login(http, LB, victim, victim_password)
        assert status == 200 and body["access_token"]
    # The header is honoured from a trusted proxy only (127.0.0.1 on the local stack: nginx).
    assert "127.0.0.1" in settings.trusted_proxies
    async with aiohttp.ClientSession() as http:
        assert_throttled(*await login(http, API, victim, victim_password, {"X-Real-IP": attacker}),
                         settings.login_window_s)


@pytest.mark.parametrize("value", ["not-an-address", "999.1.1.1", "::ffff:127.0.0.1", "fe80::1%eth0",
                                   "1.2.3.4, 5.6.7.8", "x" * 4000, ""])
async def test_odd_forwarding_headers_are_not_a_5xx(api, value):
    """From a trusted peer (the test runs on 127.0.0.1), with a right password: a success."""
    username, password = await register(api)
    async with aiohttp.ClientSession() as http:
        for header in ("X-Real-IP", "X-Forwarded-For"):
            status, body, _ = await login(http, API, username, password, {header: value})
            assert status == 200, body


async def test_unknown_usernames_take_as_long_as_known_ones(api):
    """A behaviour check, not a benchmark: today an unknown name answers ~15x faster."""
    known = [(await register(api))[0] for _ in range(15)]
    unknown = [fresh_name("nobody") for _ in range(15)]

    async def timed(username: str) -> float:
        async with client_at(fresh_address()) as http:  # each attempt from its own address
            async with http.get(f"{API}/auth/token"):  # connect first (405): time only the login
                pass
            started = time.perf_counter()
            status, _, _ = await login(http, API, username, "wrong-password")
            elapsed = time.perf_counter() - started
        assert status == 401
        return elapsed

    known_s, unknown_s = [], []
    for k, u in zip(known, unknown, strict=True):  # interleaved: the same machine load for both
        known_s.append(await timed(k))
        unknown_s.append(await timed(u))
    ratio = statistics.median(unknown_s) / statistics.median(known_s)
    assert 0.5 <= ratio <= 2, (f"unknown/known median login time {ratio:.2f} "
                               f"(unknown {statistics.median(unknown_s) * 1000:.1f} ms, "
                               f"known {statistics.median(known_s) * 1000:.1f} ms)")

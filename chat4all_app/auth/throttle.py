"""Login throttling: failed logins per username and per client address, kept in Cassandra.

After LOGIN_MAX_FAILURES_PER_USER failures for one username, or LOGIN_MAX_FAILURES_PER_ADDRESS
from one client address, within LOGIN_WINDOW_S, `POST /auth/token` answers 429 with Retry-After
(seconds until the window frees a slot) without looking at the password — not even a right one.
The failures live in Cassandra (`login_failures`, one partition per scope, rows expiring with the
window), so every API process sees the same counts and a restart forgets nothing.

What a success does: nothing. It resets neither count. Resetting the per-address count would let
anyone holding one valid account launder unlimited guesses against other accounts (19 guesses,
log in as yourself, 19 more, ...). Resetting the per-user count would hand an attacker a fresh
budget each time the real owner logs in. Failures simply age out of the window; a user who
mistyped a few times and then got in is only throttled if they fail again up to the limit.

Unknown usernames are counted exactly like known ones (and verified against a dummy hash, see
auth.passwords): otherwise the answers or their timing would tell which names exist. Throttled
attempts are not counted, so a throttled scope frees up when its failures age out even while it
keeps trying, Retry-After is exact, and a partition never holds more than its limit (plus the
few attempts verified concurrently, below).

Concurrency: check, verify and record run under a per-process semaphore of VERIFY_SLOTS, so at
most VERIFY_SLOTS attempts per API process are past the check and not yet recorded: a burst of
parallel guesses gets at most (processes x VERIFY_SLOTS - 1) attempts beyond a limit per window,
not one per request in flight. (argon2 is CPU-bound: more parallel verifications than cores only
queue anyway.)
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import time
from collections.abc import Iterable, Mapping
from typing import cast

from cassandra.util import min_uuid_from_time, unix_time_from_uuid1, uuid_from_time

from chat4all_app.settings import Settings
from chat4all_app.storage.cassandra import CassandraStore

VERIFY_SLOTS = 4

_COUNT = "SELECT attempt FROM login_failures WHERE scope = ? AND attempt > ?"
_RECORD = "INSERT INTO login_failures (scope, attempt) VALUES (?, ?) USING TTL ?"

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Throttled(Exception):
    """Too many failed logins in the window; retry after `retry_after_s` seconds."""

    def __init__(self, scope: str, retry_after_s: int):
        super().__init__(scope, retry_after_s)
        self.scope, self.retry_after_s = scope, retry_after_s


class LoginThrottle:
    def __init__(self, settings: Settings, store: CassandraStore):
        self.store = store
        self.window_s = settings.login_window_s
        self.user_limit = settings.login_max_failures_per_user
        self.address_limit = settings.login_max_failures_per_address
        self.slots = asyncio.Semaphore(VERIFY_SLOTS)

    def scopes(self, username: str, address: str) -> list[tuple[str, int]]:
        return [(f"user:{username}", self.user_limit), (f"addr:{address}", self.address_limit)]

    async def check(self, scopes: list[tuple[str, int]]) -> None:
        """Raise Throttled if any scope has reached its limit of failures in the window."""
        now = time.time()
        since = min_uuid_from_time(now - self.window_s)
        counts = await asyncio.gather(*(self.store.execute(_COUNT, (scope, since)) for scope, _ in scopes))
        waits = []
        for (scope, limit), rows in zip(scopes, counts, strict=True):
            if len(rows) >= limit:
                # Rows come oldest first; one slot is free again when all but limit - 1 of them
                # have aged out, i.e. when row number len - limit does.
                frees_at = unix_time_from_uuid1(rows[len(rows) - limit].attempt) + self.window_s
                waits.append((max(1, math.ceil(frees_at - now)), scope))
        if waits:
            retry_after, scope = max(waits)
            raise Throttled(scope, retry_after)

    async def record_failure(self, scopes: list[tuple[str, int]]) -> None:
        attempt = uuid_from_time(time.time())  # random clock sequence and node: unique per call
        await asyncio.gather(*(self.store.execute(_RECORD, (scope, attempt, self.window_s))
                               for scope, _ in scopes))


def trusted_networks(proxies: Iterable[str]) -> tuple[IpNetwork, ...]:
    """The addresses and networks among `proxies` (host names are TrustedProxies' business)."""
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies if _network(p))


class TrustedProxies:
    """TRUSTED_PROXIES: addresses and networks, and host names (compose: `nginx`) resolved when
    first needed and again every RESOLVE_EVERY_S (a container's address changes when it is
    recreated). A name that does not resolve trusts nothing until it does."""

    RESOLVE_EVERY_S = 30.0
    RESOLVE_TIMEOUT_S = 2.0

    def __init__(self, proxies: Iterable[str]):
        proxies = list(proxies)
        self._static = trusted_networks(proxies)
        self._hosts = [p for p in proxies if not _network(p)]
        self._resolved: tuple[IpNetwork, ...] = ()
        self._resolved_at = -math.inf

    async def networks(self) -> tuple[IpNetwork, ...]:
        if self._hosts and time.monotonic() - self._resolved_at > self.RESOLVE_EVERY_S:
            self._resolved_at = time.monotonic()
            loop, found = asyncio.get_running_loop(), set()
            for host in self._hosts:
                try:
                    infos = await asyncio.wait_for(loop.getaddrinfo(host, None), self.RESOLVE_TIMEOUT_S)
                except (OSError, TimeoutError):
                    continue
                # An IPv4/IPv6 sockaddr starts with the address text (typeshed also allows an int).
                found |= {ipaddress.ip_network(cast(str, info[4][0]).split("%")[0]) for info in infos}
            self._resolved = tuple(found)
        return self._static + self._resolved


def _network(value: str) -> IpNetwork | None:
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None


def client_address(peer: str | None, headers: Mapping[str, str],
                   trusted: tuple[IpNetwork, ...]) -> str:
    """The address a request is counted under.

    The TCP peer, unless the peer is a trusted proxy: then the address that proxy saw, from
    X-Real-IP or else the last X-Forwarded-For entry (the one the proxy itself set or appended;
    entries before it are whatever the client sent). One hop only: our nginx overwrites both
    headers with $remote_addr, so nothing a client sends through it survives. A header that is
    not an IP address is ignored (the peer counts). An IPv6 client counts by its /64: one host
    usually holds a whole /64, and counting each of its 2^64 addresses apart would be no limit."""
    peer_ip = _ip(peer)
    if peer_ip is None:
        return peer or "unknown"
    client = peer_ip
    if any(peer_ip in net for net in trusted):
        forwarded = headers.get("X-Real-IP") or headers.get("X-Forwarded-For", "").rsplit(",", 1)[-1]
        client = _ip(forwarded) or peer_ip
    if isinstance(client, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((client, 64), strict=False))
    return str(client)


def _ip(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not value:
        return None
    try:
        ip = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    # An IPv4 client seen on an IPv6 socket (::ffff:a.b.c.d) is that IPv4 address.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


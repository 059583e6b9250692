"""Messages through the compose deployment's nginx, and what the provider mocks received."""

from __future__ import annotations

import uuid

import aiohttp

from devstack.stack_client import AsyncProviders
from tests.compose.deployment import Deployment
from tests.integration.helpers import Api, User, statuses


def recipient(channel: str) -> str:
    return f"{channel}:r-{uuid.uuid4().hex[:12]}"


async def wait_statuses(api: Api, user: User, conversation_id: str, ids: list[str], want: str,
                        timeout: float) -> dict[str, str]:
    """Poll until every message of `ids` has status `want`; returns the last statuses seen."""
    seen: dict[str, str] = {}

    async def settled() -> bool:
        seen.update(await statuses(api, user, conversation_id))
        return all(seen.get(i) == want for i in ids)

    await api.wait_for(settled, timeout, interval=0.5)
    return {i: seen.get(i) for i in ids}


async def ledger(http: aiohttp.ClientSession, dep: Deployment, channel: str) -> dict:
    """The provider mock's ledger: {"received": {id: n}, "order": {address: [ids]}, ...}."""
    return await AsyncProviders(dep.topology, http).ledger(channel)

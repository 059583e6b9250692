"""Senders for the benchmark, created once through the real API: [{token, conversation_id}]."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from chat4all_app.client.http import Client


def sender(api: str, run: str, i: int) -> dict:
    name, client = f"bench-{run}-{i}", Client(api)
    peer = client.call("POST", "/auth/register", {"username": f"{name}-peer", "password": f"pw-{name}"})
    client.call("POST", "/auth/register", {"username": name, "password": f"pw-{name}"})
    token = client.call("POST", "/auth/token", {"username": name, "password": f"pw-{name}"})["access_token"]
    conv = Client(api, token).call("POST", "/v1/conversations", {"participant_ids": [peer["user_id"]]})
    return {"token": token, "conversation_id": conv["conversation_id"]}


def create(api: str, count: int) -> list[dict]:
    run = uuid.uuid4().hex[:8]
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda i: sender(api, run, i), range(count)))

"""Senders for the benchmark, created once through the real API: [{token, conversation_id}]."""

from __future__ import annotations

import json
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor


def _post(url: str, body: dict, token: str | None = None) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as resp:
        return json.loads(resp.read())


def sender(api: str, run: str, i: int) -> dict:
    name = f"bench-{run}-{i}"
    peer = _post(f"{api}/auth/register", {"username": f"{name}-peer", "password": f"pw-{name}"})
    _post(f"{api}/auth/register", {"username": name, "password": f"pw-{name}"})
    token = _post(f"{api}/auth/token", {"username": name, "password": f"pw-{name}"})["access_token"]
    conv = _post(f"{api}/v1/conversations", {"participant_ids": [peer["user_id"]]}, token)
    return {"token": token, "conversation_id": conv["conversation_id"]}


def create(api: str, count: int) -> list[dict]:
    run = uuid.uuid4().hex[:8]
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda i: sender(api, run, i), range(count)))

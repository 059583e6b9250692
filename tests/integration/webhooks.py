"""Calling a connector's receipts webhook the way a provider does: signed with the channel's secret."""

from __future__ import annotations

import orjson

from chat4all_app.connectors import webhook_signature
from chat4all_app.settings import Settings

CHANNEL_PORTS = {"whatsapp": 8083, "instagram": 8084}


def receipts_url(channel: str) -> str:
    return f"http://127.0.0.1:{CHANNEL_PORTS[channel]}/webhooks/{channel}/receipts"


async def signed_webhook(http, channel: str, body, *, secret: bytes | None = None,
                         content_type: str = "application/json",
                         signature: str | None = None) -> tuple[int, dict]:
    """POST `body` (JSON-encoded unless bytes) signed with `secret` (default: the channel's own);
    `signature` replaces the computed header, "" leaves it out."""
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    if secret is None:
        secret = Settings.from_env().webhook_secret(channel)
    sig = webhook_signature.sign(secret, raw) if signature is None else signature
    headers = {"Content-Type": content_type, **({webhook_signature.HEADER: sig} if sig else {})}
    async with http.post(receipts_url(channel), data=raw, headers=headers) as resp:
        assert resp.content_type == "application/json", (resp.status, await resp.text())
        return resp.status, await resp.json()

"""HTTP client of an external messaging provider (WhatsApp/Instagram-style send API).

A resource of the connector process (`lifecycle.own`): `start()` opens its HTTP session (no
request is sent), `stop()` closes it and its pooled connections.
"""

from __future__ import annotations

import aiohttp

from chat4all_app.lifecycle import NotRunning
from chat4all_app.observability.correlation import HTTP_HEADER
from chat4all_app.records import OutboundMessage


class ProviderError(Exception):
    """A send did not succeed."""


class TransientError(ProviderError):
    """5xx, 408/429, timeouts, refused connections: worth retrying (counts for the breaker)."""


class PermanentError(ProviderError):
    """4xx: the provider will never accept this message (becomes FAILED, not retried)."""


class ProviderClient:
    def __init__(self, base_url: str, timeout_s: float):
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=self.timeout)

    async def stop(self) -> None:
        http, self._http = self._http, None
        if http is not None:
            await http.close()

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            raise NotRunning("the provider client is not running: send() before start() or after stop()")
        return self._http

    @staticmethod
    def _headers(msg: OutboundMessage) -> dict[str, str]:
        headers = {"Idempotency-Key": msg.message_id}
        if msg.correlation_id:  # the provider echoes it on its receipt webhook
            headers[HTTP_HEADER] = msg.correlation_id
        return headers

    async def send(self, msg: OutboundMessage, callback_url: str) -> str:
        """Send one message; the message_id is the idempotency key. Returns the provider's id."""
        payload = {"message_id": msg.message_id, "to": msg.recipient, "content": msg.content,
                   "callback_url": callback_url}
        try:
            async with self._session().post(f"{self.base_url}/v1/messages", json=payload,
                                             headers=self._headers(msg)) as resp:
                body = await resp.json(content_type=None) if resp.content_length != 0 else {}
                if resp.status < 300:
                    return str((body or {}).get("provider_message_id", ""))
                reason = f"provider answered {resp.status}: {(body or {}).get('error', '')}".strip()
                if resp.status in (408, 429) or resp.status >= 500:
                    raise TransientError(reason)
                raise PermanentError(reason)
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from exc

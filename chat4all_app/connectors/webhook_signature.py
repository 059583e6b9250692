"""Webhook signatures as WhatsApp Cloud API does them: `X-Hub-Signature-256: sha256=<hex>`,
the HMAC-SHA256 of the raw request body with the channel's shared secret.

The provider signs, the connector verifies over the exact bytes it received (before any parsing),
in constant time, so neither the secret nor a near-miss leaks through timing.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="


def sign(secret: bytes, body: bytes) -> str:
    return _PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str | None) -> bool:
    """True only for a well-formed header carrying the body's HMAC under `secret`."""
    # aiohttp hands undecodable header bytes over as surrogates: such a header is simply wrong.
    if not secret or not header or not header.isascii() or not header.startswith(_PREFIX):
        return False
    return hmac.compare_digest(sign(secret, body), header.strip())

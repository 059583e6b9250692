"""Receipt webhooks on the real stack: only the channel's provider, signing the exact body, can
move only that channel's messages, with JSON bodies and plausible times."""

from __future__ import annotations

import time
import uuid

import pytest

from chat4all_app.connectors import webhook_signature
from chat4all_app.settings import Settings
from tests.integration.helpers import signed_webhook, statuses, wait_all


def phone() -> str:
    return f"+55{uuid.uuid4().int % 10**11}"


async def delivered_pair(api, channel: str = "whatsapp"):
    """A conversation with two DELIVERED messages to `channel`: a target and a barrier."""
    alice, bob = await api.user(), await api.user()
    conv = await api.conversation(alice, bob)
    target = (await api.send(alice, conv, "target", recipient_id=f"{channel}:{phone()}"))["message_id"]
    barrier = (await api.send(alice, conv, "barrier", recipient_id=f"{channel}:{phone()}"))["message_id"]
    assert await wait_all(api, bob, [conv], "DELIVERED", 2)
    return bob, conv, target, barrier


async def after_barrier(api, user, conv, channel: str, barrier: str) -> dict[str, str]:
    """Statuses once a genuine READ sent after the attempts was applied: status events of one
    conversation are applied in order, so anything the attempts applied is visible by then."""
    status, body = await signed_webhook(api.http, channel, {"message_id": barrier, "status": "READ"})
    assert status == 202, body

    async def read() -> dict[str, str] | None:
        seen = await statuses(api, user, conv)
        return seen if seen[barrier] == "READ" else None

    seen = await api.wait_for(read, timeout=60)
    assert seen, "the genuine receipt was not applied"
    return seen


async def test_unsigned_or_wrongly_signed_receipts_get_401_and_apply_nothing(api, providers):
    bob, conv, target, barrier = await delivered_pair(api)
    body = {"message_id": target, "status": "READ"}
    raw = b'{"message_id": "%s", "status": "READ"}' % target.encode()
    settings = Settings.from_env()
    attempts = {
        "no signature": dict(signature=""),
        "zeros": dict(signature="sha256=" + "0" * 64),
        "sha1 scheme": dict(signature="sha1=" + "0" * 40),
        "instagram's key": dict(secret=settings.webhook_secret("instagram")),
        "old default key": dict(secret=b"dev-only-insecure-secret-change-me"),
    }
    for name, how in attempts.items():
        status, answer = await signed_webhook(api.http, "whatsapp", body, **how)
        assert status == 401 and "X-Hub-Signature-256" in answer["error"], (name, status, answer)
    # Signed over other bytes than those sent: the signature binds the exact body.
    sig = webhook_signature.sign(settings.webhook_secret("whatsapp"), raw)
    status, answer = await signed_webhook(api.http, "whatsapp", raw + b" ", signature=sig)
    assert status == 401, answer
    seen = await after_barrier(api, bob, conv, "whatsapp", barrier)
    assert seen[target] == "DELIVERED"


async def test_a_channels_webhook_cannot_touch_other_channels_or_internal_messages(api, providers):
    bob, conv, target, barrier = await delivered_pair(api, "whatsapp")
    alice_insta = await api.user()
    conv_insta = await api.conversation(alice_insta, bob)
    insta = (await api.send(alice_insta, conv_insta, "insta", recipient_id=f"instagram:{phone()}"))
    internal = (await api.send(alice_insta, conv_insta, "internal"))["message_id"]
    assert await wait_all(api, bob, [conv_insta], "DELIVERED", 2)

    for foreign in (insta["message_id"], internal):
        status, answer = await signed_webhook(api.http, "whatsapp",
                                              {"message_id": foreign, "status": "READ"})
        assert status == 404, answer
    status, answer = await signed_webhook(api.http, "whatsapp", {"receipts": [
        {"message_id": target, "status": "READ"},
        {"message_id": insta["message_id"], "status": "READ"},
        {"message_id": internal, "status": "READ"}]})
    assert status == 202 and answer["accepted"] == 1, answer
    assert sorted(answer["unknown"]) == sorted([insta["message_id"], internal])
    assert (await after_barrier(api, bob, conv, "whatsapp", barrier))[target] == "READ"
    assert set((await statuses(api, bob, conv_insta)).values()) == {"DELIVERED"}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
async def test_receipts_that_are_not_json_get_415(api, providers, content_type):
    bob, conv, target, barrier = await delivered_pair(api)
    status, answer = await signed_webhook(api.http, "whatsapp", {"message_id": target, "status": "READ"},
                                          content_type=content_type)
    assert status == 415 and "application/json" in answer["error"], answer
    assert (await after_barrier(api, bob, conv, "whatsapp", barrier))[target] == "DELIVERED"


async def test_receipts_with_implausible_times_get_400(api, providers):
    bob, conv, target, barrier = await delivered_pair(api)
    now = time.time()
    for at in (1e12, now + 3600, now - 86400, 0, -1):
        status, answer = await signed_webhook(api.http, "whatsapp",
                                              {"message_id": target, "status": "READ", "at": at})
        assert status == 400 and "'at'" in answer["error"], (at, status, answer)
    status, answer = await signed_webhook(api.http, "whatsapp", {"receipts": [
        {"message_id": barrier, "status": "READ", "at": now},
        {"message_id": target, "status": "READ", "at": 1e12}]})
    assert status == 400 and "receipts[1]" in answer["error"], answer
    assert (await after_barrier(api, bob, conv, "whatsapp", barrier))[target] == "DELIVERED"

"""JSON bodies are read whole, however their bytes arrive (issue 16, item 4).

A ~9 KB message written in 1,448-byte TCP segments with pauses between them, with Content-Length
or chunked, straight to the API or through nginx, and a signed receipts batch of the same size to
a connector's webhook: every one is parsed whole and accepted. (A single `content.read()` returns
only the bytes that have arrived, the first segment: 400 "not valid JSON", or 401 on the webhook,
where the signature covers the whole body.)
"""

from __future__ import annotations

import time
import uuid

import orjson
import pytest

from chat4all_app.connectors import webhook_signature
from chat4all_app.settings import Settings
from devstack.layout import port_of
from tests.integration.helpers import STACK
from tests.integration.raw_http import MSS, post_in_pieces

API_PORT, LB_PORT = STACK.process("api").port, port_of(STACK.lb_url)
# Multi-byte characters too, so some cuts fall inside a UTF-8 sequence.
TEXT = "Olá, mundo! Ação ✓ — "


def message_body(conversation_id: str, size: int = 9_000) -> tuple[str, bytes]:
    content = (TEXT * (size // len(TEXT.encode()) + 1)).encode()[:size].decode(errors="ignore")
    body = orjson.dumps({"conversation_id": conversation_id, "content": content,
                         "message_id": str(uuid.uuid4())})
    assert 8_500 < len(body) < 10_000 and len(body) > 6 * MSS
    return content, body


@pytest.mark.parametrize("port, chunked", [
    (API_PORT, False), (API_PORT, True), (LB_PORT, False), (LB_PORT, True),
], ids=["api-content-length", "api-chunked", "nginx-content-length", "nginx-chunked"])
async def test_a_message_sent_in_tcp_segments_is_accepted_whole(api, port, chunked):
    alice, bob = await api.user(), await api.user()
    conv = await api.conversation(alice, bob)
    content, body = message_body(conv)
    answer = await post_in_pieces(port, "/v1/messages", body,
                                  {"Content-Type": "application/json", **alice.auth}, chunked=chunked)
    assert answer.status == 202, answer
    message_id = answer.json()["message_id"]
    assert message_id == orjson.loads(body)["message_id"]

    async def stored():
        status, got = await api.call("GET", f"/v1/messages/{message_id}", bob)
        return got if status == 200 else None

    got = await api.wait_for(stored)
    assert got and got["content"] == content  # every byte, in order


async def test_a_signed_receipts_batch_sent_in_tcp_segments_is_applied_whole(api):
    alice, bob = await api.user(), await api.user()
    conv = await api.conversation(alice, bob)
    sent = await api.send(alice, conv, "to whatsapp", recipient_id="whatsapp:+5511999990000")

    async def stored():
        return (await api.call("GET", f"/v1/messages/{sent['message_id']}", alice))[0] == 200

    assert await api.wait_for(stored)
    unknown = [str(uuid.uuid4()) for _ in range(90)]
    now = time.time()
    body = orjson.dumps({"receipts": [{"message_id": sent["message_id"], "status": "DELIVERED",
                                       "at": now}]
                        + [{"message_id": m, "status": "DELIVERED", "at": now} for m in unknown]})
    assert len(body) > 6 * MSS
    signature = webhook_signature.sign(Settings.from_env().webhook_secret("whatsapp"), body)
    for chunked in (False, True):
        answer = await post_in_pieces(
            STACK.connector_port("whatsapp"), "/webhooks/whatsapp/receipts", body,
            {"Content-Type": "application/json", webhook_signature.HEADER: signature}, chunked=chunked)
        assert answer.status == 202, (chunked, answer)
        assert answer.json() == {"accepted": 1, "unknown": unknown}


async def test_a_body_over_the_limit_in_segments_is_still_413(api):
    """Reading until the end never reads more than the limit (+1 byte) into memory."""
    alice = await api.user()
    body = b'{"content": "' + b"x" * 70_000 + b'"}'
    for chunked in (False, True):
        answer = await post_in_pieces(API_PORT, "/v1/messages", body,
                                      {"Content-Type": "application/json", **alice.auth},
                                      chunked=chunked, size=8 * MSS, pause=0.005)
        assert answer.status == 413, answer
        assert "larger than" in answer.json()["error"]

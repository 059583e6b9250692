"""Delivery to external channels on the real stack: effectively once, in order, through provider
outages (circuit breaker), stopped connectors (store-and-forward) and SIGKILLed workers."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
from aiokafka import AIOKafkaConsumer

from devstack.layout import Layout
from tests.integration.helpers import STACK, ctl, group_lag, signed_webhook, statuses, wait_all, wait_http


async def stored_count(api, user, conv, count: int) -> bool:
    async def enough() -> bool:
        return len(await statuses(api, user, conv)) >= count

    return await api.wait_for(enough, timeout=60)


async def post_in_order(api, user, conv, recipient, n, sent: list[str], repost_every=0) -> None:
    for i in range(n):
        mid = str(uuid.uuid4())
        await api.send(user, conv, f"#{i}", recipient_id=recipient, message_id=mid)
        sent.append(mid)
        if repost_every and i % repost_every == 0:
            await api.send(user, conv, f"#{i}", recipient_id=recipient, message_id=mid)


async def test_thousand_external_messages_delivered_once_each_in_order(api, providers):
    alice, bob = await api.user(), await api.user()
    plan = []  # (conversation, recipient): one recipient per conversation, both channels
    for i in range(10):
        channel = "whatsapp" if i % 2 == 0 else "instagram"
        plan.append((await api.conversation(alice, bob), f"{channel}:r-{uuid.uuid4().hex[:10]}"))
    sent: dict[str, list[str]] = {conv: [] for conv, _ in plan}
    started = time.monotonic()
    await asyncio.gather(*(post_in_order(api, alice, conv, rcpt, 100, sent[conv], repost_every=10)
                           for conv, rcpt in plan))
    assert await wait_all(api, bob, [c for c, _ in plan], "DELIVERED", 1000)
    elapsed = time.monotonic() - started
    print(f"\n1000 external messages (+100 re-posts) DELIVERED in {elapsed:.2f}s "
          f"= {1000 / elapsed:.0f} msg/s end to end")
    ledgers = {c: await providers.ledger(c) for c in STACK.channels}
    for conv, recipient in plan:
        channel, address = recipient.split(":", 1)
        ledger = ledgers[channel]
        assert all(ledger["received"].get(mid) == 1 for mid in sent[conv])
        assert ledger["order"][address] == sent[conv]  # provider order == acceptance order
        stored = await api.all_messages(bob, conv)
        assert [m["message_id"] for m in stored] == sent[conv]
        # Every message records when it reached each status. SENT is stamped by the connector and
        # DELIVERED by the provider's receipt, two clocks racing, so their order is not asserted
        # (and SENT may be skipped if the receipt is applied first: statuses never go back).
        for m in stored:
            assert m["status"] == "DELIVERED"
            assert {"ACCEPTED", "PENDING", "DELIVERED"} <= set(m["timestamps"]), m


async def test_provider_4xx_marks_the_message_failed_and_the_next_one_still_goes(api, providers):
    alice, bob = await api.user(), await api.user()
    conv = await api.conversation(alice, bob)
    bad = (await api.send(alice, conv, "x", recipient_id="whatsapp:invalid-number"))["message_id"]
    good = (await api.send(alice, conv, "y", recipient_id="whatsapp:+5511"))["message_id"]

    async def settled():
        s = await statuses(api, bob, conv)
        return s.get(bad) == "FAILED" and s.get(good) == "DELIVERED"

    assert await api.wait_for(settled, timeout=60)
    _, failed = await api.call("GET", f"/v1/messages/{bad}", bob)
    assert "invalid recipient" in failed["status_reason"]


async def circuit_states(settings, channel: str, stop_when, timeout: float = 60) -> list[str]:
    """Follow the connector's circuit-state topic (what its breaker table is built from)."""
    consumer = AIOKafkaConsumer(settings.circuit_topic(channel),
                                bootstrap_servers=settings.kafka_bootstrap_servers,
                                group_id=f"it-{uuid.uuid4().hex}", auto_offset_reset="latest")
    await consumer.start()
    states: list[str] = []
    try:
        await consumer.seek_to_end()
        deadline = time.monotonic() + timeout
        while not stop_when(states) and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                states += [json.loads(r.value)["state"] for r in records]
    finally:
        await consumer.stop()
    return states


async def test_circuit_opens_holds_messages_pending_and_delivers_them_in_order_after(api, providers,
                                                                                    settings):
    alice, bob = await api.user(), await api.user()
    conv = await api.conversation(alice, bob)
    await providers.configure("instagram", mode="error")
    watcher = asyncio.create_task(circuit_states(settings, "instagram",
                                                 lambda s: "OPEN" in s, timeout=60))
    await asyncio.sleep(0.5)  # let the watcher reach the end of the topic
    sent: list[str] = []
    address = f"ig-{uuid.uuid4().hex[:10]}"
    await post_in_order(api, alice, conv, f"instagram:{address}", 20, sent)
    opened = await watcher
    assert "OPEN" in opened, opened
    ledger = await providers.ledger("instagram")
    attempts_while_open = sum(ledger["attempts"].get(m, 0) for m in sent)
    # One conversation is sent in order: its first message failed fail_max times in a row, which
    # opened the circuit before any later message reached the provider (no trial yet: reset 5 s).
    assert ledger["attempts"].get(sent[0]) == settings.circuit_fail_max == attempts_while_open, ledger
    assert await stored_count(api, bob, conv, len(sent))
    assert set((await statuses(api, bob, conv)).values()) == {"PENDING"}  # held, not dropped
    # While open the breaker fails fast: only trial calls reach the provider.
    await asyncio.sleep(settings.circuit_reset_s * 2)
    ledger = await providers.ledger("instagram")
    later = sum(ledger["attempts"].get(m, 0) for m in sent)
    assert later - attempts_while_open <= 4, (attempts_while_open, later)

    closing = asyncio.create_task(circuit_states(settings, "instagram",
                                                 lambda s: "CLOSED" in s, timeout=60))
    await providers.configure("instagram", mode="up")
    assert await wait_all(api, bob, [conv], "DELIVERED", len(sent), timeout=60)
    assert "CLOSED" in await closing
    ledger = await providers.ledger("instagram")
    assert ledger["order"][address] == sent
    assert all(ledger["received"][m] == 1 for m in sent)


async def test_store_and_forward_while_a_connector_is_stopped(api, providers):
    alice, bob = await api.user(), await api.user()
    conv = await api.conversation(alice, bob)
    address = f"+55{uuid.uuid4().int % 10**11}"
    assert "stopped" in ctl("stop", "connector-whatsapp")
    try:
        sent: list[str] = []
        await post_in_order(api, alice, conv, f"whatsapp:{address}", 30, sent, repost_every=7)
        assert await stored_count(api, bob, conv, len(sent))
        assert set((await statuses(api, bob, conv)).values()) == {"PENDING"}
    finally:
        assert "started" in ctl("start", "connector-whatsapp")
    assert await wait_all(api, bob, [conv], "DELIVERED", 30, timeout=120)
    ledger = await providers.ledger("whatsapp")
    assert ledger["order"][address] == sent
    assert all(ledger["received"][m] == 1 for m in sent)


@pytest.mark.parametrize("victim", ["router", "connector-whatsapp"])
async def test_sigkill_mid_stream_loses_nothing_and_delivers_nothing_twice(api, providers, victim,
                                                                         settings):
    alice, bob = await api.user(), await api.user()
    convs = [await api.conversation(alice, bob) for _ in range(4)]
    await providers.configure("whatsapp", latency_ms={"min": 5, "max": 15})
    sent: dict[str, list[str]] = {c: [] for c in convs}
    recipients = {c: f"whatsapp:kill-{uuid.uuid4().hex[:8]}" for c in convs}
    posting = asyncio.gather(*(post_in_order(api, alice, c, recipients[c], 150, sent[c])
                               for c in convs))
    await asyncio.sleep(1.0)  # mid-stream
    assert "signalled" in ctl("signal", "KILL", victim)
    await posting  # the API keeps accepting while the worker is dead
    assert "started" in ctl("start", victim)
    wait_http(STACK.process("router").port if victim == "router" else STACK.connector_port("whatsapp"))
    delivered = await wait_all(api, bob, convs, "DELIVERED", 600, timeout=180)
    ledger = await providers.ledger("whatsapp")
    if not delivered:  # say where it got stuck
        stuck = [(m["message_id"], m["status"], list(m["timestamps"]))
                 for c in convs for m in await api.all_messages(bob, c) if m["status"] != "DELIVERED"]
        lag = {g: await group_lag(f"chat4all-{g}") for g in ("router", "connector-whatsapp")}
        pytest.fail(f"{len(stuck)} not DELIVERED, e.g. {stuck[:3]}; provider received "
                    f"{[ledger['received'].get(s[0]) for s in stuck[:3]]}; consumer lag {lag}")
    for conv in convs:
        address = recipients[conv].split(":", 1)[1]
        assert ledger["order"][address] == sent[conv]
        assert all(ledger["received"][m] == 1 for m in sent[conv])
        assert [m["message_id"] for m in await api.all_messages(bob, conv)] == sent[conv]


async def test_a_restarted_connector_resumes_its_open_circuit(api, providers, settings):
    alice, bob = await api.user(), await api.user()
    conv = await api.conversation(alice, bob)
    await providers.configure("instagram", mode="error")
    watcher = asyncio.create_task(circuit_states(settings, "instagram",
                                                 lambda s: "OPEN" in s, timeout=60))
    await asyncio.sleep(0.5)
    mid = (await api.send(alice, conv, "held", recipient_id="instagram:resume"))["message_id"]
    assert "OPEN" in await watcher
    log = Layout.from_env().log("connector-instagram")
    offset = log.stat().st_size
    assert "started" in ctl("restart", "connector-instagram")
    wait_http(STACK.connector_port("instagram"))

    async def restored() -> bool:
        return "circuit instagram restored as OPEN" in log.read_text(errors="replace")[offset:]

    assert await api.wait_for(restored, timeout=60)
    await providers.configure("instagram", mode="up")
    assert await wait_all(api, bob, [conv], "DELIVERED", 1, timeout=60)
    assert (await providers.ledger("instagram"))["received"][mid] == 1


async def test_the_provider_groups_receipts_and_every_message_is_still_delivered(api, providers):
    alice, bob = await api.user(), await api.user()
    conv = await api.conversation(alice, bob)
    await providers.configure("whatsapp", receipt_batch_ms=300)
    before = len((await providers.ledger("whatsapp"))["receipt_batches"])
    sent: list[str] = []
    await post_in_order(api, alice, conv, f"whatsapp:+55{uuid.uuid4().int % 10**11}", 30, sent)
    assert await wait_all(api, bob, [conv], "DELIVERED", 30, timeout=60)
    batches = (await providers.ledger("whatsapp"))["receipt_batches"][before:]
    assert sum(batches) >= 30 and len(batches) < 30, batches  # grouped, none lost


async def webhook(api, channel: str, body) -> tuple[int, dict]:
    """A receipt call signed with the channel's secret, as its provider signs them."""
    return await signed_webhook(api.http, channel, body)


async def test_a_receipt_batch_applies_known_messages_and_names_unknown_ones(api, providers):
    alice, bob = await api.user(), await api.user()
    conv = await api.conversation(alice, bob)
    mid = (await api.send(alice, conv, "hi", recipient_id="whatsapp:+5511"))["message_id"]
    assert await wait_all(api, bob, [conv], "DELIVERED", 1)
    stranger = str(uuid.uuid4())
    status, body = await webhook(api, "whatsapp", {"receipts": [
        {"message_id": mid, "status": "READ", "correlation_id": "batch-it-1"},
        {"message_id": stranger, "status": "DELIVERED"}]})
    assert (status, body) == (202, {"accepted": 1, "unknown": [stranger]})
    assert await wait_all(api, bob, [conv], "READ", 1)

    status, body = await webhook(api, "whatsapp", {"receipts": [{"message_id": mid},
                                                                {"message_id": mid, "status": "SENT"}]})
    assert status == 400 and "receipts[1]" in body["error"] and "status" in body["error"], body
    status, body = await webhook(api, "whatsapp", {"receipts": [{"message_id": stranger}]})
    assert status == 404 and "error" in body
    for bad in ({"receipts": []}, {"receipts": "x"}, {"receipts": [42]},
                {"receipts": [{"message_id": mid, "at": True}]},
                {"receipts": [{"message_id": mid, "correlation_id": "has space"}]}):
        status, body = await webhook(api, "whatsapp", bad)
        assert status == 400 and "error" in body, (bad, status, body)

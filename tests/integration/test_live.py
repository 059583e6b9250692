"""Live push (GET /v1/ws) on the real stack: Kafka's updates topic, the router's announcements, the
API processes' feeds; a second API process stands for another replica."""

from __future__ import annotations

import asyncio

import pytest

from chat4all_app.settings import Settings
from devstack.stack_client import scrape_async
from tests.integration.helpers import STACK, Api, User, delta
from tests.integration.live_client import connect, message_of


async def test_members_see_a_message_live_as_rest_shows_it_and_nobody_else_does(api: Api):
    alice, bob, eve = await api.user("alice"), await api.user("bob"), await api.user("eve")
    conv = await api.conversation(alice, bob)
    socks = [await connect(api.http, api.base, u, header=u is not bob) for u in (alice, bob, eve)]
    sent = await api.send(alice, conv, "live hello")
    for sock in socks[:2]:
        (frame,) = await sock.until(message_of("live hello"))
        stored = next(m for m in await api.all_messages(bob, conv) if m["message_id"] == sent["message_id"])
        assert frame["message"] == stored  # the REST shape, the same values
    assert await socks[2].quiet() == []
    for sock in socks:
        await sock.ws.close()


async def test_a_channel_messages_ticks_arrive_in_order(api: Api, providers):
    alice, bob = await api.user("alice"), await api.user("bob")
    conv = await api.conversation(alice, bob)
    sock = await connect(api.http, api.base, alice)
    sent = await api.send(alice, conv, "to whatsapp", recipient_id="whatsapp:+5511999990000")
    frames = await sock.until(lambda f: f["type"] == "status" and f["status"]["status"] == "DELIVERED", 60)
    mine = [f for f in frames if (f.get("message") or f.get("status"))["message_id"] == sent["message_id"]]
    assert mine[0]["type"] == "message" and mine[0]["message"]["status"] == "PENDING"
    assert [f["status"]["status"] for f in mine[1:]] == ["SENT", "DELIVERED"]
    assert all(f["status"]["channel"] == "whatsapp" for f in mine[1:])
    await sock.ws.close()


async def test_a_client_resuming_with_its_cursor_gets_exactly_what_it_missed(api: Api):
    alice, bob = await api.user("alice"), await api.user("bob")
    conv = await api.conversation(alice, bob)
    bob_sock = await connect(api.http, api.base, bob, header=False)
    first = await api.send(alice, conv, "before")
    await bob_sock.until(message_of("before"))
    cursor = bob_sock.cursor
    await bob_sock.ws.close()
    # While bob is away: two messages, and bob's own READ of the first (from another device).
    missed = [await api.send(alice, conv, f"missed {i}") for i in range(2)]
    status, _ = await api.call("POST", f"/v1/messages/{first['message_id']}/read", bob)
    assert status == 202
    alice_sock = await connect(api.http, api.base, alice)  # to know when the READ was announced
    await api.wait_for(lambda: _read(api, alice, conv, first["message_id"]), timeout=30)
    resumed = await connect(api.http, api.base, bob, cursor, header=False)
    got = await resumed.until(lambda f: f["type"] == "message" and f["message"]["content"] == "missed 1")
    got += await resumed.quiet()
    kinds = sorted((f["type"], (f.get("message") or f.get("status"))["message_id"]) for f in got)
    assert kinds == sorted([("message", missed[0]["message_id"]), ("message", missed[1]["message_id"]),
                            ("status", first["message_id"])])
    # ... and goes on live, with nothing repeated.
    await api.send(alice, conv, "after")
    assert len(await resumed.until(message_of("after"))) == 1
    assert await resumed.quiet() == []
    for sock in (alice_sock, resumed):
        await sock.ws.close()


async def _read(api: Api, user: User, conv: str, message_id: str) -> bool:
    return any(m["message_id"] == message_id and m["status"] == "READ"
               for m in await api.all_messages(user, conv))


async def test_a_client_on_another_api_process_gets_what_this_one_accepted(api: Api, limited_api):
    """Two replicas: each follows every update in Kafka, so it does not matter which one
    accepted the message. The cursor is Kafka's, so it resumes on either."""
    alice, bob = await api.user("alice"), await api.user("bob")
    conv = await api.conversation(alice, bob)
    on_other = await connect(api.http, limited_api, bob)
    await api.send(alice, conv, "across replicas")
    await on_other.until(message_of("across replicas"))
    cursor = on_other.cursor
    await on_other.ws.close()
    await api.send(alice, conv, "while away")
    back_here = await connect(api.http, api.base, bob, cursor)
    got = await back_here.until(message_of("while away"))
    assert [f["message"]["content"] for f in got if f["type"] == "message"] == ["while away"]
    await back_here.ws.close()


async def test_through_the_load_balancer(api: Api):
    alice, bob = await api.user("alice"), await api.user("bob")
    conv = await api.conversation(alice, bob)
    sock = await connect(api.http, STACK.lb_url, bob, header=False)
    await api.send(alice, conv, "via nginx")
    await sock.until(message_of("via nginx"))
    await sock.ws.close()


async def test_an_unusable_cursor_gets_a_reset_then_live_updates(api: Api):
    alice, bob = await api.user("alice"), await api.user("bob")
    conv = await api.conversation(alice, bob)
    sock = await connect(api.http, api.base, bob, cursor="0:0")  # another topic layout
    reset = await sock.next()
    assert reset["type"] == "reset" and reset["cursor"].count(":") == Settings.from_env().topic_partitions
    await api.send(alice, conv, "after reset")
    await sock.until(message_of("after reset"))
    await sock.ws.close()


@pytest.mark.parametrize("cursor", ["junk", "0:-1"])
async def test_a_malformed_cursor_is_refused(api: Api, cursor):
    bob = await api.user("bob")
    async with api.http.get(api.base + "/v1/ws", headers=bob.auth, params={"cursor": cursor}) as resp:
        assert resp.status == 400 and "error" in await resp.json()


async def test_push_metrics_count_sockets_pushes_and_latency(api: Api):
    before = await scrape_async(api.http, api.base)
    alice, bob = await api.user("alice"), await api.user("bob")
    conv = await api.conversation(alice, bob)
    sock = await connect(api.http, api.base, bob)
    await api.send(alice, conv, "counted")
    await sock.until(message_of("counted"))
    during = await scrape_async(api.http, api.base)
    assert delta(before, during, "ws_connections") == 1
    assert delta(before, during, "ws_pushes_total", kind="message") >= 1
    assert delta(before, during, "ws_push_latency_seconds_count", kind="message") >= 1
    await sock.ws.close()
    await asyncio.sleep(0.5)
    after = await scrape_async(api.http, api.base)
    assert delta(before, after, "ws_connections") == 0

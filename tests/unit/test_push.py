"""Live push without Kafka: cursors, a connection's order and exactly-once, the hub's fan-out, the
feed's dispatch step, and the WebSocket view's authentication, limits and close codes.

The replay from Kafka and the fan-out across API replicas run against the real stack
(tests/integration/test_live.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace

import faust
import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient, TestServer

from chat4all_app.auth.tokens import TokenIssuer
from chat4all_app.errors import Invalid, TooMany
from chat4all_app.push import cursor
from chat4all_app.push.connection import Connection
from chat4all_app.push.entry import Entry
from chat4all_app.push.feed import UpdateFeed
from chat4all_app.push.hub import Hub
from chat4all_app.push.sessions import PushSessions
from chat4all_app.push.updates import message_stored, status_applied
from chat4all_app.records import MessageAccepted, StatusEvent
from chat4all_app.web import live_view, server
from chat4all_app.web.context import ApiServices, attach
from chat4all_app.web.errors import json_errors
from tests.unit.fakes import SETTINGS, FakeConversations, conversation, until

ALICE, BOB, EVE = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def accepted(conv: str, content: str = "hi") -> MessageAccepted:
    return MessageAccepted(message_id=str(uuid.uuid4()), conversation_id=conv,
                           accepted_id=str(uuid.uuid1()), sender_id=str(ALICE), content=content,
                           accepted_at=time.time())


def entry(partition: int, offset: int, conv: str, content: str = "hi") -> Entry:
    return Entry(partition, offset, message_stored(accepted(conv, content), None, "DELIVERED", time.time()))


def frames(conn: Connection) -> list[str]:
    found = []
    while not conn.frames.empty():
        found.append(conn.frames.get_nowait()[0])
    return found


# --- cursors ------------------------------------------------------------------------------------

def test_a_cursor_round_trips_and_junk_is_refused():
    assert cursor.decode(cursor.encode({1: 40, 0: 12})) == {0: 12, 1: 40}
    for junk in ("", "x", "0:1,0:2", "0:-1", "a:1", "0:1;1:2", "0" * 5000):
        with pytest.raises(Invalid):
            cursor.decode(junk)


def test_behind_counts_the_gap_refuses_another_layout_and_counts_a_partition_ahead_as_none_missed():
    assert cursor.behind({0: 1, 1: 5}, {0: 4, 1: 5}) == 3
    assert cursor.behind({0: 1}, {0: 4, 1: 5}) is None
    # From a replica whose feed was further on partition 0: nothing to replay there.
    assert cursor.behind({0: 9, 1: 2}, {0: 4, 1: 5}) == 3


# --- one connection -----------------------------------------------------------------------------

def test_a_connection_skips_what_it_had_and_repeats_of_one_change():
    conn = Connection("u", {0: 5}, 100)
    conv = str(uuid.uuid4())
    old, new = entry(0, 4, conv, "old"), entry(0, 5, conv, "new")
    repeat = Entry(0, 6, new.update)  # a router replay announced it again
    for e in (old, new, new, repeat):
        conn.offer(e)
    sent = frames(conn)
    assert len(sent) == 1 and '"new"' in sent[0]
    assert conn.cursor == "0:7"  # past the repeat too: a reconnection does not replay it


def test_a_resuming_connection_holds_live_entries_until_its_replay_is_done():
    conn = Connection("u", {0: 0}, 100)
    conv = str(uuid.uuid4())
    conn.hold_live()
    conn.offer(entry(0, 2, conv, "live-2"))
    conn.offer(entry(0, 3, conv, "live-3"))
    assert frames(conn) == []
    for offset in (0, 1, 2):  # the replay overlaps the first live entry
        conn.push(entry(0, offset, conv, f"replayed-{offset}"))
    asyncio.run(conn.release_live())
    contents = [f.split('"content": "')[1].split('"')[0] for f in frames(conn)]
    assert contents == ["replayed-0", "replayed-1", "replayed-2", "live-3"]


async def test_live_entries_held_during_a_long_replay_wait_for_room_instead_of_closing_4008():
    conn = Connection("u", {0: 0}, 2)
    conv = str(uuid.uuid4())
    conn.hold_live()
    conn.offer(entry(0, 2, conv, "live-2"))
    conn.offer(entry(0, 3, conv, "live-3"))
    for offset in (0, 1):  # the replay filled the queue: the client reads slower than Kafka
        await conn.push_waiting(entry(0, offset, conv, f"replayed-{offset}"))
    releasing = asyncio.create_task(conn.release_live())
    got = []
    while len(got) < 4:
        got.append((await conn.frames.get())[0].split('"content": "')[1].split('"')[0])
    await releasing
    assert got == ["replayed-0", "replayed-1", "live-2", "live-3"]
    assert not conn.too_slow.is_set()


def test_a_client_too_slow_to_read_is_marked_and_gets_nothing_more():
    conn = Connection("u", {0: 0}, 2)
    conv = str(uuid.uuid4())
    for offset in range(3):
        conn.offer(entry(0, offset, conv))
    assert conn.too_slow.is_set()
    conn.frames.get_nowait()
    conn.offer(entry(0, 3, conv))
    assert conn.frames.qsize() == 1  # nothing queued after it was found too slow


# --- the hub and the feed's dispatch --------------------------------------------------------------

def hub_and_feed(conversations: FakeConversations, settings=SETTINGS) -> tuple[Hub, UpdateFeed]:
    async def attach_files(messages: list[dict]) -> None:
        for m in messages:
            m["file"] = {"filename": "a.txt"}

    hub = Hub(conversations, attach_files, settings.ws_max_connections_per_user)
    feed = UpdateFeed(settings, hub)
    feed.positions = {p: 0 for p in range(settings.topic_partitions)}
    feed.following.set()
    return hub, feed


def record(partition: int, offset: int, value: bytes) -> SimpleNamespace:
    return SimpleNamespace(partition=partition, offset=offset, value=value)


async def test_an_update_reaches_every_connection_of_every_member_and_nobody_else():
    conversations = FakeConversations()
    conv = str(conversations.add(conversation(ALICE, BOB)).conversation_id)
    hub, feed = hub_and_feed(conversations)
    alice_phone, alice_web, bob, eve = (Connection(str(u), feed.positions, 10)
                                        for u in (ALICE, ALICE, BOB, EVE))
    for conn in (alice_phone, alice_web, bob, eve):
        hub.register(conn)
    msg = accepted(conv)
    status = StatusEvent(message_id=msg.message_id, conversation_id=conv, accepted_id=msg.accepted_id,
                         status="READ", at=time.time())
    await feed._dispatch(2, [record(2, 0, message_stored(msg, None, "DELIVERED", time.time()).dumps()),
                             record(2, 1, b"\x00 not an update"),
                             record(2, 2, status_applied(status, msg.accepted_at).dumps())])
    for conn in (alice_phone, alice_web, bob):
        sent = frames(conn)
        assert [f.split('"type": "')[1].split('"')[0] for f in sent] == ["message", "status"]
    assert frames(eve) == []
    assert feed.positions[2] == 3  # past the undecodable one too


async def test_an_idle_clients_cursor_follows_the_feed_so_a_reconnection_replays_little():
    conversations = FakeConversations()
    conv = str(conversations.add(conversation(ALICE, BOB)).conversation_id)
    hub, feed = hub_and_feed(conversations)
    eve = Connection(str(EVE), feed.positions, 10)  # in none of the conversations
    hub.register(eve)
    await feed._dispatch(3, [record(3, offset, entry(3, offset, conv).update.dumps())
                             for offset in range(5)])
    assert frames(eve) == [] and eve.positions[3] == 5 == feed.positions[3]
    eve.tell_cursor()
    (told,) = frames(eve)
    assert '"type": "cursor"' in told and cursor.decode(eve.cursor)[3] == 5
    eve.tell_cursor()
    assert frames(eve) == []  # told once per move


async def test_a_client_registering_while_a_batch_is_looked_up_still_gets_that_batch():
    class SlowConversations(FakeConversations):
        async def conversation(self, conversation_id):
            await asyncio.sleep(0.05)
            return await super().conversation(conversation_id)

    conversations = SlowConversations()
    conv = str(conversations.add(conversation(ALICE, BOB)).conversation_id)
    hub, feed = hub_and_feed(conversations)
    hub.register(Connection(str(ALICE), feed.positions, 10))
    dispatching = asyncio.create_task(feed._dispatch(0, [record(0, 0, entry(0, 0, conv).update.dumps())]))
    await asyncio.sleep(0.01)
    late = Connection(str(BOB), feed.positions, 10)  # positions taken before the batch moved them
    hub.register(late)
    await dispatching
    assert len(frames(late)) == 1


async def test_the_per_user_limit_holds_and_a_closed_connection_frees_its_place():
    limited = dataclasses.replace(SETTINGS, ws_max_connections_per_user=2)
    hub, _feed = hub_and_feed(FakeConversations(), limited)
    first, second = Connection("u", {}, 1), Connection("u", {}, 1)
    hub.register(first)
    hub.register(second)
    with pytest.raises(TooMany):
        hub.register(Connection("u", {}, 1))
    hub.unregister(first)
    hub.register(Connection("u", {}, 1))


# --- the WebSocket view ---------------------------------------------------------------------------

TOKENS = TokenIssuer("x" * 40, 3600)


class World:
    def __init__(self, settings=SETTINGS) -> None:
        self.conversations = FakeConversations()
        self.conv = str(self.conversations.add(conversation(ALICE, BOB)).conversation_id)
        self.hub, self.feed = hub_and_feed(self.conversations, settings)
        services = ApiServices(
            settings, TOKENS, None, None, None, None, None, None,  # type: ignore[arg-type]
            PushSessions(settings, self.hub, self.feed))
        self.app = faust.App(f"test-{uuid.uuid4().hex[:6]}", store="memory://", web=server.DRIVER_URL)
        attach(self.app, services)
        live_view.install(self.app, services)
        server.aiohttp_app(self.app.web).middlewares.append(json_errors)

    async def announce(self, offset: int, content: str = "hi") -> None:
        await self.feed._dispatch(0, [record(0, offset, entry(0, offset, self.conv, content).update.dumps())])


@pytest.fixture
async def live() -> AsyncIterator[tuple[World, TestClient]]:
    world = World()
    client = TestClient(TestServer(server.aiohttp_app(world.app.web)))
    await client.start_server()
    yield world, client
    await client.close()


def bearer(user: uuid.UUID, ttl: int = 3600) -> dict[str, str]:
    return {"Authorization": f"Bearer {TokenIssuer('x' * 40, ttl).issue(user, 'u')}"}


async def test_a_header_client_gets_ready_then_its_conversations_messages(live):
    world, client = live
    ws = await client.ws_connect("/v1/ws", headers=bearer(BOB))
    ready = await ws.receive_json(timeout=5)
    assert ready["type"] == "ready" and ready["user_id"] == str(BOB) and not ready["resumed"]
    await world.announce(0, "hello bob")
    frame = await ws.receive_json(timeout=5)
    assert frame["type"] == "message" and frame["message"]["content"] == "hello bob"
    assert frame["message"]["conversation_id"] == world.conv and frame["cursor"] == "0:1,1:0,2:0,3:0,4:0,5:0"
    await ws.close()
    await until(lambda: not world.hub.connected)


async def test_a_browser_client_authenticates_with_its_first_frame(live):
    _world, client = live
    ws = await client.ws_connect("/v1/ws")
    await ws.send_json({"type": "auth", "token": TOKENS.issue(ALICE, "alice")})
    assert (await ws.receive_json(timeout=5))["type"] == "ready"
    await ws.close()


@pytest.mark.parametrize("first", [
    {"type": "auth", "token": "forged"}, {"type": "hello"}, {"type": "auth", "token": 7}, "not json"])
async def test_a_bad_auth_frame_closes_with_4001_or_4400(live, first):
    _, client = live
    ws = await client.ws_connect("/v1/ws")
    await (ws.send_json(first) if isinstance(first, dict) else ws.send_str(first))
    msg = await ws.receive(timeout=5)
    assert msg.type == WSMsgType.CLOSE and ws.close_code in (4001, 4400)
    assert ws.close_code == (4400 if first == "not json" else 4001)


async def test_no_auth_frame_in_time_closes_with_4001():
    world = World(dataclasses.replace(SETTINGS, ws_auth_timeout_s=0.2))
    client = TestClient(TestServer(server.aiohttp_app(world.app.web)))
    await client.start_server()
    try:
        ws = await client.ws_connect("/v1/ws")
        msg = await ws.receive(timeout=5)
        assert msg.type == WSMsgType.CLOSE and ws.close_code == 4001
    finally:
        await client.close()


async def test_header_refusals_are_json_before_any_upgrade(live):
    _, client = live
    response = await client.get("/v1/ws", headers={"Authorization": "Bearer forged"})
    assert response.status == 401 and "error" in await response.json()
    response = await client.get("/v1/ws")  # no upgrade
    assert response.status == 400 and "WebSocket" in (await response.json())["error"]
    response = await client.get("/v1/ws?cursor=junk", headers=bearer(ALICE))
    assert response.status == 400


async def test_one_connection_over_the_limit_is_refused_429(live):
    _world, client = live
    sockets = [await client.ws_connect("/v1/ws", headers=bearer(ALICE))
               for _ in range(SETTINGS.ws_max_connections_per_user)]
    response = await client.get("/v1/ws", headers=bearer(ALICE))
    assert response.status == 429 and "error" in await response.json()
    browser = await client.ws_connect("/v1/ws")
    await browser.send_json({"type": "auth", "token": TOKENS.issue(ALICE, "alice")})
    await browser.receive(timeout=5)
    assert browser.close_code == 4029
    for ws in sockets:
        await ws.close()


async def test_a_client_that_does_not_read_is_closed_with_4008():
    world = World(dataclasses.replace(SETTINGS, ws_send_queue=5))
    client = TestClient(TestServer(server.aiohttp_app(world.app.web)))
    await client.start_server()
    try:
        ws = await client.ws_connect("/v1/ws", headers=bearer(BOB))
        assert (await ws.receive_json(timeout=5))["type"] == "ready"
        # The client reads nothing while 64 KiB messages flow: the socket's buffers fill, then the
        # five-frame queue, and the server gives up on it rather than keep buffering.
        big = "x" * 65536
        for offset in range(1000):
            await world.announce(offset, big)
            if not world.hub.connected:
                break
            await asyncio.sleep(0)
        while (await ws.receive(timeout=10)).type != WSMsgType.CLOSE:
            pass
        assert ws.close_code == 4008
        await until(lambda: not world.hub.connected)
    finally:
        await client.close()


async def test_an_expired_token_ends_the_session_with_4001(live):
    _, client = live
    ws = await client.ws_connect("/v1/ws", headers=bearer(ALICE, ttl=1))
    assert (await ws.receive_json(timeout=5))["type"] == "ready"
    msg = await ws.receive(timeout=5)
    assert msg.type == WSMsgType.CLOSE and ws.close_code == 4001

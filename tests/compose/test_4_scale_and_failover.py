"""`--scale router-worker=2 --scale api-service=2`: nginx spreads requests over both APIs, the routers
split the partitions, Prometheus scrapes every replica. Then the assignment's failover (§4.1):
`docker stop` one of the two routers under load loses nothing, duplicates nothing, keeps order."""

import asyncio

import aiohttp

from devstack.stack_client import Prometheus
from tests.compose.traffic import ledger, recipient
from tests.integration.helpers import Api, statuses

TOPIC = "chat4all.messages"


async def promql(http: aiohttp.ClientSession, dep, query: str) -> list[tuple[dict[str, str], float]]:
    """(labels, value) per series; RuntimeError when Prometheus refuses the query."""
    return await Prometheus(dep.topology.prometheus_url).query_async(http, query)


async def partitions_by_router(http, dep) -> dict[str, set[int]]:
    rows = await promql(http, dep, f'kafka_consumer_lag{{service="router", topic="{TOPIC}"}}')
    owned: dict[str, set[int]] = {}
    for labels, _ in rows:
        owned.setdefault(labels["instance"], set()).add(int(labels["partition"]))
    return owned


async def test_scaled_out_both_apis_serve_routers_split_partitions_prometheus_scrapes_all(deployment):
    async with aiohttp.ClientSession() as http:
        api = Api(http, deployment.api)
        before = await api.wait_for(lambda: partitions_by_router(http, deployment), 90, interval=2)
        assert before, "no router lag on Prometheus within 90 s"
        assert len(before) == 1
        all_partitions = next(iter(before.values()))
        deployment.compose("up", "--detach", "--wait", "--no-build",
                           "--scale", "router-worker=2", "--scale", "api-service=2", timeout=300)
        assert len(deployment.containers("api-service")) == len(deployment.containers("router-worker")) == 2

        async def every_replica_up():
            rows = await promql(http, deployment, 'up{job="chat4all"} == 1')
            per = {}
            for labels, _ in rows:
                per.setdefault(labels["service"], set()).add(labels["instance"])
            return per if len(per.get("api", ())) == 2 and len(per.get("router", ())) == 2 else None

        up = await api.wait_for(every_replica_up, 120, interval=2)
        assert up, "Prometheus not scraping 2 APIs and 2 routers within 120 s"
        assert {s: len(i) for s, i in up.items()} == {
            "api": 2, "router": 2, "connector-whatsapp": 1, "connector-instagram": 1}

        last: dict[str, set[int]] = {}

        async def split():
            # Each router reports its partitions' lag every few seconds and Prometheus scrapes
            # every 15 s: during the handover both may still report a partition for a moment.
            nonlocal last
            last = await partitions_by_router(http, deployment)
            if len(last) == 2 and all(last.values()):
                first, second = last.values()
                if not first & second and first | second == all_partitions:
                    return last
            return None

        owned = await api.wait_for(split, 120, interval=2)
        assert owned, f"the two routers did not split the partitions within 120 s: {last}"

        query = 'sum by (instance) (http_requests_total{service="api", path="/auth/register"})'

        async def per_instance():
            return {labels["instance"]: value for labels, value in await promql(http, deployment, query)}

        counts = await per_instance()
        for _ in range(20):
            await api.user("spread")

        async def both_served():
            now = await per_instance()
            grew = {i for i in up["api"] if now.get(i, 0) > counts.get(i, 0)}
            return grew if grew == up["api"] else None

        assert await api.wait_for(both_served, 60, interval=2), "registrations not counted by both APIs"


async def test_docker_stop_of_one_of_two_routers_under_load_loses_and_duplicates_nothing(deployment):
    routers = deployment.containers("router-worker")
    assert len(routers) == 2, "runs after the scale-out test"
    async with aiohttp.ClientSession() as http:
        api = Api(http, deployment.api)
        alice, bob = await api.user("alice"), await api.user("bob")
        plan = []  # (conversation, recipient): internal and both channels
        for i in range(12):
            kind = ("internal", "whatsapp", "instagram")[i % 3]
            plan.append((await api.conversation(alice, bob),
                         bob.user_id if kind == "internal" else recipient(kind)))
        sent: dict[str, list[str]] = {conv: [] for conv, _ in plan}
        failures = []

        async def load(conv, rcpt, count=60, every=0.4):  # 12 x 2.5/s = 30 msg/s for 24 s
            for n in range(count):
                status, body = await api.call("POST", "/v1/messages", alice,
                                              json={"conversation_id": conv, "content": f"m{n}",
                                                    "recipient_id": rcpt})
                (sent[conv].append(body["message_id"]) if status == 202 else failures.append(body))
                await asyncio.sleep(every)

        async def stop_one_router():
            await asyncio.sleep(8)
            await asyncio.to_thread(deployment.docker, "stop", routers[0])

        try:
            await asyncio.gather(stop_one_router(), *(load(conv, rcpt) for conv, rcpt in plan))
        finally:
            deployment.docker("start", routers[0])  # the tests after this one find both routers
        assert failures == []
        accepted = sum(len(ids) for ids in sent.values())

        pending: dict[str, int] = {}  # not DELIVERED yet, by status (for the failure message)

        async def all_delivered():
            pending.clear()
            for conv, ids in sent.items():
                now = await statuses(api, bob, conv)
                for i in ids:
                    pending[str(now.get(i))] = pending.get(str(now.get(i)), 0) + (now.get(i) != "DELIVERED")
            return not any(pending.values())

        assert await api.wait_for(all_delivered, 180, interval=2), (
            f"not all {accepted} accepted messages DELIVERED within 180 s; the others by status: {pending}")
        books = {c: await ledger(http, deployment, c) for c in ("whatsapp", "instagram")}
        delivered = 0
        for conv, rcpt in plan:
            stored = [m["message_id"] for m in await api.all_messages(bob, conv)]
            assert stored == sent[conv]  # stored once each, in acceptance order
            if ":" in rcpt:
                channel, address = rcpt.split(":", 1)
                book = books[channel]
                assert [book["received"].get(i) for i in sent[conv]] == [1] * len(sent[conv])
                assert book["order"][address] == sent[conv]  # provider order == acceptance order
            delivered += len(stored)
        print(f"\nfailover: {accepted} accepted, {delivered} stored and delivered, 0 duplicates, "
              f"order kept, one of 2 routers stopped at t+8 s")
        assert delivered == accepted == 12 * 60


async def test_live_push_reaches_clients_of_either_api_replica(deployment):
    """Behind nginx (no affinity) with two API replicas: sockets land on both, messages are
    accepted by either, and every socket gets every message of its conversation once."""
    from tests.integration.live_client import connect, message_of

    async with aiohttp.ClientSession() as http:
        api = Api(http, deployment.api)
        assert len(deployment.containers("api-service")) == 2, "runs after the scale-out test"
        alice, bob = await api.user("alice"), await api.user("bob")
        conv = await api.conversation(alice, bob)
        sockets = [await connect(http, deployment.api, user, header=False)
                   for _ in range(4) for user in (alice, bob)]

        async def both_replicas_hold_sockets():
            rows = await promql(http, deployment, 'ws_connections{service="api"} > 0')
            return len(rows) == 2

        assert await api.wait_for(both_replicas_hold_sockets, 60, interval=2), \
            "nginx did not spread 8 sockets over both API replicas"
        contents = [f"push {i}" for i in range(6)]
        for content in contents:  # round robin: accepted by both replicas
            await api.send(alice, conv, content)
        for sock in sockets:
            got = await sock.until(message_of(contents[-1]))
            assert [f["message"]["content"] for f in got if f["type"] == "message"] == contents
            assert await sock.quiet(1) == []
            await sock.ws.close()

"""The assignment's isolation and store-and-forward (§3.3, §4.4) with containers: stop the Instagram
connector, WhatsApp keeps flowing, Instagram messages wait as PENDING, and after `docker start` they
are DELIVERED, in order, once each."""

import asyncio

import aiohttp

from tests.compose.traffic import ledger, recipient, wait_statuses
from tests.integration.helpers import Api, statuses


async def test_with_the_instagram_connector_stopped_whatsapp_flows_and_instagram_waits_then_delivers(
        deployment):
    [container] = deployment.containers("connector-instagram")
    async with aiohttp.ClientSession() as http:
        api = Api(http, deployment.api)
        alice, bob = await api.user("alice"), await api.user("bob")
        wa_conv, ig_conv = await api.conversation(alice, bob), await api.conversation(alice, bob)
        wa_to, ig_to = recipient("whatsapp"), recipient("instagram")
        deployment.docker("stop", container)
        try:
            ig = [(await api.send(alice, ig_conv, f"ig {n}", recipient_id=ig_to))["message_id"]
                  for n in range(10)]
            wa = [(await api.send(alice, wa_conv, f"wa {n}", recipient_id=wa_to))["message_id"]
                  for n in range(10)]
            seen = await wait_statuses(api, bob, wa_conv, wa, "DELIVERED", timeout=60)
            assert set(seen.values()) == {"DELIVERED"}, seen
            await asyncio.sleep(5)  # time enough to be delivered, were anything delivering them
            waiting = await statuses(api, bob, ig_conv)
            assert [waiting[i] for i in ig] == ["PENDING"] * 10, waiting
            assert ig_to.split(":", 1)[1] not in (await ledger(http, deployment, "instagram"))["order"]
        finally:
            deployment.docker("start", container)
        seen = await wait_statuses(api, bob, ig_conv, ig, "DELIVERED", timeout=120)
        assert set(seen.values()) == {"DELIVERED"}, seen
        book = await ledger(http, deployment, "instagram")
        assert book["order"][ig_to.split(":", 1)[1]] == ig  # in order
        assert [book["received"][i] for i in ig] == [1] * 10  # once each
    deployment.wait_health("connector-instagram", "healthy", timeout=120)

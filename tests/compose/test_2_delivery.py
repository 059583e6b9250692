"""Through nginx on the real engine: a message to a member, to WhatsApp and to Instagram each reach
DELIVERED, and a file uploaded from the host downloads from the host by its presigned URL."""

import aiohttp

from benchmarks.upload import RandomStream, file_form
from tests.compose.traffic import ledger, recipient, wait_statuses
from tests.integration.files_helpers import sha256_of_url
from tests.integration.helpers import Api


async def test_messages_to_a_member_and_to_both_channels_are_delivered(deployment):
    async with aiohttp.ClientSession() as http:
        api = Api(http, deployment.api)
        alice, bob = await api.user("alice"), await api.user("bob")
        conv = await api.conversation(alice, bob)
        to = {"internal": bob.user_id, "whatsapp": recipient("whatsapp"),
              "instagram": recipient("instagram")}
        ids = {kind: (await api.send(alice, conv, f"hello {kind}", recipient_id=rcpt))["message_id"]
               for kind, rcpt in to.items()}
        seen = await wait_statuses(api, bob, conv, list(ids.values()), "DELIVERED", timeout=60)
        assert set(seen.values()) == {"DELIVERED"}, seen
        for channel in ("whatsapp", "instagram"):
            book = await ledger(http, deployment, channel)
            assert book["received"].get(ids[channel]) == 1
            assert book["order"][to[channel].split(":", 1)[1]] == [ids[channel]]


async def test_a_file_uploaded_from_the_host_downloads_from_the_host_by_its_presigned_url(deployment):
    async with aiohttp.ClientSession() as http:
        api = Api(http, deployment.api)
        alice, bob = await api.user("alice"), await api.user("bob")
        conv = await api.conversation(alice, bob)
        stream = RandomStream(3 * 1024 * 1024)
        status, meta = await api.call("POST", "/v1/files", alice, data=file_form(conv, stream))
        assert status == 201, meta
        status, info = await api.call("GET", f"/v1/files/{meta['file_id']}", bob)
        assert status == 200, info
        # Signed for MinIO's published address, not for minio:9000 inside the compose network.
        assert info["download_url"].startswith(deployment.url("minio", 9000) + "/"), info["download_url"]
        assert await sha256_of_url(http, info["download_url"]) == (200, stream.checksum, 3 * 1024 * 1024)

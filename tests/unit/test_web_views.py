"""The API's views on the real Faust web driver and json_errors, over in-memory services: which of
several faults a request is refused for, and that a failure of ours is never the client's 400."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aiohttp
import faust
import pytest
from aiohttp.test_utils import TestClient, TestServer

from chat4all_app.auth.tokens import TokenIssuer
from chat4all_app.files.uploads import Uploads
from chat4all_app.messaging.conversations import MAX_PARTICIPANTS, Conversations
from chat4all_app.messaging.membership import Membership
from chat4all_app.messaging.sending import MessageIntake
from chat4all_app.storage.files import FileRecord, Upload
from chat4all_app.web import conversation_views, file_views, message_views, server
from chat4all_app.web.context import ApiServices, attach
from chat4all_app.web.correlation import correlation_ids
from chat4all_app.web.errors import json_errors
from tests.unit.fakes import (
    SETTINGS,
    FakeConversations,
    FakeFiles,
    FakeMessageStore,
    FakeObjects,
    FakePublisher,
    conversation,
)

ALICE, BOB, CAROL = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
TOKENS = TokenIssuer("test-secret-" + "x" * 32, 3600)
MAX_CONTENT = 10


class BrokenFiles(FakeFiles):
    """Storage failing with a ValueError: ours, not a malformed body."""

    async def save_file(self, file: FileRecord) -> None:
        raise ValueError("storage internals: column file_id")


class Api:
    def __init__(self) -> None:
        conversations = FakeConversations()
        self.conv = conversations.add(conversation(ALICE, BOB))
        membership = Membership(conversations)
        self.files, self.s3 = BrokenFiles(), FakeObjects()
        self.services = ApiServices(
            SETTINGS, TOKENS, None, None,  # type: ignore[arg-type]  # not used by these views
            Conversations(None),  # type: ignore[arg-type]  # refused before storage is asked
            MessageIntake(membership, FakeMessageStore(), FakePublisher(), "messages", ("whatsapp",),
                          MAX_CONTENT),
            None,  # type: ignore[arg-type]
            Uploads(membership, self.files, self.s3, 100, 10),
            None)  # type: ignore[arg-type]  # no live push here (tests/unit/test_push.py)
        self.app = faust.App(f"test-{uuid.uuid4().hex[:6]}", store="memory://", web=server.DRIVER_URL)
        attach(self.app, self.services)
        for views in (message_views, conversation_views, file_views):
            views.install(self.app)
        server.aiohttp_app(self.app.web).middlewares.extend([correlation_ids, json_errors])  # as roles/api.py


@pytest.fixture
async def api() -> AsyncIterator[tuple[Api, TestClient]]:
    world = Api()
    client = TestClient(TestServer(server.aiohttp_app(world.app.web)))
    await client.start_server()
    yield world, client
    await client.close()


def auth(user: uuid.UUID) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS.issue(user, 'someone')}"}


async def refusal(response: aiohttp.ClientResponse) -> tuple[int, str]:
    return response.status, (await response.json())["error"]


async def test_no_token_is_401(api):
    _, client = api
    assert await refusal(await client.post("/v1/messages", json={})) == (
        401, "missing bearer token (Authorization: Bearer <token>)")
    response = await client.post("/v1/messages", json={}, headers={"Authorization": "Bearer nonsense"})
    assert response.status == 401


@pytest.mark.parametrize(("content", "expected"), [
    (None, (400, "'content' is required and must be a non-empty string")),
    ("", (400, "'content' is required and must be a non-empty string")),
    ("x" * (MAX_CONTENT + 1), (413, f"'content' exceeds {MAX_CONTENT} bytes")),
])
async def test_content_is_checked_before_the_other_fields(api, content, expected):
    world, client = api
    body = {"conversation_id": str(world.conv.conversation_id), "content": content,
            "recipient_id": 7, "message_id": "not-a-uuid", "file_id": "not-a-uuid"}
    assert await refusal(await client.post("/v1/messages", json=body, headers=auth(ALICE))) == expected


async def test_a_message_from_a_non_member_with_good_content_is_403(api):
    world, client = api
    body = {"conversation_id": str(world.conv.conversation_id), "content": "hi"}
    assert (await client.post("/v1/messages", json=body, headers=auth(CAROL))).status == 403
    assert (await client.post("/v1/messages", json=body, headers=auth(ALICE))).status == 202


async def test_the_participant_count_is_checked_before_the_entries(api):
    _, client = api
    too_many = {"participant_ids": ["not-a-uuid"] * (MAX_PARTICIPANTS + 1)}
    assert await refusal(await client.post("/v1/conversations", json=too_many, headers=auth(ALICE))) == (
        400, f"at most {MAX_PARTICIPANTS} participants")
    assert await refusal(await client.post("/v1/conversations", json={"participant_ids": []},
                                           headers=auth(ALICE))) == (
        400, "'participant_ids' must be a non-empty list of user ids")


async def test_completing_someone_elses_upload_is_403_whatever_the_body(api):
    world, client = api
    world.files.uploads["up-1"] = Upload(uuid.uuid4(), world.conv.conversation_id, ALICE, "f",
                                         "text/plain", 5, "up-1", 10)
    path = "/v1/files/uploads/up-1/complete"
    assert (await client.post(path, data=b"not json", headers=auth(BOB))).status == 403
    assert (await client.post("/v1/files/uploads/up-2/complete", data=b"not json",
                              headers=auth(BOB))).status == 404
    assert await refusal(await client.post(path, data=b"not json", headers=auth(ALICE))) == (
        400, "request body is not valid JSON")


def form(conversation_id: object, file: bytes | None = b"abc") -> aiohttp.FormData:
    data = aiohttp.FormData(default_to_multipart=True)
    data.add_field("conversation_id", str(conversation_id))
    if file is not None:
        data.add_field("file", file, filename="cv.txt", content_type="text/plain")
    return data


async def test_a_streamed_upload_by_a_non_member_is_refused_before_its_file_is_read(api):
    world, client = api
    response = await client.post("/v1/files", data=form(world.conv.conversation_id, file=None),
                                 headers=auth(CAROL))
    assert response.status == 403  # not the missing 'file' field's 400
    assert world.s3.objects == {}


@pytest.mark.parametrize("file_part", [
    None,  # the body does not even start with the announced boundary
    b"no colon here\r\n\r\nabc\r\n--b--\r\n",  # the file's part headers (aiohttp: InvalidHeader)
])
async def test_a_malformed_multipart_body_is_400(api, file_part):
    world, client = api
    body = b"--elsewhere\r\n" if file_part is None else (
        b"--b\r\nContent-Disposition: form-data; name=\"conversation_id\"\r\n\r\n"
        + str(world.conv.conversation_id).encode() + b"\r\n--b\r\n" + file_part)
    response = await client.post("/v1/files", data=body, headers={
        **auth(ALICE), "Content-Type": "multipart/form-data; boundary=b"})
    status, error = await refusal(response)
    assert status == 400 and error.startswith("malformed multipart body: "), error


async def test_a_storage_failure_during_a_streamed_upload_is_a_bare_500(api):
    world, client = api
    response = await client.post("/v1/files", data=form(world.conv.conversation_id), headers=auth(ALICE))
    assert await refusal(response) == (500, "internal error")
